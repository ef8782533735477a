import { announceMoneyMove, ownerOf } from '../../core/audit';
/**
 * Lambda entry points behind TrainingPlanPurchase's provider: `onEvent` decides and buys, `isComplete`
 * waits for the payment. The same foundations as the Capacity Block handler (../index.ts): the
 * Powertools claim per request, the ledger per resource, the time budgets, one-line failures.
 *
 * SageMaker facts this relies on, from @aws-sdk/client-sagemaker's model (3.1142):
 * - CreateTrainingPlan takes TrainingPlanName, TrainingPlanOfferingId, SpareInstanceCountPerUltraServer
 *   and Tags, and answers only TrainingPlanArn. It has NO client token. Its errors are ResourceInUse
 *   (a name that exists: the only conflict error listed), ResourceLimitExceeded and ResourceNotFound.
 * - DescribeTrainingPlan takes the NAME; Status is Pending | Active | Scheduled | Expired | Failed;
 *   UpfrontFee is a string; it shows no tags (ListTags does).
 * - ExtendTrainingPlan takes only TrainingPlanExtensionOfferingId (from SearchTrainingPlanOfferings
 *   with TrainingPlanArn) and has no token either; DescribeTrainingPlanExtensionHistory lists them.
 * - There is no cancel, delete or modify operation for a plan.
 */
import { DescribeTrainingPlanResponse } from '@aws-sdk/client-sagemaker';
import { TrainingPlanAttributes, TrainingPlanWireProperties } from '../../training-plan-wire';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, PREVIEW_ID_PREFIX, UPFRONT_FEE_TAG } from '../../wire';
import { clock, contextOrDefault, LambdaContextLike, timeouts, withBudget } from '../budget';
import { underClaim } from '../claims';
import { failure, log, oneLine, UserError } from '../errors';
import { iso, money } from '../format';
import { resourceKeys, ResourceKeys } from '../keys';
import { Ledger, propertiesDigest } from '../../core/ledger';
import { judgePlanOfferings, noAcceptablePlanOffering, searchPlanOfferings } from './offerings';
import { confirmDelivered, decideUpdate, needsOther, pickServing } from '../../core/lifecycle';
import { read, settleIntent } from '../../core/read';
import { buyingAllowed, StackRead, underStackStatus } from '../../core/stack';
import {
  alsoOwnedPlansNote, describeOwnedPlan, describePlan, LedgerPlan, openPlanLedger, otherLivePlans, OwnedPlan, ownedPlans, planAdapter, PlanLedger, PlanLedgerRecord,
  planHolding, planTags, refusePlanRepurchase,
} from './plans';
import { purchasePlan } from './purchase';
import { assertPlanWindowOpen, parseTrainingPlanRequest, TrainingPlanRequest } from './request';
import { changesThePlan, extendPlanIfLonger, syncPlanTags } from './update';

export interface PlanProviderEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: TrainingPlanWireProperties;
  readonly OldResourceProperties?: TrainingPlanWireProperties;
  readonly Data?: PlanEventData;
}

/** onEvent's Data, merged under isComplete's by the framework. */
export type PlanEventData = Partial<TrainingPlanAttributes> & { readonly WaitDeadline?: string; readonly Settled?: string };

export interface PlanOnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: PlanEventData;
}

export async function onEvent(event: PlanProviderEvent, lambdaContext?: LambdaContextLike): Promise<PlanOnEventResult> {
  log(`${event.RequestType} ${event.LogicalResourceId}`, { physicalResourceId: event.PhysicalResourceId });
  const context = contextOrDefault(lambdaContext);
  try {
    if (event.RequestType === 'Delete') return await withBudget(context, timeouts.onEventMarginMs, () => remove(event));
    const now = clock.now();
    // Bad input fails here, before any SageMaker call or DynamoDB write.
    const request = parseTrainingPlanRequest(event.ResourceProperties);
    const keys = resourceKeys(event);
    return await underClaim(keys.request, context, async () => {
      const tracked = isPlanArn(event.PhysicalResourceId) ? event.PhysicalResourceId : undefined;
      const ledger = await openPlanLedger(keys, request.trainingPlanName, tracked, tracked ? propertiesDigest(event.OldResourceProperties) : undefined);
      return event.RequestType === 'Create' ? await create(request, keys, ledger, now, { mayBuy: true }) : await update(event, request, keys, ledger, now);
    });
  } catch (error) {
    throw failure(error);
  }
}

/** Waits for the payment: Scheduled or Active ends it; Pending past the deadline succeeds with a note; Failed fails, naming the plan. */
export async function isComplete(event: PlanProviderEvent, lambdaContext?: LambdaContextLike): Promise<{ IsComplete: boolean; Data?: TrainingPlanAttributes }> {
  const arn = event.PhysicalResourceId ?? '';
  if (event.RequestType === 'Delete' || !isPlanArn(arn) || event.Data?.Settled === 'true') return { IsComplete: true };
  const deadline = new Date(event.Data?.WaitDeadline ?? 0);
  const name = event.Data?.TrainingPlanName || nameOf(arn);
  return withBudget(contextOrDefault(lambdaContext), timeouts.isCompleteMarginMs, async () => {
    const now = clock.now();
    try {
      const view = await describePlan(name);
      const status = view?.Status;
      if (status === 'Failed') {
        throw new UserError(`SageMaker reports training plan ${name} (${arn}) Failed: ${view?.StatusMessage ?? 'no reason given'}. Check its billing in the SageMaker console before deploying again`);
      }
      if (!view || status === 'Pending') {
        if (now < deadline) return { IsComplete: false };
        const note = !view
          ? `Training plan ${name} was bought but SageMaker did not show it before waitTimeout; check it in the SageMaker console`
          : `Training plan ${name} is bought; its payment was still pending at waitTimeout (${deadline.toISOString()})`;
        return { IsComplete: true, Data: view ? attributesOfPlan(view, join(event.Data?.Note, note), event.Data?.OfferingId) : fallbackPlanAttributes(arn, name, event.Data, note) };
      }
      log('training plan ready', { name, status });
      const note = status === 'Expired' ? `Training plan ${name} is Expired` : '';
      return { IsComplete: true, Data: attributesOfPlan(view, join(event.Data?.Note, note), event.Data?.OfferingId) };
    } catch (error) {
      if (error instanceof UserError) throw failure(error);
      // A transient read failure must not fail a paid plan: poll again, or finish honestly.
      log('could not read the training plan; will poll again', { name, error: oneLine(error) });
      if (clock.now() < deadline) return { IsComplete: false };
      return { IsComplete: true, Data: fallbackPlanAttributes(arn, name, event.Data, `Training plan ${name} is bought, but its status could not be read before waitTimeout (${oneLine(error)})`) };
    }
  });
}

/** Adopt what this resource already owns and serves the request; else buy exactly once (only where `allowed`). */
async function create(request: TrainingPlanRequest, keys: ResourceKeys, ledger: PlanLedger, now: Date, allowed: { mayBuy: boolean; why?: string; rollback?: boolean }): Promise<PlanOnEventResult> {
  await resolvePlanIntents(ledger, keys);
  const owned = await ownedPlans(ledger);
  const adoptable = pickServing(planAdapter, owned, request, now, p => rank(p, keys));
  if (request.previewOnly) {
    return preview(request, now, adoptable ? `; without previewOnly this resource would adopt training plan ${adoptable.plan.name}, which it already owns, and buy nothing` : '');
  }
  // A rollback lands as it is: it never waits in isComplete for a payment that may still fail.
  if (adoptable && allowed.rollback) return settled(adoptable, join(`Back to ${describeOwnedPlan(adoptable)}, which these properties were deployed with; nothing was bought`, alsoOwnedPlansNote(owned, adoptable.plan.name)));
  if (adoptable) return adopt(adoptable, owned, request, keys, now);
  const live = otherLivePlans(owned, undefined);
  if (live.length > 0 && !request.allowRepurchase) throw refusePlanRepurchase(live[0], needsOther(planAdapter, live[0], request, now), live.length - 1);
  if (!allowed.mayBuy) throw new UserError(`This would buy a new training plan, which ${allowed.why}; nothing was bought`);
  const purchased = await purchasePlan(request, keys, ledger, now);
  const note = join(
    purchased.source === 'found-by-name' ? `SageMaker already had training plan ${purchased.plan.name} from an earlier attempt whose answer was lost; nothing more was bought` : '',
    alsoOwnedPlansNote(owned, purchased.plan.name),
  );
  return toWaitFor(purchased.plan, request, now, note);
}

async function update(event: PlanProviderEvent, request: TrainingPlanRequest, keys: ResourceKeys, ledger: PlanLedger, now: Date): Promise<PlanOnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  return underStackStatus(event.StackId, id, stack => updateForward(event, request, keys, ledger, now, stack), async why => {
    const held = planHolding(ledger.record, id);
    const owned = held ? (await ownedPlans(ledger).catch(() => [])).find(p => p.plan.name === held.name) : undefined;
    const note = `Rolled back to ${owned ? describeOwnedPlan(owned) : id} as it is: ${why}`;
    if (owned) return settled(owned, note);
    return { PhysicalResourceId: id, Data: { ...fallbackPlanAttributes(isPlanArn(id) ? id : '', isPlanArn(id) ? nameOf(id) : '', undefined, note, 'unknown'), Settled: 'true' } };
  });
}

async function updateForward(event: PlanProviderEvent, request: TrainingPlanRequest, keys: ResourceKeys, ledger: PlanLedger, now: Date, stack: StackRead): Promise<PlanOnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  if (request.previewOnly) {
    const hint = isPlanArn(id) ? `; training plan ${nameOf(id)} stays bought and runs until its end, but this resource no longer tracks it` : '';
    try {
      return await preview(request, now, hint);
    } catch (error) {
      // A preview buys nothing, so its update never fails: failing would wedge the rollback of it.
      const note = `previewOnly: nothing was bought, and a purchase now would fail: ${oneLine(error)}${hint}`;
      return { PhysicalResourceId: id.startsWith(PREVIEW_ID_PREFIX) ? id : `${PREVIEW_ID_PREFIX}failed`, Data: { ...fallbackPlanAttributes('', '', undefined, note, 'preview-failed'), Settled: 'true' } };
    }
  }
  const oldDigest = propertiesDigest(event.OldResourceProperties);
  if (isPlanArn(id)) {
    // What CloudFormation tracks comes first: a ledger that lacks it reads it by name.
    await trackPlan(ledger, id, keys);
    if (stack.operation === 'forward') await ledger.change(record => { confirmDelivered(planHolding(record, id), oldDigest); });
  }
  const held = planHolding(ledger.record, id);
  if (!held) return create(request, keys, ledger, now, { ...buyingAllowed(stack), rollback: stack.operation === 'rollback' });
  await resolvePlanIntents(ledger, keys);
  const owned = await ownedPlans(ledger);
  const current = owned.find(p => p.plan.name === held.name)!;
  const defining = changesThePlan(safeParse(event.OldResourceProperties), request);
  const decision = decideUpdate(planAdapter, { current, owned, request, digest: propertiesDigest(event.ResourceProperties), defining, operation: stack.operation, status: stack.status, now });
  switch (decision.kind) {
    case 'in-place': {
      await syncPlanTags(current.plan.arn!, request);
      const note = await extendPlanIfLonger(current, request, keys.request, ledger, decision.mayBuy, defining && stack.operation === 'unknown' ? buyingAllowed(stack).why : undefined);
      return toWaitFor(current.plan, request, now, join(note, alsoOwnedPlansNote(owned, current.plan.name)));
    }
    case 'roll-back': {
      const target = decision.owned;
      log('rolling back to the training plan these properties were answered with; nothing is bought', { name: target.plan.name });
      const dead = planAdapter.isLive(target) ? '' : `it is no longer live (${target.view?.Status ?? 'not known to SageMaker'}) and serves nothing: deploy again to buy a new plan`;
      return settled(target, join(`Back to ${describeOwnedPlan(target)}, which these properties were deployed with; nothing was bought`, dead, alsoOwnedPlansNote(owned, target.plan.name)));
    }
    case 'adopt':
      return adopt(decision.owned, owned, request, keys, now);
    case 'buy':
      log('buying a new training plan (allowRepurchase); the old one runs until its end', { old: describeOwnedPlan(current) });
      return create(request, keys, ledger, now, { mayBuy: true });
    case 'over':
      return settled(decision.owned, decision.note);
  }
}

/**
 * A ledger that lacks the plan CloudFormation tracks (the write of its answer failed) learns it by
 * name before anything else is decided; an open intent under that name is settled as bought with it.
 */
async function trackPlan(ledger: PlanLedger, arn: string, keys: ResourceKeys): Promise<void> {
  if (planHolding(ledger.record, arn)) return;
  const name = nameOf(arn);
  const view = await describePlan(name);
  const tags = view?.TrainingPlanArn ? await planTags(view.TrainingPlanArn) : {};
  const [upfrontFee = '', currencyCode = ''] = (tags[UPFRONT_FEE_TAG] ?? '').split(' ');
  log('this resource\'s ledger lacked the plan CloudFormation tracks; read it by name', { name, known: view !== undefined });
  await ledger.change(record => {
    const entry = record.plans.find(p => p.name === name);
    const fields = { arn, outcome: 'bought' as const, released: false };
    if (entry) Object.assign(entry, fields);
    else {
      record.plans.push({
        name, requestKey: tags[IDEMPOTENCY_TAG] ?? keys.request, offeringId: tags[OFFERING_TAG] ?? '', upfrontFee, currencyCode,
        intentAt: (view?.StartTime ?? clock.now()).toISOString(), answeredFor: [], ...fields,
      });
    }
  });
}

async function adopt(owned: OwnedPlan, all: OwnedPlan[], request: TrainingPlanRequest, keys: ResourceKeys, now: Date): Promise<PlanOnEventResult> {
  log('adopting a training plan this resource already owns; nothing is bought', { name: owned.plan.name });
  await syncPlanTags(owned.plan.arn!, request);
  const note = owned.plan.requestKey === keys.request
    ? 'Adopted the plan an earlier delivery of this request bought'
    : `Adopted training plan ${owned.plan.name}, which this resource (${keys.owner}) already owns and which fits these properties; nothing was bought`;
  return toWaitFor(owned.plan, request, now, join(note, alsoOwnedPlansNote(all, owned.plan.name)));
}

/**
 * Intents whose answer never came, by the core's settle rule: a plan SageMaker shows under the name,
 * with this resource's owner tag, was bought; one with another owner's tag is someone else's (this
 * intent was refused); a name SageMaker does not show, or shows without an owner tag (tags may show
 * late), settles as not bought only once the intent has settled. A read that fails fails the step,
 * naming the intent. An open intent is harmless: the next purchase uses the same name, which
 * SageMaker never sells twice.
 */
async function resolvePlanIntents(ledger: PlanLedger, keys: ResourceKeys): Promise<void> {
  for (const open of ledger.record.plans.filter(p => p.outcome === 'intent')) {
    const result = await read(async () => {
      const view = await describePlan(open.name);
      if (!view?.TrainingPlanArn) return undefined;
      const owner = (await planTags(view.TrainingPlanArn))[OWNER_TAG];
      return owner === undefined ? undefined : { arn: view.TrainingPlanArn, owner };
    });
    const fate = settleIntent(result, { intentAt: open.intentAt, what: `An earlier purchase of training plan ${open.name} (${open.offeringId})` });
    if (fate.kind === 'open') continue;
    const ours = fate.kind === 'bought' && fate.found.owner === keys.owner;
    log(ours ? 'an earlier purchase attempt of this resource went through; it is in the ledger now' : 'an earlier purchase attempt of this resource did not buy this name', { name: open.name });
    await ledger.change(record => {
      Object.assign(record.plans.find(p => p.name === open.name)!, ours ? { outcome: 'bought', arn: fate.found.arn } : { outcome: 'not-bought' });
    });
    if (ours) {
      await announceMoneyMove('Training Plan Purchased', {
        product: 'training-plan', ids: [fate.found.arn], offeringId: open.offeringId, fee: open.upfrontFee, currency: open.currencyCode, ...ownerOf(ledger.owner), learnedFrom: 'read-after-lost-answer',
      });
    }
  }
}

/** The preview: the same search and choice as a purchase; SageMaker has no dry run. */
async function preview(request: TrainingPlanRequest, now: Date, hint: string): Promise<PlanOnEventResult> {
  assertPlanWindowOpen(request, now);
  const judgement = judgePlanOfferings(await searchPlanOfferings(request, now), request);
  const best = judgement.acceptable[0];
  if (!best) throw noAcceptablePlanOffering(request, judgement);
  const data: TrainingPlanAttributes = {
    TrainingPlanArn: '', TrainingPlanName: '', Status: 'preview', UpfrontFee: best.upfrontFeeText, CurrencyCode: best.currencyCode,
    StartTime: best.startTime.toISOString(), EndTime: best.endTime.toISOString(), AvailabilityZone: best.availabilityZone, OfferingId: best.id,
    Note: `previewOnly: nothing was bought; would buy ${best.id} in ${best.availabilityZone} from ${iso(best.startTime)} for ${money(best.upfrontFee, best.currencyCode)} (${judgement.acceptable.length} acceptable, ${judgement.refused.length} refused)${hint}`,
  };
  return { PhysicalResourceId: `${PREVIEW_ID_PREFIX}${best.id}`, Data: { ...data, Settled: 'true' } };
}

/** A plan cannot be cancelled: deleting the resource leaves it to run out. The ledger notes that CloudFormation let go of it. */
async function remove(event: PlanProviderEvent): Promise<PlanOnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  if (!isPlanArn(id)) {
    log('no purchase is tracked under this id; nothing to delete', { physicalResourceId: id });
    return { PhysicalResourceId: id };
  }
  let summary = nameOf(id);
  try {
    const ledger = await Ledger.read<PlanLedgerRecord>(resourceKeys(event).owner);
    if (ledger && planHolding(ledger.record, id)) {
      await ledger.change(record => {
        planHolding(record, id)!.released = true;
      });
    }
    const view = await describePlan(nameOf(id));
    if (view) summary = `${summary} (${view.Status}, ends ${view.EndTime ? iso(view.EndTime) : 'unknown'})`;
  } catch (error) {
    log('could not read the training plan or its ledger while deleting; deleting anyway', { error: oneLine(error) });
  }
  log(`Training plan ${summary} cannot be cancelled: CloudFormation no longer tracks it, and it expires by itself at its end`);
  return { PhysicalResourceId: id };
}

/** The plan bought by this very request first (a redelivery), then any. */
function rank(owned: OwnedPlan, keys: ResourceKeys): number {
  return owned.plan.requestKey === keys.request ? 1 : 0;
}

function toWaitFor(plan: LedgerPlan, request: TrainingPlanRequest, now: Date, note: string): PlanOnEventResult {
  const WaitDeadline = new Date(now.getTime() + request.waitTimeoutSeconds * 1000).toISOString();
  return {
    PhysicalResourceId: plan.arn!,
    Data: { WaitDeadline, Note: note, TrainingPlanName: plan.name, OfferingId: plan.offeringId, UpfrontFee: plan.upfrontFee, CurrencyCode: plan.currencyCode },
  };
}

function settled(owned: OwnedPlan, note: string): PlanOnEventResult {
  const data = owned.view ? attributesOfPlan(owned.view, note, owned.plan.offeringId) : fallbackPlanAttributes(owned.plan.arn ?? '', owned.plan.name, undefined, note, 'unknown');
  return { PhysicalResourceId: owned.plan.arn ?? '', Data: { ...data, Settled: 'true' } };
}

function attributesOfPlan(view: DescribeTrainingPlanResponse, note: string, offeringId = ''): TrainingPlanAttributes {
  return {
    TrainingPlanArn: view.TrainingPlanArn ?? '',
    TrainingPlanName: view.TrainingPlanName ?? '',
    Status: view.Status ?? 'unknown',
    UpfrontFee: view.UpfrontFee ?? '',
    CurrencyCode: view.CurrencyCode ?? '',
    StartTime: view.StartTime?.toISOString() ?? '',
    EndTime: view.EndTime?.toISOString() ?? '',
    AvailabilityZone: view.ReservedCapacitySummaries?.[0]?.AvailabilityZone ?? '',
    OfferingId: offeringId,
    Note: note,
  };
}

function fallbackPlanAttributes(arn: string, name: string, data: PlanEventData | undefined, note: string, status = 'Pending'): TrainingPlanAttributes {
  return {
    TrainingPlanArn: arn, TrainingPlanName: name, Status: status, UpfrontFee: data?.UpfrontFee ?? '', CurrencyCode: data?.CurrencyCode ?? '',
    StartTime: data?.StartTime ?? '', EndTime: data?.EndTime ?? '', AvailabilityZone: data?.AvailabilityZone ?? '', OfferingId: data?.OfferingId ?? '', Note: note,
  };
}

function safeParse(props: TrainingPlanWireProperties | undefined): Partial<TrainingPlanRequest> {
  try {
    return props ? parseTrainingPlanRequest(props) : {};
  } catch {
    return {};
  }
}

/** arn:PARTITION:sagemaker:REGION:ACCOUNT:training-plan/NAME: the physical id of a bought plan. */
function isPlanArn(id: string | undefined): id is string {
  return id !== undefined && /^arn:[^:]+:sagemaker:[^:]*:[^:]*:training-plan\/.+/.test(id);
}

function nameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

function join(...notes: Array<string | undefined>): string {
  return notes.filter(Boolean).join('. ');
}

/** Seams for the local rehearsal (simulated clock, shrunk budgets, no backoff waits), as the Capacity Block bundle has them. */
export { clock, hooks, providerTimings, timeouts } from '../budget';
export { claimPolicy } from '../claims';
export { retryPolicy } from './sagemaker';
export { resourceKeys } from '../keys';
export { planPurchasePolicy as purchasePolicy } from './purchase';
