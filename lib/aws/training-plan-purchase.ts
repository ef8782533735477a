import { Annotations, CustomResource, Duration, Fn, IResource, ITaggable, Lazy, Names, Resource, Stack, TagManager, TagType, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { OfferingSelection } from './instance-platform';
import { hyperPodGroupErrors } from './integrations/hyperpod';
import { reservationMetric } from './integrations/metrics';
import { TrainingPlanProvider } from './training-plan-provider';
import { TrainingPlanInstanceType, TrainingPlanTarget, TrainingPlanUltraServerType } from './training-plan-types';
import * as planRules from './training-plan-validation';
import { MAX_TRAINING_PLAN_NAME_LENGTH, TRAINING_PLAN_RESOURCE_TYPE, TrainingPlanAttributeName, TrainingPlanWireProperties } from './training-plan-wire';
import * as rules from './validation';
import { DEFAULT_CURRENCY, SERVICE_TIMEOUT_SECONDS, WireTag } from './wire';

/** A SageMaker training plan: bought by TrainingPlanPurchase or imported by ARN. */
export interface ITrainingPlan extends IResource {
  /**
   * The plan's ARN.
   * @attribute
   */
  readonly trainingPlanArn: string;

  /**
   * A HyperPod instance group that runs on this plan: `group` with `trainingPlanArn` set.
   *
   * @param group the instance group of a `sagemaker.CfnCluster`
   */
  instanceGroup(group: sagemaker.CfnCluster.ClusterInstanceGroupProperty): sagemaker.CfnCluster.ClusterInstanceGroupProperty;

  /**
   * A production variant of a `sagemaker.CfnEndpointConfig` that runs on this plan: `variant` with
   * `capacityReservationConfig` naming the plan (`capacity-reservations-only`). One plan per endpoint.
   *
   * @param variant the production variant
   */
  productionVariant(variant: sagemaker.CfnEndpointConfig.ProductionVariantProperty): sagemaker.CfnEndpointConfig.ProductionVariantProperty;

  /**
   * A metric of the plan's reserved capacity from CloudWatch's `aws/sagemaker/CapacityReservations`
   * namespace (dimension `ReservationName`: the plan's name), the average over 5 minutes unless
   * `props` says otherwise. SageMaker publishes these only once the
   * `AWSServiceRoleForSageMakerCapacityReservation` service-linked role exists, for plans bought after.
   *
   * @param metricName UsedInstanceCount, AvailableInstanceCount, TotalInstanceCount or InstanceUtilization
   * @param props metric options (dimensionsMap replaces the plan's dimension)
   */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** The percentage of the plan's instances in use (`InstanceUtilization`). */
  metricInstanceUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** How many of the plan's instances are in use (`UsedInstanceCount`). */
  metricUsedInstanceCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** How many of the plan's instances are available (`AvailableInstanceCount`). */
  metricAvailableInstanceCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * Lets `grantee` start work on this plan: the create (and update) calls of its targets, authorized
   * on the plan and its reserved capacity.
   *
   * @param grantee who submits the training jobs or creates the cluster
   */
  grantUse(grantee: iam.IGrantable): iam.Grant;
}

/** The create calls SageMaker authorizes on a plan, per target resource. */
const USE_ACTIONS: Record<string, string[]> = {
  'training-job': ['sagemaker:CreateTrainingJob'],
  'hyperpod-cluster': ['sagemaker:CreateCluster', 'sagemaker:UpdateCluster'],
  // An endpoint uses a plan through its config: ProductionVariants[].CapacityReservationConfig.MlReservationArn.
  'endpoint': ['sagemaker:CreateEndpointConfig', 'sagemaker:CreateEndpoint'],
  'studio-apps': ['sagemaker:CreateApp'],
};

abstract class TrainingPlanBase extends Resource implements ITrainingPlan {
  public abstract readonly trainingPlanArn: string;
  /**
   * What the plan serves; undefined when not known (an imported plan).
   * @internal
   */
  protected abstract readonly _targets?: string[];
  /**
   * The instance type it reserves, when known.
   * @internal
   */
  protected abstract readonly _instanceType?: string;
  /**
   * How many instances it holds, when known (an instance plan with a literal count, or an import that says).
   * @internal
   */
  protected abstract readonly _instanceCount?: number;
  /**
   * Its Availability Zone, when known at synth (an import that says).
   * @internal
   */
  protected abstract readonly _availabilityZone?: string;
  /**
   * The name CloudWatch's ReservationName dimension carries.
   * @internal
   */
  protected abstract readonly _metricName: string;

  public instanceGroup(group: sagemaker.CfnCluster.ClusterInstanceGroupProperty): sagemaker.CfnCluster.ClusterInstanceGroupProperty {
    this._assertUsableFor(`HyperPod instance group ${group.instanceGroupName}`, 'hyperpod-cluster');
    const errors = hyperPodGroupErrors(this, group, { instanceType: this._instanceType, instanceCount: this._instanceCount, availabilityZone: this._availabilityZone });
    if (errors.length > 0) throw new Error(errors.join('; '));
    return { ...group, trainingPlanArn: this.trainingPlanArn };
  }

  public productionVariant(variant: sagemaker.CfnEndpointConfig.ProductionVariantProperty): sagemaker.CfnEndpointConfig.ProductionVariantProperty {
    this._assertUsableFor(`endpoint variant ${variant.variantName}`, 'endpoint');
    const type = variant.instanceType;
    if (this._instanceType && type !== undefined && !Token.isUnresolved(type) && type !== this._instanceType) {
      throw new Error(`endpoint variant ${variant.variantName} has instanceType ${type}, but training plan ${this.node.path} reserves ${this._instanceType}; use the same instance type`);
    }
    const count = variant.initialInstanceCount;
    if (this._instanceCount !== undefined && count !== undefined && !Token.isUnresolved(count) && count > this._instanceCount) {
      throw new Error(`endpoint variant ${variant.variantName} has initialInstanceCount ${count}, but training plan ${this.node.path} holds ${this._instanceCount} instances; set initialInstanceCount to at most ${this._instanceCount}`);
    }
    return { ...variant, capacityReservationConfig: { mlReservationArn: this.trainingPlanArn, capacityReservationPreference: 'capacity-reservations-only' } };
  }

  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return reservationMetric(this, 'aws/sagemaker/CapacityReservations', { ReservationName: this._metricName }, metricName, props);
  }

  public metricInstanceUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('InstanceUtilization', props);
  }

  public metricUsedInstanceCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('UsedInstanceCount', props);
  }

  public metricAvailableInstanceCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('AvailableInstanceCount', props);
  }

  public grantUse(grantee: iam.IGrantable): iam.Grant {
    this._assertUsableFor(`grantUse(${grantee.grantPrincipal})`);
    const targets = this._targets ?? Object.keys(USE_ACTIONS);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...new Set(targets.flatMap(t => USE_ACTIONS[t] ?? []))],
      // A plan's capacity is held in reserved-capacity resources whose ARNs SageMaker assigns.
      resourceArns: [this.trainingPlanArn, Stack.of(this).formatArn({ service: 'sagemaker', resource: 'reserved-capacity', resourceName: '*' })],
    });
  }

  /** @internal */
  protected _assertUsableFor(what: string, target?: string): void {
    if (target && this._targets && !this._targets.includes(target)) {
      const constant = target === 'endpoint' ? 'ENDPOINT' : target === 'hyperpod-cluster' ? 'HYPERPOD_CLUSTER' : target.toUpperCase().replace(/-/g, '_');
      throw new Error(`TrainingPlanPurchase ${this.node.path} targets ${this._targets.join(', ')}, so ${what} cannot use it; add TrainingPlanTarget.${constant} to targetResources`);
    }
  }
}

/** What is known of a training plan bought elsewhere (the console, another stack). */
export interface TrainingPlanAttributes {
  /** The plan's ARN. */
  readonly trainingPlanArn: string;

  /**
   * The instance type it reserves, e.g. `ml.p5.48xlarge`.
   * @default - not known: instance groups' and variants' instance types are not checked
   */
  readonly instanceType?: string;

  /**
   * How many instances it holds.
   * @default - not known: instance groups' and variants' counts are not checked
   */
  readonly instanceCount?: number;

  /**
   * The Availability Zone of its reserved capacity, e.g. `us-east-2a`: a HyperPod instance group's
   * `overrideVpcConfig` subnets are checked against it (SageMaker requires the cluster's zone to match the plan's).
   * @default - not known: subnets are not checked
   */
  readonly availabilityZone?: string;

  /**
   * What the plan serves.
   * @default - not known: every use is allowed, and grantUse grants the create calls of every target
   */
  readonly targetResources?: TrainingPlanTarget[];
}

/** Properties of a TrainingPlanPurchase. */
export interface TrainingPlanPurchaseProps {
  /**
   * The instance type to reserve. Set either instanceType and instanceCount, or ultraServerType and
   * ultraServerCount.
   * @default - none: an UltraServer plan (ultraServerType) instead
   */
  readonly instanceType?: TrainingPlanInstanceType;

  /**
   * How many instances the plan holds.
   * @default - none: an UltraServer plan (ultraServerCount) instead
   */
  readonly instanceCount?: number;

  /**
   * The UltraServer type to reserve. Exclusive with instanceType/instanceCount.
   * @default - none: an instance plan (instanceType) instead
   */
  readonly ultraServerType?: TrainingPlanUltraServerType;

  /**
   * How many UltraServers the plan holds.
   * @default - none: an instance plan (instanceCount) instead
   */
  readonly ultraServerCount?: number;

  /**
   * UltraServer plans: how many instances of each UltraServer SageMaker keeps spare, for resiliency
   * (`SpareInstanceCountPerUltraServer`).
   * @default - SageMaker's default (1)
   */
  readonly spareInstanceCountPerUltraServer?: number;

  /** How long the plan lasts, in whole hours as SageMaker sells them (at most 182 days). */
  readonly duration: Duration;

  /**
   * What the plan's capacity serves. SageMaker plans are specific to their targets: a plan for
   * training jobs cannot hold a HyperPod cluster's instance group.
   */
  readonly targetResources: TrainingPlanTarget[];

  /**
   * The most this plan may cost up front, in `currencyCode`. Offerings above it are never bought
   * (compared exactly, in decimal), and an extension (a longer `duration` on update) must cost at
   * most this much on its own.
   */
  readonly maxUpfrontFee: number;

  /**
   * The currency `maxUpfrontFee` is in; offerings in another currency are refused.
   * @default 'USD'
   */
  readonly currencyCode?: string;

  /**
   * The plan must not start before this instant.
   * @default - now
   */
  readonly earliestStart?: Date;

  /**
   * The plan must end by this instant, extensions included.
   * @default - any end SageMaker offers
   */
  readonly latestEnd?: Date;

  /**
   * How to choose among acceptable offerings.
   * @default OfferingSelection.CHEAPEST
   */
  readonly selection?: OfferingSelection;

  /**
   * The name of the plan: SageMaker never sells two plans under one name, so it is what makes every
   * retry, redelivery and rollback of the purchase safe. A repurchase (allowRepurchase) buys
   * `<name>-2`, then `-3`: a plan can never be deleted, so its name stays taken.
   * @default - derived from the stack and the construct path: unique in the account and region
   */
  readonly trainingPlanName?: string;

  /**
   * Search only, buy nothing: the attributes describe the offering that would be bought (its id is
   * in `purchasedOfferingId`); `trainingPlanArn` is empty. SageMaker has no dry run for CreateTrainingPlan.
   * @default false
   */
  readonly previewOnly?: boolean;

  /**
   * How long the deployment waits for the payment to clear (status Scheduled or Active). If the plan
   * is still Pending then, the deployment succeeds with status Pending and a note; the plan is bought
   * either way. At most 50 minutes (CloudFormation gives a custom resource 60).
   * @default Duration.minutes(30)
   */
  readonly waitTimeout?: Duration;

  /**
   * Let an update that needs a different plan (instance type, count, targets, window) buy a new one.
   * The old plan cannot be cancelled: you pay for both.
   * @default false - such updates fail with a message naming the current plan
   */
  readonly allowRepurchase?: boolean;

  /**
   * Tags for the training plan. `Tags.of(scope)` propagates here too.
   * @default - no tags beyond the ones this library writes (prefix `cdk-capacity-reservations:`)
   */
  readonly tags?: { [key: string]: string };
}

/**
 * Buys a SageMaker training plan while the stack deploys: reserved accelerated capacity for training
 * jobs, HyperPod clusters, endpoints or Studio apps. No CloudFormation resource type does this.
 *
 * Create searches the offerings, refuses every offering above `maxUpfrontFee` or outside the window,
 * creates the plan exactly once under its name and waits for the payment. A training plan cannot be
 * modified, cancelled or refunded: deleting the stack leaves it to run until its end.
 */
export class TrainingPlanPurchase extends TrainingPlanBase implements ITaggable {
  /**
   * Import a training plan bought elsewhere (the console, another stack) by its ARN. Its targets are
   * not known here, so grantUse grants the create calls of every target.
   */
  public static fromTrainingPlanArn(scope: Construct, id: string, trainingPlanArn: string): ITrainingPlan {
    return TrainingPlanPurchase.fromTrainingPlanAttributes(scope, id, { trainingPlanArn });
  }

  /**
   * Import a training plan bought elsewhere with what its consumers are checked against: HyperPod
   * instance groups (instance type, count, zone), endpoint variants and training jobs.
   */
  public static fromTrainingPlanAttributes(scope: Construct, id: string, attrs: TrainingPlanAttributes): ITrainingPlan {
    const count = attrs.instanceCount;
    if (count !== undefined && !Token.isUnresolved(count) && !(Number.isInteger(count) && count >= 1)) {
      throw new Error(`TrainingPlanPurchase.fromTrainingPlanAttributes ${id}: instanceCount must be a whole number of instances, 1 or more, got ${count}`);
    }
    class Import extends TrainingPlanBase {
      public readonly trainingPlanArn = attrs.trainingPlanArn;
      protected readonly _targets = attrs.targetResources?.map(t => t.value);
      protected readonly _instanceType = attrs.instanceType;
      protected readonly _instanceCount = count;
      protected readonly _availabilityZone = attrs.availabilityZone !== undefined && !Token.isUnresolved(attrs.availabilityZone) ? attrs.availabilityZone : undefined;
      // arn:…:training-plan/<name>
      protected readonly _metricName = Token.isUnresolved(attrs.trainingPlanArn) ? Fn.select(1, Fn.split('/', attrs.trainingPlanArn)) : attrs.trainingPlanArn.split('/')[1] ?? attrs.trainingPlanArn;
    }
    return new Import(scope, id);
  }

  /** The plan's ARN: pass it to a HyperPod instance group or a training job's ResourceConfig. */
  public readonly trainingPlanArn: string;
  /** The name the plan was bought under (the prop, or `<prop>-N` after a repurchase). */
  public readonly trainingPlanName: string;
  /** The plan's status when the deployment finished: Scheduled, Active, Pending (the wait timed out; the plan is bought), Expired or preview. */
  public readonly status: string;
  /** The upfront fee paid (or, for previewOnly, that would be paid), as a decimal string. */
  public readonly upfrontFee: string;
  /** The currency of `upfrontFee`. */
  public readonly currencyCode: string;
  /** When the plan's capacity starts (ISO 8601). */
  public readonly startTime: string;
  /** When it ends (ISO 8601); the plan expires by itself then. */
  public readonly endTime: string;
  /** The Availability Zone of the plan's (first) reserved capacity. */
  public readonly availabilityZone: string;
  /** The offering that was bought (or would be, for previewOnly). */
  public readonly purchasedOfferingId: string;
  /** Tags of the training plan. */
  public readonly tags: TagManager;
  /** The most this plan may cost up front (a token when it comes from a parameter). */
  public readonly maxUpfrontFee: number;
  /** The currency of `maxUpfrontFee`. */
  public readonly maxUpfrontFeeCurrency: string;
  /** True when the resource only previews: it buys nothing. */
  public readonly previewOnly: boolean;

  /** @internal */
  protected readonly _instanceType?: string;
  /** @internal */
  protected readonly _targets: string[];
  /** @internal */
  protected readonly _instanceCount?: number;
  /** @internal */
  protected readonly _availabilityZone?: string;
  /** @internal */
  protected readonly _metricName: string;

  constructor(scope: Construct, id: string, props: TrainingPlanPurchaseProps) {
    super(scope, id);
    const errors = literalPropErrors(props);
    if (errors.length > 0) throw new Error(`TrainingPlanPurchase ${this.node.path}: ${errors.join('; ')}`);
    this.previewOnly = props.previewOnly === true;
    this._instanceType = nameOf(props.instanceType);
    this._targets = targetsOf(props);
    this._instanceCount = props.instanceCount !== undefined && !Token.isUnresolved(props.instanceCount) ? props.instanceCount : undefined;
    this.maxUpfrontFee = props.maxUpfrontFee;
    this.maxUpfrontFeeCurrency = props.currencyCode ?? DEFAULT_CURRENCY;
    Annotations.of(this).addInfo(this.previewOnly
      ? 'previewOnly: buys nothing; reports the training plan offering it would buy'
      : `Buys a SageMaker training plan for up to ${Token.isUnresolved(props.maxUpfrontFee) ? 'the maxUpfrontFee given at deploy time' : `${props.maxUpfrontFee} ${this.maxUpfrontFeeCurrency}`} up front, non-refundable: a training plan cannot be cancelled. Each extension may cost that much again`);
    this.tags = new TagManager(TagType.KEY_VALUE, TRAINING_PLAN_RESOURCE_TYPE, props.tags);
    this.node.addValidation({ validate: () => rules.tagErrors(this.literalTags(), false, 'training plan') });

    const name = props.trainingPlanName ?? Names.uniqueResourceName(this, { maxLength: MAX_TRAINING_PLAN_NAME_LENGTH, separator: '-' }).replace(/[^a-zA-Z0-9-]/g, '');
    const properties: TrainingPlanWireProperties = {
      InstanceType: this._instanceType,
      InstanceCount: props.instanceCount === undefined ? undefined : numberToWire(props.instanceCount),
      UltraServerType: nameOf(props.ultraServerType),
      UltraServerCount: props.ultraServerCount === undefined ? undefined : numberToWire(props.ultraServerCount),
      SpareInstanceCountPerUltraServer: props.spareInstanceCountPerUltraServer === undefined ? undefined : numberToWire(props.spareInstanceCountPerUltraServer),
      DurationHours: props.duration.isUnresolved() ? Token.asString(props.duration.toHours()) : String(props.duration.toHours({ integral: false })),
      TargetResources: this._targets,
      MaxUpfrontFee: numberToWire(props.maxUpfrontFee),
      CurrencyCode: props.currencyCode,
      EarliestStart: props.earliestStart?.toISOString(),
      LatestEnd: props.latestEnd?.toISOString(),
      Selection: props.selection,
      TrainingPlanName: name,
      PreviewOnly: this.previewOnly ? 'true' : undefined,
      WaitTimeoutSeconds: props.waitTimeout ? numberToWire(props.waitTimeout.toSeconds()) : undefined,
      AllowRepurchase: props.allowRepurchase ? 'true' : undefined,
      Tags: Lazy.any({ produce: () => this.tags.renderTags() }) as unknown as WireTag[],
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: TrainingPlanProvider.getOrCreate(this).serviceToken,
      resourceType: TRAINING_PLAN_RESOURCE_TYPE,
      properties,
      serviceTimeout: Duration.seconds(SERVICE_TIMEOUT_SECONDS),
    });
    const attr = (attribute: TrainingPlanAttributeName) => resource.getAttString(attribute);
    this.trainingPlanArn = attr('TrainingPlanArn');
    this.trainingPlanName = attr('TrainingPlanName');
    this.status = attr('Status');
    this.upfrontFee = attr('UpfrontFee');
    this.currencyCode = attr('CurrencyCode');
    this.startTime = attr('StartTime');
    this.endTime = attr('EndTime');
    this.availabilityZone = attr('AvailabilityZone');
    this.purchasedOfferingId = attr('OfferingId');
    this._metricName = this.trainingPlanName;
  }

  /** @internal */
  protected _assertUsableFor(what: string, target?: string): void {
    if (this.previewOnly) throw new Error(`TrainingPlanPurchase ${this.node.path} is previewOnly and buys nothing, so ${what} cannot use it; remove previewOnly first`);
    super._assertUsableFor(what, target);
  }

  /**
   * A HyperPod instance group that runs on this plan: `group` with `trainingPlanArn` set. For a
   * previewOnly plan, which buys nothing, the group is checked the same way and deployed with no
   * instances and no plan (an instance group without a plan would launch On-Demand instances); the
   * real deploy gives it its plan and its count.
   *
   * @param group the instance group of a `sagemaker.CfnCluster`
   */
  public instanceGroup(group: sagemaker.CfnCluster.ClusterInstanceGroupProperty): sagemaker.CfnCluster.ClusterInstanceGroupProperty {
    if (!this.previewOnly) return super.instanceGroup(group);
    super._assertUsableFor(`HyperPod instance group ${group.instanceGroupName}`, 'hyperpod-cluster');
    const errors = hyperPodGroupErrors(this, group, { instanceType: this._instanceType, instanceCount: this._instanceCount });
    if (errors.length > 0) throw new Error(errors.join('; '));
    Annotations.of(this).addInfo(`previewOnly: HyperPod instance group ${group.instanceGroupName} is deployed with instanceCount 0 and no training plan; it gets both when previewOnly is removed`);
    return { ...group, instanceCount: 0, trainingPlanArn: undefined };
  }

  private literalTags(): WireTag[] {
    const rendered: WireTag[] = this.tags.renderTags() ?? [];
    return rendered.filter(t => !Token.isUnresolved(t.Key) && !Token.isUnresolved(t.Value));
  }
}

/** Every literal prop checked at synth; tokens are checked by the handler once they resolve. */
function literalPropErrors(props: TrainingPlanPurchaseProps): string[] {
  const literal = <T>(value: T | undefined): value is T => value !== undefined && !Token.isUnresolved(value);
  const errors: Array<string | undefined> = [];
  errors.push(planRules.planShapeError({
    instanceType: props.instanceType !== undefined,
    instanceCount: props.instanceCount !== undefined,
    ultraServerType: props.ultraServerType !== undefined,
    ultraServerCount: props.ultraServerCount !== undefined,
  }));
  if (literal(props.instanceCount)) errors.push(planRules.planCountError('instanceCount', props.instanceCount));
  if (literal(props.ultraServerCount)) errors.push(planRules.planCountError('ultraServerCount', props.ultraServerCount));
  if (literal(props.spareInstanceCountPerUltraServer)) errors.push(planRules.spareInstancesError(props.spareInstanceCountPerUltraServer, props.ultraServerType !== undefined));
  if (literal(props.maxUpfrontFee)) errors.push(rules.maxUpfrontFeeError(props.maxUpfrontFee));
  if (literal(props.currencyCode)) errors.push(rules.currencyCodeError(props.currencyCode));
  errors.push(planRules.targetResourcesError(targetsOf(props)));
  const instanceType = nameOf(props.instanceType);
  if (instanceType !== undefined && !Token.isUnresolved(instanceType)) errors.push(planRules.trainingPlanInstanceTypeError(instanceType));
  const ultraServerType = nameOf(props.ultraServerType);
  if (ultraServerType !== undefined && !Token.isUnresolved(ultraServerType)) errors.push(planRules.trainingPlanUltraServerTypeError(ultraServerType));
  if (literal(props.trainingPlanName)) errors.push(planRules.trainingPlanNameError(props.trainingPlanName));
  const durationHours = props.duration.isUnresolved() ? undefined : props.duration.toHours({ integral: false });
  if (durationHours !== undefined) errors.push(planRules.planDurationError(durationHours));
  if (props.waitTimeout && !props.waitTimeout.isUnresolved()) errors.push(rules.waitTimeoutError(props.waitTimeout.toSeconds({ integral: false })));
  errors.push(rules.windowError(props.earliestStart, props.latestEnd, durationHours));
  errors.push(rules.latestEndPassedError(props.latestEnd, new Date()));
  if (props.previewOnly && props.allowRepurchase) {
    errors.push('allowRepurchase has no effect with previewOnly (a preview buys nothing); remove one of them');
  }
  return errors.filter((e): e is string => e !== undefined);
}

/**
 * The SageMaker name of an enum-like class value; a plain-JavaScript caller may pass the name itself
 * (a string), which is taken as given and validated like any other.
 */
function nameOf(value: { readonly name: string } | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : typeof value?.name === 'string' ? value.name : String(value);
}

/** The targets' SageMaker names; strings (plain JavaScript) are taken as the names they are. */
function targetsOf(props: TrainingPlanPurchaseProps): string[] {
  return (props.targetResources ?? []).map(t => (typeof t === 'string' ? t : typeof t?.value === 'string' ? t.value : String(t)));
}

function numberToWire(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}
