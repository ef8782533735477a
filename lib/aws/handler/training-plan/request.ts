import * as planRules from '../../training-plan-validation';
import { TrainingPlanWireProperties } from '../../training-plan-wire';
import * as rules from '../../validation';
import { DEFAULT_CURRENCY, DEFAULT_WAIT_TIMEOUT_SECONDS, WireTag } from '../../wire';
import { UserError } from '../errors';
import { Selection } from '../request';
import { wireReaders } from '../wire-values';

/** A TrainingPlanPurchase's properties, parsed and validated: what the user asked for. */
export interface TrainingPlanRequest {
  /** Instance plans: the type and count (absent for UltraServer plans). */
  readonly instanceType?: string;
  readonly instanceCount?: number;
  /** UltraServer plans: the type and count (absent for instance plans). */
  readonly ultraServerType?: string;
  readonly ultraServerCount?: number;
  /** UltraServer plans: spare instances per UltraServer (absent: SageMaker's default). */
  readonly spareInstanceCountPerUltraServer?: number;
  readonly durationHours: number;
  readonly targetResources: string[];
  readonly maxUpfrontFee: number;
  /** The ceiling as the template wrote it: fees are compared with it exactly, in decimal. */
  readonly maxUpfrontFeeText: string;
  readonly currencyCode: string;
  readonly earliestStart?: Date;
  readonly latestEnd?: Date;
  readonly selection: Selection;
  /** The name of the first plan; a repurchase appends -2, -3, … */
  readonly trainingPlanName: string;
  readonly previewOnly: boolean;
  readonly waitTimeoutSeconds: number;
  readonly allowRepurchase: boolean;
  readonly tags: WireTag[];
}

/**
 * Parses CloudFormation's all-strings properties with the construct's rules, now that tokens have
 * resolved. Throws one UserError naming every bad value, before any cloud call.
 */
export function parseTrainingPlanRequest(props: TrainingPlanWireProperties): TrainingPlanRequest {
  const errors: Array<string | undefined> = [];
  const { text, number, flag, date } = wireReaders(errors);

  const shape = planRules.planShapeError({
    instanceType: text(props.InstanceType) !== undefined,
    instanceCount: text(props.InstanceCount) !== undefined,
    ultraServerType: text(props.UltraServerType) !== undefined,
    ultraServerCount: text(props.UltraServerCount) !== undefined,
  });
  errors.push(shape);
  const ultraservers = text(props.UltraServerType) !== undefined;
  const instanceType = ultraservers ? undefined : text(props.InstanceType);
  const instanceCount = ultraservers || shape ? undefined : number('instanceCount', props.InstanceCount, rules.parseWholeNumber);
  const ultraServerType = ultraservers ? text(props.UltraServerType) : undefined;
  const ultraServerCount = ultraservers && !shape ? number('ultraServerCount', props.UltraServerCount, rules.parseWholeNumber) : undefined;
  const spare = text(props.SpareInstanceCountPerUltraServer) === undefined ? undefined : number('spareInstanceCountPerUltraServer', props.SpareInstanceCountPerUltraServer, rules.parseWholeNumber);
  const durationHours = number('duration (hours)', props.DurationHours, rules.parseDecimal);
  const maxUpfrontFee = number('maxUpfrontFee', props.MaxUpfrontFee, rules.parseDecimal);
  const waitTimeoutSeconds = number('waitTimeout (seconds)', props.WaitTimeoutSeconds, rules.parseDecimal, DEFAULT_WAIT_TIMEOUT_SECONDS);
  const currencyCode = text(props.CurrencyCode) ?? DEFAULT_CURRENCY;
  const earliestStart = date(props.EarliestStart);
  const latestEnd = date(props.LatestEnd);
  const selection = (text(props.Selection) ?? 'CHEAPEST') as Selection;
  const targetResources = (props.TargetResources ?? []).map(String);
  const trainingPlanName = text(props.TrainingPlanName) ?? '';
  const tags = (props.Tags ?? []).map(t => ({ Key: String(t.Key), Value: String(t.Value ?? '') }));

  if (instanceType !== undefined) errors.push(planRules.trainingPlanInstanceTypeError(instanceType));
  if (ultraServerType !== undefined) errors.push(planRules.trainingPlanUltraServerTypeError(ultraServerType));
  if (instanceCount !== undefined && !Number.isNaN(instanceCount)) errors.push(planRules.planCountError('instanceCount', instanceCount));
  if (ultraServerCount !== undefined && !Number.isNaN(ultraServerCount)) errors.push(planRules.planCountError('ultraServerCount', ultraServerCount));
  if (spare !== undefined && !Number.isNaN(spare)) errors.push(planRules.spareInstancesError(spare, ultraservers));
  if (!Number.isNaN(durationHours)) errors.push(planRules.planDurationError(durationHours));
  if (!Number.isNaN(maxUpfrontFee)) errors.push(rules.maxUpfrontFeeError(maxUpfrontFee));
  if (!Number.isNaN(waitTimeoutSeconds)) errors.push(rules.waitTimeoutError(waitTimeoutSeconds));
  errors.push(rules.currencyCodeError(currencyCode));
  errors.push(planRules.targetResourcesError(targetResources));
  errors.push(planRules.trainingPlanNameError(trainingPlanName));
  if (selection !== 'CHEAPEST' && selection !== 'EARLIEST_START') errors.push(`selection must be CHEAPEST or EARLIEST_START, got '${selection}'`);
  errors.push(rules.windowError(earliestStart, latestEnd, Number.isNaN(durationHours) ? undefined : durationHours));
  errors.push(...rules.tagErrors(tags, false, 'training plan'));
  const previewOnly = flag('previewOnly', props.PreviewOnly);
  const allowRepurchase = flag('allowRepurchase', props.AllowRepurchase);
  const found = errors.filter((e): e is string => e !== undefined);
  if (found.length > 0) throw new UserError(`Invalid TrainingPlanPurchase properties: ${found.join('; ')}`);
  return {
    instanceType, instanceCount, ultraServerType, ultraServerCount, spareInstanceCountPerUltraServer: spare, durationHours, targetResources, maxUpfrontFee,
    maxUpfrontFeeText: String(props.MaxUpfrontFee), currencyCode, earliestStart, latestEnd, selection, trainingPlanName,
    previewOnly, waitTimeoutSeconds, allowRepurchase, tags,
  };
}

/** Checks that only make sense when buying now: the window must still be ahead of us. */
export function assertPlanWindowOpen(request: TrainingPlanRequest, now: Date): void {
  if (request.latestEnd && request.latestEnd.getTime() - Math.max(now.getTime(), request.earliestStart?.getTime() ?? 0) < request.durationHours * 3_600_000) {
    throw new UserError(`latestEnd ${request.latestEnd.toISOString()} leaves no room for a ${rules.formatHours(request.durationHours)} training plan starting after now (${now.toISOString()}); move latestEnd later`);
  }
}

/** A short description of what is being bought, for messages. */
export function describePlanShape(request: TrainingPlanRequest): string {
  const what = request.ultraServerType ? `${request.ultraServerCount} x UltraServer ${request.ultraServerType}` : `${request.instanceCount} x ${request.instanceType}`;
  return `${what} for ${rules.formatHours(request.durationHours)} (${request.targetResources.join(', ')})`;
}
