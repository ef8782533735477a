/**
 * Lambda entry points behind FutureCapacityReservation's provider. onEvent answers as soon as EC2
 * accepted the request (state `assessing`): the assessment takes days, and its outcome reaches the user
 * through EventBridge and the State attribute of the next deployment, not through a waiting deploy.
 * isComplete has nothing to wait for. The foundations are the Capacity Block handler's: the Powertools
 * claim per request, the ledger per resource (lib/aws/core), one-line failures.
 *
 * Lifetimes: the ClientToken is derived from the stack, the logical id and the request that began the
 * lifetime (a Create, or an Update that requests a new reservation): every delivery of that request
 * sends the same token, so EC2 answers a repeat with the first result; a later lifetime never reuses it.
 */
import { createHash } from 'crypto';
import { CapacityReservation } from '@aws-sdk/client-ec2';
import { Ledger, propertiesDigest, unsettledError } from '../../core/ledger';
import { read, ReadResult, settleIntent } from '../../core/read';
import { stackOperation } from '../../core/stack';
import { clock, contextOrDefault, LambdaContextLike, timeouts, withBudget } from '../../handler/budget';
import { underClaim } from '../../handler/claims';
import { failure, isDefiniteRejection, log, oneLine, UserError } from '../../handler/errors';
import { resourceKeys, ResourceKeys } from '../../handler/keys';
import { PREVIEW_ID_PREFIX } from '../../wire';
import { decideDelete, decideOnQuote, decideUpdate, deleteOperationOf } from '../decisions';
import { cancellationCharge, commitmentCost, moneyText, OnDemandRate, withinCeiling } from '../price';
import { startDateChangeError } from '../rules';
import { FutureReservationAttributes, FutureReservationWireProperties } from '../wire';
import {
  cancelFree, cancellationQuote, cancelWithQuote, committedCostText, describeReservation, FutureLedgerRecord, LedgerReservation, moveStart, readRate,
  requestReservation, reservationsOfRequest, syncTags, vcpusOf,
} from './adapter';
import { assertEnoughVcpus, assertStartWindow, describeShape, FutureReservationRequest, parseFutureRequest } from './request';

export interface FutureProviderEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: FutureReservationWireProperties;
  readonly OldResourceProperties?: FutureReservationWireProperties;
}

export interface FutureOnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: FutureReservationAttributes;
}

export async function onEvent(event: FutureProviderEvent, lambdaContext?: LambdaContextLike): Promise<FutureOnEventResult> {
  log(`${event.RequestType} ${event.LogicalResourceId}`, { physicalResourceId: event.PhysicalResourceId });
  const context = contextOrDefault(lambdaContext);
  try {
    if (event.RequestType === 'Delete') return await withBudget(context, timeouts.onEventMarginMs, () => remove(event));
    // Bad input fails here, before any EC2, Price List or DynamoDB call.
    const request = parseFutureRequest(event.ResourceProperties);
    const keys = resourceKeys(event);
    return await underClaim(keys.request, context, () => (event.RequestType === 'Create' ? create(event, request, keys) : update(event, request, keys)));
  } catch (error) {
    throw failure(error);
  }
}

/** Nothing to wait for: EC2 assesses for days, and the deployment does not wait for it. */
export async function isComplete(): Promise<{ IsComplete: boolean }> {
  return { IsComplete: true };
}

/** The ClientToken of one lifetime of the resource (≤ 64 ASCII characters). */
export function clientTokenOf(event: Pick<FutureProviderEvent, 'StackId' | 'LogicalResourceId'>, lifetime: string): string {
  return `fcr-${createHash('sha256').update(`${event.StackId}\n${event.LogicalResourceId}\n${lifetime}`).digest('hex').slice(0, 48)}`;
}

/**
 * Validates again, prices the commitment exactly, refuses above maxCommittedCost, then asks EC2 once
 * per lifetime (the same ClientToken on every repeat). A failure after EC2 accepted cancels the request
 * (free while assessing) before FAILED: the Provider framework never sends a Delete for a failed Create.
 */
async function create(event: FutureProviderEvent, request: FutureReservationRequest, keys: ResourceKeys): Promise<FutureOnEventResult> {
  const now = clock.now();
  assertStartWindow(request, now);
  assertEnoughVcpus(request, await vcpusOf(request.instanceType));
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const rate = await readRate(request, region);
  const cost = committedCostText(rate, request);
  assertWithinCeiling(request, rate, cost);
  if (request.previewOnly) return preview(request, cost, rate);

  const clientToken = clientTokenOf(event, event.RequestId);
  const ledger = (await Ledger.read<FutureLedgerRecord>(keys.owner)) ?? (await Ledger.start<FutureLedgerRecord>(keys.owner, { reservations: [] }));
  const withdrawn = await settleEarlierIntents(ledger, keys);
  if (!ledger.record.reservations.some(r => r.clientToken === clientToken)) {
    const intent: LedgerReservation = {
      clientToken, requestKey: keys.request, intentAt: now.toISOString(), outcome: 'intent',
      instanceType: request.instanceType, instanceCount: request.instanceCount, availabilityZone: request.availabilityZone,
      instancePlatform: request.instancePlatform, tenancy: request.tenancy, commitmentSeconds: request.commitmentSeconds,
      committedCost: cost, currencyCode: request.currencyCode, answeredFor: [], released: false,
    };
    // The intent comes first: nothing is asked of EC2 that the ledger does not know may have happened.
    await ledger.change(record => {
      if (!record.reservations.some(r => r.clientToken === clientToken)) record.reservations.push(intent);
    });
  }
  let accepted: CapacityReservation;
  try {
    accepted = await requestReservation(request, { clientToken, requestKey: keys.request, owner: keys.owner });
  } catch (error) {
    if (isDefiniteRejection(error)) {
      await ledger.remember(record => { entryOf(record, clientToken)!.outcome = 'not-bought'; });
      throw new UserError(`EC2 refused the future-dated Capacity Reservation (${describeShape(request)} from ${request.startDate.toISOString()}): ${oneLine(error)}; nothing was requested`);
    }
    throw await unansweredRequest(keys, clientToken, error);
  }
  const id = accepted.CapacityReservationId!;
  log('EC2 accepted the future-dated Capacity Reservation', { id, state: accepted.State, clientToken });
  try {
    // What CloudFormation receives is this id for these properties: recorded before the answer, or the request is withdrawn.
    await ledger.change(record => {
      Object.assign(entryOf(record, clientToken)!, { outcome: 'bought', id, arn: accepted.CapacityReservationArn, released: false });
      const entry = entryOf(record, clientToken)!;
      const digest = propertiesDigest(event.ResourceProperties);
      if (!entry.answeredFor.includes(digest)) entry.answeredFor.push(digest);
    });
    const note = [
      accepted.State === 'assessing' ? `Requested ${id}: EC2 assesses it (usually within 5 days), then schedules it or says unsupported` : `Requested ${id} (${accepted.State})`,
      ...withdrawn,
    ].join('. ');
    return answer(accepted, entryOf(ledger.record, clientToken)!, note);
  } catch (error) {
    throw await withdraw(id, accepted.State, error);
  }
}

/**
 * Intents of EARLIER requests of this resource whose answer never reached CloudFormation (the
 * invocation died, or both the answer and the read after it failed): CloudFormation never received
 * their id, so no lifetime owns what they requested. By the settle rule: found is withdrawn (free while
 * assessing or delayed; otherwise kept and named); absent after the settle time was not requested;
 * absent before it, or unreadable, fails this step before anything new is requested.
 */
async function settleEarlierIntents(ledger: Ledger<FutureLedgerRecord>, keys: ResourceKeys): Promise<string[]> {
  const notes: string[] = [];
  for (const open of ledger.record.reservations.filter(r => r.outcome === 'intent' && r.requestKey !== keys.request)) {
    const what = `An earlier request of this resource (ClientToken ${open.clientToken})`;
    const fate = settleIntent(await read(() => reservationsOfRequest(open.requestKey)), { intentAt: open.intentAt, what });
    if (fate.kind === 'open') throw unsettledError(what, open.intentAt, 'it is then withdrawn if EC2 shows it, before anything new is requested');
    if (fate.kind === 'not-bought') {
      await ledger.change(record => { entryOf(record, open.clientToken)!.outcome = 'not-bought'; });
      continue;
    }
    const found = fate.found[0];
    const id = found.CapacityReservationId!;
    if (['assessing', 'delayed'].includes(found.State ?? '')) {
      await cancelFree(id);
      notes.push(`Withdrew ${id} (${found.State}, free of charge), which an earlier request of this resource made and CloudFormation never received`);
    } else if (LIVE_STATES.includes(found.State ?? '')) {
      notes.push(`Kept ${id} (${found.State}), which an earlier request of this resource made and CloudFormation never received: cancelling it now may cost a charge. Cancel it by hand if nothing needs it: aws ec2 cancel-capacity-reservation --capacity-reservation-id ${id}`);
    }
    log(notes[notes.length - 1] ?? `${id} of an earlier request is ${found.State}`, { id });
    await ledger.change(record => { Object.assign(entryOf(record, open.clientToken)!, { outcome: 'bought', id, released: true }); });
  }
  return notes;
}

const LIVE_STATES = ['assessing', 'scheduled', 'active', 'delayed'];

/** The commitment at the rate EC2 bills must cost at most maxCommittedCost, compared exactly. */
function assertWithinCeiling(request: FutureReservationRequest, rate: OnDemandRate, cost: string): void {
  const exact = commitmentCost(rate, request.instanceCount, request.commitmentSeconds);
  if (withinCeiling(exact, request.maxCommittedCost)) return;
  throw new UserError(
    `The commitment costs ${cost} ${request.currencyCode} (${describeShape(request)} at ${rate.perInstanceHour} ${rate.currency} per instance-hour for ${request.commitmentSeconds / 3600} hours, Price List ${rate.sku}), above maxCommittedCost ${request.maxCommittedCost} ${request.currencyCode}; nothing was requested. Raise maxCommittedCost to ${moneyText(exact, request.currencyCode)} or more, or reduce instanceCount or commitment`,
  );
}

/**
 * CreateCapacityReservation failed without a clear refusal, after the SDK's retries with the same
 * token: EC2 may have accepted it. A read by the request's tag decides: found is withdrawn (free while
 * assessing); not shown, or unreadable, is said as it is, with the tag to find it by.
 */
async function unansweredRequest(keys: ResourceKeys, clientToken: string, error: unknown): Promise<UserError> {
  const seen = await read(() => reservationsOfRequest(keys.request));
  if (seen.kind === 'found') {
    const r = seen.value[0];
    return withdraw(r.CapacityReservationId!, r.State, error);
  }
  const how = seen.kind === 'absent' ? 'EC2 does not show it yet' : `it could not be read (${seen.error})`;
  return new UserError(`CreateCapacityReservation (ClientToken ${clientToken}) got no answer (${oneLine(error)}) and ${how}, so whether it was requested cannot be told. Look for a Capacity Reservation tagged cdk-capacity-reservations:idempotency-key=${keys.request} and cancel it (free while assessing) before deploying again`);
}

/** Cancels a request EC2 accepted for a Create that fails (free while assessing), and says what became of it. */
async function withdraw(id: string, state: string | undefined, cause: unknown): Promise<UserError> {
  try {
    await cancelFree(id);
    log('withdrew the request of a failing Create, free of charge', { id, state });
    return new UserError(`${oneLine(cause)}; EC2 had accepted ${id}, which was cancelled free of charge (${state ?? 'assessing'}), so nothing is committed. Deploy again`);
  } catch (cancelError) {
    return new UserError(`${oneLine(cause)}; EC2 had accepted ${id}, and cancelling it failed (${oneLine(cancelError)}): cancel it yourself while it is assessing (free): aws ec2 cancel-capacity-reservation --capacity-reservation-id ${id}`);
  }
}

async function update(event: FutureProviderEvent, request: FutureReservationRequest, keys: ResourceKeys): Promise<FutureOnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  const stack = await stackOperation(event.StackId);
  if (!isReservationId(id)) {
    // Only a preview was answered before: a forward update without previewOnly is this lifetime's first request.
    if (request.previewOnly || stack.operation !== 'forward') return create(event, { ...request, previewOnly: true }, keys);
    return create(event, request, keys);
  }
  const ledger = await Ledger.read<FutureLedgerRecord>(keys.owner);
  const entry = ledger?.record.reservations.find(r => r.id === id);
  const seen = await read(() => describeReservation(id));
  if (stack.operation === 'rollback') {
    // Back to what CloudFormation tracked with these properties: after a replacing update, the one before it.
    const digest = propertiesDigest(event.ResourceProperties);
    const before = ledger?.record.reservations.filter(r => r.id && r.id !== id && !r.released && r.answeredFor.includes(digest)).pop();
    if (before) return rollBack(before.id!, await read(() => describeReservation(before.id!)), request, before);
    return rollBack(id, seen, request, entry);
  }
  if (seen.kind === 'could-not-read') throw new UserError(`${id} could not be read (${seen.error}); nothing was changed or requested. Deploy again`);
  const changed = changedKeys(event.OldResourceProperties, event.ResourceProperties);
  const view = seen.kind === 'found' ? seen.value : undefined;
  const decision = decideUpdate({ changed, state: view?.State ?? 'cancelled', allowRepurchase: request.allowRepurchase });
  if (decision.action === 'refuse') throw new UserError(`${decision.message}; nothing was changed on ${id}`);
  if (decision.action === 'replace') {
    if (stack.operation !== 'forward') {
      throw new UserError(`This update would request a new future-dated Capacity Reservation (allowRepurchase), but CloudFormation's status of this stack could not be read (${stack.status}); nothing was requested. Deploy again`);
    }
    log('requesting a new future-dated Capacity Reservation (allowRepurchase); CloudFormation deletes the old one after this update', { old: id });
    return create(event, request, keys);
  }
  if (!view) throw new UserError(`${id} is no longer shown by EC2, so it cannot change in place; nothing was requested. Set allowRepurchase: true to request a new one`);
  const notes: string[] = [];
  if (decision.moveStart) {
    const current = view.StartDate ?? request.startDate;
    const refusal = startDateChangeError(view.OriginalStartDate ?? current, current, request.startDate);
    if (refusal) throw new UserError(`${refusal}; nothing was changed on ${id}`);
    await moveStart(id, request.startDate);
    notes.push(`Start of ${id} moved to ${request.startDate.toISOString()}`);
  }
  await syncTags(id, view, request.tags);
  const digest = propertiesDigest(event.ResourceProperties);
  if (ledger && entry) await ledger.remember(record => { const e = record.reservations.find(r => r.id === id); if (e && !e.answeredFor.includes(digest)) e.answeredFor.push(digest); });
  const fresh = (await describeReservation(id).catch(() => undefined)) ?? view;
  return answer(fresh, entry, notes.join('. ') || `${id} changed in place; nothing was requested`);
}

/**
 * A rollback goes back to what CloudFormation tracked, as it is: tags back, nothing requested, no start
 * moved (EC2 moves a start only later), and it always lands: SUCCESS, with what could not be undone.
 */
async function rollBack(id: string, seen: ReadResult<CapacityReservation>, request: FutureReservationRequest, entry: LedgerReservation | undefined): Promise<FutureOnEventResult> {
  const view = seen.kind === 'found' ? seen.value : undefined;
  const notes = [`Rolled back to ${id} as it is; nothing was requested`];
  if (seen.kind === 'absent') notes.push('EC2 no longer shows it');
  if (seen.kind === 'could-not-read') notes.push(`it could not be read (${seen.error})`);
  if (view) {
    await syncTags(id, view, request.tags).catch(error => notes.push(`its tags could not be restored (${oneLine(error)})`));
    if (!LIVE_STATES.includes(view.State ?? '')) notes.push(`it is ${view.State} and holds no capacity: deploy again to request a new one`);
    if (view.StartDate && view.StartDate.getTime() !== request.startDate.getTime()) notes.push(`its start stays ${view.StartDate.toISOString()} (EC2 never moves a start earlier)`);
  }
  log(notes.join('; '), { id });
  return answer(view, entry, notes.join('; '), id);
}

/**
 * Delete: free cancellations happen; a charge is paid only on a forward delete within
 * maxCancellationCharge after a quote; a rollback never pays. What is kept is said in the log and the answer.
 */
async function remove(event: FutureProviderEvent): Promise<FutureOnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  if (!isReservationId(id)) {
    log('nothing was requested for this resource; nothing to delete', { physicalResourceId: id });
    return { PhysicalResourceId: id };
  }
  const keys = resourceKeys(event);
  const seen = await read(() => describeReservation(id));
  const stack = await stackOperation(event.StackId);
  const operation = deleteOperationOf(stack.status);
  if (seen.kind === 'could-not-read') {
    if (operation !== 'forward') return kept(id, `Kept ${id}: it could not be read (${seen.error}), and a rollback (or a Delete whose stack status could not be read) must land. Check it, and cancel it by hand if no stack needs it`);
    throw new UserError(`${id} could not be read (${seen.error}), so whether cancelling it is free cannot be told; nothing was cancelled. Delete again`);
  }
  if (seen.kind === 'absent') return released(keys, id, `${id} is no longer shown by EC2; nothing to cancel`);
  const view = seen.value;
  const commitmentEnd = view.CommitmentInfo?.CommitmentEndDate;
  const now = clock.now();
  const insideCommitment = view.State === 'scheduled' || (view.State === 'active' && commitmentEnd !== undefined && now < commitmentEnd);
  let request: FutureReservationRequest | undefined;
  try {
    request = parseFutureRequest(event.ResourceProperties);
  } catch {
    request = undefined;
  }
  const decision = decideDelete({ reservationId: id, state: view.State ?? 'unknown', insideCommitment, operation, maxCancellationCharge: request?.maxCancellationCharge, commitmentEnd });
  try {
    return await carryOutDelete(decision, id, view, request, keys);
  } catch (error) {
    // A rollback always lands (and an unknown operation may be one): a cancellation that failed keeps the reservation, named, and says how to finish.
    if (operation !== 'forward') return kept(id, `Kept ${id} (${view.State}): cancelling it failed (${oneLine(error)}) during a rollback (or while the stack's status could not be read), which must land. Cancel it by hand if nothing needs it (free while assessing or delayed): aws ec2 cancel-capacity-reservation --capacity-reservation-id ${id}`, keys);
    throw new UserError(`Could not cancel ${id} (${view.State}): ${oneLine(error)}; it is not cancelled. Delete again`);
  }
}

async function carryOutDelete(decision: ReturnType<typeof decideDelete>, id: string, view: CapacityReservation, request: FutureReservationRequest | undefined, keys: ResourceKeys): Promise<FutureOnEventResult> {
  switch (decision.action) {
    case 'none':
      return released(keys, id, decision.note);
    case 'keep':
      return kept(id, decision.note, keys);
    case 'cancel-free':
      await cancelFree(id);
      return released(keys, id, `Cancelled ${id} (${view.State}) free of charge`);
    case 'quote': {
      const quote = await cancellationQuote(id);
      const rate = await readRate(request!, process.env.AWS_REGION ?? 'us-east-1');
      const charge = cancellationCharge(rate, quote.terms);
      const text = moneyText(charge, request!.currencyCode);
      const onQuote = decideOnQuote(id, quote.quoteId, { text: text.split(' ')[0], withinCeiling: withinCeiling(charge, request!.maxCancellationCharge!) }, request!.maxCancellationCharge!, request!.currencyCode);
      if (onQuote.action === 'keep') return kept(id, onQuote.note, keys);
      await cancelWithQuote(id, onQuote.quoteId);
      return released(keys, id, `Cancelled ${id} (${view.State}) for ${text} (quote ${quote.quoteId}), within maxCancellationCharge ${request!.maxCancellationCharge} ${request!.currencyCode}; charges run until the commitment ends`);
    }
  }
}

function kept(id: string, note: string, keys?: ResourceKeys): Promise<FutureOnEventResult> {
  log(note, { id });
  return keys ? released(keys, id, note, false) : Promise.resolve({ PhysicalResourceId: id, Data: { ...emptyAttributes(id), Note: note } });
}

/** The ledger notes that CloudFormation let go of it: from now on it belongs to no later lifetime. */
async function released(keys: ResourceKeys, id: string, note: string, logIt = true): Promise<FutureOnEventResult> {
  if (logIt) log(note, { id });
  const ledger = await Ledger.read<FutureLedgerRecord>(keys.owner).catch(() => undefined);
  await ledger?.remember(record => { const e = record.reservations.find(r => r.id === id); if (e) e.released = true; });
  return { PhysicalResourceId: id, Data: { ...emptyAttributes(id), Note: note } };
}

function preview(request: FutureReservationRequest, cost: string, rate: OnDemandRate): FutureOnEventResult {
  const note = `previewOnly: nothing was requested; ${describeShape(request)} from ${request.startDate.toISOString()} for ${request.commitmentSeconds / 3600} hours would commit ${cost} ${request.currencyCode} (${rate.perInstanceHour} per instance-hour), within maxCommittedCost ${request.maxCommittedCost}`;
  return {
    PhysicalResourceId: `${PREVIEW_ID_PREFIX}future-reservation`,
    Data: {
      ...emptyAttributes(''), State: 'preview', StartDate: request.startDate.toISOString(),
      CommitmentEndDate: new Date(request.startDate.getTime() + request.commitmentSeconds * 1000).toISOString(),
      CommittedCost: cost, CurrencyCode: request.currencyCode, AvailabilityZone: request.availabilityZone, InstanceType: request.instanceType,
      InstanceCount: String(request.instanceCount), Note: note,
    },
  };
}

function answer(view: CapacityReservation | undefined, entry: LedgerReservation | undefined, note: string, fallbackId = ''): FutureOnEventResult {
  const id = view?.CapacityReservationId ?? entry?.id ?? fallbackId;
  return {
    PhysicalResourceId: id,
    Data: {
      CapacityReservationId: id,
      CapacityReservationArn: view?.CapacityReservationArn ?? entry?.arn ?? '',
      State: view?.State ?? 'unknown',
      StartDate: view?.StartDate?.toISOString() ?? '',
      CommitmentEndDate: view?.CommitmentInfo?.CommitmentEndDate?.toISOString() ?? '',
      CommittedCost: entry?.committedCost ?? '',
      CurrencyCode: entry?.currencyCode ?? '',
      AvailabilityZone: view?.AvailabilityZone ?? entry?.availabilityZone ?? '',
      InstanceType: view?.InstanceType ?? entry?.instanceType ?? '',
      InstanceCount: String(view?.CommitmentInfo?.CommittedInstanceCount ?? entry?.instanceCount ?? ''),
      Note: note,
    },
  };
}

function emptyAttributes(id: string): FutureReservationAttributes {
  return {
    CapacityReservationId: id, CapacityReservationArn: '', State: '', StartDate: '', CommitmentEndDate: '', CommittedCost: '', CurrencyCode: '',
    AvailabilityZone: '', InstanceType: '', InstanceCount: '', Note: '',
  };
}

/** The wire keys whose values differ (tags compared as a whole). */
function changedKeys(before: FutureReservationWireProperties | undefined, after: FutureReservationWireProperties): string[] {
  const { ServiceToken: _a, ...old } = (before ?? {}) as unknown as Record<string, unknown>;
  const { ServiceToken: _b, ...now } = after as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(old), ...Object.keys(now)]);
  return [...keys].filter(k => JSON.stringify(old[k] ?? null) !== JSON.stringify(now[k] ?? null) && !(k === 'StartDate' && sameInstant(old[k], now[k])));
}

function sameInstant(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' && Date.parse(a) === Date.parse(b);
}

function entryOf(record: FutureLedgerRecord, clientToken: string): LedgerReservation | undefined {
  return record.reservations.find(r => r.clientToken === clientToken);
}

function isReservationId(id: string | undefined): id is string {
  return id !== undefined && /^cr-[0-9a-z]+$/.test(id);
}

/** Seams for the local rehearsal (simulated clock, shrunk budgets, no backoff waits), as the other bundles have them. */
export { clock, hooks, providerTimings, timeouts } from '../../handler/budget';
export { claimPolicy } from '../../handler/claims';
export { retryPolicy } from '../../handler/retries';
export { resourceKeys } from '../../handler/keys';
/** The rehearsal's budget seam: this handler never waits before a look-up (a repeat carries the same ClientToken). */
export const purchasePolicy = { lookupDelayMs: 0 };
