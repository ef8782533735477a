import { CapacityReservation, EC2Client, Filter } from '@aws-sdk/client-ec2';
import { hoursLeftOf, LifecycleAdapter, pickServing } from '../core/lifecycle';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, ULTRASERVER_TAG, ultraserverTagValue, UPFRONT_FEE_TAG } from '../wire';
import { nominalDurationHours } from '../validation';
import { clock } from './budget';
import { log, oneLine, UserError } from './errors';
import { ResourceKeys } from './keys';
import { INTENT_SETTLE_MS, isIdOf, Ledger, LedgerExtension, LedgerPurchase, LedgerRecord, purchaseHolding } from './ledger';
import { iso } from './offerings';
import { CapacityBlockRequest, isUltraServer } from './request';
import { byReservationId, describeBlock, extensionHistory, listReservations, membersOf, purchaseView, PurchaseView, readReservations, reservationIdsOfBlocks, tagValue } from './reservation';

const HOUR_MS = 3_600_000;

export { resourceKeys, ResourceKeys } from './keys';

/**
 * Paid or being paid, and not over: a block the resource may still use. `delayed` and `unavailable`
 * blocks are bought and not over either (EC2 is late delivering, or the capacity is impaired), and
 * `pending`/`assessing` are on their way: none of them may be bought again.
 */
const LIVE_STATES = new Set(['payment-pending', 'scheduled', 'active', 'delayed', 'unavailable', 'pending', 'assessing']);
export function isLive(block: CapacityReservation): boolean {
  return LIVE_STATES.has(block.State ?? '');
}

/** One purchase (one PurchaseCapacityBlock): an instance block is one reservation, an UltraServer block several. */
export type Block = PurchaseView;

/** The reservation ids of a purchase, lowest first. */
export function reservationIdsOf(block: Block): string[] {
  return membersOf(block).map(r => r.CapacityReservationId ?? '').filter(Boolean);
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
export async function describeBlocks(filters: Filter[], client?: EC2Client): Promise<CapacityReservation[]> {
  return (await listReservations(filters, client)).filter(r => r.ReservationType === undefined || r.ReservationType === 'capacity-block');
}

/** Blocks carrying tag `key` = `value`, checked on the tags EC2 returns, not only on its filter. */
export async function blocksTagged(key: string, value: string, client?: EC2Client): Promise<CapacityReservation[]> {
  return (await describeBlocks([{ Name: `tag:${key}`, Values: [value] }], client)).filter(b => tagValue(b, key) === value);
}

/**
 * The live blocks a resource owns, as EC2 lists them by owner tag, and the one that serves `request`
 * (what a deployment would adopt, buying nothing). For `plan`, which does not read a deployed ledger.
 */
export async function ownedLiveBlocks(owner: string, request: CapacityBlockRequest, client: EC2Client): Promise<{ live: PurchaseView[]; serving?: PurchaseView }> {
  const live = groupByPurchase(await blocksTagged(OWNER_TAG, owner, client)).map(members => purchaseView(members)!).filter(isLive);
  return { live, serving: live.find(view => mismatches(view, request).length === 0 && blockHours(view) >= request.durationHours) };
}

/**
 * What about a block does not fit the request: each item needs a different block. Duration is not
 * here: a longer block fits, a shorter one may be extended (see `fits`).
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

/** A purchase of the resource's ledger, with what EC2 says of it now (read by id). */
export interface OwnedBlock {
  readonly purchase: LedgerPurchase;
  /** Undefined while EC2 does not list it yet (just bought) or any more (long over). */
  readonly view?: PurchaseView;
}

/** The id to name a purchase by in messages and answers. */
export function idOf(block: OwnedBlock): string {
  return block.view?.CapacityReservationId ?? block.purchase.reservationIds[0] ?? block.purchase.blockIds[0] ?? 'an unnamed block';
}

/**
 * Bought and not over. A purchase EC2 does not list yet is live: it was bought moments ago (EC2's
 * lists lag) and may never be bought again.
 */
export function isLiveOwned(block: OwnedBlock): boolean {
  if (block.view) return block.view.State === undefined || isLive(block.view);
  return Date.parse(block.purchase.intentAt) > clock.now().getTime() - INTENT_SETTLE_MS;
}

/** Serves the request without buying anything: live, fitting, and with at least the duration asked left. */
export function serves(block: OwnedBlock, request: CapacityBlockRequest): boolean {
  return pickServing(blockAdapter, [block], request, clock.now()) !== undefined;
}

export function describeOwned(block: OwnedBlock): string {
  return block.view ? describeBlock(block.view) : `${idOf(block)} (bought ${iso(new Date(block.purchase.intentAt))}, not listed by EC2)`;
}

/**
 * The resource's ledger. A resource without one yet (its stack's first event since this version of
 * the library, or a stack created again under the same name) starts it from the blocks EC2 lists with
 * its owner tag: CloudFormation tracks only `physicalId`, last answered for `answeredProperties`.
 */
export async function openLedger(keys: ResourceKeys, physicalId?: string, answeredDigest?: string): Promise<Ledger> {
  const existing = await Ledger.read<LedgerRecord>(keys.owner);
  if (existing) return existing;
  const listed = await blocksTagged(OWNER_TAG, keys.owner);
  const record: LedgerRecord = { purchases: groupByPurchase(listed).map(importedPurchase), extensions: [] };
  if (physicalId && !purchaseHolding(record, physicalId)) {
    // Not listed with the owner tag (EC2's lists lag, or it was bought before owner tags): read by id.
    // One EC2 lists no more is over; it is still what CloudFormation tracks, and never a reason to buy.
    const [reservation] = physicalId.startsWith('cr-') ? await readReservations([physicalId]) : [];
    record.purchases.push(reservation ? importedPurchase([reservation]) : unlistedPurchase(physicalId));
  }
  for (const purchase of record.purchases) {
    const tracked = isIdOf(purchase, physicalId);
    purchase.released = !tracked;
    if (tracked) purchase.trackedAs = physicalId;
    if (tracked && answeredDigest) purchase.answeredFor.push(answeredDigest);
  }
  if (record.purchases.length > 0) {
    record.extensions = await importedExtensions(record.purchases.flatMap(p => p.reservationIds));
    log('started this resource\'s ledger from the blocks EC2 lists with its owner tag', { owner: keys.owner, blocks: record.purchases.map(p => p.reservationIds[0]) });
  }
  return Ledger.start(keys.owner, record);
}

/**
 * A ledger that lacks the purchase CloudFormation tracks (the write of its 200 answer failed, say)
 * learns it from EC2 by id, before anything else is decided: an open intent whose idempotency tag the
 * reservation carries is settled as bought with it; a reservation EC2 no longer lists is over. A read
 * that fails fails the step: nothing is decided, nothing bought.
 */
export async function trackPhysicalId(ledger: Ledger, physicalId: string, answeredDigest?: string): Promise<void> {
  if (purchaseHolding(ledger.record, physicalId)) return;
  const [reservation] = physicalId.startsWith('cr-') ? await readReservations([physicalId]) : [];
  const found = reservation ? importedPurchase([reservation]) : unlistedPurchase(physicalId);
  log('this resource\'s ledger lacked the block CloudFormation tracks; read it by id', { physicalResourceId: physicalId, listed: reservation !== undefined });
  await ledger.change(record => {
    const intent = record.purchases.find(p => p.outcome === 'intent' && found.requestKey !== '' && p.requestKey === found.requestKey);
    const purchase = intent ? Object.assign(intent, { outcome: 'bought', reservationIds: found.reservationIds, blockIds: found.blockIds }) : found;
    if (!intent) record.purchases.push(purchase);
    Object.assign(purchase, { released: false, trackedAs: physicalId });
    if (answeredDigest && !purchase.answeredFor.includes(answeredDigest)) purchase.answeredFor.push(answeredDigest);
  });
}

/** The extensions EC2's history shows for the imported blocks; a block it no longer knows has none to add. */
async function importedExtensions(reservationIds: string[]): Promise<LedgerExtension[]> {
  const history = reservationIds.length === 0 ? [] : await extensionHistory(reservationIds).catch(() => []);
  return history.map(e => ({
    requestKey: '', reservationId: e.CapacityReservationId ?? '', offeringId: e.CapacityBlockExtensionOfferingId ?? '', upfrontFee: e.UpfrontFee ?? '',
    currencyCode: e.CurrencyCode ?? '', hours: e.CapacityBlockExtensionDurationHours ?? 0,
    outcome: e.CapacityBlockExtensionStatus === 'payment-failed' ? 'not-bought' : 'bought', intentAt: (e.CapacityBlockExtensionPurchaseDate ?? new Date(0)).toISOString(),
  }));
}

/** Reservations grouped by the purchase that bought them (its idempotency tag), each group lowest id first. */
function groupByPurchase(reservations: CapacityReservation[]): CapacityReservation[][] {
  const groups = new Map<string, CapacityReservation[]>();
  for (const r of [...reservations].sort(byReservationId)) {
    const key = tagValue(r, IDEMPOTENCY_TAG) ?? `id:${r.CapacityReservationId}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

function unlistedPurchase(physicalId: string): LedgerPurchase {
  const ids = { reservationIds: physicalId.startsWith('cr-') ? [physicalId] : [], blockIds: physicalId.startsWith('cb-') ? [physicalId] : [] };
  return {
    requestKey: '', offeringId: '', upfrontFee: '', currencyCode: '', outcome: 'bought', intentAt: new Date(0).toISOString(), ...ids,
    answeredFor: [], released: false,
  };
}

function importedPurchase(members: CapacityReservation[]): LedgerPurchase {
  const first = members[0];
  const [fee = '', currency = ''] = (tagValue(first, UPFRONT_FEE_TAG) ?? '').split(' ');
  return {
    requestKey: tagValue(first, IDEMPOTENCY_TAG) ?? '',
    offeringId: tagValue(first, OFFERING_TAG) ?? '',
    upfrontFee: fee,
    currencyCode: currency,
    ultraserver: tagValue(first, ULTRASERVER_TAG),
    outcome: 'bought',
    intentAt: (first.CreateDate ?? clock.now()).toISOString(),
    blockIds: [...new Set(members.map(r => r.CapacityBlockId).filter((b): b is string => !!b))],
    reservationIds: members.map(r => r.CapacityReservationId ?? '').filter(Boolean).sort(),
    answeredFor: [],
    released: true,
  };
}

/**
 * Every purchase of the ledger as EC2 shows it now, read by id (reads by id do not lag the way tag
 * listings do). Reservation ids EC2 named only after the purchase's answer are learnt from its
 * blocks and written to the ledger. The reserved tags come from the ledger: EC2 may show a new
 * block's tags a moment late.
 */
export async function ownedBlocks(ledger: Ledger): Promise<OwnedBlock[]> {
  const unnamed = ledger.record.purchases.filter(p => p.outcome === 'bought' && p.reservationIds.length === 0 && p.blockIds.length > 0);
  if (unnamed.length > 0) {
    try {
      const named = await reservationIdsOfBlocks(unnamed.flatMap(p => p.blockIds));
      if (named.size > 0) {
        await ledger.change(record => {
          for (const p of record.purchases) {
            const ids = p.blockIds.flatMap(b => named.get(b) ?? []).sort();
            if (p.reservationIds.length === 0 && ids.length > 0) p.reservationIds = ids;
          }
        });
      }
    } catch (error) {
      log('could not read the reservation ids of a new block yet', { error: oneLine(error) });
    }
  }
  const reservations = await readReservations(ledger.record.purchases.filter(p => p.outcome === 'bought').flatMap(p => p.reservationIds));
  await completePartialPurchases(ledger, reservations);
  return ledger.record.purchases.filter(p => p.outcome === 'bought').map(purchase => {
    const members = reservations.filter(r => purchase.reservationIds.includes(r.CapacityReservationId ?? ''));
    const view = purchaseView(members.map(r => ({ ...r, Tags: withReservedTags(r.Tags ?? [], purchase) })));
    // A reservation EC2 does not list leaves the purchase's state unknown.
    const partial = view && members.length < purchase.reservationIds.length;
    return { purchase, view: partial ? { ...view, State: undefined } : view };
  });
}

/**
 * A purchase found after a lost answer while EC2 listed only part of it (an UltraServer block is several
 * reservations, listed one by one) holds fewer instances than its offering: its other reservations are
 * recovered by its idempotency tag once EC2 lists them, and written to the ledger.
 */
async function completePartialPurchases(ledger: Ledger, reservations: CapacityReservation[]): Promise<void> {
  const listedInstances = (p: LedgerPurchase) => reservations.filter(r => p.reservationIds.includes(r.CapacityReservationId ?? '')).reduce((n, r) => n + (r.TotalInstanceCount ?? 0), 0);
  for (const partial of ledger.record.purchases.filter(p => p.outcome === 'bought' && p.requestKey && p.instanceCount && listedInstances(p) < p.instanceCount)) {
    const members = await blocksTagged(IDEMPOTENCY_TAG, partial.requestKey).catch(() => []);
    const ids = [...new Set([...partial.reservationIds, ...members.map(r => r.CapacityReservationId ?? '').filter(Boolean)])].sort();
    if (ids.length === partial.reservationIds.length) continue;
    reservations.push(...members.filter(r => !reservations.some(known => known.CapacityReservationId === r.CapacityReservationId)));
    const blockIds = [...new Set([...partial.blockIds, ...members.map(r => r.CapacityBlockId).filter((b): b is string => !!b)])];
    await ledger.change(record => {
      const purchase = record.purchases.find(p => p.requestKey === partial.requestKey && p.offeringId === partial.offeringId)!;
      Object.assign(purchase, { reservationIds: ids, blockIds });
    });
  }
}

/** EC2's tags of a reservation, with the library's own as the ledger knows them (EC2 may show them late). */
function withReservedTags(tags: Array<{ Key?: string; Value?: string }>, purchase: LedgerPurchase): Array<{ Key?: string; Value?: string }> {
  const reserved: Array<[string, string | undefined]> = [
    [IDEMPOTENCY_TAG, purchase.requestKey || undefined],
    [OFFERING_TAG, purchase.offeringId || undefined],
    [UPFRONT_FEE_TAG, purchase.upfrontFee ? `${purchase.upfrontFee} ${purchase.currencyCode}` : undefined],
    [ULTRASERVER_TAG, purchase.ultraserver],
  ];
  const known = reserved.filter((entry): entry is [string, string] => entry[1] !== undefined);
  return [...tags.filter(t => !known.some(([k]) => k === t.Key)), ...known.map(([Key, Value]) => ({ Key, Value }))];
}

/**
 * The block this resource already owns that serves the request without buying anything. Prefers the
 * block this very request bought (a redelivery), then `currentId`, then the one that ends last.
 */
export function pickAdoptable(owned: OwnedBlock[], request: CapacityBlockRequest, prefer: { requestKey: string; currentId?: string }): OwnedBlock | undefined {
  const rank = (b: OwnedBlock) => (b.purchase.requestKey === prefer.requestKey ? 2 : 0) + (holds(b, prefer.currentId) ? 1 : 0);
  return pickServing(blockAdapter, owned, request, clock.now(), rank);
}

/**
 * Live blocks this resource owns besides `keptId`: blocks an earlier deployment bought and CloudFormation
 * does not track (a replacement, a rollback, a deployment that failed after its purchase). They cannot
 * be cancelled, so every answer names them: the user keeps paying for them until they end.
 */
export function otherLiveBlocks(owned: OwnedBlock[], keptId: string | undefined): OwnedBlock[] {
  return owned.filter(b => isLiveOwned(b) && !holds(b, keptId));
}

export function holds(block: OwnedBlock, id: string | undefined): boolean {
  return isIdOf(block.purchase, id);
}

export function alsoOwnedNote(owned: OwnedBlock[], keptId: string | undefined): string {
  const others = otherLiveBlocks(owned, keptId);
  return others.length === 0 ? '' : `This resource also owns, and you pay for until they end: ${others.map(describeOwned).join('; ')}`;
}

/** What the lifecycle core needs to know of Capacity Blocks. */
export const blockAdapter: LifecycleAdapter<OwnedBlock, CapacityBlockRequest> = {
  noun: 'Capacity Block',
  service: 'EC2',
  entry: block => block.purchase,
  idOf,
  describe: describeOwned,
  isListed: block => block.view !== undefined,
  isLive: isLiveOwned,
  mismatches: (block, request) => (block.view ? mismatches(block.view, request) : []),
  hoursBought: block => (block.view ? blockHours(block.view) : 0),
  hoursLeft: (block, now) => (block.view ? hoursLeftOf(blockHours(block.view), block.view.StartDate, block.view.EndDate, now) : 0),
  endsAt: block => block.view?.EndDate?.getTime() ?? 0,
  durationHours: request => request.durationHours,
  allowRepurchase: request => request.allowRepurchase,
  refuse: (current, reasons, more) => refuseRepurchase(current, reasons, more),
};

/** The change needs a block other than `block`, which this resource holds (or owns) and cannot cancel. */
export function refuseRepurchase(block: OwnedBlock, reasons: string[], moreOwned = 0): UserError {
  const more = moreOwned > 0 ? ` (this resource owns ${moreOwned} more live block${moreOwned > 1 ? 's' : ''})` : '';
  return new UserError(`This change needs a new Capacity Block: ${reasons.join(', ')}. This resource already holds ${describeOwned(block)}${more}, which cannot be modified or cancelled. Revert the change, or set allowRepurchase: true to buy a new block (you keep paying for the old one)`);
}
