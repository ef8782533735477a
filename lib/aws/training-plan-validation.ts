/**
 * Validation rules of TrainingPlanPurchase, shared by the construct (literal props, at synth) and its
 * handler (every value, at deploy time). The rules both purchase types share live in validation.ts.
 */
import { MAX_TRAINING_PLAN_HOURS, MAX_TRAINING_PLAN_NAME_LENGTH } from './training-plan-wire';

/** The SageMaker target resources the model lists (SageMakerResourceName). */
export const TRAINING_PLAN_TARGETS = ['training-job', 'hyperpod-cluster', 'endpoint', 'studio-apps'];

export function trainingPlanInstanceTypeError(name: string): string | undefined {
  return /^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(name)
    ? undefined
    : `instanceType must be a SageMaker instance type such as ml.p5.48xlarge, got '${name}'`;
}

export function trainingPlanUltraServerTypeError(name: string): string | undefined {
  return /^ml\.u-[a-z0-9-]+$/.test(name)
    ? undefined
    : `ultraServerType must be a SageMaker UltraServer type such as ml.u-p6e-gb200x72, got '${name}'`;
}

export function trainingPlanTargetError(value: string): string | undefined {
  return /^[a-z][a-z-]*[a-z]$/.test(value)
    ? undefined
    : `targetResources must hold SageMaker resource names such as ${TRAINING_PLAN_TARGETS.join(', ')}, got '${value}'`;
}

export function targetResourcesError(values: readonly string[]): string | undefined {
  if (values.length === 0) return `targetResources must name at least one of ${TRAINING_PLAN_TARGETS.join(', ')}; a plan serves only what it was bought for`;
  const twice = values.find((v, i) => values.indexOf(v) !== i);
  if (twice) return `targetResources names '${twice}' twice; name each target once`;
  return values.map(trainingPlanTargetError).find(Boolean);
}

/** A plan is instances (instanceType + instanceCount) or UltraServers (ultraServerType + ultraServerCount). */
export function planShapeError(given: { instanceType: boolean; instanceCount: boolean; ultraServerType: boolean; ultraServerCount: boolean }): string | undefined {
  const instances = given.instanceType || given.instanceCount;
  const ultraservers = given.ultraServerType || given.ultraServerCount;
  if (instances && ultraservers) {
    return 'instanceType/instanceCount and ultraServerType/ultraServerCount cannot be combined; set one pair';
  }
  if (ultraservers) {
    return given.ultraServerType && given.ultraServerCount ? undefined : `an UltraServer training plan needs both ultraServerType and ultraServerCount; set ${given.ultraServerType ? 'ultraServerCount' : 'ultraServerType'}`;
  }
  if (!given.instanceType || !given.instanceCount) {
    return `a training plan needs instanceType and instanceCount (or ultraServerType and ultraServerCount); set ${given.instanceType ? 'instanceCount' : given.instanceCount ? 'instanceType' : 'them'}`;
  }
  return undefined;
}

/** SageMaker's model: InstanceCount 1-256. */
export const MAX_TRAINING_PLAN_INSTANCES = 256;

export function planCountError(name: 'instanceCount' | 'ultraServerCount', count: number): string | undefined {
  if (name === 'instanceCount') {
    return Number.isInteger(count) && count >= 1 && count <= MAX_TRAINING_PLAN_INSTANCES
      ? undefined
      : `instanceCount must be a whole number from 1 to ${MAX_TRAINING_PLAN_INSTANCES}, got ${count}`;
  }
  return Number.isInteger(count) && count >= 1 ? undefined : `${name} must be a whole number, 1 or more, got ${count}`;
}

const DAY_HOURS = 24;

/**
 * SageMaker extends a plan in 1-day steps up to 14 days, or in 7-day steps up to 182 days: what a
 * longer duration would add to the plan must be one of those.
 */
export function extensionHoursError(hours: number): string | undefined {
  if (Number.isInteger(hours / DAY_HOURS) && hours >= DAY_HOURS && hours <= 14 * DAY_HOURS) return undefined;
  if (Number.isInteger(hours / (7 * DAY_HOURS)) && hours > 14 * DAY_HOURS && hours <= 182 * DAY_HOURS) return undefined;
  if (hours > 182 * DAY_HOURS) return `an extension adds at most 182 days (4368 h), got ${hours} h; set duration at most 182 days longer than the plan`;
  return hours <= 14 * DAY_HOURS
    ? `an extension comes in 1-day steps up to 14 days, got ${hours} h; set duration to whole days longer than the plan`
    : `an extension longer than 14 days comes in 7-day steps (21, 28 ... 182 days), got ${hours} h (${+(hours / DAY_HOURS).toFixed(2)} days); set duration to a whole number of weeks longer than the plan`;
}

/** SageMaker takes an extension request 1 hour to 57 days before the plan ends. */
export function extensionTimingError(planEnd: Date, now: Date): string | undefined {
  const before = planEnd.getTime() - now.getTime();
  if (before < 3_600_000) return `a plan is extended at least 1 h before it ends (${planEnd.toISOString()}); it is too late to extend it: buy a new plan with allowRepurchase, or revert duration`;
  if (before > 57 * DAY_HOURS * 3_600_000) return `a plan is extended at most 57 days before it ends (${planEnd.toISOString()}); deploy the longer duration after ${new Date(planEnd.getTime() - 57 * DAY_HOURS * 3_600_000).toISOString()}, or revert duration`;
  return undefined;
}

/** Spare instances are kept per UltraServer: a whole number, for UltraServer plans only. */
export function spareInstancesError(count: number, ultraservers: boolean): string | undefined {
  if (!ultraservers) return `spareInstanceCountPerUltraServer applies to UltraServer plans only; set ultraServerType and ultraServerCount, or remove it, got ${count}`;
  return Number.isInteger(count) && count >= 0 ? undefined : `spareInstanceCountPerUltraServer must be a whole number, 0 or more, got ${count}`;
}

/** SageMaker sells whole hours, up to 182 days. */
export function planDurationError(hours: number): string | undefined {
  return Number.isInteger(hours) && hours >= 1 && hours <= MAX_TRAINING_PLAN_HOURS
    ? undefined
    : `duration must be whole hours from 1 to ${MAX_TRAINING_PLAN_HOURS} (182 days), got ${hours} h`;
}

/** SageMaker's name pattern `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}`, kept short enough for a repurchase's `-N`. */
export function trainingPlanNameError(name: string): string | undefined {
  return name.length <= MAX_TRAINING_PLAN_NAME_LENGTH && /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/.test(name)
    ? undefined
    : `trainingPlanName must be 1-${MAX_TRAINING_PLAN_NAME_LENGTH} letters, digits and hyphens, starting and ending with a letter or digit (SageMaker allows 64; a repurchase appends -2, -3...), got '${name}'`;
}
