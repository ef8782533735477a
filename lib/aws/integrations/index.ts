export { CapacityBlockNodegroupOptions, CapacityBlockNodegroupV2Options } from './eks-nodegroup';
export { KarpenterCapacityReservationSelectorTerm, KarpenterNodeSelectorRequirement } from './karpenter';
export { ParallelClusterQueueOptions } from './parallelcluster';
