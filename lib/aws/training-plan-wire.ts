/**
 * The contract between TrainingPlanPurchase (which writes it into the template) and its handler
 * (lib/aws/handler/training-plan), as wire.ts is for Capacity Blocks. Keys are PascalCase and part of
 * users' templates. The clock budget, claims table variable and reserved tags are wire.ts's own.
 */
import { WireTag } from './wire';

/** The custom resource type. Changing it replaces every user's plan. */
export const TRAINING_PLAN_RESOURCE_TYPE = 'Custom::TrainingPlanPurchase';

/** ResourceProperties as the handler receives them: every scalar a string, as CloudFormation delivers them. */
export interface TrainingPlanWireProperties {
  /** Instance plans: the SageMaker instance type and count. Absent for UltraServer plans. */
  readonly InstanceType?: string;
  readonly InstanceCount?: string;
  /** UltraServer plans: the UltraServer type and count. */
  readonly UltraServerType?: string;
  readonly UltraServerCount?: string;
  /** UltraServer plans: spare instances per UltraServer (SageMaker's default: 1). */
  readonly SpareInstanceCountPerUltraServer?: string;
  readonly DurationHours: string;
  /** SageMaker `TargetResources` (training-job, hyperpod-cluster, endpoint, studio-apps). */
  readonly TargetResources: string[];
  readonly MaxUpfrontFee: string;
  /** @default 'USD' */
  readonly CurrencyCode?: string;
  /** ISO 8601 instant. */
  readonly EarliestStart?: string;
  /** ISO 8601 instant. */
  readonly LatestEnd?: string;
  /** @default 'CHEAPEST' */
  readonly Selection?: string;
  /**
   * The name of the first plan bought: SageMaker never sells two plans under one name, so it is the
   * purchase's idempotency key. A repurchase (allowRepurchase) buys `<name>-2`, `-3`, …
   */
  readonly TrainingPlanName: string;
  /** 'true' to search only. */
  readonly PreviewOnly?: string;
  /** @default DEFAULT_WAIT_TIMEOUT_SECONDS */
  readonly WaitTimeoutSeconds?: string;
  /** 'true' to let an update buy a new plan. */
  readonly AllowRepurchase?: string;
  readonly Tags?: WireTag[];
}

/** The attributes the handler returns in Data; every key is always present (GetAtt needs it). */
export interface TrainingPlanAttributes {
  readonly TrainingPlanArn: string;
  readonly TrainingPlanName: string;
  /** Pending | Scheduled | Active | Expired | Failed (SageMaker), or preview. */
  readonly Status: string;
  readonly UpfrontFee: string;
  readonly CurrencyCode: string;
  readonly StartTime: string;
  readonly EndTime: string;
  readonly AvailabilityZone: string;
  readonly OfferingId: string;
  /** One line for a human: why the status is what it is. */
  readonly Note: string;
}

export type TrainingPlanAttributeName = keyof TrainingPlanAttributes;

/** Longest trainingPlanName: SageMaker allows 64 characters, and a repurchase appends `-N`. */
export const MAX_TRAINING_PLAN_NAME_LENGTH = 60;
/** SageMaker sells at most 182 days (the model's DurationHours range for extensions: 0-4368). */
export const MAX_TRAINING_PLAN_HOURS = 4368;
