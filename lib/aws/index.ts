export * from './capacity-block-purchase';
export { CapacityBlockProvider } from './provider';
// Declared beside the provider builder that reads it, so that the builder imports nothing from the provider.
export { CapacityBlockProviderProps } from './provider-parts';
export * from './instance-type';
export * from './ultraserver-type';
export * from './instance-platform';
export * from './spend-limit';
export * from './training-plan-purchase';
export * from './training-plan-types';
export * from './integrations';
