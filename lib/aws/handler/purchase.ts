import { createHash } from 'crypto';
import { CapacityReservation, Filter, paginateDescribeCapacityReservations, PurchaseCapacityBlockCommand } from '@aws-sdk/client-ec2';
import { IDEMPOTENCY_TAG, OFFERING_TAG, UPFRONT_FEE_TAG } from '../wire';
import { ec2, ec2Purchases } from './ec2';
import { errorCode, isDefiniteRejection, log, oneLine, UserError } from './errors';
import { judgeOfferings, money, noAcceptableOffering, Offering, searchOfferings } from './offerings';
import { assertWindowStillOpen, CapacityBlockRequest } from './request';

/** Tunables, exported so tests can shorten the waits. */
export const purchasePolicy = {
  /** Purchases tried (each on a freshly searched offering) before giving up. */
  maxAttempts: 3,
  /** After an ambiguous purchase failure: how many times, and how far apart, to look for the block. */
  lookups: 4,
  lookupDelayMs: 5_000,
};

/** Identifies one CloudFormation request: redeliveries share it, a new Create does not. */
export function idempotencyKey(ids: { StackId: string; LogicalResourceId: string; RequestId: string }): string {
  return createHash('sha256').update(`${ids.StackId}\n${ids.LogicalResourceId}\n${ids.RequestId}`).digest('hex').slice(0, 40);
}

/** What a purchase (or an adoption of an earlier one) produced. */
export interface Purchased {
  readonly reservationId: string;
  readonly offering?: Offering;
  /** bought now; bought by an earlier delivery of this request; or bought now but the answer was lost. */
  readonly source: 'bought' | 'earlier-delivery' | 'found-after-lost-answer';
}

/**
 * Buys the best acceptable offering exactly once for this idempotency key. Lifecycle rules 1–3:
 * adopt a block already bought for the key, refuse everything above the ceiling, and move on to the
 * next offering when the chosen one sells out between search and purchase.
 */
export async function purchaseOnce(request: CapacityBlockRequest, key: string, now: Date): Promise<Purchased> {
  // Adoption comes before every other check: a redelivery whose block is already bought must
  // report it, even if the window has closed since (failing would orphan a paid block).
  const existing = await findOwnPurchase(key);
  if (existing) {
    log('adopting the Capacity Block already bought for this request', { capacityReservationId: existing.CapacityReservationId });
    return { reservationId: existing.CapacityReservationId!, source: 'earlier-delivery' };
  }
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
    log('buying Capacity Block offering', offeringFields(offering, judgement.acceptable.length, judgement.refused.length));
    const startedAt = new Date();
    try {
      const reservation = await buy(offering, request, key);
      return { reservationId: reservation, offering, source: 'bought' };
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
      const bought = await lookForPurchase(key, offering, startedAt);
      if (bought) {
        return { reservationId: bought.CapacityReservationId!, offering, source: 'found-after-lost-answer' };
      }
    }
  }
  throw new UserError(`Could not buy a Capacity Block after ${purchasePolicy.maxAttempts} attempts (last error ${lastFailure}); no block tagged ${IDEMPOTENCY_TAG} was found, so nothing was bought; deploy again to retry`);
}

async function buy(offering: Offering, request: CapacityBlockRequest, key: string): Promise<string> {
  const result = await ec2Purchases.send(new PurchaseCapacityBlockCommand({
    CapacityBlockOfferingId: offering.id,
    InstancePlatform: request.instancePlatform as never,
    TagSpecifications: [{
      ResourceType: 'capacity-reservation',
      Tags: [
        ...request.tags,
        { Key: IDEMPOTENCY_TAG, Value: key },
        { Key: OFFERING_TAG, Value: offering.id },
        { Key: UPFRONT_FEE_TAG, Value: `${offering.upfrontFeeText} ${offering.currencyCode}` },
      ],
    }],
  }));
  const id = result.CapacityReservation?.CapacityReservationId;
  if (!id) {
    // EC2 accepted the purchase but sent no id: the tag lookup finds it.
    const bought = await lookForPurchase(key, offering, new Date(0));
    if (!bought) throw new Error('PurchaseCapacityBlock returned no CapacityReservationId');
    return bought.CapacityReservationId!;
  }
  log('bought Capacity Block', { capacityReservationId: id, offeringId: offering.id, upfrontFee: money(offering.upfrontFee, offering.currencyCode) });
  return id;
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
 * After an ambiguous failure: look for the block a few times, as tags appear with a short delay.
 * A lookup that errors proves nothing; only lookups that answered "not there" allow another purchase.
 */
async function lookForPurchase(key: string, offering: Offering, since: Date): Promise<CapacityReservation | undefined> {
  let answered = false;
  let lastError = '';
  for (let i = 0; i < purchasePolicy.lookups; i++) {
    if (i > 0) await sleep(purchasePolicy.lookupDelayMs);
    try {
      const found = await findOwnPurchase(key, offering, since);
      if (found) return found;
      answered = true;
    } catch (error) {
      lastError = oneLine(error);
      log('could not look for the block; trying again', { error: lastError });
    }
  }
  if (!answered) {
    throw new UserError(`The purchase of ${offering.id} may have succeeded, but EC2 could not be asked whether it did (${lastError}); not buying again. Look for a Capacity Block tagged ${IDEMPOTENCY_TAG}=${key} before deploying again`);
  }
  return undefined;
}

/**
 * The capacity-block reservation bought for this key: by its idempotency tag, or (when a hint is
 * given) by an untagged-yet block of exactly the offering's shape created since the attempt began.
 */
export async function findOwnPurchase(key: string, hint?: Offering, since?: Date): Promise<CapacityReservation | undefined> {
  const tagged = await describeBlocks([{ Name: `tag:${IDEMPOTENCY_TAG}`, Values: [key] }]);
  const live = tagged.find(r => r.State !== 'payment-failed') ?? tagged[0];
  if (live || !hint) return live;
  const sameShape = await describeBlocks([
    { Name: 'instance-type', Values: [hint.instanceType] },
    { Name: 'availability-zone', Values: [hint.availabilityZone] },
  ]);
  const margin = 60_000;
  return sameShape.find(r =>
    r.TotalInstanceCount === hint.instanceCount
    && r.StartDate?.getTime() === hint.startDate.getTime()
    && r.EndDate?.getTime() === hint.endDate.getTime()
    && (r.CreateDate?.getTime() ?? 0) >= (since?.getTime() ?? 0) - margin
    && !(r.Tags ?? []).some(t => t.Key === IDEMPOTENCY_TAG && t.Value !== key));
}

async function describeBlocks(filters: Filter[]): Promise<CapacityReservation[]> {
  const found: CapacityReservation[] = [];
  for await (const page of paginateDescribeCapacityReservations({ client: ec2 }, { Filters: filters })) {
    found.push(...(page.CapacityReservations ?? []).filter(r => r.ReservationType === undefined || r.ReservationType === 'capacity-block'));
  }
  return found;
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

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
