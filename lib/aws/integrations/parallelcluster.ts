import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BlockFacts, blockName, literal, registerConsumer } from './block-facts';
import { sizeErrors, throwIfAny, zoneErrors } from './rules';

/** Options of `CapacityBlockPurchase.parallelClusterQueue`. */
export interface ParallelClusterQueueOptions {
  /** The queue (Slurm partition) name: a lowercase letter, then lowercase letters, digits and hyphens, at most 25 characters, and not `default` (Slurm reserves it). */
  readonly queueName: string;

  /**
   * The subnets of the queue's compute nodes; they must be in the block's zone.
   */
  readonly subnets: ec2.ISubnet[];

  /**
   * The compute resource name: a lowercase letter, then lowercase letters, digits and hyphens, at
   * most 25 characters (ParallelCluster's rule).
   * @default 'capacity-block'
   */
  readonly computeResourceName?: string;

  /**
   * How many static nodes the queue runs (ParallelCluster's MinCount and MaxCount, which must be equal
   * for a Capacity Block).
   * @default - the block's instance count (required for an UltraServer block)
   */
  readonly instanceCount?: number;
}

/** ParallelCluster's rule for queue and compute resource names. */
const NAME = /^[a-z][a-z0-9-]{0,24}$/;

/**
 * A `Scheduling.SlurmQueues[]` entry of an AWS ParallelCluster 3 configuration that runs on the
 * block: `CapacityType: CAPACITY_BLOCK` on the queue, a compute resource with the block as its
 * `CapacityReservationTarget`, and `MinCount == MaxCount` (ParallelCluster manages Capacity Block
 * nodes as static nodes only).
 */
export function parallelClusterQueue(facts: BlockFacts, options: ParallelClusterQueueOptions): { [key: string]: any } {
  const name = `ParallelCluster queue ${options.queueName}`;
  const count = options.instanceCount ?? literal(facts.instanceCount);
  const given = literal(options.instanceCount);
  const computeResourceName = options.computeResourceName ?? 'capacity-block';
  throwIfAny([
    facts.ultraserverType !== undefined
      ? `${name} cannot use ${blockName(facts)}: ParallelCluster launches Capacity Blocks by one CapacityReservationId, and an UltraServer block is several reservations; launch its nodes through applyToLaunchTemplate or applyToAutoScalingGroup`
      : undefined,
    nameError('queueName', options.queueName),
    options.queueName === 'default' ? "queueName cannot be 'default', which Slurm reserves; choose another name, e.g. 'gpu'" : undefined,
    nameError('computeResourceName', computeResourceName),
    count === undefined ? `${name} needs instanceCount: how many instances ${blockName(facts)} holds is not known at synth; set it` : undefined,
    given !== undefined && (!Number.isInteger(given) || given < 1) ? `instanceCount must be a whole number of instances, 1 or more, got ${given}` : undefined,
    options.subnets.length === 0 ? `${name} needs subnets in the zone of ${blockName(facts)}; pass at least one` : undefined,
    ...sizeErrors(name, { instanceCount: given }, facts),
    ...zoneErrors(name, options.subnets, facts),
  ]);
  registerConsumer(facts, { name, instances: count });
  const type = facts.instanceType === undefined ? {} : { InstanceType: facts.instanceType };
  if (facts.previewOnly) {
    // Nothing is bought: an On-Demand queue that may start no node at all (MaxCount 0), so no job
    // can launch a paid instance; the real deploy makes it the Capacity Block queue.
    return {
      Name: options.queueName,
      CapacityType: 'ONDEMAND',
      Networking: { SubnetIds: options.subnets.map(s => s.subnetId) },
      ComputeResources: [{ Name: computeResourceName, ...type, MinCount: 0, MaxCount: 0 }],
    };
  }
  // ParallelCluster launches a Capacity Block's static nodes when the block becomes active and
  // terminates them before it ends: there is nothing to schedule.
  return {
    Name: options.queueName,
    CapacityType: 'CAPACITY_BLOCK',
    Networking: { SubnetIds: options.subnets.map(s => s.subnetId) },
    ComputeResources: [{
      Name: computeResourceName,
      ...type,
      MinCount: count,
      MaxCount: count,
      CapacityReservationTarget: { CapacityReservationId: facts.reservationId },
    }],
  };
}

function nameError(prop: string, value: string): string | undefined {
  if (literal(value) === undefined || NAME.test(value)) return undefined;
  return `${prop} must start with a lowercase letter and hold only lowercase letters, digits and hyphens, at most 25 characters, got '${value}'`;
}
