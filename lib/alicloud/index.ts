// First: a missing ROS CDK package is named in one line, before any import of it fails.
export { ROS_CDK_MODULES } from './requirements';
export * from './capacity-reservation';
export { ECS_ACTIONS, ROS_ACTIONS } from './wire';
