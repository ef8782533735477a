/**
 * The contract between AliCapacityReservation (the ROS template's Parameters) and its FC handler.
 * Keys are PascalCase and part of users' templates.
 */

export interface AliWireTag {
  readonly Key: string;
  readonly Value: string;
}

/** Parameters of the ALIYUN::ROS::CustomResource. ROS may deliver scalars as strings. */
export interface AliReservationParameters {
  readonly InstanceType: string;
  readonly InstanceAmount: number | string;
  /** Tried in order while a zone has no stock. */
  readonly ZoneIds: string[];
  readonly Name?: string;
  readonly Description?: string;
  /** @default 'Open' */
  readonly MatchCriteria?: string;
  /** yyyy-MM-ddTHH:mm:ssZ; present means EndTimeType Limited. */
  readonly EndTime?: string;
  /**
   * Linux | Windows. ECS documents CreateCapacityReservation's Platform as "not available for use":
   * it does not apply it, so the handler never sends it and never compares it; `plan` prices by it
   * (DescribePrice's CapacityReservation Platform).
   */
  readonly Platform?: string;
  readonly ResourceGroupId?: string;
  readonly Tags?: AliWireTag[];
  /** release | retain | retain-on-update-or-delete. @default 'release' */
  readonly RemovalPolicy?: string;
  /** @default DEFAULT_WAIT_TIMEOUT_SECONDS */
  readonly WaitTimeoutSeconds?: number | string;
}

/** Data returned to ROS; every key always present (the template reads them). */
export interface AliReservationAttributes {
  /** The crp-… id (PrivatePoolOptionsId) of the reservation the resource holds now. */
  readonly ReservationId: string;
  readonly ZoneId: string;
  readonly Status: string;
  readonly StartTime: string;
  readonly EndTime: string;
  /** Present when the answer kept something other than asked (e.g. a rollback that could not lower the amount below what instances use). */
  readonly Note?: string;
}

export type AliAttributeName = keyof AliReservationAttributes;

/** Tags the handler writes on every reservation it creates. ECS allows 20 tags per resource. */
export const ALI_RESERVED_TAG_PREFIX = 'cdk-capacity-reservations:';
/** Same for every reservation one resource ever holds: Delete finds them all by it. */
export const RESOURCE_TAG = `${ALI_RESERVED_TAG_PREFIX}resource`;
/**
 * The resource's ledger, on each reservation it makes (read by id, never through the lagging tag
 * index): its generation, the requests that acted on it (newest last), the reservation it replaced
 * and a fingerprint of the properties it was made for. See handler/ledger.ts.
 */
export const LEDGER_TAG = `${ALI_RESERVED_TAG_PREFIX}ledger`;
/** RESOURCE_TAG's value on a replaced reservation removalPolicy retain kept: the user's now, still traceable. */
export const RETAINED_PREFIX = 'retained:';
export const ALI_RESERVED_TAG_COUNT = 2;
/**
 * Written (key + delivery id) on the reservation a Create is about to answer, before it POSTs: a
 * delivery whose answer ROS refuses must not release what another delivery's accepted answer named.
 * Value ANSWER_POSTING; a delivery ROS refused removes its own marker. ALI_MAX_USER_TAGS keeps
 * ANSWER_MARKER_SLOTS free for them.
 */
export const ANSWER_TAG_PREFIX = `${ALI_RESERVED_TAG_PREFIX}answer:`;
export const ANSWER_POSTING = 'posting';
export const ALI_MAX_TAGS = 20;
/**
 * Answer markers a Create's deliveries may hold at once (a refused delivery removes its own): two
 * concurrent deliveries. Kept free so that a delivery whose answer ROS refuses can always tell
 * whether another may have been accepted, and release what nobody tracks.
 */
export const ANSWER_MARKER_SLOTS = 2;
/** Tags a user may set: ECS's 20, less this library's own and the answer markers' slots. */
export const ALI_MAX_USER_TAGS = ALI_MAX_TAGS - ALI_RESERVED_TAG_COUNT - ANSWER_MARKER_SLOTS;

export const DEFAULT_WAIT_TIMEOUT_SECONDS = 10 * 60;
export const MAX_WAIT_TIMEOUT_SECONDS = 50 * 60;
/** The FC function outlives the longest wait, and ROS waits for the function a bit longer still. */
export const FUNCTION_TIMEOUT_SECONDS = MAX_WAIT_TIMEOUT_SECONDS + 10 * 60;
export const RESPONSE_MARGIN_SECONDS = 5 * 60;
/** The longest ROS waits for any reservation (its Timeout property): after that an answer is useless. */
export const MAX_ROS_TIMEOUT_SECONDS = MAX_WAIT_TIMEOUT_SECONDS + RESPONSE_MARGIN_SECONDS;

/** The RAM actions the handler calls, and nothing else. Tests pin this list. */
export const ECS_ACTIONS = [
  'ecs:CreateCapacityReservation',
  'ecs:DescribeCapacityReservations',
  'ecs:ModifyCapacityReservation',
  'ecs:ReleaseCapacityReservation',
  'ecs:TagResources',
  'ecs:UntagResources',
] as const;

/** The one ROS action: the stack's own status (GetStack), which tells a rollback from a forward update, a late Update from a running one, a completed replacement, and what retain-on-update-or-delete releases. */
export const ROS_ACTIONS = ['ros:GetStack'] as const;
