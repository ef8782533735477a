import { Fn, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';

/** What is known of a Capacity Block bought elsewhere (the console, another team, another stack). */
export interface CapacityBlockAttributes {
  /** The Capacity Reservation id (`cr-…`); a previewOnly purchase's is empty. */
  readonly capacityReservationId: string;

  /**
   * The instance type the block reserves, e.g. `p5.48xlarge`.
   * @default - not known: consumers' instance types are not checked
   */
  readonly instanceType?: string;

  /**
   * How many instances the block holds.
   * @default - not known: consumers' sizes are not checked, and node groups and queues need their sizes given
   */
  readonly instanceCount?: number;

  /**
   * The block's Availability Zone, e.g. `us-east-2a` (a literal, or a deploy-time attribute).
   * @default - not known: the node group, Auto Scaling group and ParallelCluster helpers refuse it, since they cannot keep subnets to its zone
   */
  readonly availabilityZone?: string;

  /**
   * When the block starts, ISO 8601 in UTC (`2026-12-10T11:30:00.000Z`; a token must carry
   * milliseconds, as a CapacityBlockPurchase's `startDate` attribute does).
   * @default - not known: nothing can be scheduled at the start
   */
  readonly startDate?: string;

  /**
   * When the block ends, ISO 8601 in UTC (a token must carry milliseconds, as a
   * CapacityBlockPurchase's `endDate` attribute does).
   * @default - not known: nothing is scheduled before the end
   */
  readonly endDate?: string;
}

/**
 * What the integrations (node groups, Auto Scaling groups, Karpenter, ParallelCluster) need to know
 * of capacity reserved ahead: literal values where they are known at synth (the synth-time checks
 * compare against them), deploy-time attributes otherwise.
 */
export interface ReservedCapacityFacts extends CapacityBlockAttributes {
  /**
   * For an UltraServer Capacity Block: the UltraServer type (several reservations, one per UltraServer).
   * @default - an instance reservation
   */
  readonly ultraserverType?: string;

  /**
   * True when nothing is bought (a previewOnly purchase): consumers are wired so that they launch nothing.
   * @default false
   */
  readonly previewOnly?: boolean;
}

/**
 * Capacity reserved ahead that the integrations can launch into: a Capacity Block bought by
 * `CapacityBlockPurchase` or imported with `CapacityBlockPurchase.fromCapacityReservationAttributes`
 * (and, later, other reservation types). Every integration helper takes it.
 */
export interface IReservedCapacity extends IConstruct {
  /** What the integrations check consumers against and schedule by. */
  reservedCapacityFacts(): ReservedCapacityFacts;

  /**
   * Launch the template's instances into this capacity: for a Capacity Block, the capacity
   * reservation target and the `capacity-block` market type, both of which EC2 requires (a
   * previewOnly purchase sets only the market type, so every launch from the template fails until
   * the real deploy). The template must be defined in this app (a `LaunchTemplate`); for an L1 use
   * `applyToCfnLaunchTemplate`.
   *
   * @param launchTemplate a launch template defined in this app
   */
  applyToLaunchTemplate(launchTemplate: ec2.ILaunchTemplate): void;
}

/**
 * `2026-12-10T11:30:00.000Z` → `2026-12-10T11:30:00`, for literals and deploy-time attributes alike
 * (CloudFormation has no date arithmetic; it can cut the string). EventBridge Scheduler's `at(...)`
 * takes this form with a time zone; Auto Scaling's StartTime takes it with a `Z`.
 */
export function utcSeconds(iso: string): string {
  if (!Token.isUnresolved(iso)) return new Date(iso).toISOString().slice(0, 19);
  return Fn.select(0, Fn.split('.', iso));
}

