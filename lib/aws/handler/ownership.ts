import { createHash } from 'crypto';
import { CapacityReservation, Filter } from '@aws-sdk/client-ec2';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, ULTRASERVER_TAG, ultraserverTagValue } from '../wire';
import { nominalDurationHours } from '../validation';
import { iso } from './offerings';
import { CapacityBlockRequest, isUltraServer } from './request';
import { byReservationId, describeBlock, listReservations, membersOf, purchaseView, PurchaseView, tagValue } from './reservation';

const HOUR_MS = 3_600_000;

/** The two keys every purchase is tagged with. */
export interface ResourceKeys {
  /** One CloudFormation request: its redeliveries share it (claim and idempotency tag). */
  readonly request: string;
  /** The resource across requests: stack name + logical id (see OWNER_TAG). */
  readonly owner: string;
}

export function resourceKeys(ids: { StackId: string; LogicalResourceId: string; RequestId: string }): ResourceKeys {
  const request = createHash('sha256').update(`${ids.StackId}\n${ids.LogicalResourceId}\n${ids.RequestId}`).digest('hex').slice(0, 40);
  // arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID. The name, not the id: a stack whose first
  // creation failed after a purchase must be deleted and created again, with a new id, and must
  // still find the block it paid for.
  const stackName = /^arn:[^:]+:cloudformation:[^:]*:[^:]*:stack\/([^/]+)\//.exec(ids.StackId)?.[1] ?? ids.StackId;
  const readable = `${stackName}/${ids.LogicalResourceId}`;
  // EC2 tag values hold 256 characters; a longer name pair is hashed (rare: names are ≤ 128 + 255).
  const owner = readable.length <= 256 ? readable : `sha256:${createHash('sha256').update(readable).digest('hex')}`;
  return { request, owner };
}

/**
 * Paid or being paid, and not over: a block the resource may still use. `delayed` and `unavailable`
 * blocks are bought and not over either (EC2 is late delivering, or the capacity is impaired), and
 * `pending`/`assessing` are on their way: none of them may be bought again.
 */
const LIVE_STATES = new Set(['payment-pending', 'scheduled', 'active', 'delayed', 'unavailable', 'pending', 'assessing']);
export function isLive(block: CapacityReservation): boolean {
  return LIVE_STATES.has(block.State ?? '');
}

/**
 * One purchase (one PurchaseCapacityBlock): an instance block is one reservation, an UltraServer
 * block several. The resource tracks it by its lowest reservation id; the others ride along.
 */
export type Block = PurchaseView;

/** The reservation ids of a purchase, lowest first. */
export function reservationIdsOf(block: Block): string[] {
  return membersOf(block).map(r => r.CapacityReservationId ?? '').filter(Boolean);
}

/** Reservations grouped by the purchase that bought them (its idempotency tag), each as its lowest reservation with the combined state. */
export function groupByPurchase(reservations: CapacityReservation[]): Block[] {
  const groups = new Map<string, CapacityReservation[]>();
  for (const r of [...reservations].sort(byReservationId)) {
    const key = tagValue(r, IDEMPOTENCY_TAG) ?? `id:${r.CapacityReservationId}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map(members => purchaseView(members)!);
}

/** A block can be extended only while scheduled or active. */
export function isExtendable(block: CapacityReservation): boolean {
  return block.State === 'scheduled' || block.State === 'active';
}

/**
 * The whole days (in hours) the block was sold as: a block that started off 11:30 UTC still ends at
 * 11:30, so it is up to a day shorter than it was bought for, and must not look too short to adopt.
 */
export function blockHours(block: CapacityReservation): number {
  return nominalDurationHours(Math.round(((block.EndDate?.getTime() ?? 0) - (block.StartDate?.getTime() ?? 0)) / 60_000));
}

/** Capacity Blocks matching `filters` (every page); other reservation types are ignored. */
export async function describeBlocks(filters: Filter[]): Promise<CapacityReservation[]> {
  return (await listReservations(filters)).filter(r => r.ReservationType === undefined || r.ReservationType === 'capacity-block');
}

/** Blocks carrying tag `key` = `value`, checked on the tags EC2 returns, not only on its filter. */
export async function blocksTagged(key: string, value: string): Promise<CapacityReservation[]> {
  return (await describeBlocks([{ Name: `tag:${key}`, Values: [value] }])).filter(b => tagValue(b, key) === value);
}

export async function ownedBlocks(keys: ResourceKeys): Promise<Block[]> {
  return groupByPurchase(await blocksTagged(OWNER_TAG, keys.owner));
}

/**
 * What about a block does not fit the request: each item needs a different block. The block is
 * compared with the request itself, never with the old properties, so a rollback to properties the
 * block satisfies is always in place. Duration is not here: a longer block fits, a shorter one may
 * be extended (see `fits`).
 */
export function mismatches(block: CapacityReservation, request: CapacityBlockRequest): string[] {
  const found: string[] = [];
  const differs = (name: string, wanted: unknown, actual: unknown) => {
    if (wanted !== actual) found.push(`${name} ${String(wanted)} (the block has ${String(actual)})`);
  };
  const ultraservers = tagValue(block, ULTRASERVER_TAG);
  if (isUltraServer(request)) {
    differs('ultraserverType x ultraserverCount', ultraserverTagValue(request.ultraserverType!, request.ultraserverCount!), ultraservers ?? `${block.TotalInstanceCount} x ${block.InstanceType} instances`);
  } else if (ultraservers) {
    found.push(`instanceType ${request.instanceType} x ${request.instanceCount} (the block is UltraServer ${ultraservers})`);
  } else {
    differs('instanceType', request.instanceType, block.InstanceType);
    differs('instanceCount', request.instanceCount, block.TotalInstanceCount);
  }
  differs('instancePlatform', request.instancePlatform, block.InstancePlatform);
  if (request.availabilityZone !== undefined) differs('availabilityZone', request.availabilityZone, block.AvailabilityZone);
  if (request.offeringId !== undefined) differs('offeringId', request.offeringId, tagValue(block, OFFERING_TAG) ?? 'an unknown offering');
  const start = block.StartDate;
  if (start && request.earliestStart && start < request.earliestStart) {
    found.push(`earliestStart ${iso(request.earliestStart)} (the block starts ${iso(start)})`);
  }
  // The window holds the requested duration from the block's start; hours an extension added
  // beyond it were bought already and cannot be undone, so they are not held against the block.
  // A block that started off 11:30 UTC ends before its whole days are up: its own end then counts.
  const end = start && Math.min(start.getTime() + request.durationHours * HOUR_MS, block.EndDate?.getTime() ?? Infinity);
  if (start && end && request.latestEnd && end > request.latestEnd.getTime()) {
    found.push(`latestEnd ${iso(request.latestEnd)} (the block's ${request.durationHours} h end ${iso(new Date(end))})`);
  }
  return found;
}

/**
 * The block this resource already owns that serves the request without buying anything: live, fitting
 * and at least as long as asked. Prefers the block this very request bought (a redelivery), then
 * `currentId`, then the one that ends last.
 */
export function pickAdoptable(owned: CapacityReservation[], request: CapacityBlockRequest, prefer: { requestKey: string; currentId?: string }): CapacityReservation | undefined {
  const candidates = owned.filter(b => isLive(b) && mismatches(b, request).length === 0 && blockHours(b) >= request.durationHours);
  const rank = (b: CapacityReservation) => (tagValue(b, IDEMPOTENCY_TAG) === prefer.requestKey ? 2 : 0) + (holds(b, prefer.currentId) ? 1 : 0);
  return candidates.sort((a, b) => rank(b) - rank(a) || (b.EndDate?.getTime() ?? 0) - (a.EndDate?.getTime() ?? 0))[0];
}

/**
 * Live blocks this resource owns besides `keptId`: blocks an earlier deployment bought and CloudFormation
 * does not track (a replacement, a rollback, a deployment that failed after its purchase). They cannot
 * be cancelled, so every answer names them: the user keeps paying for them until they end.
 */
export function otherLiveBlocks(owned: CapacityReservation[], keptId: string | undefined): CapacityReservation[] {
  return owned.filter(b => isLive(b) && !holds(b, keptId));
}

/**
 * Whether `id` is one of the block's reservations. A physical id is normally the lowest, but one found
 * while EC2 listed only part of an UltraServer purchase may be another of its reservations.
 */
function holds(block: CapacityReservation, id: string | undefined): boolean {
  return id !== undefined && reservationIdsOf(block).includes(id);
}

export function alsoOwnedNote(owned: CapacityReservation[], keptId: string | undefined): string {
  const others = otherLiveBlocks(owned, keptId);
  return others.length === 0 ? '' : `This resource also owns, and you pay for until they end: ${others.map(describeBlock).join('; ')}`;
}
