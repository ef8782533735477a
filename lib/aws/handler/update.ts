import {
  CapacityReservation, CreateTagsCommand, DeleteTagsCommand, DescribeCapacityBlockExtensionOfferingsCommand,
  PurchaseCapacityBlockExtensionCommand,
} from '@aws-sdk/client-ec2';
import { formatHours } from '../validation';
import { EXTENSION_TAG, OFFERING_TAG, RESERVED_TAG_PREFIX } from '../wire';
import { ec2, ec2Purchases } from './ec2';
import { isDefiniteRejection, log, oneLine, UserError } from './errors';
import { iso, money } from './offerings';
import { CapacityBlockRequest } from './request';
import { describeBlock, tagValue } from './reservation';

const HOUR_MS = 3_600_000;

/**
 * What about the existing block no longer matches the request: each item needs a new block.
 * Compared with the real block (not the old properties), so a rollback to the old properties is
 * always in place.
 */
export function blockMismatches(block: CapacityReservation, request: CapacityBlockRequest, old: Partial<CapacityBlockRequest>): string[] {
  const found: string[] = [];
  const differs = (name: string, wanted: unknown, actual: unknown) => {
    if (wanted !== actual) found.push(`${name} ${String(wanted)} (the block has ${String(actual)})`);
  };
  differs('instanceType', request.instanceType, block.InstanceType);
  differs('instanceCount', request.instanceCount, block.TotalInstanceCount);
  differs('instancePlatform', request.instancePlatform, block.InstancePlatform);
  if (request.availabilityZone !== undefined) differs('availabilityZone', request.availabilityZone, block.AvailabilityZone);
  if (request.offeringId !== undefined && request.offeringId !== old.offeringId) {
    differs('offeringId', request.offeringId, tagValue(block, OFFERING_TAG) ?? 'an unknown offering');
  }
  const start = block.StartDate;
  if (start && request.earliestStart && request.earliestStart.getTime() !== old.earliestStart?.getTime() && start < request.earliestStart) {
    found.push(`earliestStart ${iso(request.earliestStart)} (the block starts ${iso(start)})`);
  }
  if (start && request.latestEnd && request.latestEnd.getTime() !== old.latestEnd?.getTime()) {
    const end = new Date(Math.max(start.getTime() + request.durationHours * HOUR_MS, block.EndDate?.getTime() ?? 0));
    if (end > request.latestEnd) found.push(`latestEnd ${iso(request.latestEnd)} (the block ends ${iso(end)})`);
  }
  return found;
}

export function refuseRepurchase(block: CapacityReservation, mismatches: string[]): UserError {
  return new UserError(`This change needs a new Capacity Block: ${mismatches.join(', ')}. The current block ${describeBlock(block)} cannot be modified or cancelled. Revert the change, or set allowRepurchase: true to buy a new block (you keep paying for the old one)`);
}

/** Makes the block's user tags equal to the request's; reserved and aws: tags are left alone. */
export async function syncTags(block: CapacityReservation, request: CapacityBlockRequest): Promise<void> {
  const id = block.CapacityReservationId!;
  const current = new Map((block.Tags ?? [])
    .filter(t => t.Key && !t.Key.startsWith(RESERVED_TAG_PREFIX) && !t.Key.startsWith('aws:'))
    .map(t => [t.Key!, t.Value ?? '']));
  const wanted = new Map(request.tags.map(t => [t.Key, t.Value]));
  const toSet = request.tags.filter(t => current.get(t.Key) !== t.Value);
  const toDelete = [...current.keys()].filter(k => !wanted.has(k));
  if (toSet.length > 0) {
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: toSet }));
  }
  if (toDelete.length > 0) {
    await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: toDelete.map(Key => ({ Key })) }));
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
  const currentHours = Math.round(((block.EndDate?.getTime() ?? 0) - (block.StartDate?.getTime() ?? 0)) / HOUR_MS);
  const extraHours = request.durationHours - currentHours;
  if (extraHours <= 0) {
    return extraHours < 0
      ? `Capacity Block ${id} already runs ${formatHours(currentHours)}, longer than duration ${formatHours(request.durationHours)}; a block cannot be shortened, so it still ends ${iso(block.EndDate!)}`
      : '';
  }
  if (extraHours % 24 !== 0) {
    throw new UserError(`duration ${formatHours(request.durationHours)} would extend Capacity Block ${id} (${formatHours(currentHours)}) by ${extraHours} h; extensions come in whole days`);
  }
  if (block.State !== 'scheduled' && block.State !== 'active') {
    throw new UserError(`Capacity Block ${describeBlock(block)} can be extended only while scheduled or active; revert duration to ${formatHours(currentHours)}`);
  }
  if (tagValue(block, EXTENSION_TAG) === requestKey) {
    // A redelivered Update: the first delivery already bought (or tried to buy) the extension.
    return `An extension of ${id} by ${formatHours(extraHours)} was already requested by this update; not bought again`;
  }

  const offers = await ec2.send(new DescribeCapacityBlockExtensionOfferingsCommand({
    CapacityReservationId: id,
    CapacityBlockExtensionDurationHours: extraHours,
  }));
  const candidates = (offers.CapacityBlockExtensionOfferings ?? [])
    .map(o => ({ id: o.CapacityBlockExtensionOfferingId ?? '', fee: Number(o.UpfrontFee ?? NaN), currency: o.CurrencyCode ?? '' }))
    .filter(o => o.id !== '');
  const acceptable = candidates
    .filter(o => Number.isFinite(o.fee) && o.currency === request.currencyCode && o.fee <= request.maxUpfrontFee)
    .sort((a, b) => a.fee - b.fee);
  const chosen = acceptable[0];
  if (!chosen) {
    const seen = candidates.map(o => `${o.id} ${money(o.fee, o.currency)}`).join('; ') || 'none offered';
    throw new UserError(`No extension of Capacity Block ${id} by ${formatHours(extraHours)} within maxUpfrontFee ${money(request.maxUpfrontFee, request.currencyCode)} (seen: ${seen}); nothing was bought. Raise maxUpfrontFee or revert duration to ${formatHours(currentHours)}`);
  }

  // Mark first: if the purchase answer is lost, a redelivery must not buy a second extension.
  await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: EXTENSION_TAG, Value: requestKey }] }));
  try {
    const result = await ec2Purchases.send(new PurchaseCapacityBlockExtensionCommand({
      CapacityBlockExtensionOfferingId: chosen.id,
      CapacityReservationId: id,
    }));
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
