import { DescribeTrainingPlanCommand, DescribeTrainingPlanResponse, ListTagsCommand } from '@aws-sdk/client-sagemaker';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, UPFRONT_FEE_TAG } from '../../wire';
import { clock } from '../budget';
import { errorCode, log } from '../errors';
import { iso } from '../format';
import { ResourceKeys } from '../keys';
import { Ledger, Outcome } from '../../core/ledger';
import { hoursLeftOf, LifecycleAdapter, pickServing } from '../../core/lifecycle';
import { UserError } from '../errors';
import { TrainingPlanRequest } from './request';
import { sageMaker, sageMakerCallOptions } from './sagemaker';

/**
 * What a training plan resource owns, in the stack's claims table: the same Ledger as Capacity
 * Blocks (intent before every purchase and extension, outcome after, the properties each answer was
 * for, whether CloudFormation let go of it), with a record of plans instead of blocks.
 *
 * A plan is known by its NAME, which SageMaker never sells twice (CreateTrainingPlan answers
 * ResourceInUse to a name that exists, the only conflict error its model lists) and reads by name
 * without lag. So where EC2 needs tag listings to find a purchase whose answer was lost, a plan is
 * read by name, and creating it again under the same name can never buy a second plan.
 */
export interface LedgerPlan {
  readonly name: string;
  /** Set once SageMaker answered or the plan was read. */
  arn?: string;
  /** The request that bought it (its idempotency tag; '' when read from SageMaker without one). */
  requestKey: string;
  offeringId: string;
  upfrontFee: string;
  currencyCode: string;
  outcome: Outcome;
  intentAt: string;
  /** Digests of the properties CloudFormation was answered with, with this plan as physical id. */
  answeredFor: string[];
  /** CloudFormation sent Delete for it: it no longer tracks it. */
  released: boolean;
}

export interface LedgerPlanExtension {
  readonly requestKey: string;
  readonly planName: string;
  readonly offeringId: string;
  readonly upfrontFee: string;
  readonly currencyCode: string;
  readonly hours: number;
  outcome: Outcome;
  readonly intentAt: string;
}

export interface PlanLedgerRecord {
  plans: LedgerPlan[];
  extensions: LedgerPlanExtension[];
}

export type PlanLedger = Ledger<PlanLedgerRecord>;

/** A plan of the resource's ledger, with what SageMaker says of it now (read by name). */
export interface OwnedPlan {
  readonly plan: LedgerPlan;
  /** Undefined while SageMaker does not know the name (never bought). */
  readonly view?: DescribeTrainingPlanResponse;
}

/** Names a resource can have bought: the first as given, repurchases with `-2`, `-3`, … */
export function planName(base: string, generation: number): string {
  return generation <= 1 ? base : `${base}-${generation}`;
}

/**
 * The name a purchase uses now: an open intent's (it may have been bought: the same name can never
 * buy twice), else the next generation's of `base`. A name the cloud refused (not bought) binds nothing.
 */
export function nextPlanName(record: Readonly<PlanLedgerRecord>, base: string): string {
  const open = record.plans.find(p => p.outcome === 'intent');
  if (open) return open.name;
  return planName(base, record.plans.filter(p => p.outcome === 'bought').length + 1);
}

/** DescribeTrainingPlan by name: undefined when SageMaker knows no plan of that name. */
export async function describePlan(name: string): Promise<DescribeTrainingPlanResponse | undefined> {
  try {
    return await sageMaker.send(new DescribeTrainingPlanCommand({ TrainingPlanName: name }), sageMakerCallOptions());
  } catch (error) {
    if (errorCode(error) === 'ResourceNotFound') return undefined;
    throw error;
  }
}

/** The plan's tags (DescribeTrainingPlan shows none): how a name is known to be this resource's. */
export async function planTags(arn: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let next: string | undefined;
  do {
    const page = await sageMaker.send(new ListTagsCommand({ ResourceArn: arn, NextToken: next }), sageMakerCallOptions());
    for (const t of page.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    next = page.NextToken;
  } while (next);
  return tags;
}

/** Most plans a resource is read for when its ledger is started from SageMaker (one per repurchase). */
const MAX_GENERATIONS = 50;

/**
 * The resource's ledger. Without one yet (a stack created again under the same name, or the table
 * lost), it is started by reading every name the resource can have bought, by name, in order, until
 * one SageMaker does not know; plans whose owner tag is not this resource's are not its own.
 */
export async function openPlanLedger(keys: ResourceKeys, base: string, physicalArn?: string, answeredDigest?: string): Promise<PlanLedger> {
  const existing = await Ledger.read<PlanLedgerRecord>(keys.owner);
  if (existing) return existing;
  const record: PlanLedgerRecord = { plans: [], extensions: [] };
  for (let generation = 1; generation <= MAX_GENERATIONS; generation++) {
    const name = planName(base, generation);
    const view = await describePlan(name);
    if (!view) break;
    const tags = await planTags(view.TrainingPlanArn ?? '');
    if (tags[OWNER_TAG] !== keys.owner) {
      log('a plan of this name is not this resource\'s; it is left out of the ledger', { name, owner: tags[OWNER_TAG] ?? 'none' });
      continue;
    }
    const [fee = '', currency = ''] = (tags[UPFRONT_FEE_TAG] ?? '').split(' ');
    const tracked = physicalArn !== undefined && physicalArn === view.TrainingPlanArn;
    record.plans.push({
      name, arn: view.TrainingPlanArn, requestKey: tags[IDEMPOTENCY_TAG] ?? '', offeringId: tags[OFFERING_TAG] ?? '', upfrontFee: fee, currencyCode: currency,
      outcome: 'bought', intentAt: (view.StartTime ?? clock.now()).toISOString(), answeredFor: tracked && answeredDigest ? [answeredDigest] : [], released: !tracked,
    });
  }
  if (record.plans.length > 0) log('started this resource\'s ledger from the plans SageMaker has under its names', { owner: keys.owner, plans: record.plans.map(p => p.name) });
  return Ledger.start(keys.owner, record);
}

/** Every plan the ledger holds as bought, read by name. */
export async function ownedPlans(ledger: PlanLedger): Promise<OwnedPlan[]> {
  const bought = ledger.record.plans.filter(p => p.outcome === 'bought');
  return Promise.all(bought.map(async plan => ({ plan, view: await describePlan(plan.name) })));
}

/** Paid or being paid, and not over: Pending (payment), Scheduled, Active. */
export function isLivePlan(view: DescribeTrainingPlanResponse | undefined): boolean {
  return view !== undefined && ['Pending', 'Scheduled', 'Active'].includes(view.Status ?? '');
}

/** The whole hours a plan runs (minutes beyond whole hours are SageMaker's rounding, not hours sold). */
export function planHours(view: DescribeTrainingPlanResponse): number {
  return view.DurationHours ?? 0;
}

/** What about a plan does not fit the request: each item needs a different plan. A shorter plan may be extended. */
export function planMismatches(view: DescribeTrainingPlanResponse, request: TrainingPlanRequest): string[] {
  const found: string[] = [];
  const parts = view.ReservedCapacitySummaries ?? [];
  if (request.ultraServerType) {
    const types = [...new Set(parts.map(p => p.UltraServerType ?? ''))].join(',');
    if (types !== request.ultraServerType || view.TotalUltraServerCount !== request.ultraServerCount) {
      found.push(`ultraServerType x ultraServerCount ${request.ultraServerType} x ${request.ultraServerCount} (the plan has ${types || 'instances'} x ${view.TotalUltraServerCount ?? 0})`);
    }
  } else {
    const types = [...new Set(parts.map(p => p.InstanceType ?? ''))].join(',');
    if (types !== request.instanceType) found.push(`instanceType ${request.instanceType} (the plan has ${types})`);
    if (view.TotalInstanceCount !== request.instanceCount) found.push(`instanceCount ${request.instanceCount} (the plan has ${view.TotalInstanceCount})`);
  }
  const targets = view.TargetResources ?? [];
  const missing = request.targetResources.filter(t => !targets.includes(t as never));
  if (missing.length > 0) found.push(`targetResources ${request.targetResources.join(', ')} (the plan serves ${targets.join(', ')})`);
  if (view.StartTime && request.earliestStart && view.StartTime < request.earliestStart) found.push(`earliestStart ${iso(request.earliestStart)} (the plan starts ${iso(view.StartTime)})`);
  // Hours an extension added beyond the requested duration were bought already; only the requested span must fit.
  const end = view.StartTime && Math.min(view.StartTime.getTime() + request.durationHours * 3_600_000, view.EndTime?.getTime() ?? Infinity);
  if (end && request.latestEnd && end > request.latestEnd.getTime()) found.push(`latestEnd ${iso(request.latestEnd)} (the plan's ${request.durationHours} h end ${iso(new Date(end))})`);
  return found;
}

/** Serves the request without buying anything: live, fitting, and with at least the duration asked left. */
export function servesRequest(owned: OwnedPlan, request: TrainingPlanRequest): boolean {
  return pickServing(planAdapter, [owned], request, clock.now()) !== undefined;
}

export function describeOwnedPlan(owned: OwnedPlan): string {
  const v = owned.view;
  if (!v) return `${owned.plan.name} (not known to SageMaker)`;
  const what = v.TotalUltraServerCount ? `${v.TotalUltraServerCount} UltraServers` : `${v.TotalInstanceCount} x ${v.ReservedCapacitySummaries?.[0]?.InstanceType ?? 'instances'}`;
  return `training plan ${owned.plan.name} (${what}, ${v.Status}, ends ${v.EndTime ? iso(v.EndTime) : 'unknown'})`;
}

/** The live plans of the resource besides `keptName`: bought earlier, still paid for, not tracked by CloudFormation. */
export function otherLivePlans(owned: OwnedPlan[], keptName: string | undefined): OwnedPlan[] {
  return owned.filter(p => isLivePlan(p.view) && p.plan.name !== keptName);
}

export function alsoOwnedPlansNote(owned: OwnedPlan[], keptName: string | undefined): string {
  const others = otherLivePlans(owned, keptName);
  return others.length === 0 ? '' : `This resource also owns, and you pay for until they end: ${others.map(describeOwnedPlan).join('; ')}`;
}

/** The plan of the ledger whose ARN is `arn` (a physical id). */
export function planHolding(record: Readonly<PlanLedgerRecord>, arn: string | undefined): LedgerPlan | undefined {
  return arn ? record.plans.find(p => p.arn === arn) : undefined;
}

/** The change needs a plan other than the one this resource holds, which cannot be modified or cancelled. */
export function refusePlanRepurchase(current: OwnedPlan, reasons: string[], moreOwned = 0): UserError {
  const more = moreOwned > 0 ? ` (this resource owns ${moreOwned} more live plan${moreOwned > 1 ? 's' : ''})` : '';
  return new UserError(`This change needs a new training plan: ${reasons.join(', ')}. This resource already holds ${describeOwnedPlan(current)}${more}, which cannot be modified or cancelled. Revert the change, or set allowRepurchase: true to buy a new plan (you keep paying for the old one)`);
}

/** What the lifecycle core needs to know of training plans. */
export const planAdapter: LifecycleAdapter<OwnedPlan, TrainingPlanRequest> = {
  noun: 'training plan',
  service: 'SageMaker',
  entry: owned => owned.plan,
  idOf: owned => owned.plan.name,
  describe: describeOwnedPlan,
  isListed: owned => owned.view !== undefined,
  isLive: owned => isLivePlan(owned.view),
  mismatches: (owned, request) => (owned.view ? planMismatches(owned.view, request) : []),
  hoursBought: owned => (owned.view ? planHours(owned.view) : 0),
  hoursLeft: (owned, now) => (owned.view ? hoursLeftOf(planHours(owned.view), owned.view.StartTime, owned.view.EndTime, now) : 0),
  endsAt: owned => owned.view?.EndTime?.getTime() ?? 0,
  durationHours: request => request.durationHours,
  allowRepurchase: request => request.allowRepurchase,
  refuse: refusePlanRepurchase,
};
