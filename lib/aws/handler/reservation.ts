import {
  CapacityBlock, CapacityBlockExtension, CapacityBlockStatus, CapacityReservation, DescribeCapacityBlockExtensionHistoryCommand, DescribeCapacityBlocksCommand, DescribeCapacityBlockStatusCommand,
  DescribeCapacityReservationsCommand, EC2Client, Filter, paginateDescribeCapacityReservations,
} from '@aws-sdk/client-ec2';
import { parseDecimal } from '../validation';
import { CapacityBlockAttributes, OFFERING_TAG, ULTRASERVER_TAG, UPFRONT_FEE_TAG } from '../wire';
import { ec2, ec2CallOptions } from './ec2';
import { errorCode, isNotFound, log, UserError } from './errors';
import { iso } from './offerings';

/**
 * Reservations read by id, every one EC2 lists: reads by id do not lag the way tag listings do. One
 * call for all; if EC2 refuses it because one id is unknown (a block long over, or one it does not
 * list yet), each is read on its own and the unknown ones left out.
 */
export async function readReservations(ids: string[]): Promise<CapacityReservation[]> {
  if (ids.length === 0) return [];
  try {
    return (await ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: ids }), ec2CallOptions())).CapacityReservations ?? [];
  } catch (error) {
    if (!isNotFound(error) || ids.length === 1) {
      if (isNotFound(error)) return [];
      throw error;
    }
    return (await Promise.all(ids.map(id => readReservations([id])))).flat();
  }
}

/** DescribeCapacityBlockExtensionHistory of blocks, read by their ids. */
export async function extensionHistory(reservationIds: string[]): Promise<CapacityBlockExtension[]> {
  const result = await ec2.send(new DescribeCapacityBlockExtensionHistoryCommand({ CapacityReservationIds: reservationIds }), ec2CallOptions());
  return result.CapacityBlockExtensions ?? [];
}

/**
 * The reservation ids EC2 names for each Capacity Block, read by block id: how a purchase that EC2
 * answered before it had the ids is followed until they show. Blocks EC2 does not know yet are left out.
 */
export async function reservationIdsOfBlocks(blockIds: string[]): Promise<Map<string, string[]>> {
  const named = new Map<string, string[]>();
  let blocks: CapacityBlock[];
  try {
    blocks = await describeCapacityBlocks(blockIds);
  } catch (error) {
    if (isNotFound(error)) return named;
    throw error;
  }
  for (const block of blocks) {
    if (block.CapacityBlockId && (block.CapacityReservationIds ?? []).length > 0) named.set(block.CapacityBlockId, [...block.CapacityReservationIds!].sort());
  }
  return named;
}

/**
 * Several reservations of one purchase, read by id (exact: no tag filter that may lag), as one view:
 * the lowest reservation with the combined state, unknown while EC2 does not list every one of them.
 */
export async function describeReservations(ids: string[]): Promise<PurchaseView | undefined> {
  const found = await readReservations(ids);
  const view = purchaseView(found);
  return view && found.length < ids.length ? { ...view, State: undefined } : view;
}

/**
 * DescribeCapacityReservations, every page. EC2's model documents no `tag:<key>` filter for it (only
 * instance-type, availability-zone, state and the like): if EC2 refuses one, list without it. Callers
 * check the tags on what EC2 returns either way, so the filter only narrows the answer; the ownership
 * and idempotency lookups must not depend on it, or every deployment would fail before it could buy.
 */
export async function listReservations(filters: Filter[], client: EC2Client = ec2): Promise<CapacityReservation[]> {
  const list = async (only: Filter[]) => {
    const found: CapacityReservation[] = [];
    for await (const page of paginateDescribeCapacityReservations({ client }, { Filters: only.length > 0 ? only : undefined }, ec2CallOptions())) {
      found.push(...(page.CapacityReservations ?? []));
    }
    return found;
  };
  const untagged = filters.filter(f => !f.Name?.startsWith('tag:'));
  try {
    return await list(filters);
  } catch (error) {
    if (untagged.length === filters.length || !/^(InvalidParameterValue|InvalidFilter)/.test(errorCode(error))) throw error;
    log('tag filter refused; listing without it', { error: errorCode(error) });
    return list(untagged);
  }
}

/** A symbol, not a member name: it must never pass for a field of EC2's answer. */
const MEMBERS = Symbol('reservations of the purchase');

/** A purchase as the handler reasons about it: its lowest reservation, the combined state, every member. */
export type PurchaseView = CapacityReservation & { readonly [MEMBERS]?: CapacityReservation[] };

/** Every reservation of the purchase, lowest first (the view itself for an instance block). */
export function membersOf(view: PurchaseView): CapacityReservation[] {
  return view[MEMBERS] ?? [view];
}

/** Lowest reservation id first: the order a purchase's reservations are tracked and reported in. */
export function byReservationId(a: CapacityReservation, b: CapacityReservation): number {
  return (a.CapacityReservationId ?? '').localeCompare(b.CapacityReservationId ?? '');
}

export function purchaseView(reservations: CapacityReservation[]): PurchaseView | undefined {
  const sorted = [...reservations].sort(byReservationId);
  if (sorted.length <= 1) return sorted[0];
  return { ...sorted[0], State: combinedState(sorted.map(r => r.State)) as CapacityReservation['State'], [MEMBERS]: sorted };
}

/** See ownership.ts: the one that says least is done; any live reservation keeps the purchase live. */
const STATE_PRIORITY = ['payment-failed', 'payment-pending', 'pending', 'assessing', 'delayed', 'unavailable', 'scheduled', 'active', 'failed', 'cancelled', 'expired'];
export function combinedState(states: Array<string | undefined>): string | undefined {
  const present = new Set(states);
  if (present.has(undefined)) return undefined;
  if (present.size === 1) return states[0];
  return STATE_PRIORITY.find(s => present.has(s)) ?? states[0];
}

/** The purchase's Capacity Block ids (an UltraServer purchase may hold several), as its reservations name them. */
export function blockIdsOf(view: PurchaseView): string[] {
  return [...new Set(membersOf(view).map(r => r.CapacityBlockId).filter((b): b is string => !!b))];
}

/**
 * DescribeCapacityBlocks: the block-level state, which for an UltraServer block says more than
 * each reservation's (EC2 marks the whole block unavailable when its interconnect fails).
 */
export async function describeCapacityBlocks(blockIds: string[]): Promise<CapacityBlock[]> {
  if (blockIds.length === 0) return [];
  const result = await ec2.send(new DescribeCapacityBlocksCommand({ CapacityBlockIds: blockIds }), ec2CallOptions());
  return result.CapacityBlocks ?? [];
}

/** DescribeCapacityBlockStatus: the accelerator interconnect of an active UltraServer block. */
export async function describeInterconnect(blockIds: string[]): Promise<CapacityBlockStatus[]> {
  if (blockIds.length === 0) return [];
  const result = await ec2.send(new DescribeCapacityBlockStatusCommand({ CapacityBlockIds: blockIds }), ec2CallOptions());
  return result.CapacityBlockStatuses ?? [];
}

/** The worst interconnect status of the blocks ('' when EC2 reported none). */
export function combinedInterconnect(statuses: CapacityBlockStatus[]): string {
  const seen = new Set<string>(statuses.map(s => s.InterconnectStatus ?? ''));
  return ['impaired', 'insufficient-data', 'ok'].find(s => seen.has(s)) ?? '';
}

export function tagValue(reservation: CapacityReservation, key: string): string | undefined {
  return reservation.Tags?.find(t => t.Key === key)?.Value;
}

const ATTRIBUTE_NAMES: Array<keyof CapacityBlockAttributes> = [
  'CapacityReservationId', 'CapacityReservationArn', 'CapacityReservationIds', 'CapacityReservationArns', 'CapacityBlockId', 'CapacityBlockIds',
  'InterconnectStatus', 'AvailabilityZone', 'StartDate', 'EndDate', 'UpfrontFee', 'CurrencyCode', 'State', 'OfferingId', 'Note',
];

/** Every attribute (GetAtt needs each one present), from what is known: the rest are ''. */
export function attributesFrom(known: Partial<CapacityBlockAttributes>): CapacityBlockAttributes {
  return Object.fromEntries(ATTRIBUTE_NAMES.map(name => [name, known[name] ?? ''])) as unknown as CapacityBlockAttributes;
}

/** The resource's attributes, read from EC2 (and from the tags written at purchase for the fee). */
export function attributesOf(reservation: PurchaseView, note: string, interconnectStatus = ''): CapacityBlockAttributes {
  // Written at purchase as "<fee> <currency>"; a fee that does not read strictly is reported as unknown.
  const [fee = '', currency = ''] = (tagValue(reservation, UPFRONT_FEE_TAG) ?? '').split(' ');
  const readable = parseDecimal(fee) !== undefined;
  const members = membersOf(reservation);
  const blockIds = blockIdsOf(reservation);
  return {
    CapacityReservationId: reservation.CapacityReservationId ?? '',
    CapacityReservationArn: reservation.CapacityReservationArn ?? '',
    CapacityReservationIds: members.map(r => r.CapacityReservationId ?? '').join(','),
    CapacityReservationArns: members.map(r => r.CapacityReservationArn ?? '').join(','),
    CapacityBlockId: blockIds[0] ?? '',
    CapacityBlockIds: blockIds.join(','),
    InterconnectStatus: interconnectStatus,
    AvailabilityZone: reservation.AvailabilityZone ?? '',
    StartDate: reservation.StartDate?.toISOString() ?? '',
    EndDate: reservation.EndDate?.toISOString() ?? '',
    UpfrontFee: readable ? fee : '',
    CurrencyCode: readable ? currency : '',
    State: reservation.State ?? 'unknown',
    OfferingId: tagValue(reservation, OFFERING_TAG) ?? '',
    Note: note,
  };
}

export function describeBlock(r: PurchaseView): string {
  const ultraservers = tagValue(r, ULTRASERVER_TAG);
  const what = ultraservers
    ? `UltraServer ${ultraservers}, reservations ${membersOf(r).map(m => m.CapacityReservationId).join(', ')}`
    : `${r.TotalInstanceCount} x ${r.InstanceType}`;
  return `${r.CapacityReservationId} (${what} in ${r.AvailabilityZone}, ${r.State}, ends ${r.EndDate ? iso(r.EndDate) : 'unknown'})`;
}

export type WaitDecision =
  | { readonly complete: false }
  | { readonly complete: true; readonly note: string };

/**
 * Lifecycle rule 4: the wait ends at scheduled/active; at the deadline a pending payment still
 * succeeds (the block is bought and cannot be undone); only payment-failed fails, as nothing is owed.
 */
export function decideWait(reservation: CapacityReservation | undefined, id: string, deadline: Date, now: Date): WaitDecision {
  const state = reservation?.State;
  if (state === 'payment-failed') {
    throw new UserError(`Payment for Capacity Block ${id} failed and EC2 released the block; nothing is owed. Check the account's payment method and deploy again`);
  }
  if (state === 'payment-pending' || state === 'pending' || state === 'assessing' || state === undefined) {
    if (now < deadline) return { complete: false };
    return {
      complete: true,
      note: state === undefined
        ? `Capacity Block ${id} was bought but EC2 did not list it${several(reservation) ? ' (or every reservation of it)' : ''} before waitTimeout; check it in the EC2 console`
        : `Capacity Block ${id} is bought; its payment was still pending at waitTimeout (${deadline.toISOString()}). EC2 releases it if payment fails within 12 hours`,
    };
  }
  // Every other state ends the wait: the block is bought, and only payment-failed means nothing is owed (rule 4).
  return { complete: true, note: state === 'scheduled' || state === 'active' ? '' : stateNote(id, state) };
}

function several(reservation: PurchaseView | undefined): boolean {
  return reservation !== undefined && membersOf(reservation).length > 1;
}

/** What a bought block in an unusual state means for the user, and what to do. */
export function stateNote(id: string, state: string): string {
  switch (state) {
    case 'delayed':
      return `Capacity Block ${id} is bought, but EC2 is delivering it late (state delayed); it becomes active when EC2 delivers it. Watch its state or the Capacity Block Delivered event`;
    case 'unavailable':
      return `Capacity Block ${id} is bought, but EC2 reports it unavailable (its capacity or interconnect is impaired); contact AWS Support about the block`;
    case 'failed':
    case 'cancelled':
      return `Capacity Block ${id} is ${state} by EC2 after it was bought; check its billing with AWS Support before buying again`;
    default:
      return `Capacity Block ${id} is ${state}`;
  }
}
