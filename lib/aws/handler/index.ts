/**
 * Lambda entry points behind the Provider framework: `onEvent` decides and buys, `isComplete` waits
 * for the payment. Both must never log the event as it arrives: it carries the ResponseURL.
 */
import { CapacityBlockAttributes, CapacityBlockWireProperties } from '../wire';
import { log, oneLine, UserError } from './errors';
import { purchaseOnce, idempotencyKey } from './purchase';
import { preview } from './preview';
import { CapacityBlockRequest, parseRequest } from './request';
import { attributesOf, decideWait, describeBlock, describeReservation } from './reservation';
import { blockMismatches, extendIfLonger, refuseRepurchase, syncTags } from './update';

export interface ProviderEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: CapacityBlockWireProperties;
  readonly OldResourceProperties?: CapacityBlockWireProperties;
  /** On isComplete: what onEvent returned. */
  readonly Data?: OnEventData;
}

/** onEvent's Data: merged under isComplete's by the framework. */
export type OnEventData = Partial<CapacityBlockAttributes> & { readonly WaitDeadline?: string };

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: OnEventData;
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: CapacityBlockAttributes;
}

export async function onEvent(event: ProviderEvent): Promise<OnEventResult> {
  log(`${event.RequestType} ${event.LogicalResourceId}`, { physicalResourceId: event.PhysicalResourceId });
  try {
    switch (event.RequestType) {
      case 'Create':
        return await create(event, parse(event.ResourceProperties, event));
      case 'Update':
        return await update(event);
      case 'Delete':
        return await remove(event.PhysicalResourceId ?? '');
    }
  } catch (error) {
    throw failure(error);
  }
}

export async function isComplete(event: ProviderEvent): Promise<IsCompleteResult> {
  const id = event.PhysicalResourceId ?? '';
  if (event.RequestType === 'Delete' || !isReservationId(id)) {
    return { IsComplete: true };
  }
  const deadline = new Date(event.Data?.WaitDeadline ?? 0);
  const now = new Date();
  try {
    const reservation = await describeReservation(id);
    const decision = decideWait(reservation, id, deadline, now);
    if (!decision.complete) return { IsComplete: false };
    log('Capacity Block ready', { capacityReservationId: id, state: reservation?.State });
    const note = [event.Data?.Note, decision.note].filter(Boolean).join('. ');
    return { IsComplete: true, Data: reservation ? attributesOf(reservation, note) : fallbackAttributes(id, event.Data, note) };
  } catch (error) {
    if (error instanceof UserError) throw failure(error);
    // A transient read failure must not fail a paid block (rule 4): poll again, or finish honestly.
    log('could not read the Capacity Block; will poll again', { capacityReservationId: id, error: oneLine(error) });
    if (now < deadline) return { IsComplete: false };
    const note = `Capacity Block ${id} is bought, but its state could not be read before waitTimeout (${oneLine(error)})`;
    return { IsComplete: true, Data: fallbackAttributes(id, event.Data, note) };
  }
}

const PURCHASE_NOTES = {
  'bought': '',
  'earlier-delivery': 'Adopted the block an earlier delivery of this request bought',
  'found-after-lost-answer': "EC2's answer to the purchase was lost; the block was found by its idempotency tag and not bought again",
} as const;

async function create(event: ProviderEvent, request: CapacityBlockRequest): Promise<OnEventResult> {
  const now = new Date();
  if (request.previewOnly) {
    const result = await preview(request, now);
    return { PhysicalResourceId: result.physicalResourceId, Data: result.data };
  }
  const purchased = await purchaseOnce(request, idempotencyKey(event), now);
  return {
    PhysicalResourceId: purchased.reservationId,
    Data: {
      WaitDeadline: waitDeadline(request, now),
      Note: PURCHASE_NOTES[purchased.source],
    },
  };
}

async function update(event: ProviderEvent): Promise<OnEventResult> {
  const request = parse(event.ResourceProperties, event);
  const id = event.PhysicalResourceId ?? '';
  if (!isReservationId(id)) {
    // A preview (or a Create that never bought): nothing is owned yet, so this is a Create.
    return create(event, request);
  }
  const block = await describeReservation(id);
  if (request.previewOnly) {
    throw new UserError(`previewOnly cannot be turned on for Capacity Block ${block ? describeBlock(block) : id}, which is already bought and cannot be cancelled; remove previewOnly`);
  }
  const old = safeParse(event.OldResourceProperties, event);
  if (!block) {
    if (request.allowRepurchase) return create(event, request);
    throw new UserError(`Capacity Block ${id} no longer exists in EC2 (it expired or was released); set allowRepurchase: true to buy a new one, or remove the resource`);
  }
  const mismatches = blockMismatches(block, request, old);
  if (mismatches.length > 0) {
    if (!request.allowRepurchase) throw refuseRepurchase(block, mismatches);
    log('buying a new Capacity Block (allowRepurchase); the old one runs until its end', { old: describeBlock(block) });
    return create(event, request);
  }
  await syncTags(block, request);
  const note = await extendIfLonger(block, request, idempotencyKey(event));
  return { PhysicalResourceId: id, Data: { WaitDeadline: waitDeadline(request, new Date()), Note: note } };
}

/** Lifecycle rule 6: a block cannot be cancelled; deleting the resource leaves it to expire. */
async function remove(id: string): Promise<OnEventResult> {
  if (!isReservationId(id)) {
    log('nothing was bought for this resource; nothing to delete', { physicalResourceId: id });
    return { PhysicalResourceId: id };
  }
  let summary = id;
  try {
    const block = await describeReservation(id);
    summary = block ? describeBlock(block) : `${id} (no longer listed by EC2)`;
  } catch (error) {
    log('could not read the Capacity Block while deleting; deleting anyway', { error: oneLine(error) });
  }
  log(`Capacity Block ${summary} cannot be cancelled: CloudFormation no longer tracks it, and it expires by itself at its end date`);
  return { PhysicalResourceId: id };
}

function parse(props: CapacityBlockWireProperties, event: ProviderEvent): CapacityBlockRequest {
  return parseRequest(props, regionOf(event.StackId));
}

function safeParse(props: CapacityBlockWireProperties | undefined, event: ProviderEvent): Partial<CapacityBlockRequest> {
  try {
    return props ? parse(props, event) : {};
  } catch {
    return {};
  }
}

/** arn:aws:cloudformation:REGION:ACCOUNT:stack/... */
function regionOf(stackId: string): string | undefined {
  return stackId.split(':')[3] || undefined;
}

function isReservationId(id: string): boolean {
  return id.startsWith('cr-');
}

function waitDeadline(request: CapacityBlockRequest, now: Date): string {
  return new Date(now.getTime() + request.waitTimeoutSeconds * 1000).toISOString();
}

function fallbackAttributes(id: string, data: OnEventData | undefined, note: string): CapacityBlockAttributes {
  return {
    CapacityReservationId: id,
    CapacityReservationArn: data?.CapacityReservationArn ?? '',
    AvailabilityZone: data?.AvailabilityZone ?? '',
    StartDate: data?.StartDate ?? '',
    EndDate: data?.EndDate ?? '',
    UpfrontFee: data?.UpfrontFee ?? '',
    CurrencyCode: data?.CurrencyCode ?? '',
    State: 'payment-pending',
    OfferingId: data?.OfferingId ?? '',
    Note: note,
  };
}

/** The reason CloudFormation shows: one line; the stack trace stays out of the logs too. */
function failure(error: unknown): Error {
  const reason = oneLine(error);
  log('FAILED', { reason });
  const result = new Error(reason);
  result.stack = reason;
  return result;
}

/** Waits and retry bounds, exported so the local rehearsal can run on simulated time. */
export { purchasePolicy } from './purchase';
