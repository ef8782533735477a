export { AutoScalingGroupCapacityOptions } from './auto-scaling-group';
export { OVERSUBSCRIBED_WARNING } from './block-facts';
export { CapacityBlockNodegroupOptions, CapacityBlockNodegroupV2Options } from './eks-nodegroup';
export { KarpenterCapacityReservationSelectorTerm, KarpenterNodeSelectorRequirement } from './karpenter';
export { ParallelClusterQueueOptions } from './parallelcluster';
export { CapacityBlockAttributes, IReservedCapacity, ReservedCapacityFacts } from './reserved-capacity';
