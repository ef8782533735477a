export * from './capacity-block-purchase';
export { CapacityBlockProvider, CapacityBlockProviderProps } from './provider';
export * from './instance-type';
export * from './ultraserver-type';
export * from './instance-platform';
export * from './spend-limit';
export * from './integrations';
