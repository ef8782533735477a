import { SearchTrainingPlanOfferingsCommand, SearchTrainingPlanOfferingsCommandInput, TrainingPlanOffering } from '@aws-sdk/client-sagemaker';
import { compareDecimal, parseDecimal } from '../../validation';
import { UserError } from '../errors';
import { decimalMoney, iso, money } from '../format';
import { describePlanShape, TrainingPlanRequest } from './request';
import { sageMaker, sageMakerCallOptions } from './sagemaker';

/**
 * A training plan offering as this library reasons about it. SageMaker's model (2026): an offering
 * has TrainingPlanOfferingId, TargetResources, DurationHours + DurationMinutes (longs), UpfrontFee
 * (a decimal STRING) and CurrencyCode, and one or more ReservedCapacityOfferings, each with its
 * instance type and count (or UltraServer type and count), Availability Zone, StartTime and EndTime.
 * SearchTrainingPlanOfferings has no NextToken: one answer holds every offering.
 */
export interface PlanOffering {
  readonly id: string;
  readonly targetResources: string[];
  readonly durationHours: number;
  readonly durationMinutes: number;
  /** NaN when SageMaker sent anything but a plain decimal: such an offering is never bought. */
  readonly upfrontFee: number;
  readonly upfrontFeeText: string;
  readonly currencyCode: string;
  /** The earliest start and the latest end of its reserved capacities. */
  readonly startTime: Date;
  readonly endTime: Date;
  /** The zone of its first reserved capacity (every zone, comma-separated, when they differ). */
  readonly availabilityZone: string;
  /** The instance type of every reserved capacity ('' when they differ). */
  readonly instanceType: string;
  /** Instances held at every moment of the plan: the fewest that its reserved capacities hold together. */
  readonly instanceCount: number;
  readonly ultraServerType?: string;
  readonly ultraServerCount?: number;
}

export interface PlanRefusal {
  readonly offering: PlanOffering;
  readonly reason: string;
}

export interface PlanJudgement {
  /** Best first, by the request's selection. */
  readonly acceptable: PlanOffering[];
  readonly refused: PlanRefusal[];
}

/** What to ask SearchTrainingPlanOfferings: one function for the deploy-time search and `plan`. */
export function planOfferingsQuery(request: TrainingPlanRequest, now: Date): SearchTrainingPlanOfferingsCommandInput {
  const start = request.earliestStart && request.earliestStart > now ? request.earliestStart : undefined;
  const shape = request.ultraServerType
    ? { UltraServerType: request.ultraServerType, UltraServerCount: request.ultraServerCount }
    : { InstanceType: request.instanceType as SearchTrainingPlanOfferingsCommandInput['InstanceType'], InstanceCount: request.instanceCount };
  return {
    ...shape,
    DurationHours: request.durationHours,
    TargetResources: request.targetResources as SearchTrainingPlanOfferingsCommandInput['TargetResources'],
    StartTimeAfter: start,
    EndTimeBefore: request.latestEnd,
  };
}

export async function searchPlanOfferings(request: TrainingPlanRequest, now: Date): Promise<PlanOffering[]> {
  const answer = await sageMaker.send(new SearchTrainingPlanOfferingsCommand(planOfferingsQuery(request, now)), sageMakerCallOptions());
  return (answer.TrainingPlanOfferings ?? []).map(toPlanOffering);
}

export function toPlanOffering(o: TrainingPlanOffering): PlanOffering {
  const parts = o.ReservedCapacityOfferings ?? [];
  const starts = parts.map(p => p.StartTime?.getTime() ?? NaN);
  const ends = parts.map(p => p.EndTime?.getTime() ?? NaN);
  const types = [...new Set(parts.map(p => p.InstanceType ?? ''))];
  const zones = [...new Set(parts.map(p => p.AvailabilityZone ?? ''))];
  // Capacities may follow one another in time: count what is held at each start, keep the fewest.
  const heldAt = (t: number) => parts.filter((_p, i) => starts[i] <= t && t < ends[i]).reduce((n, p) => n + (p.InstanceCount ?? 0), 0);
  const feeText = o.UpfrontFee ?? '';
  const ultra = parts.find(p => p.UltraServerType);
  return {
    id: o.TrainingPlanOfferingId ?? '',
    targetResources: [...(o.TargetResources ?? [])],
    durationHours: o.DurationHours ?? 0,
    durationMinutes: o.DurationMinutes ?? 0,
    upfrontFee: parseDecimal(feeText) ?? NaN,
    upfrontFeeText: feeText,
    currencyCode: o.CurrencyCode ?? '',
    startTime: new Date(parts.length > 0 ? Math.min(...starts) : NaN),
    endTime: new Date(parts.length > 0 ? Math.max(...ends) : NaN),
    availabilityZone: zones.join(','),
    instanceType: types.length === 1 ? types[0] : '',
    instanceCount: parts.length > 0 ? Math.min(...starts.map(heldAt)) : 0,
    ultraServerType: ultra?.UltraServerType,
    ultraServerCount: ultra ? parts.reduce((n, p) => n + (p.UltraServerCount ?? 0), 0) : undefined,
  };
}

/** Splits offerings into acceptable (ranked) and refused (with the reason); every criterion is checked again here. */
export function judgePlanOfferings(offerings: PlanOffering[], request: TrainingPlanRequest, exclude: ReadonlySet<string> = new Set()): PlanJudgement {
  const acceptable: PlanOffering[] = [];
  const refused: PlanRefusal[] = [];
  for (const offering of offerings) {
    const reason = refusalReason(offering, request, exclude);
    if (reason) refused.push({ offering, reason });
    else acceptable.push(offering);
  }
  acceptable.sort(request.selection === 'EARLIEST_START' ? byStartThenFee : byFeeThenStart);
  return { acceptable, refused };
}

function refusalReason(o: PlanOffering, r: TrainingPlanRequest, exclude: ReadonlySet<string>): string | undefined {
  if (exclude.has(o.id)) return 'sold out at purchase time';
  if (!Number.isFinite(o.upfrontFee)) return `upfront fee '${o.upfrontFeeText}' is not a plain decimal number`;
  if (o.currencyCode !== r.currencyCode) return `priced in ${o.currencyCode || 'an unknown currency'}, not ${r.currencyCode}`;
  if (compareDecimal(o.upfrontFeeText, r.maxUpfrontFeeText) > 0) return `${decimalMoney(o.upfrontFeeText, o.currencyCode)} > maxUpfrontFee ${decimalMoney(r.maxUpfrontFeeText, r.currencyCode)}`;
  const missing = r.targetResources.filter(t => !o.targetResources.includes(t));
  if (missing.length > 0) return `not for ${missing.join(', ')} (serves ${o.targetResources.join(', ') || 'nothing named'})`;
  if (r.ultraServerType) {
    if (o.ultraServerType !== r.ultraServerType) return o.ultraServerType ? `UltraServer type ${o.ultraServerType}` : `instances of ${o.instanceType}, not UltraServers`;
    if (o.ultraServerCount !== r.ultraServerCount) return `${o.ultraServerCount} UltraServers`;
  } else {
    if (o.ultraServerType) return `UltraServer ${o.ultraServerType}, not single instances`;
    if (o.instanceType !== r.instanceType) return `instance type ${o.instanceType || 'mixed'}`;
    if (o.instanceCount !== r.instanceCount) return `${o.instanceCount} instances`;
  }
  if (o.durationHours !== r.durationHours) return `${o.durationHours} h${o.durationMinutes ? ` ${o.durationMinutes} min` : ''} long`;
  if (Number.isNaN(o.startTime.getTime()) || Number.isNaN(o.endTime.getTime())) return 'no start or end time given';
  if (r.earliestStart && o.startTime < r.earliestStart) return `starts ${iso(o.startTime)}, before earliestStart`;
  if (r.latestEnd && o.endTime > r.latestEnd) return `ends ${iso(o.endTime)}, after latestEnd`;
  return undefined;
}

const byFeeThenStart = (a: PlanOffering, b: PlanOffering) => compareDecimal(a.upfrontFeeText, b.upfrontFeeText) || a.startTime.getTime() - b.startTime.getTime();
const byStartThenFee = (a: PlanOffering, b: PlanOffering) => a.startTime.getTime() - b.startTime.getTime() || compareDecimal(a.upfrontFeeText, b.upfrontFeeText);

/** Zero acceptable offerings: one line with the cheapest ones seen and why each was refused. */
export function noAcceptablePlanOffering(request: TrainingPlanRequest, judgement: PlanJudgement): UserError {
  const shape = describePlanShape(request);
  if (judgement.refused.length === 0) {
    return new UserError(`No training plan offering for ${shape} in the requested window; widen the window (earliestStart/latestEnd), or try another instance type, count or duration`);
  }
  const cheapest = [...judgement.refused].sort((a, b) => feeOrder(a.offering) - feeOrder(b.offering)).slice(0, 5);
  const seen = cheapest.map(({ offering: o, reason }) => `${o.id} (${o.availabilityZone}, ${iso(o.startTime)}, ${money(o.upfrontFee, o.currencyCode)}): ${reason}`);
  return new UserError(`No acceptable training plan offering for ${shape} with maxUpfrontFee ${money(request.maxUpfrontFee, request.currencyCode)}: ${judgement.refused.length} seen, all refused; cheapest: ${seen.join('; ')}. Fix: raise maxUpfrontFee, widen the window or try another instance type`);
}

const feeOrder = (o: PlanOffering) => (Number.isFinite(o.upfrontFee) ? o.upfrontFee : Infinity);
