import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Annotations, Fn } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { BlockFacts, blockName, literal, registerConsumer } from './block-facts';
import { utcSeconds } from './reserved-capacity';
import { instanceTypeError, launchTemplateErrors, sizeErrors, throwIfAny, zoneErrors } from './rules';

/** Options of `applyToAutoScalingGroup`. */
export interface AutoScalingGroupCapacityOptions {
  /**
   * Scale the group to 0 (min and desired) 40 minutes before the block ends, with an
   * `AWS::AutoScaling::ScheduledAction` at that time (UTC): instances are terminated through the
   * group's own lifecycle hooks 10 minutes before EC2 shuts them down, and the group stops trying
   * to replace them once the block is gone.
   * @default true
   */
  readonly scaleDownBeforeEnd?: boolean;

  /**
   * Keep the group at 0 until the block starts, and scale it to its min/desired/max then, with an
   * `AWS::AutoScaling::ScheduledAction` at the block's start (UTC). Off by default: a group that
   * asks for instances before the block is active retries its launches until it is, and Auto
   * Scaling refuses a scheduled action whose time has passed, so a deploy that finishes after the
   * start (a long payment wait, a block that is already active) would fail.
   * @default false - the group asks for its desired capacity at once, and its launches succeed when the block starts
   */
  readonly scaleUpAtStart?: boolean;
}

/** The capacity type Auto Scaling's distribution segments name Capacity Blocks by. */
const CAPACITY_BLOCK_SEGMENT = 'capacity-block';

/**
 * Launches the group's instances into the block through its launch template, after checking what
 * the group would get wrong: another instance type, Spot, subnets outside the block's zone, more
 * instances than the block holds, distribution segments without `capacity-block`.
 */
export function applyToAutoScalingGroup(facts: BlockFacts, asg: autoscaling.AutoScalingGroup, options: AutoScalingGroupCapacityOptions = {}): void {
  const name = `Auto Scaling group ${asg.node.path}`;
  const cfn = asg.node.defaultChild as autoscaling.CfnAutoScalingGroup;
  if (cfn.launchConfigurationName !== undefined) {
    throw new Error(`${name} uses a launch configuration, which cannot launch into ${blockName(facts)}; give the group a launchTemplate (or enable @aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig)`);
  }
  const launchTemplate = findLaunchTemplate(asg, cfn);
  if (!launchTemplate) {
    throw new Error(`${name} launches from a launch template that is not an ec2.LaunchTemplate of this app, so ${blockName(facts)} cannot be applied to it; apply the block to that template (applyToLaunchTemplate) where it is defined`);
  }
  throwIfAny([...launchTemplateErrors(launchTemplate, facts), ...groupErrors(name, cfn, facts)]);
  facts.applyToLaunchTemplate(launchTemplate);
  registerConsumer(facts, { name, instances: asNumber(cfn.maxSize) });
  // Sizes and distribution segments can still change through the L1 afterwards.
  asg.node.addValidation({ validate: () => groupErrors(name, cfn, facts) });
  if (facts.previewOnly) {
    // Nothing is bought: the group exists with no instances (its template has no reservation to
    // launch into), and the real deploy right after gives it its sizes.
    cfn.addPropertyOverride('MinSize', '0');
    cfn.addPropertyOverride('MaxSize', '0');
    cfn.addPropertyOverride('DesiredCapacity', '0');
    Annotations.of(asg).addInfo(`previewOnly: ${blockName(facts)} buys nothing, so this group is deployed with min, desired and max 0 and no scheduled actions; it gets its sizes when previewOnly is removed`);
    return;
  }
  scheduleGroup(facts, asg, cfn, options);
}

/** Scheduled actions at the block's start and 40 minutes before its end. */
function scheduleGroup(facts: BlockFacts, asg: autoscaling.AutoScalingGroup, cfn: autoscaling.CfnAutoScalingGroup, options: AutoScalingGroupCapacityOptions): void {
  if (options.scaleUpAtStart) {
    if (facts.startDate === undefined) throw new Error(`Auto Scaling group ${asg.node.path} has scaleUpAtStart, but the start of ${blockName(facts)} is not known; give startDate when importing it, or remove scaleUpAtStart`);
    new autoscaling.CfnScheduledAction(asg, 'ScaleUpAtBlockStart', {
      autoScalingGroupName: asg.autoScalingGroupName,
      startTime: `${utcSeconds(facts.startDate)}Z`,
      minSize: asNumber(cfn.minSize),
      desiredCapacity: asNumber(cfn.desiredCapacity),
      maxSize: asNumber(cfn.maxSize),
    });
    cfn.addPropertyOverride('MinSize', '0');
    cfn.addPropertyOverride('DesiredCapacity', '0');
  }
  if (options.scaleDownBeforeEnd ?? true) {
    if (facts.endDate === undefined) return;
    if (literal(facts.endDate) !== undefined && Date.parse(facts.endDate) <= Date.now()) {
      throw new Error(`Auto Scaling group ${asg.node.path} cannot be scaled down before the end of ${blockName(facts)}: it ended at ${facts.endDate}, and Auto Scaling refuses a scheduled action in the past; set scaleDownBeforeEnd: false, or wire a live block`);
    }
    new autoscaling.CfnScheduledAction(asg, 'ScaleDownBeforeBlockEnd', {
      autoScalingGroupName: asg.autoScalingGroupName,
      startTime: `${beforeTermination(facts.endDate, facts.ultraserverType !== undefined)}Z`,
      minSize: 0,
      desiredCapacity: 0,
    });
  }
}

/**
 * 10 minutes before EC2 starts terminating the block's instances, to the second: 40 minutes before
 * the end of an instance block (EC2 terminates 30 minutes before), 70 before the end of an
 * UltraServer block (60). A literal is computed; a deploy-time attribute is a Capacity Block's end,
 * which EC2 always sets at 11:30 UTC, so 10:50:00 (10:20:00) on that day.
 */
export function beforeTermination(end: string, ultraserver: boolean): string {
  const minutes = ultraserver ? 70 : 40;
  if (literal(end) !== undefined) return utcSeconds(new Date(new Date(end).getTime() - minutes * 60_000).toISOString());
  return `${Fn.select(0, Fn.split('T', end))}T${ultraserver ? '10:20:00' : '10:50:00'}`;
}

function groupErrors(name: string, cfn: autoscaling.CfnAutoScalingGroup, facts: BlockFacts): string[] {
  const policy = cfn.mixedInstancesPolicy as autoscaling.CfnAutoScalingGroup.MixedInstancesPolicyProperty | undefined;
  const distribution = policy?.instancesDistribution as autoscaling.CfnAutoScalingGroup.InstancesDistributionProperty | undefined;
  const template = policy?.launchTemplate as autoscaling.CfnAutoScalingGroup.LaunchTemplateProperty | undefined;
  const overrides = (Array.isArray(template?.overrides) ? template!.overrides : []) as autoscaling.CfnAutoScalingGroup.LaunchTemplateOverridesProperty[];
  const segments = (Array.isArray(distribution?.distributionSegments) ? distribution!.distributionSegments : []) as autoscaling.CfnAutoScalingGroup.DistributionSegmentProperty[];
  const reservation = cfn.capacityReservationSpecification as autoscaling.CfnAutoScalingGroup.CapacityReservationSpecificationProperty | undefined;
  const onDemandShare = literal(distribution?.onDemandPercentageAboveBaseCapacity);
  return [
    onDemandShare !== undefined && onDemandShare < 100
      ? `${name} launches ${100 - onDemandShare}% Spot instances (onDemandPercentageAboveBaseCapacity ${onDemandShare}), but ${blockName(facts)} is launched with the capacity-block market type; remove the Spot settings from instancesDistribution`
      : undefined,
    ...overrides.map(o => instanceTypeError(`${name} (launchTemplateOverrides)`, o.instanceType, facts)),
    segments.length > 0 && !segments.some(s => Array.isArray(s.targetCapacityTypes) && s.targetCapacityTypes.includes(CAPACITY_BLOCK_SEGMENT))
      ? `${name} has distribution segments without '${CAPACITY_BLOCK_SEGMENT}', so it would not launch into ${blockName(facts)}; add '${CAPACITY_BLOCK_SEGMENT}' to targetCapacityTypes`
      : undefined,
    reservation?.capacityReservationPreference === 'none'
      ? `${name} has capacityReservationPreference none, so it would not launch into ${blockName(facts)}; remove capacityReservationSpecification`
      : undefined,
    ...sizeErrors(name, { minCapacity: asNumber(cfn.minSize), desiredCapacity: asNumber(cfn.desiredCapacity), maxCapacity: asNumber(cfn.maxSize) }, facts),
    ...zoneErrors(name, subnetsOf(cfn), facts),
  ].filter((e): e is string => e !== undefined);
}

function asNumber(value: string | undefined): number | undefined {
  return literal(value) === undefined ? undefined : Number(value);
}

/** The group's launch template construct, matched by the id the group's L1 refers to. */
function findLaunchTemplate(asg: autoscaling.AutoScalingGroup, cfn: autoscaling.CfnAutoScalingGroup): ec2.LaunchTemplate | undefined {
  const direct = cfn.launchTemplate as autoscaling.CfnAutoScalingGroup.LaunchTemplateSpecificationProperty | undefined;
  const mixed = (cfn.mixedInstancesPolicy as autoscaling.CfnAutoScalingGroup.MixedInstancesPolicyProperty | undefined)?.launchTemplate as autoscaling.CfnAutoScalingGroup.LaunchTemplateProperty | undefined;
  const spec = direct ?? (mixed?.launchTemplateSpecification as autoscaling.CfnAutoScalingGroup.LaunchTemplateSpecificationProperty | undefined);
  const id = spec?.launchTemplateId;
  if (id === undefined) return undefined;
  return asg.node.root.node.findAll().find((c): c is ec2.LaunchTemplate => c instanceof ec2.LaunchTemplate && c.launchTemplateId === id);
}

/**
 * The group's subnets, as constructs of this app (a Vpc's subnets, or imported ones, carry their
 * zone). A subnet id that names no construct here is skipped: its zone is only known at deploy time.
 */
function subnetsOf(cfn: autoscaling.CfnAutoScalingGroup): ec2.ISubnet[] {
  const ids = new Set(Array.isArray(cfn.vpcZoneIdentifier) ? cfn.vpcZoneIdentifier : []);
  return cfn.node.root.node.findAll().filter(isSubnet).filter(s => ids.has(s.subnetId));
}

function isSubnet(c: IConstruct): c is ec2.ISubnet {
  const candidate = c as Partial<ec2.ISubnet>;
  return typeof candidate.subnetId === 'string' && typeof candidate.availabilityZone === 'string' && 'routeTable' in candidate;
}
