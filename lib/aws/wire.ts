import { createHash } from 'crypto';

/**
 * The contract between CapacityBlockPurchase (which writes it into the template) and the handler
 * (which reads it from the CloudFormation event). Keys are PascalCase and part of users' templates:
 * renaming one changes every deployed resource.
 */

/** The custom resource type. Changing it replaces every user's block. */
export const RESOURCE_TYPE = 'Custom::CapacityBlockPurchase';

export interface WireTag {
  readonly Key: string;
  readonly Value: string;
}

/**
 * ResourceProperties as the handler receives them: CloudFormation delivers every scalar as a
 * string, so the construct writes strings too and the handler parses them (tokens resolve then).
 * Optional keys are omitted when the prop has its default, to keep the template small.
 */
export interface CapacityBlockWireProperties {
  /** Instance blocks: the instance type and count. Absent for UltraServer blocks. */
  readonly InstanceType?: string;
  readonly InstanceCount?: string;
  /** UltraServer blocks: the UltraServer type (e.g. u-p6e-gb200x72) and count, instead of InstanceType/InstanceCount. */
  readonly UltraserverType?: string;
  readonly UltraserverCount?: string;
  /** 'true' to list offerings in every zone, Local Zones included, whatever the account's opt-in. */
  readonly AllAvailabilityZones?: string;
  readonly DurationHours: string;
  readonly MaxUpfrontFee: string;
  /** @default 'USD' */
  readonly CurrencyCode?: string;
  readonly OfferingId?: string;
  /** ISO 8601 instant. */
  readonly EarliestStart?: string;
  /** ISO 8601 instant. */
  readonly LatestEnd?: string;
  readonly AvailabilityZone?: string;
  /** @default 'CHEAPEST' */
  readonly Selection?: string;
  /** @default 'Linux/UNIX' */
  readonly InstancePlatform?: string;
  /** 'true' to search and dry-run only. */
  readonly PreviewOnly?: string;
  /** @default DEFAULT_WAIT_TIMEOUT_SECONDS */
  readonly WaitTimeoutSeconds?: string;
  /** 'true' to let an update buy a new block. */
  readonly AllowRepurchase?: string;
  readonly Tags?: WireTag[];
}

/** The attributes the handler returns in Data; every key is always present (GetAtt needs it). */
export interface CapacityBlockAttributes {
  /** The first (for an UltraServer block, the lowest) reservation id: the resource's physical id. */
  readonly CapacityReservationId: string;
  /** Every Capacity Reservation of the purchase, comma-separated (several for an UltraServer block). */
  readonly CapacityReservationIds: string;
  /** Their ARNs, comma-separated, in the same order. */
  readonly CapacityReservationArns: string;
  /** The first Capacity Block id EC2 gave the purchase ('' when EC2 names none). */
  readonly CapacityBlockId: string;
  /** Every Capacity Block id of the purchase, comma-separated (an UltraServer purchase may hold several). */
  readonly CapacityBlockIds: string;
  /** UltraServer blocks: the accelerator interconnect status (ok | impaired | insufficient-data), once active; '' otherwise. */
  readonly InterconnectStatus: string;
  readonly CapacityReservationArn: string;
  readonly AvailabilityZone: string;
  readonly StartDate: string;
  readonly EndDate: string;
  readonly UpfrontFee: string;
  readonly CurrencyCode: string;
  readonly State: string;
  readonly OfferingId: string;
  /** One line for a human: why the state is what it is (e.g. payment still pending). */
  readonly Note: string;
}

export type AttributeName = keyof CapacityBlockAttributes;

/** Tags the handler writes on every block it buys. User tags may not use this prefix. */
export const RESERVED_TAG_PREFIX = 'cdk-capacity-reservations:';
/** One CloudFormation request (stack id + logical id + request id): redeliveries of it share the key. */
export const IDEMPOTENCY_TAG = `${RESERVED_TAG_PREFIX}idempotency-key`;
/**
 * The resource that owns the block: stack NAME + logical id. A later Create or Update of the same
 * resource adopts a live block it owns before it may buy (rollbacks, a redeploy after CloudFormation
 * was told FAILED after a purchase, a stack deleted and created again under the same name).
 */
export const OWNER_TAG = `${RESERVED_TAG_PREFIX}owner`;
/**
 * The owner tag of a resource's blocks: "<stack name>/<logical id>". EC2 tag values hold 256
 * characters; a longer logical id is hashed, with the stack name kept readable in front, because IAM
 * lets a stack's role act only on blocks whose owner tag starts with "<stack name>/". The construct
 * derives it too, to select an UltraServer block's reservations by tag (Karpenter).
 */
export function ownerTagValue(stackName: string, logicalId: string): string {
  const readable = `${stackName}/${logicalId}`;
  return readable.length <= 256 ? readable : `${stackName}/sha256:${createHash('sha256').update(logicalId).digest('hex')}`;
}
export const UPFRONT_FEE_TAG = `${RESERVED_TAG_PREFIX}upfront-fee`;
export const OFFERING_TAG = `${RESERVED_TAG_PREFIX}offering-id`;
/**
 * Written by versions before the resource ledger to mark an extension request; blocks bought then may
 * still carry it, so it still counts among the library's tags (RESERVED_TAG_COUNT).
 */
export const EXTENSION_TAG = `${RESERVED_TAG_PREFIX}extension-request`;
/**
 * On UltraServer purchases: "<type> x <count>", so that adoption compares what was bought, as a
 * reservation does not name its UltraServer type.
 */
export const ULTRASERVER_TAG = `${RESERVED_TAG_PREFIX}ultraserver`;
export function ultraserverTagValue(type: string, count: number): string {
  return `${type} x ${count}`;
}
/** Tags the library writes on an instance block; an UltraServer block gets one more (ULTRASERVER_TAG). */
export const RESERVED_TAG_COUNT = 5;
/** EC2 allows 50 tags per resource. */
export const MAX_TAGS_PER_RESOURCE = 50;

export const DEFAULT_CURRENCY = 'USD';
export const DEFAULT_PLATFORM = 'Linux/UNIX';
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 30 * 60;

/**
 * CloudFormation's clock. A custom resource that has not answered within its ServiceTimeout (at most
 * 3600 s) fails, and a FAILED after a purchase would orphan a paid block, so every layer below fits
 * inside it with margin:
 *   onEvent (ON_EVENT_TIMEOUT) + the waiter (PROVIDER_TOTAL_TIMEOUT) <= SERVICE_TIMEOUT - 2 min, and
 *   waitTimeout (<= MAX_WAIT_TIMEOUT) + one poll (QUERY_INTERVAL + IS_COMPLETE_TIMEOUT) <= PROVIDER_TOTAL_TIMEOUT,
 * so isComplete always finishes (at the latest with state payment-pending) before the framework's
 * onTimeout could report FAILED. A spec checks these sums on the synthesized template.
 */
export const SERVICE_TIMEOUT_SECONDS = 3600;
export const ON_EVENT_TIMEOUT_SECONDS = 5 * 60;
export const IS_COMPLETE_TIMEOUT_SECONDS = 60;
export const QUERY_INTERVAL_SECONDS = 30;
export const MAX_WAIT_TIMEOUT_SECONDS = 50 * 60;
export const PROVIDER_TOTAL_TIMEOUT_SECONDS = 52 * 60;

/** EC2 sells Capacity Blocks that start at most 8 weeks ahead. */
export const MAX_LEAD_TIME_DAYS = 56;

/** The onEvent function's environment variable naming the per-stack DynamoDB table of purchase claims. */
export const CLAIMS_TABLE_ENV = 'CAPACITY_BLOCK_CLAIMS_TABLE';

/** PhysicalResourceId prefix of previewOnly resources (nothing was bought). */
export const PREVIEW_ID_PREFIX = 'preview-';

/**
 * The `source` of the audit events the handlers put on the account's default event bus each time a
 * purchase moves money (lib/aws/core/audit.ts); the functions may put events of this source only.
 */
export const AUDIT_EVENT_SOURCE = 'cdk-capacity-reservations';
