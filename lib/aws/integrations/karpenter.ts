import { CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import { OWNER_TAG, ownerTagValue } from '../wire';
import { BlockFacts, blockName, registerConsumer } from './block-facts';

/**
 * One entry of a Karpenter `EC2NodeClass`'s `spec.capacityReservationSelectorTerms` (Karpenter 1.6
 * or newer, `ReservedCapacity` feature gate on), or of an EKS Auto Mode `NodeClass`'s. Terms are
 * ORed; within a term, `id` excludes every other field.
 */
export interface KarpenterCapacityReservationSelectorTerm {
  /**
   * The Capacity Reservation id (`cr-…`).
   * @default - none: the term selects by tags
   */
  readonly id?: string;

  /**
   * Tags the reservation must carry (all of them).
   * @default - none: the term selects by id
   */
  readonly tags?: { [key: string]: string };
}

/** One requirement of a Karpenter `NodePool` (`spec.template.spec.requirements[]`). */
export interface KarpenterNodeSelectorRequirement {
  /** The node label, e.g. `karpenter.sh/capacity-type`. */
  readonly key: string;
  /** `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`. */
  readonly operator: string;
  /** The label values. */
  readonly values: string[];
}

/** Karpenter's label for capacity bought ahead: On-Demand Capacity Reservations and Capacity Blocks. */
export const RESERVED_CAPACITY_TYPE = 'reserved';

/**
 * An instance block is one reservation: select it by id. An UltraServer block is several
 * reservations whose number is only known once bought, and a template cannot turn a list attribute
 * into one term per id: select them by the owner tag the handler writes on each of them in the
 * purchase itself (stack name + logical id of the resource).
 */
export function karpenterSelectorTerms(facts: BlockFacts, resource?: CfnResource): KarpenterCapacityReservationSelectorTerm[] {
  // Karpenter may take every instance of the reservation.
  registerConsumer(facts, { name: `Karpenter (the EC2NodeClass selecting ${blockName(facts)})`, instances: facts.instanceCount });
  // A preview buys nothing: no term selects nothing (the CRD allows an empty list), and a NodePool
  // that requires reserved capacity then launches nothing until the real deploy names the block.
  if (facts.previewOnly) return [];
  if (facts.ultraserverType === undefined || resource === undefined) {
    return [{ id: facts.reservationId }];
  }
  const stack = Stack.of(resource);
  const owner = Lazy.string({ produce: () => ownerTagValue(stack.stackName, stack.resolve(resource.logicalId)) });
  return [{ tags: { [OWNER_TAG]: owner } }];
}

/**
 * The NodePool requirements that keep its nodes on the block: reserved capacity, the block's
 * instance type and its zone. They hold for EKS Auto Mode NodePools too.
 */
export function karpenterRequirements(facts: BlockFacts): KarpenterNodeSelectorRequirement[] {
  const zone = facts.literalZone ?? facts.zoneAttribute;
  return [
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: [RESERVED_CAPACITY_TYPE] },
    ...(facts.instanceType !== undefined
      ? [{ key: 'node.kubernetes.io/instance-type', operator: 'In', values: [facts.instanceType] }]
      : []),
    { key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] },
  ];
}
