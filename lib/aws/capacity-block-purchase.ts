import { Annotations, CfnResource, CustomResource, Duration, Fn, IResource, ITaggable, Lazy, Names, Resource, Stack, TagManager, TagType, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as events from 'aws-cdk-lib/aws-events';
import * as resourcegroups from 'aws-cdk-lib/aws-resourcegroups';
import { Construct } from 'constructs';
import { PropSpec, propTypeErrors } from '../shared/prop-types';
import { InstancePlatform, OfferingSelection } from './instance-platform';
import { CapacityBlockInstanceType } from './instance-type';
import { applyToAutoScalingGroup, AutoScalingGroupCapacityOptions } from './integrations/auto-scaling-group';
import { BlockFacts, literal } from './integrations/block-facts';
import { CapacityBlockNodegroupOptions, CapacityBlockNodegroupV2Options, capacityBlockNodegroup } from './integrations/eks-nodegroup';
import { karpenterRequirements, karpenterSelectorTerms, KarpenterCapacityReservationSelectorTerm, KarpenterNodeSelectorRequirement } from './integrations/karpenter';
import { parallelClusterQueue, ParallelClusterQueueOptions } from './integrations/parallelcluster';
import { reservationMetric } from './integrations/metrics';
import { CapacityBlockAttributes, IReservedCapacity, ReservedCapacityFacts } from './integrations/reserved-capacity';
import { CapacityBlockProvider, registerConsumer } from './provider';
import { UltraServerType } from './ultraserver-type';
import * as rules from './validation';
import {
  AttributeName, CapacityBlockWireProperties, DEFAULT_CURRENCY, DEFAULT_PLATFORM,
  RESOURCE_TYPE, SERVICE_TIMEOUT_SECONDS, WireTag,
} from './wire';

/** A Capacity Block for ML: bought by CapacityBlockPurchase or imported by id. */
export interface ICapacityBlock extends IResource, IReservedCapacity {
  /**
   * The Capacity Reservation id (`cr-…`).
   * @attribute
   */
  readonly capacityReservationId: string;

  /**
   * The Capacity Reservation ARN.
   * @attribute
   */
  readonly capacityReservationArn: string;

  /**
   * Every Capacity Reservation of the block: one for an instance block, several for an UltraServer
   * block (EC2 delivers each UltraServer as its own reservations).
   * @attribute
   */
  readonly capacityReservationIds: string[];

  /** `applyToLaunchTemplate` for an `ec2.CfnLaunchTemplate`. */
  applyToCfnLaunchTemplate(launchTemplate: ec2.CfnLaunchTemplate): void;

  /**
   * A metric of the block from CloudWatch's `AWS/EC2CapacityReservations` namespace (dimension
   * `CapacityReservationId`), the average over 5 minutes unless `props` says otherwise. For an
   * UltraServer block, the reservation `capacityReservationId` names (EC2 reports each reservation).
   */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** The percentage of the block's instance capacity in use (`InstanceUtilization`). */
  metricInstanceUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** How many instances run in the block (`UsedInstanceCount`). */
  metricUsedInstanceCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** How many more instances the block can take (`AvailableInstanceCount`). */
  metricAvailableInstanceCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /** An EventBridge rule for EC2's "Capacity Block Delivered" event of this block (its start). */
  onDelivered(id: string, options?: events.OnEventOptions): events.Rule;

  /**
   * An EventBridge rule for EC2's "Capacity Block Expiration Warning" of this block, sent 40 minutes
   * before the end; instances in the block start terminating 10 minutes after it (an UltraServer
   * block's, 60 minutes before the end). Karpenter (1.6 or newer) drains a block's nodes by itself
   * 10 minutes before EC2 starts terminating them: 40 minutes before the end of an instance block,
   * as this event arrives.
   */
  onExpirationWarning(id: string, options?: events.OnEventOptions): events.Rule;

  /**
   * A managed node group of an `aws-eks` cluster that runs on this block (see
   * `CapacityBlockPurchase.applyToNodegroup`).
   *
   * @param cluster the cluster (an `eks.Cluster` or an imported one with its VPC)
   * @param id the node group's construct id (under the cluster)
   * @param options node group options; the helper fills in what the block decides
   */
  applyToNodegroup(cluster: eks.ICluster, id: string, options?: CapacityBlockNodegroupOptions): eks.Nodegroup;

  /**
   * `applyToNodegroup` for an `aws-eks-v2` cluster.
   *
   * @param cluster the cluster (an `eks_v2.Cluster` or an imported one with its VPC)
   * @param id the node group's construct id (under the cluster)
   * @param options node group options; the helper fills in what the block decides
   */
  applyToNodegroupV2(cluster: eksv2.ICluster, id: string, options?: CapacityBlockNodegroupV2Options): eksv2.Nodegroup;

  /**
   * Launch an Auto Scaling group's instances into this block (see `CapacityBlockPurchase.applyToAutoScalingGroup`).
   *
   * @param autoScalingGroup the group
   * @param options scheduled scaling at the block's start and before its end
   */
  applyToAutoScalingGroup(autoScalingGroup: autoscaling.AutoScalingGroup, options?: AutoScalingGroupCapacityOptions): void;

  /** The `capacityReservationSelectorTerms` entries that select this block, for a Karpenter `EC2NodeClass`. */
  karpenterSelectorTerms(): KarpenterCapacityReservationSelectorTerm[];

  /** The requirements that keep a Karpenter (or EKS Auto Mode) `NodePool` on this block. */
  karpenterRequirements(): KarpenterNodeSelectorRequirement[];

  /**
   * A `Scheduling.SlurmQueues[]` entry of an AWS ParallelCluster 3 configuration that runs on this block.
   *
   * @param options the queue name, its subnets (in the block's zone) and the node count
   */
  parallelClusterQueue(options: ParallelClusterQueueOptions): { [key: string]: any };
}

/** Detail types EC2 uses for the two events; the docs show both spellings, so match both. */
const DELIVERED_EVENTS = ['Capacity Block Delivered', 'Capacity Block Reservation Delivered'];
const EXPIRATION_WARNING_EVENTS = ['Capacity Block Expiration Warning', 'Capacity Block Reservation Expiration Warning'];

abstract class CapacityBlockBase extends Resource implements ICapacityBlock {
  public abstract readonly capacityReservationId: string;
  public abstract readonly capacityReservationArn: string;
  public abstract readonly capacityReservationIds: string[];
  /** What the integrations check consumers against, with the consumers wired so far. */
  private integrationFacts?: BlockFacts;

  public abstract reservedCapacityFacts(): ReservedCapacityFacts;

  /**
   * A managed node group of an `aws-eks` cluster that runs on this block: capacity type
   * `CAPACITY_BLOCK`, a launch template targeting the block (a resource group of its reservations
   * for an UltraServer block) with the `capacity-block` market type and the block's instance type,
   * subnets in the block's zone, and min = desired = max = the block's instance count unless given.
   *
   * Fails at synth when the options contradict the block: another instance type or capacity type,
   * subnets outside its zone (the purchase must set `availabilityZone`), more nodes than it holds,
   * or a launch template that requests Spot. EKS does not reject nodes asked for before the block
   * is active (its Auto Scaling group retries until it is), and scales the group to 0 by itself 40
   * minutes before the end; `scaleUpAtStart` creates it empty and scales it up at the start instead.
   * A previewOnly block gets the same node group with no nodes and no reservation in its template.
   *
   * @param cluster the cluster (an `eks.Cluster` or an imported one with its VPC)
   * @param id the node group's construct id (under the cluster)
   * @param options node group options; the helper fills in what the block decides
   */
  public applyToNodegroup(cluster: eks.ICluster, id: string, options: CapacityBlockNodegroupOptions = {}): eks.Nodegroup {
    return capacityBlockNodegroup(this.blockFacts(), cluster, id, options, eks.Nodegroup);
  }

  /**
   * `applyToNodegroup` for an `aws-eks-v2` cluster (the module built on the native
   * AWS::EKS::Cluster resource, with EKS Auto Mode). Auto Mode NodePools use
   * `karpenterSelectorTerms` and `karpenterRequirements` instead.
   *
   * @param cluster the cluster (an `eks_v2.Cluster` or an imported one with its VPC)
   * @param id the node group's construct id (under the cluster)
   * @param options node group options; the helper fills in what the block decides
   */
  public applyToNodegroupV2(cluster: eksv2.ICluster, id: string, options: CapacityBlockNodegroupV2Options = {}): eksv2.Nodegroup {
    return capacityBlockNodegroup(this.blockFacts(), cluster, id, options, eksv2.Nodegroup);
  }

  /**
   * Launch an Auto Scaling group's instances into this block, through its launch template (an
   * `ec2.LaunchTemplate` of this app, given as `launchTemplate` or `mixedInstancesPolicy`), and
   * scale the group to 0 40 minutes before the block ends (`scaleDownBeforeEnd`, on by default).
   *
   * Fails at synth when the group contradicts the block: another instance type, Spot instances,
   * subnets outside its zone (the purchase must set `availabilityZone`), more instances than it
   * holds, a launch configuration, or distribution segments without `capacity-block`. A previewOnly
   * block gets the group with min, desired and max 0.
   *
   * @param autoScalingGroup the group
   * @param options scheduled scaling at the block's start and before its end
   */
  public applyToAutoScalingGroup(autoScalingGroup: autoscaling.AutoScalingGroup, options: AutoScalingGroupCapacityOptions = {}): void {
    applyToAutoScalingGroup(this.blockFacts(), autoScalingGroup, options);
  }

  /**
   * The `capacityReservationSelectorTerms` entries that select this block, for a Karpenter
   * `EC2NodeClass` (Karpenter 1.6 or newer with the `ReservedCapacity` feature gate) or an EKS Auto
   * Mode `NodeClass`: the reservation id for an instance block; for an UltraServer block, a tag term
   * on the owner tag this library writes on each of its reservations; none for a previewOnly block
   * (a NodePool on reserved capacity then launches nothing).
   */
  public karpenterSelectorTerms(): KarpenterCapacityReservationSelectorTerm[] {
    return karpenterSelectorTerms(this.blockFacts(), this._ownerResource());
  }

  /**
   * The requirements that keep a Karpenter (or EKS Auto Mode) `NodePool` on this block:
   * `karpenter.sh/capacity-type` In `reserved`, the block's instance type and its zone.
   */
  public karpenterRequirements(): KarpenterNodeSelectorRequirement[] {
    return karpenterRequirements(this.blockFacts());
  }

  /**
   * A `Scheduling.SlurmQueues[]` entry of an AWS ParallelCluster 3 cluster configuration that runs
   * on this block (`CapacityType: CAPACITY_BLOCK`, the block as `CapacityReservationTarget`,
   * `MinCount == MaxCount`), as an object to serialize into the configuration (for example through
   * `Stack.toJsonString` into the ParallelCluster CloudFormation resource, so the id resolves). For
   * a previewOnly block, an On-Demand queue with `MaxCount: 0`, which can start no node.
   *
   * @param options the queue name, its subnets (in the block's zone) and the node count
   */
  public parallelClusterQueue(options: ParallelClusterQueueOptions): { [key: string]: any } {
    return parallelClusterQueue(this.blockFacts(), options);
  }

  /**
   * The resource whose owner tag the handler writes on every reservation it buys; none for an import.
   * @internal
   */
  protected _ownerResource(): CfnResource | undefined {
    return undefined;
  }

  /** The facts, made once so that every consumer wired to this block is counted together. */
  private blockFacts(): BlockFacts {
    if (!this.integrationFacts) {
      const facts = this.reservedCapacityFacts();
      this.integrationFacts = {
        block: this,
        instanceType: facts.instanceType,
        instanceCount: facts.instanceCount,
        literalZone: literal(facts.availabilityZone),
        zoneAttribute: facts.availabilityZone ?? '',
        reservationId: facts.capacityReservationId,
        ultraserverType: facts.ultraserverType,
        startDate: facts.startDate,
        endDate: facts.endDate,
        previewOnly: facts.previewOnly === true,
        consumers: [],
        applyToLaunchTemplate: launchTemplate => this.applyToLaunchTemplate(launchTemplate),
      };
    }
    return this.integrationFacts;
  }

  public applyToLaunchTemplate(launchTemplate: ec2.ILaunchTemplate): void {
    const cfn = launchTemplate.node.defaultChild;
    if (!(cfn instanceof ec2.CfnLaunchTemplate)) {
      throw new Error(`launch template ${launchTemplate.node.path} is not defined in this app (an imported template's data cannot be changed here); create it in this app, or set its CapacityReservationTarget to ${this.node.path}'s reservation and its MarketType to capacity-block where it is defined`);
    }
    this.pointAtBlock(cfn, launchTemplate.node.path, launchTemplate instanceof ec2.LaunchTemplate ? launchTemplate.instanceType?.toString() : undefined);
  }

  public applyToCfnLaunchTemplate(launchTemplate: ec2.CfnLaunchTemplate): void {
    const data = Token.isUnresolved(launchTemplate.launchTemplateData) ? undefined : launchTemplate.launchTemplateData as ec2.CfnLaunchTemplate.LaunchTemplateDataProperty;
    this.pointAtBlock(launchTemplate, launchTemplate.node.path, data?.instanceType);
  }

  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return reservationMetric(this, 'AWS/EC2CapacityReservations', { CapacityReservationId: this.capacityReservationId }, metricName, props);
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

  /**
   * The CapacityReservationTarget key and value a launch template names this block by, once the
   * template (its instance type, when set) may use the block.
   * @internal
   */
  protected _launchTarget(_templatePath: string, _templateType: string | undefined): [string, string] | undefined {
    return ['CapacityReservationId', this.capacityReservationId];
  }

  private pointAtBlock(cfn: ec2.CfnLaunchTemplate, templatePath: string, templateType: string | undefined): void {
    const target = this._launchTarget(templatePath, templateType);
    // A previewOnly purchase has no reservation to name: the capacity-block market type without a
    // target makes every launch from the template fail, so nothing runs (or is paid) on it until
    // the real deploy names the block.
    if (target) cfn.addPropertyOverride(`LaunchTemplateData.CapacityReservationSpecification.CapacityReservationTarget.${target[0]}`, target[1]);
    cfn.addPropertyOverride('LaunchTemplateData.InstanceMarketOptions.MarketType', 'capacity-block');
  }

  public onDelivered(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.blockEventRule(id, DELIVERED_EVENTS, options);
  }

  public onExpirationWarning(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.blockEventRule(id, EXPIRATION_WARNING_EVENTS, options);
  }

  private blockEventRule(id: string, detailType: string[], options: events.OnEventOptions): events.Rule {
    const rule = new events.Rule(this, id, {
      description: options.description,
      ruleName: options.ruleName,
      crossStackScope: options.crossStackScope,
      eventPattern: {
        source: ['aws.ec2'],
        detailType,
        // EC2 sends the events per reservation: an UltraServer block's rule matches each of them.
        detail: { 'capacity-reservation-id': this.eventReservationIds() },
      },
    });
    if (options.eventPattern) {
      rule.addEventPattern(options.eventPattern);
    }
    if (options.target) {
      rule.addTarget(options.target);
    }
    return rule;
  }

  protected eventReservationIds(): string[] {
    return [this.capacityReservationId];
  }
}

/** Properties of a CapacityBlockPurchase. */
export interface CapacityBlockPurchaseProps {
  /**
   * The instance type to reserve, for an instance block. Set either instanceType and instanceCount,
   * or ultraserverType and ultraserverCount.
   * @default - none: an UltraServer block (ultraserverType) instead
   */
  readonly instanceType?: CapacityBlockInstanceType;

  /**
   * How many instances the block holds: 1 to 64 (EC2 allows 256 across all your blocks).
   * @default - none: an UltraServer block (ultraserverCount) instead
   */
  readonly instanceCount?: number;

  /**
   * The UltraServer type to reserve, for an UltraServer block (e.g. P6e-GB200 NVL72). EC2 sells the
   * flagship GPU systems only this way. Exclusive with instanceType/instanceCount.
   * @default - none: an instance block (instanceType) instead
   */
  readonly ultraserverType?: UltraServerType;

  /**
   * How many UltraServers the block holds.
   * @default - none: an instance block (instanceCount) instead
   */
  readonly ultraserverCount?: number;

  /**
   * List offerings in every Availability Zone and Local Zone of the region, whether or not the
   * account has opted in to the zone (EC2 `AllAvailabilityZones`). P6e-GB200 UltraServers are sold
   * in the Dallas Local Zone; to buy and use one there, the account must be opted in to it.
   * @default false - only the zones the account uses (Local Zones it has opted in to included)
   */
  readonly allAvailabilityZones?: boolean;

  /** How long the block lasts: 1–14 days in whole days, or 21–182 days in 7-day steps. */
  readonly duration: Duration;

  /**
   * The most this block may cost up front, in `currencyCode`. Offerings above it are never bought,
   * and an extension (a longer `duration` on update) must cost at most this much on its own. For an
   * UltraServer block it is the ceiling for all `ultraserverCount` UltraServers together, not per
   * UltraServer: EC2's `UpfrontFee` is the offering's total price.
   */
  readonly maxUpfrontFee: number;

  /**
   * The currency `maxUpfrontFee` is in; offerings in another currency are refused.
   * @default 'USD'
   */
  readonly currencyCode?: string;

  /**
   * Buy this offering (from `aws ec2 describe-capacity-block-offerings` or a `previewOnly` run)
   * instead of searching. It must still match instanceType, instanceCount and duration, and cost
   * at most maxUpfrontFee. Cannot be combined with earliestStart, latestEnd, availabilityZone or selection.
   * @default - search at deploy time and pick by `selection`
   */
  readonly offeringId?: string;

  /**
   * The block must not start before this instant. EC2 sells blocks that start at most 8 weeks ahead,
   * so a later instant is refused (at synth, and again at deploy time).
   * @default - now
   */
  readonly earliestStart?: Date;

  /**
   * The block must end by this instant.
   * @default - any end EC2 offers (offerings start up to 8 weeks ahead)
   */
  readonly latestEnd?: Date;

  /**
   * Only offerings in this Availability Zone (e.g. where your subnets are).
   * @default - any zone of the stack's region
   */
  readonly availabilityZone?: string;

  /**
   * How to choose among acceptable offerings.
   * @default OfferingSelection.CHEAPEST
   */
  readonly selection?: OfferingSelection;

  /**
   * The operating system instances in the block will run.
   * @default InstancePlatform.LINUX_UNIX
   */
  readonly instancePlatform?: InstancePlatform;

  /**
   * Search and dry-run the purchase, buy nothing. The attributes describe the offering that would be
   * bought (its id is in `offeringId`); `capacityReservationId` is empty.
   * @default false
   */
  readonly previewOnly?: boolean;

  /**
   * How long the deployment waits for the payment to clear (state `scheduled` or `active`). If it is
   * still `payment-pending` then, the deployment succeeds with state `payment-pending` and a note;
   * the block is bought either way. At most 50 minutes: CloudFormation gives a custom resource at most
   * 60 minutes (its ServiceTimeout), and the search and purchase come first.
   * @default Duration.minutes(30)
   */
  readonly waitTimeout?: Duration;

  /**
   * Let an update that needs a different block (instance type, count, zone, window, platform or
   * offering) buy a new one. The old block cannot be cancelled: you pay for both.
   * @default false - such updates fail with a message naming the current block
   */
  readonly allowRepurchase?: boolean;

  /**
   * Tags for the Capacity Reservation. `Tags.of(scope)` propagates here too.
   * @default - no tags beyond the ones this library writes (prefix `cdk-capacity-reservations:`)
   */
  readonly tags?: { [key: string]: string };

  /**
   * The provider that buys the block: one you made to set its log retention, KMS keys or VPC
   * (`new CapacityBlockProvider(stack, 'Provider', { ... })`), for any number of blocks.
   * @default - the stack's own provider, with default options, made by its first block
   */
  readonly provider?: CapacityBlockProvider;
}

/**
 * Buys an EC2 Capacity Block for ML while the stack deploys.
 *
 * Create searches the offerings, refuses every offering above `maxUpfrontFee`, buys the best one
 * exactly once (tagged with an idempotency key) and waits for the payment. A Capacity Block can
 * never be cancelled: deleting the stack leaves the block to expire at its end date.
 */
export class CapacityBlockPurchase extends CapacityBlockBase implements ITaggable {
  /**
   * Import a Capacity Block bought elsewhere by its id. The integrations need more of it (its
   * instance type, count and zone): use `fromCapacityReservationAttributes` for them.
   */
  public static fromCapacityReservationId(scope: Construct, id: string, capacityReservationId: string): ICapacityBlock {
    return CapacityBlockPurchase.fromCapacityReservationAttributes(scope, id, { capacityReservationId });
  }

  /**
   * Import a Capacity Block bought elsewhere (the console, another team, another stack) with what
   * the integrations need of it: every helper (node groups, Auto Scaling groups, Karpenter,
   * ParallelCluster) takes it and checks its consumers against the facts given.
   */
  public static fromCapacityReservationAttributes(scope: Construct, id: string, attrs: CapacityBlockAttributes): ICapacityBlock {
    const errors = importErrors(attrs);
    if (errors.length > 0) throw new Error(`CapacityBlockPurchase.fromCapacityReservationAttributes ${id}: ${errors.join('; ')}`);
    class Import extends CapacityBlockBase {
      public readonly capacityReservationId = attrs.capacityReservationId;
      public readonly capacityReservationIds = [attrs.capacityReservationId];
      public readonly capacityReservationArn = Stack.of(scope).formatArn({
        service: 'ec2',
        resource: 'capacity-reservation',
        resourceName: attrs.capacityReservationId,
      });

      public reservedCapacityFacts(): ReservedCapacityFacts {
        return { ...attrs };
      }
    }
    return new Import(scope, id);
  }

  public readonly capacityReservationId: string;
  public readonly capacityReservationArn: string;
  public readonly capacityReservationIds: string[];

  /**
   * The Capacity Block id EC2 gave the purchase (the first, when an UltraServer purchase holds several).
   * @attribute
   */
  public readonly capacityBlockId: string;

  /**
   * For an UltraServer block: the accelerator interconnect status (`ok`, `impaired`,
   * `insufficient-data`) when the deployment finished and the block was active; empty otherwise.
   * @attribute
   */
  public readonly interconnectStatus: string;

  /** The UltraServer type, for an UltraServer block. */
  public readonly ultraserverType?: UltraServerType;

  /**
   * The Availability Zone of the block.
   * @attribute
   */
  public readonly availabilityZone: string;

  /**
   * When the block starts (ISO 8601).
   * @attribute
   */
  public readonly startDate: string;

  /**
   * When the block ends (ISO 8601); it expires by itself then.
   * @attribute
   */
  public readonly endDate: string;

  /**
   * The upfront fee paid (or, for previewOnly, that would be paid), as a decimal string.
   * @attribute
   */
  public readonly upfrontFee: string;

  /**
   * The currency of `upfrontFee`.
   * @attribute
   */
  public readonly currencyCode: string;

  /**
   * The reservation state when the deployment finished: `scheduled`, `active`, `payment-pending`
   * (the wait timed out; the block is bought) or `preview`.
   * @attribute
   */
  public readonly state: string;

  /**
   * The offering that was bought (or would be, for previewOnly).
   * @attribute
   */
  public readonly purchasedOfferingId: string;

  /** Tags of the Capacity Reservation. */
  public readonly tags: TagManager;

  /** The most this block may cost up front (a token when it comes from a parameter). */
  public readonly maxUpfrontFee: number;

  /** The currency of `maxUpfrontFee`. */
  public readonly maxUpfrontFeeCurrency: string;

  /** True when the resource only previews: it buys nothing. */
  public readonly previewOnly: boolean;

  private readonly instanceType?: CapacityBlockInstanceType;
  private readonly capacityReservationArns: string[];
  private reservationGroup?: resourcegroups.CfnGroup;
  private readonly instanceCount?: number;
  private readonly literalZone?: string;

  constructor(scope: Construct, id: string, props: CapacityBlockPurchaseProps) {
    super(scope, id);
    const typeErrors = propTypeErrors(props, PROP_SPECS);
    if (typeErrors.length > 0) {
      throw new Error(`CapacityBlockPurchase ${this.node.path}: ${typeErrors.join('; ')}`);
    }
    const errors = literalPropErrors(props, Stack.of(this).region);
    if (errors.length > 0) {
      throw new Error(`CapacityBlockPurchase ${this.node.path}: ${errors.join('; ')}`);
    }
    this.previewOnly = props.previewOnly === true;
    this.instanceType = props.instanceType;
    this.ultraserverType = props.ultraserverType;
    this.maxUpfrontFee = props.maxUpfrontFee;
    this.maxUpfrontFeeCurrency = props.currencyCode ?? DEFAULT_CURRENCY;
    // `cdk synth` shows the worst case of every block, as the money it is.
    Annotations.of(this).addInfo(this.previewOnly
      ? 'previewOnly: buys nothing; reports the offering it would buy'
      : `Buys a Capacity Block for up to ${Token.isUnresolved(props.maxUpfrontFee) ? 'the maxUpfrontFee given at deploy time' : `${props.maxUpfrontFee} ${this.maxUpfrontFeeCurrency}`} up front, non-refundable: a Capacity Block cannot be cancelled. Each extension may cost that much again`);
    const typeWarning = props.instanceType && !Token.isUnresolved(props.instanceType.name) ? rules.capacityBlockInstanceTypeWarning(props.instanceType.name) : undefined;
    if (typeWarning) Annotations.of(this).addWarningV2(INSTANCE_TYPE_WARNING, typeWarning);
    this.tags = new TagManager(TagType.KEY_VALUE, RESOURCE_TYPE, props.tags);
    this.node.addValidation({ validate: () => rules.tagErrors(this.literalTags(), props.ultraserverType !== undefined) });

    const properties: CapacityBlockWireProperties = {
      InstanceType: props.instanceType?.name,
      InstanceCount: props.instanceCount === undefined ? undefined : numberToWire(props.instanceCount),
      UltraserverType: props.ultraserverType?.name,
      UltraserverCount: props.ultraserverCount === undefined ? undefined : numberToWire(props.ultraserverCount),
      AllAvailabilityZones: props.allAvailabilityZones ? 'true' : undefined,
      DurationHours: durationHoursToWire(props.duration),
      MaxUpfrontFee: numberToWire(props.maxUpfrontFee),
      CurrencyCode: props.currencyCode,
      OfferingId: props.offeringId,
      EarliestStart: props.earliestStart?.toISOString(),
      LatestEnd: props.latestEnd?.toISOString(),
      AvailabilityZone: props.availabilityZone,
      Selection: props.selection,
      InstancePlatform: props.instancePlatform?.value === DEFAULT_PLATFORM ? undefined : props.instancePlatform?.value,
      PreviewOnly: this.previewOnly ? 'true' : undefined,
      WaitTimeoutSeconds: props.waitTimeout ? numberToWire(props.waitTimeout.toSeconds()) : undefined,
      AllowRepurchase: props.allowRepurchase ? 'true' : undefined,
      Tags: Lazy.any({ produce: () => this.tags.renderTags() }) as unknown as WireTag[],
    };

    const provider = props.provider ?? CapacityBlockProvider.getOrCreate(this);
    registerConsumer(provider, this);
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: RESOURCE_TYPE,
      properties,
      // Explicit, so the budget every layer fits into is in the template (see SERVICE_TIMEOUT_SECONDS).
      serviceTimeout: Duration.seconds(SERVICE_TIMEOUT_SECONDS),
    });
    const attr = (name: AttributeName) => resource.getAttString(name);
    this.capacityReservationId = attr('CapacityReservationId');
    this.capacityReservationArn = attr('CapacityReservationArn');
    this.capacityReservationIds = Fn.split(',', attr('CapacityReservationIds'));
    this.capacityReservationArns = Fn.split(',', attr('CapacityReservationArns'));
    this.capacityBlockId = attr('CapacityBlockId');
    this.interconnectStatus = attr('InterconnectStatus');
    this.availabilityZone = attr('AvailabilityZone');
    this.startDate = attr('StartDate');
    this.endDate = attr('EndDate');
    this.upfrontFee = attr('UpfrontFee');
    this.currencyCode = attr('CurrencyCode');
    this.state = attr('State');
    this.purchasedOfferingId = attr('OfferingId');
    this.instanceCount = props.instanceCount;
    this.literalZone = props.availabilityZone !== undefined && !Token.isUnresolved(props.availabilityZone) ? props.availabilityZone : undefined;
  }

  /**
   * What the integrations need: the literal props (instance type, count, zone when pinned) and the
   * deploy-time attributes (id, zone EC2 answered, start and end).
   */
  public reservedCapacityFacts(): ReservedCapacityFacts {
    return {
      capacityReservationId: this.capacityReservationId,
      instanceType: this.instanceType?.name ?? this.ultraserverType?.instanceType,
      instanceCount: this.instanceCount,
      availabilityZone: this.literalZone ?? this.availabilityZone,
      startDate: this.startDate,
      endDate: this.endDate,
      ultraserverType: this.ultraserverType?.name,
      previewOnly: this.previewOnly,
    };
  }

  /** @internal */
  protected _ownerResource(): CfnResource {
    return (this.node.findChild('Resource') as CustomResource).node.defaultChild as CfnResource;
  }

  /**
   * A template's instance type, if set, must be the block's. An UltraServer block is several
   * reservations and a launch template names one target: EC2's documented way to launch into
   * UltraServer Capacity Blocks is a Capacity Reservation resource group holding them.
   * @internal
   */
  protected _launchTarget(templatePath: string, templateType: string | undefined): [string, string] | undefined {
    const blockType = this.instanceType?.name ?? this.ultraserverType?.instanceType;
    if (templateType !== undefined && blockType !== undefined && !Token.isUnresolved(templateType) && !Token.isUnresolved(blockType) && templateType !== blockType) {
      const what = this.ultraserverType ? `UltraServers of ${this.ultraserverType.name}, whose nodes are` : '';
      throw new Error(`launch template ${templatePath} has instanceType ${templateType}, but Capacity Block ${this.node.path} reserves ${what} ${blockType}; use the same instance type`.replace('  ', ' '));
    }
    if (this.previewOnly) return undefined;
    return this.ultraserverType
      ? ['CapacityReservationResourceGroupArn', this.reservationResourceGroup().attrArn]
      : super._launchTarget(templatePath, templateType);
  }

  /**
   * The Capacity Reservation resource group holding every reservation of this block (created on
   * first use, one per block). `applyToLaunchTemplate` targets it for an UltraServer block.
   */
  public reservationResourceGroup(): resourcegroups.CfnGroup {
    if (this.previewOnly) {
      throw new Error(`CapacityBlockPurchase ${this.node.path} is previewOnly and buys nothing, so it has no reservations to group; remove previewOnly first`);
    }
    this.reservationGroup ??= new resourcegroups.CfnGroup(this, 'ReservationGroup', {
      name: Names.uniqueResourceName(this, { maxLength: 128, separator: '-' }),
      description: 'The Capacity Reservations of an UltraServer Capacity Block - cdk-capacity-reservations',
      configuration: [
        { type: 'AWS::EC2::CapacityReservationPool' },
        { type: 'AWS::ResourceGroups::Generic', parameters: [{ name: 'allowed-resource-types', values: ['AWS::EC2::CapacityReservation'] }] },
      ],
      resources: this.capacityReservationArns,
    });
    return this.reservationGroup;
  }

  protected eventReservationIds(): string[] {
    return this.ultraserverType ? this.capacityReservationIds : [this.capacityReservationId];
  }

  private literalTags(): WireTag[] {
    const rendered: WireTag[] = this.tags.renderTags() ?? [];
    return rendered.filter(t => !Token.isUnresolved(t.Key) && !Token.isUnresolved(t.Value));
  }
}

/** The id of the synth warning for an instance type EC2 did not sell as Capacity Blocks at release (`Annotations.acknowledgeWarning`). */
const INSTANCE_TYPE_WARNING = 'cdk-capacity-reservations:instanceType';

/** What each prop is at run time, for JavaScript callers: TypeScript and jsii check it for the others. */
const PROP_SPECS: Record<keyof CapacityBlockPurchaseProps, PropSpec> = {
  instanceType: { kind: { type: 'instance', is: value => value instanceof CapacityBlockInstanceType, example: "a CapacityBlockInstanceType such as CapacityBlockInstanceType.P5_48XLARGE or CapacityBlockInstanceType.of('p5.48xlarge')" } },
  instanceCount: { kind: { type: 'number' } },
  ultraserverType: { kind: { type: 'instance', is: value => value instanceof UltraServerType, example: "an UltraServerType such as UltraServerType.P6E_GB200_X72 or UltraServerType.of('u-p6e-gb200x72')" } },
  ultraserverCount: { kind: { type: 'number' } },
  allAvailabilityZones: { kind: { type: 'boolean' } },
  duration: { kind: { type: 'instance', is: value => value instanceof Duration, example: 'a Duration such as Duration.days(2)' }, required: 'how long the block lasts, e.g. duration: Duration.days(2)' },
  maxUpfrontFee: { kind: { type: 'number' }, required: 'the most you will pay up front, in currencyCode (USD by default), e.g. maxUpfrontFee: 6500' },
  currencyCode: { kind: { type: 'string' } },
  offeringId: { kind: { type: 'string' } },
  earliestStart: { kind: { type: 'date' } },
  latestEnd: { kind: { type: 'date' } },
  availabilityZone: { kind: { type: 'string' } },
  selection: { kind: { type: 'one-of', values: Object.values(OfferingSelection) } },
  instancePlatform: { kind: { type: 'instance', is: value => value instanceof InstancePlatform, example: "an InstancePlatform such as InstancePlatform.LINUX_UNIX or InstancePlatform.of('Ubuntu Pro')" } },
  previewOnly: { kind: { type: 'boolean' } },
  waitTimeout: { kind: { type: 'instance', is: value => value instanceof Duration, example: 'a Duration such as Duration.minutes(30)' } },
  allowRepurchase: { kind: { type: 'boolean' } },
  tags: { kind: { type: 'string-map' } },
  provider: { kind: { type: 'instance', is: value => value instanceof CapacityBlockProvider, example: "a CapacityBlockProvider (new CapacityBlockProvider(stack, 'Provider', { ... }))" } },
};

/** Every literal prop checked at synth; tokens are checked by the handler once they resolve. */
function literalPropErrors(props: CapacityBlockPurchaseProps, region: string): string[] {
  const literal = <T>(value: T | undefined): value is T => value !== undefined && !Token.isUnresolved(value);
  const errors: Array<string | undefined> = [];
  errors.push(rules.blockShapeError({
    instanceType: props.instanceType !== undefined,
    instanceCount: props.instanceCount !== undefined,
    ultraserverType: props.ultraserverType !== undefined,
    ultraserverCount: props.ultraserverCount !== undefined,
  }));
  if (literal(props.instanceCount)) errors.push(rules.instanceCountError(props.instanceCount));
  if (literal(props.ultraserverCount)) errors.push(rules.ultraserverCountError(props.ultraserverCount));
  if (props.ultraserverType && literal(props.ultraserverType.name)) errors.push(rules.ultraserverTypeError(props.ultraserverType.name));
  if (literal(props.maxUpfrontFee)) errors.push(rules.maxUpfrontFeeError(props.maxUpfrontFee));
  if (literal(props.currencyCode)) errors.push(rules.currencyCodeError(props.currencyCode));
  if (props.instanceType && literal(props.instanceType.name)) errors.push(rules.instanceTypeError(props.instanceType.name));
  if (literal(props.offeringId)) errors.push(rules.offeringIdError(props.offeringId));
  if (literal(props.availabilityZone)) {
    errors.push(rules.availabilityZoneError(props.availabilityZone, Token.isUnresolved(region) ? undefined : region));
  }
  const durationHours = props.duration.isUnresolved() ? undefined : props.duration.toHours({ integral: false });
  if (durationHours !== undefined) errors.push(rules.durationError(durationHours));
  if (props.waitTimeout && !props.waitTimeout.isUnresolved()) {
    errors.push(rules.waitTimeoutError(props.waitTimeout.toSeconds({ integral: false })));
  }
  errors.push(rules.windowError(props.earliestStart, props.latestEnd, durationHours));
  errors.push(rules.leadTimeError(props.earliestStart, new Date()));
  errors.push(rules.latestEndPassedError(props.latestEnd, new Date()));
  if (props.offeringId !== undefined) {
    errors.push(rules.pinnedOfferingConflicts({
      earliestStart: props.earliestStart,
      latestEnd: props.latestEnd,
      availabilityZone: props.availabilityZone,
      selection: props.selection,
    }));
  }
  if (props.previewOnly && props.allowRepurchase) {
    errors.push('allowRepurchase has no effect with previewOnly (a preview buys nothing); remove one of them');
  }
  return errors.filter((e): e is string => e !== undefined);
}

/** The literal attributes of an imported block, checked as the purchase's props are. */
function importErrors(attrs: CapacityBlockAttributes): string[] {
  const errors: Array<string | undefined> = [];
  if (literal(attrs.capacityReservationId) !== undefined && !/^cr-[0-9a-z]+$/.test(attrs.capacityReservationId)) {
    errors.push(`capacityReservationId must be a Capacity Reservation id (cr-…), got '${attrs.capacityReservationId}'`);
  }
  if (literal(attrs.instanceCount) !== undefined && !(Number.isInteger(attrs.instanceCount) && attrs.instanceCount! >= 1)) {
    errors.push(`instanceCount must be a whole number of instances, 1 or more, got ${attrs.instanceCount}`);
  }
  for (const [prop, value] of [['startDate', attrs.startDate], ['endDate', attrs.endDate]] as const) {
    if (literal(value) !== undefined && Number.isNaN(Date.parse(value!))) errors.push(`${prop} must be an ISO 8601 date such as 2026-12-10T11:30:00.000Z, got '${value}'`);
  }
  return errors.filter((e): e is string => e !== undefined);
}

function numberToWire(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}

function durationHoursToWire(duration: Duration): string {
  // A token Duration must be given in hours (Duration.hours(param)); CDK throws a clear error otherwise.
  return duration.isUnresolved() ? Token.asString(duration.toHours()) : String(duration.toHours({ integral: false }));
}

