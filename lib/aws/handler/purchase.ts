import { CapacityBlock, CapacityReservation, PurchaseCapacityBlockCommand } from '@aws-sdk/client-ec2';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, ULTRASERVER_TAG, ultraserverTagValue, UPFRONT_FEE_TAG } from '../wire';
import { clock, remainingMs, sleep, timeouts } from './budget';
import { ec2CallOptions, ec2Purchases } from './ec2';
import { errorCode, isDefiniteRejection, log, oneLine, UserError } from './errors';
import { judgeOfferings, money, noAcceptableOffering, Offering, searchOfferings } from './offerings';
import { blocksTagged, describeBlocks, reservationIdsOf, ResourceKeys } from './ownership';
import { assertWindowStillOpen, CapacityBlockRequest, isUltraServer } from './request';
import { byReservationId, purchaseView, PurchaseView, tagValue } from './reservation';

/** Tunables, exported so tests can shorten the waits. */
export const purchasePolicy = {
  /** Purchases tried (each on a freshly searched offering) before giving up. */
  maxAttempts: 3,
  /** After an ambiguous purchase failure: how many times, and how far apart, to look for the block. */
  lookups: 4,
  lookupDelayMs: 5_000,
};

/** What a purchase produced. */
export interface Purchased {
  /** The lowest reservation id of the purchase: the resource's physical id. */
  readonly reservationId: string;
  /** Every reservation of the purchase (several for an UltraServer block), lowest first. */
  readonly reservationIds: string[];
  readonly offering?: Offering;
  /** bought now; or bought by an earlier attempt whose answer was lost, and found by its tags. */
  readonly source: 'bought' | 'found-after-lost-answer';
  /** Found after a lost answer while EC2 still listed only part of the purchase: reservationIds may miss some. */
  readonly partial?: string;
}

/** A lookup that saw something it cannot attribute: neither "bought" nor "not bought". */
class Unattributable extends Error {}

/**
 * A lookup that found the purchase, but EC2 lists only part of its reservations yet (its lists are
 * eventually consistent): bought for sure, yet its lowest reservation, the resource's physical id,
 * may still be missing. Looked for again; kept as it is if it stays partial.
 */
class Incomplete extends Unattributable {
  constructor(public readonly view: PurchaseView, message: string) {
    super(message);
  }
}

/**
 * Buys the best acceptable offering exactly once for this request (lifecycle rules 1–3): refuses
 * everything above the ceiling, and moves on to the next offering when the chosen one sells out
 * between search and purchase. The caller holds the request's claim and has already adopted what
 * the resource owns; here every retry still looks before it buys.
 */
export async function purchaseOnce(request: CapacityBlockRequest, keys: ResourceKeys, now: Date): Promise<Purchased> {
  assertWindowStillOpen(request, now);
  const soldOut = new Set<string>();
  let lastFailure = '';
  for (let attempt = 1; attempt <= purchasePolicy.maxAttempts; attempt++) {
    if (attempt > 1) {
      const earlier = await findPurchase(keys.request);
      if (earlier) return found(earlier);
    }
    const judgement = judgeOfferings(await searchOfferings(request, now), request, soldOut);
    const offering = judgement.acceptable[0];
    if (!offering) {
      if (soldOut.size > 0) {
        throw new UserError(`Every acceptable Capacity Block offering sold out before it could be bought (tried ${[...soldOut].join(', ')}; last error ${lastFailure}); nothing was bought, deploy again to retry`);
      }
      throw noAcceptableOffering(request, judgement);
    }
    assertTimeToBuy(offering);
    log('buying Capacity Block offering', offeringFields(offering, judgement.acceptable.length, judgement.refused.length));
    const startedAt = clock.now();
    try {
      const ids = await buy(offering, request, keys, startedAt);
      return { reservationId: ids[0], reservationIds: ids, offering, source: 'bought' };
    } catch (error) {
      lastFailure = oneLine(error);
      if (isDefiniteRejection(error)) {
        await explainRejection(error, offering, request, now);
        soldOut.add(offering.id);
        log('offering sold out at purchase time; searching again', { offeringId: offering.id, error: lastFailure });
        continue;
      }
      // The purchase may have gone through: find it before trying anything else.
      log('purchase outcome unknown; looking for the block before any retry', { offeringId: offering.id, error: lastFailure });
      const bought = await lookForPurchase(keys.request, offering, startedAt);
      if (bought) return { ...found(bought.view), offering, partial: bought.partial };
    }
  }
  throw new UserError(`Could not buy a Capacity Block after ${purchasePolicy.maxAttempts} attempts (last error ${lastFailure}); no block tagged ${IDEMPOTENCY_TAG} was found, so nothing was bought; deploy again to retry`);
}

/** A purchase starts only if there is time left to learn its outcome: the answer, or the lookups after a lost one. */
function assertTimeToBuy(offering: Offering): void {
  const needed = timeouts.ec2RequestMs * (1 + purchasePolicy.lookups) + purchasePolicy.lookupDelayMs * (purchasePolicy.lookups - 1);
  if (remainingMs() < needed) {
    throw new UserError(`Not enough time left in this invocation to buy ${offering.id} and confirm the outcome; nothing was bought. Deploy again`);
  }
}

function found(view: PurchaseView): Purchased {
  return { reservationId: view.CapacityReservationId!, reservationIds: reservationIdsOf(view), source: 'found-after-lost-answer' };
}

/** Buys `offering`; answers every reservation id of the purchase, lowest first. */
async function buy(offering: Offering, request: CapacityBlockRequest, keys: ResourceKeys, startedAt: Date): Promise<string[]> {
  const result = await ec2Purchases.send(new PurchaseCapacityBlockCommand({
    CapacityBlockOfferingId: offering.id,
    InstancePlatform: request.instancePlatform as never,
    TagSpecifications: [{
      ResourceType: 'capacity-reservation',
      Tags: [
        ...request.tags,
        { Key: IDEMPOTENCY_TAG, Value: keys.request },
        { Key: OWNER_TAG, Value: keys.owner },
        { Key: OFFERING_TAG, Value: offering.id },
        { Key: UPFRONT_FEE_TAG, Value: `${offering.upfrontFeeText} ${offering.currencyCode}` },
        ...(isUltraServer(request) ? [{ Key: ULTRASERVER_TAG, Value: ultraserverTagValue(request.ultraserverType!, request.ultraserverCount!) }] : []),
      ],
    }],
  }), ec2CallOptions());
  // An UltraServer purchase answers CapacityBlocks[], each with several reservations (and maybe no
  // CapacityReservation): the resource tracks the purchase by its lowest reservation id.
  const ids = purchasedReservationIds(result);
  const id = ids[0];
  if (!id) {
    // EC2 accepted the purchase but sent no id: the lookup finds it by its tags.
    const bought = await lookForPurchase(keys.request, offering, startedAt);
    if (!bought) throw new Error('PurchaseCapacityBlock returned no CapacityReservationId');
    return reservationIdsOf(bought.view);
  }
  log('bought Capacity Block', {
    capacityReservationId: id, offeringId: offering.id, upfrontFee: money(offering.upfrontFee, offering.currencyCode),
    ...(ids.length > 1 ? { capacityReservationIds: ids, capacityBlockIds: (result.CapacityBlocks ?? []).map(b => b.CapacityBlockId) } : {}),
  });
  return ids;
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
 * After an ambiguous failure: look for the block a few times, as a new block may show late. Only
 * lookups that answered "not there" allow another purchase; one that errors, or sees a block it
 * cannot attribute, proves nothing.
 */
async function lookForPurchase(key: string, offering: Offering, since: Date): Promise<{ view: PurchaseView; partial?: string } | undefined> {
  let answered = false;
  let lastError = '';
  let partial: Incomplete | undefined;
  for (let i = 0; i < purchasePolicy.lookups; i++) {
    if (i > 0) await sleep(purchasePolicy.lookupDelayMs);
    try {
      const found = await findPurchase(key, { offering, since });
      if (found) return { view: found };
      answered = true;
    } catch (error) {
      if (error instanceof Incomplete) partial = error;
      lastError = error instanceof Unattributable ? error.message : oneLine(error);
      log('could not tell whether the purchase happened, or all of it; looking again', { error: lastError });
    }
  }
  if (partial) {
    // Bought for sure: never buy again, never fail (rule 4); report what EC2 lists.
    const ids = reservationIdsOf(partial.view).join(', ');
    log('the purchase is bought, but EC2 lists only part of it; keeping what it lists', { capacityReservationIds: ids, error: partial.message });
    return { view: partial.view, partial: `EC2 listed only part of the purchase when it was found (${partial.message}): ${ids}` };
  }
  if (!answered) {
    throw new UserError(`The purchase of ${offering.id} may have succeeded, but EC2 could not say whether it did (${lastError}); not buying again. Look for a Capacity Block tagged ${IDEMPOTENCY_TAG}=${key} before deploying again`);
  }
  return undefined;
}

/**
 * The block bought for this request key: by its idempotency tag. With `attempt`, also among the
 * blocks of exactly the attempted offering created since it began, reading their own tags, because
 * EC2's tag filter may lag behind a new block. Such a block with another key belongs to someone else
 * and is ignored; one with no tags yet cannot be attributed, so the lookup does not answer.
 */
export async function findPurchase(key: string, attempt?: { offering: Offering; since: Date }): Promise<PurchaseView | undefined> {
  // One key, one purchase: an UltraServer purchase's reservations all carry it.
  const tagged = await blocksTagged(IDEMPOTENCY_TAG, key);
  if (tagged.length > 0) return whole(tagged, attempt?.offering);
  if (!attempt) return undefined;
  const { offering, since } = attempt;
  const margin = 60_000;
  // An UltraServer block's reservations each hold part of its instances: match them on zone and dates.
  const ultraserver = offering.ultraserverType !== undefined;
  const sameShape = (await describeBlocks([
    ...(ultraserver ? [] : [{ Name: 'instance-type', Values: [offering.instanceType] }]),
    { Name: 'availability-zone', Values: [offering.availabilityZone] },
  ])).filter(r =>
    (ultraserver || r.TotalInstanceCount === offering.instanceCount)
    && r.StartDate?.getTime() === offering.startDate.getTime()
    && r.EndDate?.getTime() === offering.endDate.getTime()
    && (r.CreateDate?.getTime() ?? 0) >= since.getTime() - margin)
    .sort(byReservationId);
  const ours = sameShape.filter(r => tagValue(r, IDEMPOTENCY_TAG) === key);
  if (ours.length > 0) return whole(ours, offering);
  const untagged = sameShape.filter(r => (r.Tags ?? []).length === 0);
  if (untagged.length > 0) {
    throw new Unattributable(`${untagged.map(r => r.CapacityReservationId).join(', ')} of exactly that offering shows no tags yet, so whose it is cannot be told`);
  }
  return undefined;
}

/**
 * The purchase's reservations as one view, when they hold every instance of the offering bought. An
 * UltraServer purchase is several reservations, which EC2 may list one by one: with only some of them
 * the lowest id (the physical id) may be missing, so that is Incomplete, not found.
 */
function whole(reservations: CapacityReservation[], offering: Offering | undefined): PurchaseView {
  const view = purchaseView(reservations)!;
  const listed = reservations.reduce((n, r) => n + (r.TotalInstanceCount ?? 0), 0);
  if (offering?.ultraserverType !== undefined && listed < offering.instanceCount) {
    throw new Incomplete(view, `${reservations.length} reservation(s) with ${listed} of the offering's ${offering.instanceCount} instances are listed yet`);
  }
  return view;
}

function offeringFields(o: Offering, acceptable: number, refused: number): Record<string, unknown> {
  return {
    offeringId: o.id,
    availabilityZone: o.availabilityZone,
    startDate: o.startDate.toISOString(),
    endDate: o.endDate.toISOString(),
    upfrontFee: money(o.upfrontFee, o.currencyCode),
    acceptableOfferings: acceptable,
    refusedOfferings: refused,
  };
}
