import {
  CapacityReservation, CreateTagsCommand, DeleteTagsCommand, DescribeCapacityBlockExtensionOfferingsCommand,
  PurchaseCapacityBlockExtensionCommand,
} from '@aws-sdk/client-ec2';
import { formatHours, parseDecimal } from '../validation';
import { EXTENSION_TAG, RESERVED_TAG_PREFIX, ULTRASERVER_TAG } from '../wire';
import { sleep } from './budget';
import { ec2, ec2CallOptions, ec2Purchases } from './ec2';
import { isDefiniteRejection, log, oneLine, UserError } from './errors';
import { iso, money } from './offerings';
import { Block, blockHours, isExtendable, isLive, mismatches, ownedBlocks, pickAdoptable, reservationIdsOf, ResourceKeys } from './ownership';
import { purchasePolicy } from './purchase';
import { CapacityBlockRequest } from './request';
import { describeBlock, describePurchase, PurchaseView, tagValue } from './reservation';

/**
 * The block the resource tracks, with its tags. Every block this library buys carries tags, but EC2
 * shows tags given at purchase a moment after the reservation: without them an UltraServer block looks
 * like a plain reservation of another shape and its other reservations cannot be found, so an update
 * right after the purchase would take it for a block that no longer fits (and, with allowRepurchase,
 * buy again). Looks again a few times; never plans on a block that shows no tags.
 */
export async function describeTrackedPurchase(id: string): Promise<PurchaseView | undefined> {
  for (let i = 0; ; i++) {
    const view = await describePurchase(id);
    if (!view || (view.Tags ?? []).length > 0) return view;
    if (i + 1 >= purchasePolicy.lookups) {
      throw new UserError(`Capacity Block ${id} shows none of its tags yet (EC2 shows the tags of a new block a moment after the purchase), so whether it fits cannot be told; nothing was changed or bought. Deploy again in a minute`);
    }
    log('the Capacity Block shows no tags yet; looking again', { capacityReservationId: id });
    await sleep(purchasePolicy.lookupDelayMs);
  }
}

/** What an Update does with the resource's block. */
export type UpdatePlan =
  /** The current block serves the request: tags in place, an extension if longer. */
  | { readonly kind: 'in-place'; readonly block: CapacityReservation }
  /** Another live block this resource owns serves it (typically a rollback after a replacement). */
  | { readonly kind: 'adopt'; readonly block: CapacityReservation; readonly owned: CapacityReservation[] }
  /** The request needs a new block and allowRepurchase says to buy it. */
  | { readonly kind: 'buy' }
  /** Nothing live serves it and nothing may be bought: report the block that is over, as it is. */
  | { readonly kind: 'over'; readonly id: string; readonly block?: CapacityReservation; readonly note: string };

/**
 * Lifecycle rule 5, decided on the real blocks, never on the old properties alone, so that the
 * rollback of every update we accept succeeds:
 * - the current block is live and fits: in place (an extension if longer);
 * - it is over (expired, payment failed, no longer listed) and this update asks for no other block:
 *   report it as it is; an unrelated update never buys;
 * - another live block this resource owns fits (a rollback after a replacement): adopt it, buy nothing;
 * - the current block is live and an owned block that fits is over (the rollback of a replacement
 *   looks like this): report that one, and never buy, even with allowRepurchase;
 * - allowRepurchase: buy;
 * - an owned block that fits is over (a rollback to it): report it;
 * - the current block is over: report it, and what a new block would need;
 * - otherwise the change needs a new block: refuse, naming the current block and its end.
 */
export async function planUpdate(currentId: string, current: CapacityReservation | undefined, request: CapacityBlockRequest, old: Partial<CapacityBlockRequest>, keys: ResourceKeys): Promise<UpdatePlan> {
  const why = current ? mismatches(current, request) : [];
  const live = current !== undefined && isLive(current);
  if (current && live && why.length === 0) return { kind: 'in-place', block: current };
  if (current && why.length === 0 && blockHours(current) >= request.durationHours) {
    return { kind: 'over', id: currentId, block: current, note: `Capacity Block ${describeBlock(current)} is over; nothing was bought` };
  }
  if (!current && !changesTheBlock(old, request)) {
    return { kind: 'over', id: currentId, note: `Capacity Block ${currentId} is no longer listed by EC2 (it is over); nothing was bought` };
  }
  const owned = await ownedBlocks(keys);
  const adoptable = pickAdoptable(owned, request, { requestKey: keys.request, currentId });
  if (adoptable) return { kind: 'adopt', block: adoptable, owned };
  const over = owned.filter(b => b.CapacityReservationId !== currentId && !isLive(b) && mismatches(b, request).length === 0);
  const earlier = over.find(b => b.State !== 'payment-failed');
  // Its payment failed, or it expired: either way the rollback goes back to it and buys nothing.
  const rollbackTarget = earlier ?? over[0];
  if (rollbackTarget && live) {
    // From a live block back to properties an earlier block of this resource had, now over: what the
    // rollback of a replacement sends (CloudFormation's event does not say which). A rollback must not
    // buy, so this never does, even with allowRepurchase.
    return {
      kind: 'over', id: rollbackTarget.CapacityReservationId!, block: rollbackTarget,
      note: `Back to Capacity Block ${describeBlock(rollbackTarget)}, which fits these properties and is over; nothing was bought, even with allowRepurchase, as this may be a rollback. To buy a new block for these properties, deploy them with an earliestStart after ${iso(rollbackTarget.StartDate!)}`,
    };
  }
  if (request.allowRepurchase) return { kind: 'buy' };
  if (earlier) {
    return { kind: 'over', id: earlier.CapacityReservationId!, block: earlier, note: `Back to Capacity Block ${describeBlock(earlier)}, which fits these properties and is over; nothing was bought` };
  }
  if (!live) {
    const needs = why.length > 0 ? why.join(', ') : `duration ${formatHours(request.durationHours)}`;
    return { kind: 'over', id: currentId, block: current, note: `Capacity Block ${current ? describeBlock(current) : currentId} is over, and this change needs a new block (${needs}); nothing was bought. Set allowRepurchase: true to buy one` };
  }
  throw refuseRepurchase(current!, why);
}

/** Properties that define which block a resource holds; tags, ceiling and wait do not. */
function changesTheBlock(old: Partial<CapacityBlockRequest>, request: CapacityBlockRequest): boolean {
  if (old.instanceType === undefined) return false; // old properties unknown: never buy on a guess
  const time = (d?: Date) => d?.getTime();
  // Object.is: an UltraServer request has no instance count (NaN), and NaN !== NaN would read as a change.
  return old.instanceType !== request.instanceType || !Object.is(old.instanceCount, request.instanceCount)
    || old.ultraserverType !== request.ultraserverType || old.ultraserverCount !== request.ultraserverCount
    || old.durationHours !== request.durationHours || old.availabilityZone !== request.availabilityZone
    || old.instancePlatform !== request.instancePlatform || old.offeringId !== request.offeringId
    || time(old.earliestStart) !== time(request.earliestStart) || time(old.latestEnd) !== time(request.latestEnd);
}

/** The change needs a block other than `block`, which this resource holds (or owns) and cannot cancel. */
export function refuseRepurchase(block: CapacityReservation, reasons: string[], moreOwned = 0): UserError {
  const more = moreOwned > 0 ? ` (this resource owns ${moreOwned} more live block${moreOwned > 1 ? 's' : ''})` : '';
  return new UserError(`This change needs a new Capacity Block: ${reasons.join(', ')}. This resource already holds ${describeBlock(block)}${more}, which cannot be modified or cancelled. Revert the change, or set allowRepurchase: true to buy a new block (you keep paying for the old one)`);
}

/** Makes the block's user tags equal to the request's; reserved and aws: tags are left alone. */
export async function syncTags(block: Block, request: CapacityBlockRequest): Promise<void> {
  const id = block.CapacityReservationId!;
  // Every reservation of an UltraServer block carries the user's tags, as the purchase wrote them.
  const ids = reservationIdsOf(block);
  const current = new Map((block.Tags ?? [])
    .filter(t => t.Key && !t.Key.startsWith(RESERVED_TAG_PREFIX) && !t.Key.startsWith('aws:'))
    .map(t => [t.Key!, t.Value ?? '']));
  const wanted = new Map(request.tags.map(t => [t.Key, t.Value]));
  const toSet = request.tags.filter(t => current.get(t.Key) !== t.Value);
  const toDelete = [...current.keys()].filter(k => !wanted.has(k));
  if (toSet.length > 0) {
    await ec2.send(new CreateTagsCommand({ Resources: ids, Tags: toSet }), ec2CallOptions());
  }
  if (toDelete.length > 0) {
    // Always name the keys: DeleteTags without keys deletes every tag, the library's own included.
    await ec2.send(new DeleteTagsCommand({ Resources: ids, Tags: toDelete.map(Key => ({ Key })) }), ec2CallOptions());
  }
  if (toSet.length + toDelete.length > 0) {
    log('updated Capacity Block tags in place', { capacityReservationId: id, set: toSet.map(t => t.Key), deleted: toDelete });
  }
}

/**
 * A longer duration buys an extension for the difference (lifecycle rule 5); its fee alone must be
 * within maxUpfrontFee. A shorter one changes nothing: a block cannot be shortened. Returns a note.
 */
export async function extendIfLonger(block: CapacityReservation, request: CapacityBlockRequest, requestKey: string): Promise<string> {
  const id = block.CapacityReservationId!;
  const currentHours = blockHours(block);
  const extraHours = request.durationHours - currentHours;
  if (extraHours <= 0) {
    return extraHours < 0
      ? `Capacity Block ${id} already runs ${formatHours(currentHours)}, longer than duration ${formatHours(request.durationHours)}; a block cannot be shortened, so it still ends ${iso(block.EndDate!)}`
      : '';
  }
  const ultraservers = tagValue(block, ULTRASERVER_TAG);
  if (ultraservers) {
    // EC2 extends one reservation at a time; an UltraServer block is several, and extending only
    // some of them would pay for UltraServers cut in pieces. Refused before anything is bought.
    throw new UserError(`Capacity Block ${id} is UltraServer ${ultraservers}, which this library does not extend (EC2 extends reservation by reservation); nothing was bought. Revert duration to ${formatHours(currentHours)}, or extend it in the EC2 console`);
  }
  if (extraHours % 24 !== 0) {
    throw new UserError(`duration ${formatHours(request.durationHours)} would extend Capacity Block ${id} (${formatHours(currentHours)}) by ${extraHours} h; extensions come in whole days`);
  }
  if (!isExtendable(block)) {
    throw new UserError(`Capacity Block ${describeBlock(block)} can be extended only while scheduled or active; deploy again once its payment has cleared, or revert duration to ${formatHours(currentHours)}`);
  }
  if (tagValue(block, EXTENSION_TAG) === requestKey) {
    // This update's claim was taken over after a crash: its first delivery already bought (or tried to buy) the extension.
    return `An extension of ${id} by ${formatHours(extraHours)} was already requested by this update; not bought again`;
  }

  const offers = await ec2.send(new DescribeCapacityBlockExtensionOfferingsCommand({
    CapacityReservationId: id,
    CapacityBlockExtensionDurationHours: extraHours,
  }), ec2CallOptions());
  const candidates = (offers.CapacityBlockExtensionOfferings ?? [])
    .map(o => ({ id: o.CapacityBlockExtensionOfferingId ?? '', feeText: o.UpfrontFee ?? '', fee: parseDecimal(o.UpfrontFee ?? '') ?? NaN, currency: o.CurrencyCode ?? '' }))
    .filter(o => o.id !== '');
  const acceptable = candidates
    .filter(o => Number.isFinite(o.fee) && o.currency === request.currencyCode && o.fee <= request.maxUpfrontFee)
    .sort((a, b) => a.fee - b.fee);
  const chosen = acceptable[0];
  if (!chosen) {
    const seen = candidates.map(o => `${o.id} ${Number.isFinite(o.fee) ? money(o.fee, o.currency) : `'${o.feeText}' (not a plain decimal)`}`).join('; ') || 'none offered';
    throw new UserError(`No extension of Capacity Block ${id} by ${formatHours(extraHours)} within maxUpfrontFee ${money(request.maxUpfrontFee, request.currencyCode)} (seen: ${seen}); nothing was bought. Raise maxUpfrontFee or revert duration to ${formatHours(currentHours)}`);
  }

  // Mark first: if the purchase answer is lost and the claim is later taken over, it must not buy a second extension.
  await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: EXTENSION_TAG, Value: requestKey }] }), ec2CallOptions());
  try {
    const result = await ec2Purchases.send(new PurchaseCapacityBlockExtensionCommand({
      CapacityBlockExtensionOfferingId: chosen.id,
      CapacityReservationId: id,
    }), ec2CallOptions());
    const extension = result.CapacityBlockExtensions?.[0];
    log('bought Capacity Block extension', { capacityReservationId: id, extensionOfferingId: chosen.id, upfrontFee: money(chosen.fee, chosen.currency) });
    return `Extended ${id} by ${formatHours(extraHours)} for ${money(chosen.fee, chosen.currency)} (extension ${extension?.CapacityBlockExtensionStatus ?? 'requested'})`;
  } catch (error) {
    if (isDefiniteRejection(error)) {
      throw new UserError(`EC2 refused the extension ${chosen.id} of Capacity Block ${id} (${oneLine(error)}); nothing was bought. Deploy again, or revert duration to ${formatHours(currentHours)}`);
    }
    // Possibly bought: never report FAILED for money that may be spent (lifecycle rule 4).
    log('extension outcome unknown; not retried', { capacityReservationId: id, error: oneLine(error) });
    return `The extension ${chosen.id} of ${id} may or may not have been bought (${oneLine(error)}); it was not retried, to avoid paying twice. Check the block's end date in the EC2 console`;
  }
}
