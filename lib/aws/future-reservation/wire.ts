/**
 * The contract between FutureCapacityReservation (which writes it into the template) and its handler
 * (lib/aws/future-reservation/handler), as wire.ts is for Capacity Blocks. Keys are PascalCase and
 * part of users' templates; every scalar is a string, as CloudFormation delivers them. The names of
 * the in-place properties are those decisions.ts knows (Tags, MaxCommittedCost, ...).
 */
import { WireTag } from '../wire';

/** The custom resource type. Changing it replaces every user's reservation. */
export const FUTURE_RESERVATION_RESOURCE_TYPE = 'Custom::FutureCapacityReservation';

export interface FutureReservationWireProperties {
  readonly InstanceType: string;
  readonly InstanceCount: string;
  readonly AvailabilityZone: string;
  /** @default 'Linux/UNIX' */
  readonly InstancePlatform?: string;
  /** @default 'default' */
  readonly Tenancy?: string;
  /** ISO 8601 instant. */
  readonly StartDate: string;
  /** Whole seconds (EC2's CommitmentDuration). */
  readonly CommitmentSeconds: string;
  /** ISO 8601 instant; absent: the reservation runs until cancelled. */
  readonly EndDate?: string;
  /** Plain decimal text: the most the commitment may cost (rate × count × hours). */
  readonly MaxCommittedCost: string;
  /** @default 'USD' */
  readonly CurrencyCode?: string;
  /** Plain decimal text; absent: a Delete never pays a cancellation charge. */
  readonly MaxCancellationCharge?: string;
  /** 'true' to let an update request a new reservation. */
  readonly AllowRepurchase?: string;
  /** 'true' to price and validate only. */
  readonly PreviewOnly?: string;
  readonly Tags?: WireTag[];
}

/** The attributes the handler returns in Data; every key is always present (GetAtt needs it). */
export interface FutureReservationAttributes {
  readonly CapacityReservationId: string;
  readonly CapacityReservationArn: string;
  /** assessing | scheduled | active | delayed | unsupported | failed | cancelling | cancelled | expired, or preview. */
  readonly State: string;
  readonly StartDate: string;
  /** When the commitment ends ('' while EC2 shows none, e.g. delayed). */
  readonly CommitmentEndDate: string;
  /** The commitment's cost at the On-Demand rate read at deploy time, exact decimal text. */
  readonly CommittedCost: string;
  readonly CurrencyCode: string;
  readonly AvailabilityZone: string;
  readonly InstanceType: string;
  readonly InstanceCount: string;
  /** One line for a human: what was done, and what was kept. */
  readonly Note: string;
}

export type FutureReservationAttributeName = keyof FutureReservationAttributes;
