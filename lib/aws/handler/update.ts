import {
  CapacityBlockExtension, CapacityReservation, CreateTagsCommand, DeleteTagsCommand, DescribeCapacityBlockExtensionOfferingsCommand,
  PurchaseCapacityBlockExtensionCommand,
} from '@aws-sdk/client-ec2';
import { compareDecimal, formatHours, parseDecimal } from '../validation';
import { RESERVED_TAG_PREFIX, ULTRASERVER_TAG } from '../wire';
import { clock } from './budget';
import { ec2, ec2CallOptions, ec2Purchases } from './ec2';
import { isDefiniteRejection, log, oneLine, UserError } from './errors';
import { INTENT_SETTLE_MS, Ledger, LedgerExtension, LedgerRecord, unsettledError } from './ledger';
import { decimalMoney, iso } from './offerings';
import { Block, blockHours, describeOwned, idOf, isExtendable, isLiveOwned, mismatches, OwnedBlock, pickAdoptable, reservationIdsOf } from './ownership';
import { CapacityBlockRequest } from './request';
import { describeBlock, extensionHistory, tagValue } from './reservation';

const HOUR_MS = 3_600_000;

/** What an Update does with the resource's block. */
export type UpdatePlan =
  /** The current block serves the request: tags in place, an extension if longer. */
  | { readonly kind: 'in-place'; readonly block: OwnedBlock }
  /** CloudFormation rolls back to a block it still tracks, answered for these very properties: go back to it, whatever its state; buy nothing. */
  | { readonly kind: 'roll-back'; readonly block: OwnedBlock }
  /** Another live block this resource owns serves it. */
  | { readonly kind: 'adopt'; readonly block: OwnedBlock }
  /** The request needs a new block and allowRepurchase says to buy it. */
  | { readonly kind: 'buy' }
  /** Nothing live serves it and nothing may be bought: report the block that is over, as it is. */
  | { readonly kind: 'over'; readonly block: OwnedBlock; readonly note: string };

/**
 * Lifecycle rule 5, decided from the ledger and the blocks read by id:
 * - a rollback is CloudFormation going back to a purchase it still tracks (not released by a Delete)
 *   that was answered for exactly these properties: back to it, live or over, buying nothing;
 * - the current block is live and fits: in place (an extension if longer);
 * - it is over and this update asks for no other block: report it as it is; an unrelated update never buys;
 * - another live block this resource owns serves the request: adopt it, buy nothing;
 * - allowRepurchase: buy;
 * - the current block is over: report it, and what a new block would need;
 * - otherwise the change needs a new block: refuse, naming the current block and its end.
 */
export function planUpdate(current: OwnedBlock, owned: OwnedBlock[], request: CapacityBlockRequest, digest: string, blockChanged: boolean): UpdatePlan {
  const answeredHere = current.purchase.answeredFor.includes(digest);
  const rollbackTo = answeredHere ? undefined : owned.filter(b => b !== current && !b.purchase.released && b.purchase.answeredFor.includes(digest)).pop();
  if (rollbackTo) return { kind: 'roll-back', block: rollbackTo };
  const live = isLiveOwned(current);
  if (!current.view) {
    // EC2 does not list it: bought moments ago (its lists lag), or long over.
    if (live && (answeredHere || !blockChanged)) return { kind: 'in-place', block: current };
    if (live) {
      throw new UserError(`Capacity Block ${idOf(current)} was bought moments ago and EC2 does not list it yet, so whether it fits this change cannot be told; nothing was changed or bought. Deploy again in a minute`);
    }
    if (!blockChanged) return { kind: 'over', block: current, note: `Capacity Block ${idOf(current)} is no longer listed by EC2 (it is over); nothing was bought` };
  }
  const why = current.view ? mismatches(current.view, request) : [];
  if (live && why.length === 0) return { kind: 'in-place', block: current };
  if (!live && (!blockChanged || (why.length === 0 && blockHours(current.view!) >= request.durationHours))) {
    return { kind: 'over', block: current, note: `Capacity Block ${describeOwned(current)} is over; nothing was bought` };
  }
  const adoptable = pickAdoptable(owned, request, { requestKey: '', currentId: idOf(current) });
  if (adoptable) return { kind: 'adopt', block: adoptable };
  if (request.allowRepurchase) return { kind: 'buy' };
  if (!live) {
    const needs = why.length > 0 ? why.join(', ') : `duration ${formatHours(request.durationHours)}`;
    return { kind: 'over', block: current, note: `Capacity Block ${describeOwned(current)} is over, and this change needs a new block (${needs}); nothing was bought. Set allowRepurchase: true to buy one` };
  }
  throw refuseRepurchase(current, needsOtherBlock(current, request));
}

/** Why a block does not serve a request, duration included (a shorter block is not adopted). */
export function needsOtherBlock(block: OwnedBlock, request: CapacityBlockRequest): string[] {
  if (!block.view) return ['the block was bought moments ago and EC2 does not list it yet'];
  const why = mismatches(block.view, request);
  return why.length > 0 ? why : [`duration ${request.durationHours} h (the block runs ${blockHours(block.view)} h)`];
}

/** Properties that define which block a resource holds; tags, ceiling and wait do not. */
export function changesTheBlock(old: Partial<CapacityBlockRequest>, request: CapacityBlockRequest): boolean {
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
export function refuseRepurchase(block: OwnedBlock, reasons: string[], moreOwned = 0): UserError {
  const more = moreOwned > 0 ? ` (this resource owns ${moreOwned} more live block${moreOwned > 1 ? 's' : ''})` : '';
  return new UserError(`This change needs a new Capacity Block: ${reasons.join(', ')}. This resource already holds ${describeOwned(block)}${more}, which cannot be modified or cancelled. Revert the change, or set allowRepurchase: true to buy a new block (you keep paying for the old one)`);
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
 * A longer duration buys an extension for the difference (lifecycle rule 5): its fee alone must be
 * within maxUpfrontFee, its end within latestEnd. A shorter one changes nothing: a block cannot be
 * shortened. EC2 moves the block's end only once an extension's payment clears, so what is already
 * bought counts from DescribeCapacityBlockExtensionHistory, and the ledger says which extensions this
 * resource asked for: none is ever bought twice, and none while another's payment is pending.
 * Returns a note.
 */
export async function extendIfLonger(block: CapacityReservation, request: CapacityBlockRequest, requestKey: string, ledger: Ledger): Promise<string> {
  const id = block.CapacityReservationId!;
  // A block already as long as asked needs no extension, whatever is pending.
  if (blockHours(block) >= request.durationHours) return lengthNote(block, request, 0);
  const history = await extensionHistory([id]);
  await settleExtensionIntents(ledger, id, history);
  const pendingHours = history.filter(e => e.CapacityBlockExtensionStatus === 'payment-pending').reduce((h, e) => h + (e.CapacityBlockExtensionDurationHours ?? 0), 0);
  const boughtHours = blockHours(block) + pendingHours;
  const extraHours = request.durationHours - boughtHours;
  if (extraHours <= 0) return lengthNote(block, request, pendingHours);
  const open = ledger.record.extensions.find(e => e.reservationId === id && e.outcome === 'intent');
  if (open && extraHours <= open.hours) {
    // Asked for already (by this update's earlier delivery, or by one whose answer was lost): it may
    // have gone through, so it is not bought again; the rollback of any later change lands here too.
    return `An extension of ${id} by ${formatHours(open.hours)} (${open.offeringId}) was requested and its outcome is not known yet; not bought again. Check the block's end date in the EC2 console`;
  }
  if (open) throw unsettledError(`An earlier extension of Capacity Block ${id} by ${formatHours(open.hours)} (${open.offeringId})`, open.intentAt, `it counts once EC2 shows it; or revert duration to ${formatHours(boughtHours)}`);
  if (pendingHours > 0) {
    throw new UserError(`Capacity Block ${id} has an extension by ${formatHours(pendingHours)} whose payment is pending; EC2 extends a block again only once it clears. Nothing was bought. Deploy again later, or revert duration to ${formatHours(boughtHours)}`);
  }
  const ultraservers = tagValue(block, ULTRASERVER_TAG);
  if (ultraservers) {
    // EC2 extends one reservation at a time; an UltraServer block is several, and extending only
    // some of them would pay for UltraServers cut in pieces. Refused before anything is bought.
    throw new UserError(`Capacity Block ${id} is UltraServer ${ultraservers}, which this library does not extend (EC2 extends reservation by reservation); nothing was bought. Revert duration to ${formatHours(boughtHours)}, or extend it in the EC2 console`);
  }
  if (extraHours % 24 !== 0) {
    throw new UserError(`duration ${formatHours(request.durationHours)} would extend Capacity Block ${id} (${formatHours(boughtHours)}) by ${extraHours} h; extensions come in whole days`);
  }
  if (!isExtendable(block)) {
    throw new UserError(`Capacity Block ${describeBlock(block)} can be extended only while scheduled or active; deploy again once its payment has cleared, or revert duration to ${formatHours(boughtHours)}`);
  }
  const newEnd = new Date(block.EndDate!.getTime() + extraHours * HOUR_MS);
  if (request.latestEnd && newEnd > request.latestEnd) {
    throw new UserError(`Extending Capacity Block ${id} by ${formatHours(extraHours)} would end it ${iso(newEnd)}, after latestEnd ${iso(request.latestEnd)}; nothing was bought. Move latestEnd to ${iso(newEnd)} or later, or revert duration to ${formatHours(boughtHours)}`);
  }

  const offers = await ec2.send(new DescribeCapacityBlockExtensionOfferingsCommand({
    CapacityReservationId: id,
    CapacityBlockExtensionDurationHours: extraHours,
  }), ec2CallOptions());
  const candidates = (offers.CapacityBlockExtensionOfferings ?? [])
    .map(o => ({ id: o.CapacityBlockExtensionOfferingId ?? '', feeText: o.UpfrontFee ?? '', currency: o.CurrencyCode ?? '', end: o.CapacityBlockExtensionEndDate }))
    .filter(o => o.id !== '');
  const acceptable = candidates
    .filter(o => parseDecimal(o.feeText) !== undefined && o.currency === request.currencyCode && compareDecimal(o.feeText, request.maxUpfrontFeeText) <= 0)
    .filter(o => !request.latestEnd || !o.end || o.end <= request.latestEnd)
    .sort((a, b) => compareDecimal(a.feeText, b.feeText));
  const chosen = acceptable[0];
  if (!chosen) {
    const seen = candidates.map(o => `${o.id} ${parseDecimal(o.feeText) !== undefined ? decimalMoney(o.feeText, o.currency) : `'${o.feeText}' (not a plain decimal)`}`).join('; ') || 'none offered';
    throw new UserError(`No extension of Capacity Block ${id} by ${formatHours(extraHours)} within maxUpfrontFee ${decimalMoney(request.maxUpfrontFeeText, request.currencyCode)}${request.latestEnd ? ` ending by latestEnd ${iso(request.latestEnd)}` : ''} (seen: ${seen}); nothing was bought. Raise maxUpfrontFee or revert duration to ${formatHours(boughtHours)}`);
  }

  // In the ledger first: if the purchase answer is lost, no later update buys a second extension.
  const extension: LedgerExtension = {
    requestKey, reservationId: id, offeringId: chosen.id, upfrontFee: chosen.feeText, currencyCode: chosen.currency,
    hours: extraHours, outcome: 'intent', intentAt: clock.now().toISOString(),
  };
  await ledger.change(record => {
    record.extensions.push(extension);
  });
  try {
    const result = await ec2Purchases.send(new PurchaseCapacityBlockExtensionCommand({
      CapacityBlockExtensionOfferingId: chosen.id,
      CapacityReservationId: id,
    }), ec2CallOptions());
    await ledger.remember(record => settledExtension(record, extension, 'bought'));
    const status = result.CapacityBlockExtensions?.[0]?.CapacityBlockExtensionStatus ?? 'requested';
    log('bought Capacity Block extension', { capacityReservationId: id, extensionOfferingId: chosen.id, upfrontFee: decimalMoney(chosen.feeText, chosen.currency), status });
    return `Extended ${id} by ${formatHours(extraHours)} for ${decimalMoney(chosen.feeText, chosen.currency)} (extension ${status})`;
  } catch (error) {
    if (isDefiniteRejection(error)) {
      await settleExtension(ledger, extension, 'not-bought');
      throw new UserError(`EC2 refused the extension ${chosen.id} of Capacity Block ${id} (${oneLine(error)}); nothing was bought. Deploy again, or revert duration to ${formatHours(boughtHours)}`);
    }
    // Possibly bought: never report FAILED for money that may be spent (lifecycle rule 4).
    log('extension outcome unknown; not retried', { capacityReservationId: id, error: oneLine(error) });
    return `The extension ${chosen.id} of ${id} may or may not have been bought (${oneLine(error)}); it was not retried, to avoid paying twice. Check the block's end date in the EC2 console`;
  }
}

/** What a duration no longer than the block (with the extension whose payment is pending) means. */
function lengthNote(block: CapacityReservation, request: CapacityBlockRequest, pendingHours: number): string {
  const hours = blockHours(block) + pendingHours;
  const pending = pendingHours > 0 ? `; an extension by ${formatHours(pendingHours)} is payment-pending, and EC2 moves the end date once it clears` : '';
  if (hours > request.durationHours) {
    return `Capacity Block ${block.CapacityReservationId} already runs ${formatHours(hours)}, longer than duration ${formatHours(request.durationHours)}; a block cannot be shortened, so it still ends ${iso(block.EndDate!)}${pending}`;
  }
  return pending ? `Capacity Block ${block.CapacityReservationId} runs ${formatHours(hours)} as asked${pending}` : '';
}

/**
 * Extension intents whose answer never came: one EC2's history shows (its offering, bought after the
 * intent) was bought; one it does not show once settled was not. Read by id, the history does not lag
 * the way listings do.
 */
async function settleExtensionIntents(ledger: Ledger, id: string, history: CapacityBlockExtension[]): Promise<void> {
  for (const open of ledger.record.extensions.filter(e => e.reservationId === id && e.outcome === 'intent')) {
    const seen = history.some(e => e.CapacityBlockExtensionOfferingId === open.offeringId && (e.CapacityBlockExtensionPurchaseDate?.getTime() ?? Infinity) >= Date.parse(open.intentAt) - 60_000);
    if (seen) await settleExtension(ledger, open, 'bought');
    else if (Date.parse(open.intentAt) + INTENT_SETTLE_MS <= clock.now().getTime()) await settleExtension(ledger, open, 'not-bought');
  }
}

async function settleExtension(ledger: Ledger, extension: LedgerExtension, outcome: LedgerExtension['outcome']): Promise<void> {
  await ledger.change(record => settledExtension(record, extension, outcome));
}

function settledExtension(record: LedgerRecord, extension: LedgerExtension, outcome: LedgerExtension['outcome']): void {
  const found = record.extensions.find(e => e.reservationId === extension.reservationId && e.offeringId === extension.offeringId && e.intentAt === extension.intentAt);
  if (found) found.outcome = outcome;
}

