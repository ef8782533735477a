import { announceMoneyMove, ownerOf } from '../../core/audit';
import { CreateTrainingPlanCommand } from '@aws-sdk/client-sagemaker';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, UPFRONT_FEE_TAG, WireTag } from '../../wire';
import { clock, remainingMs, sleep, timeouts } from '../budget';
import { INTENT_SETTLE_MS } from '../../core/ledger';
import { errorCode, isDefiniteRejection, log, oneLine, UserError } from '../errors';
import { decimalMoney, money } from '../format';
import { ResourceKeys } from '../keys';
import { judgePlanOfferings, noAcceptablePlanOffering, PlanOffering, searchPlanOfferings } from './offerings';
import { describePlan, LedgerPlan, nextPlanName, PlanLedger, PlanLedgerRecord, planTags } from './plans';
import { assertPlanWindowOpen, TrainingPlanRequest } from './request';
import { sageMakerCallOptions, sageMakerPurchases } from './sagemaker';

/** Tunables, exported so tests can shorten the waits. */
export const planPurchasePolicy = {
  /** Offerings tried (each from a fresh search) before giving up. */
  maxAttempts: 3,
  /** After an answer that never came: how many times, and how far apart, the name is read before creating again. */
  lookups: 3,
  lookupDelayMs: 5_000,
};

/** What a purchase produced. */
export interface PlanPurchased {
  readonly plan: LedgerPlan;
  readonly offering?: PlanOffering;
  /** bought now; or bought by an earlier attempt under the same name (its answer was lost), found by name. */
  readonly source: 'bought' | 'found-by-name';
}

/**
 * Buys the best acceptable offering exactly once (never above the ceiling, never outside the window),
 * under the resource's next plan name, written to the ledger as an intent first and with its outcome
 * after. SageMaker sells a name once: when the create's answer is lost, the name is read, and created
 * again only if SageMaker does not know it, which can never buy a second plan (a name that exists is
 * ResourceInUse). An offering sold between search and create moves on to the next acceptable one.
 */
export async function purchasePlan(request: TrainingPlanRequest, keys: ResourceKeys, ledger: PlanLedger, now: Date): Promise<PlanPurchased> {
  assertPlanWindowOpen(request, now);
  const name = nextPlanName(ledger.record, request.trainingPlanName);
  const soldOut = new Set<string>();
  let lastFailure = '';
  let unknown = 0;
  // A plan under this name without this resource's owner tag may still be ours only if an earlier
  // create of this name may have gone through (tags given at creation may show a moment late).
  let earlierAttempt = ledger.record.plans.some(p => p.name === name && p.outcome === 'intent');
  for (let attempt = 1; attempt <= planPurchasePolicy.maxAttempts + unknown;) {
    const judgement = judgePlanOfferings(await searchPlanOfferings(request, now), request, soldOut);
    const offering = judgement.acceptable[0];
    if (!offering) {
      if (soldOut.size > 0) {
        throw new UserError(`Every acceptable training plan offering sold out before it could be bought (tried ${[...soldOut].join(', ')}; last error ${lastFailure}); nothing was bought, deploy again to retry`);
      }
      throw noAcceptablePlanOffering(request, judgement);
    }
    assertTimeToBuy(name);
    log('buying training plan offering', { name, offeringId: offering.id, upfrontFee: money(offering.upfrontFee, offering.currencyCode), startTime: offering.startTime.toISOString(), acceptable: judgement.acceptable.length, refused: judgement.refused.length });
    await ledger.change(record => writeIntent(record, name, keys.request, offering, clock.now()));
    try {
      const answer = await sageMakerPurchases.send(new CreateTrainingPlanCommand({
        TrainingPlanName: name,
        TrainingPlanOfferingId: offering.id,
        SpareInstanceCountPerUltraServer: request.spareInstanceCountPerUltraServer,
        Tags: purchaseTags(request, keys, offering),
      }), sageMakerCallOptions());
      log('bought training plan', { name, arn: answer.TrainingPlanArn, offeringId: offering.id, upfrontFee: decimalMoney(offering.upfrontFeeText, offering.currencyCode) });
      // A 200 is final. If this write fails, the intent stays open and the next event reads the name.
      await ledger.remember(record => settle(record, name, { outcome: 'bought', arn: answer.TrainingPlanArn }));
      const plan = boughtPlan(ledger, name, { arn: answer.TrainingPlanArn });
      await announcePlan(ledger, plan.arn ?? name, offering, 'answer');
      return { plan, offering, source: 'bought' };
    } catch (error) {
      lastFailure = oneLine(error);
      if (errorCode(error) === 'ResourceInUse') {
        // The name exists: an earlier attempt (whose answer was lost) bought it, or someone else holds it.
        const found = await foundByName(name, keys, ledger, earlierAttempt, 'SageMaker says the name is in use');
        await ledger.remember(record => settle(record, name, { outcome: 'bought', ...found }));
        const plan = boughtPlan(ledger, name, found);
        await announcePlan(ledger, plan.arn ?? name, offering, 'read-after-lost-answer');
        return { plan, offering, source: 'found-by-name' };
      }
      if (isDefiniteRejection(error)) {
        await ledger.change(record => settle(record, name, { outcome: 'not-bought' }));
        await explainRejection(error, offering, request, now);
        soldOut.add(offering.id);
        log('training plan offering refused at purchase time; searching again', { offeringId: offering.id, error: lastFailure });
        attempt++;
        continue;
      }
      // The create may have gone through: read the name before anything else.
      log('training plan purchase outcome unknown; reading its name', { name, error: lastFailure });
      earlierAttempt = true;
      const bought = await lookForPlan(name, keys, ledger);
      if (bought) {
        await ledger.remember(record => settle(record, name, { outcome: 'bought', ...bought }));
        return { plan: boughtPlan(ledger, name, bought), offering, source: 'found-by-name' };
      }
      // SageMaker does not show the name (a read right after a create may lag): creating it again is
      // safe, as SageMaker never sells a name twice. Once.
      if (unknown++ > 0) {
        throw new UserError(`The purchase of training plan ${name} (${offering.id}, ${decimalMoney(offering.upfrontFeeText, offering.currencyCode)}) got no answer twice (${lastFailure}) and SageMaker does not show a plan of that name yet: bought or not cannot be told yet. ${deployAgain(name)}`);
      }
    }
  }
  throw new UserError(`Could not buy a training plan after ${planPurchasePolicy.maxAttempts} attempts (last error ${lastFailure}); SageMaker refused each, so nothing was bought; deploy again to retry`);
}

/**
 * The tags of a purchase, given in the create call itself (the role may create only plans that carry
 * them): the user's, then the library's, which say whose the plan is and what it cost.
 */
function purchaseTags(request: TrainingPlanRequest, keys: ResourceKeys, offering: PlanOffering): WireTag[] {
  return [
    ...request.tags,
    { Key: IDEMPOTENCY_TAG, Value: keys.request },
    { Key: OWNER_TAG, Value: keys.owner },
    { Key: OFFERING_TAG, Value: offering.id },
    { Key: UPFRONT_FEE_TAG, Value: `${offering.upfrontFeeText} ${offering.currencyCode}` },
  ];
}

/** The intent to buy `offering` under `name`: one entry per name, whatever attempts it took. */
function writeIntent(record: PlanLedgerRecord, name: string, requestKey: string, offering: PlanOffering, at: Date): void {
  const fields = { requestKey, offeringId: offering.id, upfrontFee: offering.upfrontFeeText, currencyCode: offering.currencyCode, outcome: 'intent' as const, intentAt: at.toISOString() };
  const existing = record.plans.find(p => p.name === name);
  if (existing) Object.assign(existing, fields);
  else record.plans.push({ name, ...fields, answeredFor: [], released: false });
}

function settle(record: PlanLedgerRecord, name: string, outcome: Partial<LedgerPlan>): void {
  const plan = record.plans.find(p => p.name === name);
  if (plan) Object.assign(plan, outcome);
}

/**
 * The plan as bought, from what SageMaker answered: a 200 is final, so the ledger write after it may
 * fail (the intent stays open and the next event reads the name); the answer still names the plan.
 */
function boughtPlan(ledger: PlanLedger, name: string, outcome: Partial<LedgerPlan>): LedgerPlan {
  return { ...ledger.record.plans.find(p => p.name === name)!, ...outcome, outcome: 'bought' };
}

/**
 * A name SageMaker holds: this resource's only if its owner tag says so (a plan's tags are given in
 * the create call). Another owner's tag: someone else's plan, so this resource's intent under the name
 * was refused and is settled as not bought at once (a new name is then honoured). No owner tag, or no
 * plan shown although the name is in use: while an earlier create of this name may have gone through,
 * whether it was bought cannot be told yet (tags and reads may lag), and no rename is advised.
 */
async function foundByName(name: string, keys: ResourceKeys, ledger: PlanLedger, earlierAttempt: boolean, why: string): Promise<Pick<LedgerPlan, 'arn' | 'offeringId' | 'upfrontFee' | 'currencyCode' | 'requestKey'>> {
  const view = await describePlan(name);
  if (!view?.TrainingPlanArn) {
    throw new UserError(`${why}, so a training plan named ${name} exists or may exist, but SageMaker does not show it yet: whether this resource bought it cannot be told yet. ${deployAgain(name)}`);
  }
  const tags = await planTags(view.TrainingPlanArn);
  const owner = tags[OWNER_TAG];
  if (owner !== keys.owner && (owner !== undefined || !earlierAttempt)) {
    await ledger.change(record => settle(record, name, { outcome: 'not-bought' }));
    throw new UserError(`Training plan name ${name} is taken by a plan this resource did not buy (${owner ? `owner ${owner}` : 'no owner tag'}); this resource bought nothing under it. Set trainingPlanName to a name of your own`);
  }
  if (owner === undefined) {
    throw new UserError(`Training plan ${name} exists, and SageMaker does not show its owner tag yet: it may be the plan this resource's earlier create bought, so bought or not cannot be told yet. ${deployAgain(name)}`);
  }
  log('the training plan of this name is already this resource\'s; nothing more was bought', { name, arn: view.TrainingPlanArn });
  const [upfrontFee = '', currencyCode = ''] = (tags[UPFRONT_FEE_TAG] ?? '').split(' ');
  return { arn: view.TrainingPlanArn, offeringId: tags[OFFERING_TAG] ?? '', upfrontFee, currencyCode, requestKey: tags[IDEMPOTENCY_TAG] ?? '' };
}

/** What to do while an intent is open: deploy again, under the same name (never another: it could buy twice). */
function deployAgain(name: string): string {
  return `Deploy again in ${Math.round(INTENT_SETTLE_MS / 60_000)} minutes, without changing trainingPlanName: the purchase uses the name ${name} again, which SageMaker never sells twice, and adopts the plan if it is this resource's`;
}

/** After an answer that never came: the plan by name, if SageMaker shows it. */
async function lookForPlan(name: string, keys: ResourceKeys, ledger: PlanLedger): Promise<Awaited<ReturnType<typeof foundByName>> | undefined> {
  for (let i = 0; i < planPurchasePolicy.lookups; i++) {
    if (i > 0) await sleep(planPurchasePolicy.lookupDelayMs);
    try {
      if (await describePlan(name)) return await foundByName(name, keys, ledger, true, 'SageMaker shows the name');
      return undefined;
    } catch (error) {
      if (error instanceof UserError) throw error;
      log('could not read the training plan yet; reading again', { name, error: oneLine(error) });
    }
  }
  throw new UserError(`The purchase of training plan ${name} got no answer and its name could not be read: bought or not cannot be told yet. ${deployAgain(name)}`);
}

/**
 * A 4xx is "that offering is gone" (search again) or a problem no other offering would fix (fail now):
 * an offering SageMaker still lists was refused for the request itself.
 */
async function explainRejection(error: unknown, offering: PlanOffering, request: TrainingPlanRequest, now: Date): Promise<void> {
  const code = errorCode(error);
  if (/^(AccessDenied|UnauthorizedOperation|AuthFailure)/.test(code)) {
    throw new UserError(`SageMaker refused CreateTrainingPlan for ${offering.id}: ${oneLine(error)}; grant the provider's role sagemaker:CreateTrainingPlan, CreateReservedCapacity and AddTags, or check your organization's SCPs. Nothing was bought`);
  }
  if (code === 'ResourceLimitExceeded') {
    throw new UserError(`SageMaker refused CreateTrainingPlan for ${offering.id}: ${oneLine(error)}; request a higher training plan quota in Service Quotas. Nothing was bought`);
  }
  if ((await searchPlanOfferings(request, now)).some(o => o.id === offering.id)) {
    throw new UserError(`SageMaker refused CreateTrainingPlan for ${offering.id} (${oneLine(error)}) and still offers it; nothing was bought. Fix the cause SageMaker names (tags, trainingPlanName, account limits) and deploy again`);
  }
}

/** A purchase starts only if there is time left to learn its outcome. */
function assertTimeToBuy(name: string): void {
  const needed = timeouts.ec2RequestMs * (2 + planPurchasePolicy.lookups) + planPurchasePolicy.lookupDelayMs * planPurchasePolicy.lookups;
  if (remainingMs() < needed) {
    throw new UserError(`Not enough time left in this invocation to buy training plan ${name} and confirm the outcome; nothing was bought. Deploy again`);
  }
}

/** The audit event of a plan bought by this delivery. */
function announcePlan(ledger: PlanLedger, arn: string, offering: PlanOffering, learnedFrom: 'answer' | 'read-after-lost-answer'): Promise<void> {
  return announceMoneyMove('Training Plan Purchased', {
    product: 'training-plan', ids: [arn], offeringId: offering.id, fee: offering.upfrontFeeText, currency: offering.currencyCode,
    start: offering.startTime.toISOString(), end: offering.endTime.toISOString(), ...ownerOf(ledger.owner), learnedFrom,
  });
}
