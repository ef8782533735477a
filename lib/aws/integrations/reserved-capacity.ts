import { Fn, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';

/**
 * What the integrations (node groups, Auto Scaling groups, Karpenter, ParallelCluster) need to know
 * of capacity reserved ahead: literal values where they are known at synth (the synth-time checks
 * compare against them), deploy-time attributes otherwise.
 */
export interface ReservedCapacityFacts {
  /** The Capacity Reservation id (`cr-…`); empty for a previewOnly purchase. */
  readonly capacityReservationId: string;

  /**
   * The instance type the reservation holds.
   * @default - not known at synth: instance types are not checked
   */
  readonly instanceType?: string;

  /**
   * How many instances the reservation holds.
   * @default - not known at synth: sizes are not checked, and node group and queue sizes must be given
   */
  readonly instanceCount?: number;

  /**
   * The Availability Zone of the reservation (a literal, or a deploy-time attribute).
   * @default - not known: subnets cannot be kept to the reservation's zone
   */
  readonly availabilityZone?: string;

  /**
   * When the reservation starts, ISO 8601 in UTC with milliseconds (`2026-12-10T11:30:00.000Z`),
   * as a literal or a deploy-time attribute.
   * @default - not known: nothing is scheduled at the start
   */
  readonly startDate?: string;

  /**
   * When the reservation ends, ISO 8601 in UTC with milliseconds, as a literal or a deploy-time attribute.
   * @default - not known: nothing is scheduled at the end
   */
  readonly endDate?: string;

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

