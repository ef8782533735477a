import { announceMoneyMove, ownerOf } from '../core/audit';
import { CapacityBlock, CapacityReservation, PurchaseCapacityBlockCommand, PurchaseCapacityBlockCommandOutput } from '@aws-sdk/client-ec2';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, ULTRASERVER_TAG, ultraserverTagValue, UPFRONT_FEE_TAG, WireTag } from '../wire';
import { clock, remainingMs, sleep, timeouts } from './budget';
import { ec2CallOptions, ec2Purchases } from './ec2';
import { errorCode, isDefiniteRejection, log, oneLine, UserError } from './errors';
import { read, settleIntent } from '../core/read';
import { Ledger, LedgerPurchase, LedgerRecord, Outcome, unsettledError } from './ledger';
import { decimalMoney, judgeOfferings, money, noAcceptableOffering, Offering, searchOfferings } from './offerings';
import { blocksTagged, reservationIdsOf, ResourceKeys } from './ownership';
import { assertWindowStillOpen, CapacityBlockRequest, isUltraServer } from './request';
import { blockIdsOf, membersOf, purchaseView, PurchaseView, reservationIdsOfBlocks } from './reservation';

/** Tunables, exported so tests can shorten the waits. */
export const purchasePolicy = {
  /** Purchases tried (each on a freshly searched offering) before giving up. */
  maxAttempts: 3,
  /** After an ambiguous purchase failure: how many times, and how far apart, to look for the block. */
  lookups: 4,
  lookupDelayMs: 5_000,
  /** After a 200 that named no reservation: how long onEvent follows the block for them (isComplete goes on after). */
  idWaitMs: 60_000,
};

/** What a purchase produced. */
export interface Purchased {
  /** Every reservation of the purchase (several for an UltraServer block), lowest first; empty while EC2 has not named them. */
  readonly reservationIds: string[];
  /** The Capacity Block ids EC2 answered. */
  readonly blockIds: string[];
  readonly offering?: Offering;
  /** bought now; or bought by an earlier attempt whose answer was lost, and found by its tags. */
  readonly source: 'bought' | 'found-after-lost-answer';
  /** Found after a lost answer while EC2 still listed only part of the purchase: reservationIds may miss some. */
  readonly partial?: string;
}

/**
 * Buys the best acceptable offering exactly once for this request (lifecycle rules 1–3): refuses
 * everything above the ceiling, and moves on to the next offering when EC2 refuses the chosen one
 * (sold out between search and purchase). Every purchase is written to the resource's ledger as an
 * intent first and with its outcome after. A 200 is final, with or without reservation ids; an answer
 * that never came leaves the intent open and buys nothing more: EC2's lists lag behind a purchase, so
 * not finding it proves nothing until the intent has settled (INTENT_SETTLE_MS).
 */
export async function purchaseOnce(request: CapacityBlockRequest, keys: ResourceKeys, ledger: Ledger, now: Date): Promise<Purchased> {
  assertWindowStillOpen(request, now);
  const soldOut = new Set<string>();
  let lastFailure = '';
  for (let attempt = 1; attempt <= purchasePolicy.maxAttempts; attempt++) {
    const judgement = judgeOfferings(await searchOfferings(request, now), request, soldOut);
    const offering = judgement.acceptable[0];
    if (!offering) {
      if (soldOut.size > 0) {
        throw new UserError(`Every acceptable Capacity Block offering sold out before it could be bought (tried ${[...soldOut].join(', ')}; last error ${lastFailure}); nothing was bought, deploy again to retry`);
      }
      throw noAcceptableOffering(request, judgement);
    }
    assertTimeToBuy(offering);
    log('buying Capacity Block offering', { offeringId: offering.id, upfrontFee: offering.upfrontFeeText, acceptable: judgement.acceptable.length, refused: judgement.refused.length });
    const intentAt = clock.now();
    await ledger.change(record => record.purchases.push(intent(keys.request, offering, request, intentAt)));
    let answer: PurchaseCapacityBlockCommandOutput;
    try {
      answer = await ec2Purchases.send(new PurchaseCapacityBlockCommand({
        CapacityBlockOfferingId: offering.id,
        InstancePlatform: request.instancePlatform as never,
        TagSpecifications: purchaseTags(request, keys, offering),
      }), ec2CallOptions());
    } catch (error) {
      lastFailure = oneLine(error);
      if (isDefiniteRejection(error)) {
        await settle(ledger, keys.request, offering.id, { outcome: 'not-bought' });
        await explainRejection(error, offering, request, now);
        soldOut.add(offering.id);
        log('offering sold out; searching again', { offeringId: offering.id, error: lastFailure });
        continue;
      }
      // The purchase may have gone through: find it, and never buy again while it may have.
      log('purchase outcome unknown; looking for the block', { offeringId: offering.id, error: lastFailure });
      const bought = await lookForPurchase(keys.request, offering);
      if (!bought) {
        throw unsettledError(`The purchase of ${offering.id} (${decimalMoney(offering.upfrontFeeText, offering.currencyCode)}, ${lastFailure})`, intentAt.toISOString(), adoptOrBuy(keys.request));
      }
      const found = { reservationIds: reservationIdsOf(bought.view), blockIds: blockIdsOf(bought.view) };
      // Bought: as after a 200, a failed write leaves the intent open and the next event finds the block again.
      await ledger.remember(record => settled(record, keys.request, offering.id, { outcome: 'bought', ...found }));
      await announceBlock(ledger, [...found.reservationIds, ...found.blockIds], offering, 'read-after-lost-answer');
      return { ...found, offering, source: 'found-after-lost-answer', partial: bought.partial };
    }
    // A 200 is final: bought, whether or not EC2 named the reservations yet.
    const blockIds = (answer.CapacityBlocks ?? []).map(b => b.CapacityBlockId).filter((b): b is string => !!b);
    let reservationIds = purchasedReservationIds(answer);
    log('bought Capacity Block', { capacityReservationIds: reservationIds, capacityBlockIds: blockIds, offeringId: offering.id, upfrontFee: money(offering.upfrontFee, offering.currencyCode) });
    // If this write fails, the intent stays open and the next event finds the block by its tags.
    await ledger.remember(record => settled(record, keys.request, offering.id, { outcome: 'bought', reservationIds, blockIds }));
    if (reservationIds.length === 0) reservationIds = await followBlocks(ledger, keys.request, offering.id, blockIds);
    await announceBlock(ledger, [...reservationIds, ...blockIds], offering, 'answer');
    return { reservationIds, blockIds, offering, source: 'bought' };
  }
  throw new UserError(`Could not buy a Capacity Block after ${purchasePolicy.maxAttempts} attempts (last error ${lastFailure}); EC2 refused each, so nothing was bought; deploy again to retry`);
}

/**
 * The tags of a purchase, given in the purchase call (and in its dry run: IAM authorizes a dry run like
 * the call, tag conditions included): the user's, then the library's, which find the block again.
 */
export function purchaseTags(request: CapacityBlockRequest, keys: ResourceKeys, offering: Offering): Array<{ ResourceType: 'capacity-reservation'; Tags: WireTag[] }> {
  return [{
    ResourceType: 'capacity-reservation',
    Tags: [
      ...request.tags,
      { Key: IDEMPOTENCY_TAG, Value: keys.request },
      { Key: OWNER_TAG, Value: keys.owner },
      { Key: OFFERING_TAG, Value: offering.id },
      { Key: UPFRONT_FEE_TAG, Value: `${offering.upfrontFeeText} ${offering.currencyCode}` },
      ...(isUltraServer(request) ? [{ Key: ULTRASERVER_TAG, Value: ultraserverTagValue(request.ultraserverType!, request.ultraserverCount!) }] : []),
    ],
  }];
}

function intent(requestKey: string, offering: Offering, request: CapacityBlockRequest, at: Date): LedgerPurchase {
  return {
    requestKey, offeringId: offering.id, upfrontFee: offering.upfrontFeeText, currencyCode: offering.currencyCode,
    ultraserver: isUltraServer(request) ? ultraserverTagValue(request.ultraserverType!, request.ultraserverCount!) : undefined,
    instanceCount: offering.instanceCount, outcome: 'intent', intentAt: at.toISOString(), blockIds: [], reservationIds: [], answeredFor: [], released: false,
  };
}

/** Writes what became of the intent of `requestKey` to buy `offeringId`. */
async function settle(ledger: Ledger, requestKey: string, offeringId: string, outcome: Partial<LedgerPurchase> & { outcome: Outcome }): Promise<void> {
  await ledger.change(record => settled(record, requestKey, offeringId, outcome));
}

function settled(record: LedgerRecord, requestKey: string, offeringId: string, outcome: Partial<LedgerPurchase>): void {
  const purchase = record.purchases.find(p => p.requestKey === requestKey && p.offeringId === offeringId);
  if (purchase) Object.assign(purchase, outcome);
}

/** What deploying again after an open purchase intent does. */
export function adoptOrBuy(requestKey: string): string {
  return `the resource adopts the block if EC2 shows one tagged ${IDEMPOTENCY_TAG}=${requestKey} by then, and buys only if it does not`;
}

/**
 * After a 200 that named no reservation (UltraServer blocks; sometimes instance blocks): follows the
 * blocks by id until EC2 names their reservations, within `idWaitMs` and the invocation's time. An
 * empty answer leaves the block id as the physical id; isComplete and the next event go on from there.
 */
async function followBlocks(ledger: Ledger, requestKey: string, offeringId: string, blockIds: string[]): Promise<string[]> {
  const until = Date.now() + purchasePolicy.idWaitMs * (purchasePolicy.lookupDelayMs / 5_000);
  while (blockIds.length > 0 && Date.now() < until && remainingMs() > timeouts.ec2RequestMs * 2 + purchasePolicy.lookupDelayMs) {
    await sleep(purchasePolicy.lookupDelayMs);
    try {
      const named = await reservationIdsOfBlocks(blockIds);
      const ids = blockIds.flatMap(b => named.get(b) ?? []).sort();
      if (ids.length > 0) {
        await ledger.remember(record => settled(record, requestKey, offeringId, { reservationIds: ids }));
        return ids;
      }
    } catch (error) {
      log('could not read the new block yet; looking again', { error: oneLine(error) });
    }
  }
  log('tracking the new block by its id until EC2 names its reservations', { capacityBlockIds: blockIds });
  return [];
}

/** A purchase starts only if there is time left to learn its outcome: the answer, or the lookups after a lost one. */
function assertTimeToBuy(offering: Offering): void {
  const needed = timeouts.ec2RequestMs * (1 + purchasePolicy.lookups) + purchasePolicy.lookupDelayMs * (purchasePolicy.lookups - 1);
  if (remainingMs() < needed) {
    throw new UserError(`Not enough time left in this invocation to buy ${offering.id} and confirm the outcome; nothing was bought. Deploy again`);
  }
}

/** Every reservation id a PurchaseCapacityBlock answer names, lowest first. */
export function purchasedReservationIds(result: { CapacityReservation?: CapacityReservation; CapacityBlocks?: CapacityBlock[] }): string[] {
  const ids = new Set<string>();
  if (result.CapacityReservation?.CapacityReservationId) ids.add(result.CapacityReservation.CapacityReservationId);
  for (const block of result.CapacityBlocks ?? []) for (const id of block.CapacityReservationIds ?? []) ids.add(id);
  return [...ids].sort();
}

/**
 * A 4xx is either "that offering is gone" (search again) or a problem with the request itself
 * (permissions, platform, account limits), which no other offering would fix: those fail now.
 */
async function explainRejection(error: unknown, offering: Offering, request: CapacityBlockRequest, now: Date): Promise<void> {
  const code = errorCode(error);
  if (/^(UnauthorizedOperation|AuthFailure|AccessDenied)/.test(code)) {
    throw new UserError(`EC2 refused PurchaseCapacityBlock for ${offering.id}: ${oneLine(error)}; grant the provider's role ec2:PurchaseCapacityBlock and ec2:CreateTags, or check your organization's SCPs`);
  }
  if (/Insufficient|Unavailable|NotFound|Expired|Sold/i.test(code)) {
    return;
  }
  const stillListed = (await searchOfferings(request, now)).some(o => o.id === offering.id);
  if (stillListed) {
    throw new UserError(`EC2 refused PurchaseCapacityBlock for ${offering.id} (${oneLine(error)}); nothing was bought. Fix the cause EC2 names (instancePlatform '${request.instancePlatform}', account limits or tags) and deploy again`);
  }
}

/**
 * After an ambiguous failure: look for the block by its idempotency tag a few times, as a new block
 * shows late. Not finding it proves nothing (EC2's lists lag): the caller buys nothing more either way.
 * A purchase EC2 lists only in part (an UltraServer block is several reservations) is bought all the
 * same; the ledger completes its reservations once EC2 lists them (ownedBlocks).
 */
async function lookForPurchase(key: string, offering: Offering): Promise<{ view: PurchaseView; partial?: string } | undefined> {
  let found: { view: PurchaseView; partial?: string } | undefined;
  // A purchase listed in part is looked for again: its lowest reservation, the physical id, may be missing.
  for (let i = 0; i < purchasePolicy.lookups && (!found || found.partial); i++) {
    if (i > 0) await sleep(purchasePolicy.lookupDelayMs);
    const view = await findPurchase(key).catch(error => log('could not look for the block; looking again', { error: oneLine(error) }));
    if (!view) continue;
    const listed = membersOf(view).reduce((n, r) => n + (r.TotalInstanceCount ?? 0), 0);
    found = { view, partial: listed < offering.instanceCount ? `EC2 listed only part of the purchase when it was found (${listed} of ${offering.instanceCount} instances): ${reservationIdsOf(view).join(', ')}` : undefined };
  }
  return found;
}

/**
 * Intents of earlier deliveries whose answer never came (a crash, a timeout, a lost answer), settled by
 * the core's rule: a purchase EC2 lists with the intent's idempotency tag was bought; only a
 * successful listing that shows nothing, once the intent has settled, proves it was not; a listing
 * that fails (throttling comes in bursts) fails the step, naming the intent, and buys nothing.
 * Returns the intents that stay open: while one is, nothing is bought.
 */
export async function resolveIntents(ledger: Ledger): Promise<LedgerPurchase[]> {
  for (const open of ledger.record.purchases.filter(p => p.outcome === 'intent')) {
    const what = `An earlier purchase of this resource (${open.offeringId}, tag ${IDEMPOTENCY_TAG}=${open.requestKey})`;
    const fate = settleIntent(await read(() => findPurchase(open.requestKey)), { intentAt: open.intentAt, what });
    if (fate.kind === 'bought') {
      log('an earlier purchase attempt was bought', { capacityReservationId: fate.found.CapacityReservationId, offeringId: open.offeringId });
      const found = { reservationIds: reservationIdsOf(fate.found), blockIds: blockIdsOf(fate.found) };
      await settle(ledger, open.requestKey, open.offeringId, { outcome: 'bought', ...found });
      await announceMoneyMove('Capacity Block Purchased', {
        product: 'capacity-block', ids: [...found.reservationIds, ...found.blockIds], offeringId: open.offeringId, fee: open.upfrontFee, currency: open.currencyCode,
        start: fate.found.StartDate?.toISOString(), end: fate.found.EndDate?.toISOString(), ...ownerOf(ledger.owner), learnedFrom: 'read-after-lost-answer',
      });
    } else if (fate.kind === 'not-bought') {
      log('an earlier purchase attempt was not bought', { offeringId: open.offeringId, intentAt: open.intentAt });
      await settle(ledger, open.requestKey, open.offeringId, { outcome: 'not-bought' });
    }
  }
  return ledger.record.purchases.filter(p => p.outcome === 'intent');
}

/** The purchase of one request, by its idempotency tag (every reservation of an UltraServer purchase carries it). */
export async function findPurchase(key: string): Promise<PurchaseView | undefined> {
  return purchaseView(await blocksTagged(IDEMPOTENCY_TAG, key));
}

/** The audit event of a block bought by this delivery (its 200, or a read after its lost answer). */
function announceBlock(ledger: Ledger, ids: string[], offering: Offering, learnedFrom: 'answer' | 'read-after-lost-answer'): Promise<void> {
  return announceMoneyMove('Capacity Block Purchased', {
    product: 'capacity-block', ids, offeringId: offering.id, fee: offering.upfrontFeeText, currency: offering.currencyCode,
    start: offering.startDate.toISOString(), end: offering.endDate.toISOString(), ...ownerOf(ledger.owner), learnedFrom,
  });
}
