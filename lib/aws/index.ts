export * from './capacity-block-purchase';
export { CapacityBlockProvider, CapacityBlockProviderProps } from './provider';
export * from './instance-type';
export * from './ultraserver-type';
export * from './instance-platform';
export * from './spend-limit';
export * from './training-plan-purchase';
export * from './training-plan-types';
export * from './integrations';
