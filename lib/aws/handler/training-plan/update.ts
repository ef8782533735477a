import { announceMoneyMove, ownerOf } from '../../core/audit';
import {
  AddTagsCommand, DeleteTagsCommand, DescribeTrainingPlanExtensionHistoryCommand, DescribeTrainingPlanResponse, ExtendTrainingPlanCommand,
  SearchTrainingPlanOfferingsCommand, TrainingPlanExtension,
} from '@aws-sdk/client-sagemaker';
import * as planRules from '../../training-plan-validation';
import { compareDecimal, formatHours, parseDecimal } from '../../validation';
import { RESERVED_TAG_PREFIX } from '../../wire';
import { clock } from '../budget';
import { isDefiniteRejection, log, oneLine, UserError } from '../errors';
import { decimalMoney, iso } from '../format';
import { INTENT_SETTLE_MS, unsettledError } from '../../core/ledger';
import { LedgerPlanExtension, OwnedPlan, PlanLedger, PlanLedgerRecord, planHours, planTags } from './plans';
import { TrainingPlanRequest } from './request';
import { sageMaker, sageMakerCallOptions, sageMakerPurchases } from './sagemaker';

const HOUR_MS = 3_600_000;

/** Properties that define which plan a resource holds; tags, ceiling, wait and name do not. */
export function changesThePlan(old: Partial<TrainingPlanRequest>, request: TrainingPlanRequest): boolean {
  if (old.durationHours === undefined) return false; // old properties unknown: never buy on a guess
  const time = (d?: Date) => d?.getTime();
  return old.instanceType !== request.instanceType || old.instanceCount !== request.instanceCount
    || old.ultraServerType !== request.ultraServerType || old.ultraServerCount !== request.ultraServerCount
    || old.spareInstanceCountPerUltraServer !== request.spareInstanceCountPerUltraServer
    || old.durationHours !== request.durationHours || [...(old.targetResources ?? [])].sort().join() !== [...request.targetResources].sort().join()
    || time(old.earliestStart) !== time(request.earliestStart) || time(old.latestEnd) !== time(request.latestEnd);
}

/** Makes the plan's user tags equal to the request's; the library's and aws: tags are left alone. */
export async function syncPlanTags(arn: string, request: TrainingPlanRequest): Promise<void> {
  const current = new Map(Object.entries(await planTags(arn)).filter(([k]) => !k.startsWith(RESERVED_TAG_PREFIX) && !k.startsWith('aws:')));
  const wanted = new Map(request.tags.map(t => [t.Key, t.Value]));
  const toSet = request.tags.filter(t => current.get(t.Key) !== t.Value);
  const toDelete = [...current.keys()].filter(k => !wanted.has(k));
  if (toSet.length > 0) await sageMaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: toSet }), sageMakerCallOptions());
  if (toDelete.length > 0) await sageMaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: toDelete }), sageMakerCallOptions());
  if (toSet.length + toDelete.length > 0) log('updated training plan tags in place', { arn, set: toSet.map(t => t.Key), deleted: toDelete });
}

/**
 * A longer duration buys an extension for the difference: its fee alone within maxUpfrontFee, its end
 * within latestEnd, bought once. SageMaker moves a plan's end only once an extension's payment
 * clears, so what is already bought counts from DescribeTrainingPlanExtensionHistory, and the ledger
 * says which extensions this resource asked for. Returns a note.
 */
export async function extendPlanIfLonger(owned: OwnedPlan, request: TrainingPlanRequest, requestKey: string, ledger: PlanLedger, mayBuy = true, unreadable?: string): Promise<string> {
  const view = owned.view!;
  const name = owned.plan.name;
  if (planHours(view) >= request.durationHours) return lengthNote(view, name, request, 0);
  const history = await extensionHistory(view.TrainingPlanArn!);
  await settleExtensionIntents(ledger, name, history);
  const pendingHours = history.filter(e => isPending(e)).reduce((h, e) => h + (e.DurationHours ?? 0), 0);
  const boughtHours = planHours(view) + pendingHours;
  const extraHours = request.durationHours - boughtHours;
  if (extraHours <= 0) return lengthNote(view, name, request, pendingHours);
  const open = ledger.record.extensions.find(e => e.planName === name && e.outcome === 'intent');
  if (open?.requestKey === requestKey) return `An extension of ${name} by ${formatHours(open.hours)} was already requested by this update; not bought again`;
  if (!mayBuy) {
    // A longer duration with the stack's status unreadable: a SUCCESS would record hours the plan does not have.
    if (unreadable) throw new UserError(`duration ${formatHours(request.durationHours)} would extend training plan ${name} (${formatHours(boughtHours)}), but this ${unreadable}; nothing was bought. Deploy again`);
    return `Training plan ${name} runs ${formatHours(boughtHours)}, less than duration ${formatHours(request.durationHours)}; this update extends nothing`;
  }
  if (open) throw unsettledError(`An earlier extension of training plan ${name} by ${formatHours(open.hours)} (${open.offeringId})`, open.intentAt, `it counts once SageMaker shows it; or revert duration to ${formatHours(boughtHours)}`, 'SageMaker');
  if (pendingHours > 0) {
    throw new UserError(`Training plan ${name} has an extension by ${formatHours(pendingHours)} whose payment is pending; it is extended again only once that clears. Nothing was bought. Deploy again later, or revert duration to ${formatHours(boughtHours)}`);
  }
  if (view.Status !== 'Scheduled' && view.Status !== 'Active') {
    throw new UserError(`Training plan ${name} is ${view.Status}; only a Scheduled or Active plan is extended. Deploy again once its payment has cleared, or revert duration to ${formatHours(boughtHours)}`);
  }
  // SageMaker's extension rules, before anything is searched or bought.
  const ruleBroken = planRules.extensionHoursError(extraHours) ?? (view.EndTime ? planRules.extensionTimingError(view.EndTime, clock.now()) : undefined);
  if (ruleBroken) throw new UserError(`duration ${formatHours(request.durationHours)} would extend training plan ${name} (${formatHours(boughtHours)}) by ${formatHours(extraHours)}, but ${ruleBroken}; nothing was bought`);
  const newEnd = new Date((view.EndTime?.getTime() ?? NaN) + extraHours * HOUR_MS);
  if (request.latestEnd && !(newEnd <= request.latestEnd)) {
    throw new UserError(`Extending training plan ${name} by ${formatHours(extraHours)} would end it ${iso(newEnd)}, after latestEnd ${iso(request.latestEnd)}; nothing was bought. Move latestEnd to ${iso(newEnd)} or later, or revert duration to ${formatHours(boughtHours)}`);
  }

  // SageMaker's model: SearchTrainingPlanOfferings with TrainingPlanArn answers TrainingPlanExtensionOfferings
  // (TrainingPlanExtensionOfferingId, AvailabilityZone, StartDate, EndDate, DurationHours, UpfrontFee string, CurrencyCode).
  const offers = await sageMaker.send(new SearchTrainingPlanOfferingsCommand({ TrainingPlanArn: view.TrainingPlanArn, DurationHours: extraHours }), sageMakerCallOptions());
  const candidates = (offers.TrainingPlanExtensionOfferings ?? [])
    .map(o => ({ id: o.TrainingPlanExtensionOfferingId ?? '', feeText: o.UpfrontFee ?? '', currency: o.CurrencyCode ?? '', end: o.EndDate, hours: o.DurationHours }))
    .filter(o => o.id !== '');
  const chosen = candidates
    .filter(o => parseDecimal(o.feeText) !== undefined && o.currency === request.currencyCode && compareDecimal(o.feeText, request.maxUpfrontFeeText) <= 0)
    .filter(o => o.hours === undefined || o.hours === extraHours)
    .filter(o => !request.latestEnd || (o.end !== undefined && o.end <= request.latestEnd))
    .sort((a, b) => compareDecimal(a.feeText, b.feeText))[0];
  if (!chosen) {
    const seen = candidates.map(o => `${o.id} ${parseDecimal(o.feeText) !== undefined ? decimalMoney(o.feeText, o.currency) : `'${o.feeText}' (not a plain decimal)`}${o.end ? ` to ${iso(o.end)}` : ''}`).join('; ') || 'none offered';
    throw new UserError(`No extension of training plan ${name} by ${formatHours(extraHours)} within maxUpfrontFee ${decimalMoney(request.maxUpfrontFeeText, request.currencyCode)}${request.latestEnd ? ` ending by latestEnd ${iso(request.latestEnd)}` : ''} (seen: ${seen}); nothing was bought. Raise maxUpfrontFee or revert duration to ${formatHours(boughtHours)}`);
  }

  // In the ledger first: if the answer is lost, no later update buys a second extension.
  const extension: LedgerPlanExtension = {
    requestKey, planName: name, offeringId: chosen.id, upfrontFee: chosen.feeText, currencyCode: chosen.currency, hours: extraHours, outcome: 'intent', intentAt: clock.now().toISOString(),
  };
  await ledger.change(record => {
    record.extensions.push(extension);
  });
  try {
    const result = await sageMakerPurchases.send(new ExtendTrainingPlanCommand({ TrainingPlanExtensionOfferingId: chosen.id }), sageMakerCallOptions());
    await ledger.remember(record => settledExtension(record, extension, 'bought'));
    await announceMoneyMove('Training Plan Extended', {
      product: 'training-plan', ids: [name], offeringId: chosen.id, fee: chosen.feeText, currency: chosen.currency, ...ownerOf(ledger.owner), learnedFrom: 'answer',
    });
    const status = result.TrainingPlanExtensions?.[0]?.PaymentStatus ?? result.TrainingPlanExtensions?.[0]?.Status ?? 'requested';
    log('bought training plan extension', { name, extensionOfferingId: chosen.id, upfrontFee: decimalMoney(chosen.feeText, chosen.currency), status });
    return `Extended ${name} by ${formatHours(extraHours)} for ${decimalMoney(chosen.feeText, chosen.currency)} (payment ${status})`;
  } catch (error) {
    if (isDefiniteRejection(error)) {
      await ledger.change(record => settledExtension(record, extension, 'not-bought'));
      throw new UserError(`SageMaker refused the extension ${chosen.id} of training plan ${name} (${oneLine(error)}); nothing was bought. Deploy again, or revert duration to ${formatHours(boughtHours)}`);
    }
    // Possibly bought: never FAILED for money that may be spent.
    log('training plan extension outcome unknown; not retried', { name, error: oneLine(error) });
    return `The extension ${chosen.id} of ${name} may or may not have been bought (${oneLine(error)}); it was not retried, to avoid paying twice. The next deployment reads the plan's extension history`;
  }
}

function lengthNote(view: DescribeTrainingPlanResponse, name: string, request: TrainingPlanRequest, pendingHours: number): string {
  const hours = planHours(view) + pendingHours;
  const pending = pendingHours > 0 ? `; an extension by ${formatHours(pendingHours)} is pending payment, and SageMaker moves the end once it clears` : '';
  if (hours > request.durationHours) {
    return `Training plan ${name} already runs ${formatHours(hours)}, longer than duration ${formatHours(request.durationHours)}; a plan cannot be shortened, so it still ends ${view.EndTime ? iso(view.EndTime) : 'as bought'}${pending}`;
  }
  return pending ? `Training plan ${name} runs ${formatHours(hours)} as asked${pending}` : '';
}

/**
 * SageMaker's model gives an extension's Status and PaymentStatus as free strings (the docs name
 * Pending, Active, Scheduled, Failed, Expired): an extension still pending either way counts as bought
 * but not yet added to the plan's end.
 */
function isPending(e: TrainingPlanExtension): boolean {
  return e.Status === 'Pending' || e.PaymentStatus === 'Pending';
}

async function extensionHistory(arn: string): Promise<TrainingPlanExtension[]> {
  const found: TrainingPlanExtension[] = [];
  let next: string | undefined;
  do {
    const page = await sageMaker.send(new DescribeTrainingPlanExtensionHistoryCommand({ TrainingPlanArn: arn, NextToken: next }), sageMakerCallOptions());
    found.push(...(page.TrainingPlanExtensions ?? []));
    next = page.NextToken;
  } while (next);
  return found;
}

/** Extension intents whose answer never came: one the history shows was bought; one it still does not show once settled was not. */
async function settleExtensionIntents(ledger: PlanLedger, name: string, history: TrainingPlanExtension[]): Promise<void> {
  for (const open of ledger.record.extensions.filter(e => e.planName === name && e.outcome === 'intent')) {
    if (history.some(e => e.TrainingPlanExtensionOfferingId === open.offeringId)) await ledger.change(record => settledExtension(record, open, 'bought'));
    else if (Date.parse(open.intentAt) + INTENT_SETTLE_MS <= clock.now().getTime()) await ledger.change(record => settledExtension(record, open, 'not-bought'));
  }
}

function settledExtension(record: PlanLedgerRecord, extension: LedgerPlanExtension, outcome: LedgerPlanExtension['outcome']): void {
  const found = record.extensions.find(e => e.planName === extension.planName && e.offeringId === extension.offeringId && e.intentAt === extension.intentAt);
  if (found) found.outcome = outcome;
}
