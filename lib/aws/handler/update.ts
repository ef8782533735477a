import { announceMoneyMove, ownerOf } from '../core/audit';
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
import { Block, blockHours, isExtendable, reservationIdsOf } from './ownership';
import { CapacityBlockRequest } from './request';
import { describeBlock, extensionHistory, tagValue } from './reservation';

const HOUR_MS = 3_600_000;

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
 * resource asked for: none is ever bought twice, and none while another's payment is pending. A
 * change that does not define the block (`mayBuy` false) reports and never buys. Returns a note.
 */
export async function extendIfLonger(block: CapacityReservation, request: CapacityBlockRequest, requestKey: string, ledger: Ledger, mayBuy = true, unreadable?: string): Promise<string> {
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
  if (!mayBuy) {
    // A longer duration with the stack's status unreadable: a SUCCESS would record hours the block does not have.
    if (unreadable) throw new UserError(`duration ${formatHours(request.durationHours)} would extend Capacity Block ${id} (${formatHours(boughtHours)}), but this ${unreadable}; nothing was bought. Deploy again`);
    return `Capacity Block ${id} runs ${formatHours(boughtHours)}, less than duration ${formatHours(request.durationHours)}; this update extends nothing`;
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
    await announceExtension(ledger, extension, 'answer');
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
    if (seen) {
      await settleExtension(ledger, open, 'bought');
      await announceExtension(ledger, open, 'read-after-lost-answer');
    }
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

function announceExtension(ledger: Ledger, e: LedgerExtension, learnedFrom: 'answer' | 'read-after-lost-answer'): Promise<void> {
  return announceMoneyMove('Capacity Block Extended', {
    product: 'capacity-block', ids: [e.reservationId], offeringId: e.offeringId, fee: e.upfrontFee, currency: e.currencyCode, ...ownerOf(ledger.owner), learnedFrom,
  });
}
