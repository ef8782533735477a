export * from './capacity-reservation';
export { ECS_ACTIONS } from './wire';
