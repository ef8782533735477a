import { Annotations, TimeZone } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct, IConstruct } from 'constructs';
import { BlockFacts, blockName, literal, registerConsumer } from './block-facts';
import { utcSeconds } from './reserved-capacity';
import { instanceTypeError, launchTemplateErrors, sizeErrors, throwIfAny, zoneErrors } from './rules';

/** Options of `CapacityBlockPurchase.applyToNodegroup` (aws-eks clusters). */
export interface CapacityBlockNodegroupOptions extends eks.NodegroupOptions {
  /**
   * The launch template of the nodes (AMI, user data, block devices). The block is applied to it
   * (capacity reservation target and the `capacity-block` market type); it must not request Spot.
   *
   * @default - a new launch template with the block's instance type and IMDSv2 required
   */
  readonly launchTemplate?: ec2.LaunchTemplate;

  /**
   * Create the node group with no nodes and scale it to its sizes when the block starts, through
   * a one-time EventBridge Scheduler schedule (`at(...)` in UTC) whose universal target calls
   * `eks:updateNodegroupConfig` (no Lambda function). Off by default: EKS does not reject a node
   * group that asks for nodes before its block is active (its Auto Scaling group retries the
   * launches until it is), a later deploy that changes the node group's sizes would set the
   * desired size back to 0, and what Scheduler does with a one-time schedule whose time has passed
   * (a deploy that ends after the start) is not confirmed. The scale-to-0 EKS schedules by itself 40 minutes before the end is
   * left alone either way.
   * @default false
   */
  readonly scaleUpAtStart?: boolean;
}

/** Options of `CapacityBlockPurchase.applyToNodegroupV2` (aws-eks-v2 clusters). */
export interface CapacityBlockNodegroupV2Options extends eksv2.NodegroupOptions {
  /**
   * The launch template of the nodes (AMI, user data, block devices). The block is applied to it
   * (capacity reservation target and the `capacity-block` market type); it must not request Spot.
   *
   * @default - a new launch template with the block's instance type and IMDSv2 required
   */
  readonly launchTemplate?: ec2.LaunchTemplate;

  /**
   * Create the node group with no nodes and scale it to its sizes when the block starts, through
   * a one-time EventBridge Scheduler schedule (`at(...)` in UTC) whose universal target calls
   * `eks:updateNodegroupConfig` (no Lambda function). Off by default: EKS does not reject a node
   * group that asks for nodes before its block is active (its Auto Scaling group retries the
   * launches until it is), a later deploy that changes the node group's sizes would set the
   * desired size back to 0, and what Scheduler does with a one-time schedule whose time has passed
   * (a deploy that ends after the start) is not confirmed. The scale-to-0 EKS schedules by itself 40 minutes before the end is
   * left alone either way.
   * @default false
   */
  readonly scaleUpAtStart?: boolean;
}

/** The part of both modules' node group options this helper reads or sets. */
interface NodegroupShape {
  readonly launchTemplate?: ec2.LaunchTemplate;
  readonly launchTemplateSpec?: { readonly id: string; readonly version?: string };
  readonly capacityType?: string;
  readonly instanceTypes?: ec2.InstanceType[];
  readonly amiType?: string;
  readonly subnets?: ec2.SubnetSelection;
  readonly minSize?: number;
  readonly desiredSize?: number;
  readonly maxSize?: number;
  readonly scaleUpAtStart?: boolean;
}

/** What both modules' node groups and clusters offer that the schedule needs. */
interface NodegroupLike extends IConstruct {
  readonly nodegroupArn: string;
}

type NodegroupClass<N> = new (scope: Construct, id: string, props: any) => N;

const CAPACITY_BLOCK = 'CAPACITY_BLOCK';

/**
 * A managed node group that runs on the block: capacity type CAPACITY_BLOCK, a launch template
 * targeting the block, its instance type, subnets in its zone, and as many nodes as it holds.
 * EKS requires the launch template (capacity blocks work only through a custom launch template).
 */
export function capacityBlockNodegroup<N extends NodegroupLike>(
  facts: BlockFacts, cluster: IConstruct & { readonly vpc: ec2.IVpc; readonly clusterName: string }, id: string, options: NodegroupShape, Nodegroup: NodegroupClass<N>,
): N {
  const name = `node group ${cluster.node.path}/${id}`;
  const count = literal(facts.instanceCount);
  const { launchTemplate: givenTemplate, scaleUpAtStart, ...nodegroupOptions } = options;
  // As many nodes as the block holds; a smaller desiredSize (0 until the block starts) sets the floor too.
  const maxSize = options.maxSize ?? count;
  const desiredSize = options.desiredSize ?? maxSize;
  const sizes = { minSize: options.minSize ?? desiredSize, desiredSize, maxSize };
  const subnetSelection = options.subnets ?? (facts.literalZone ? { availabilityZones: [facts.literalZone] } : undefined);
  const subnets = cluster.vpc.selectSubnets(subnetSelection).subnets;

  throwIfAny([
    options.capacityType !== undefined && options.capacityType !== CAPACITY_BLOCK
      ? `${name} has capacityType ${options.capacityType}, but ${blockName(facts)} is launched as CAPACITY_BLOCK; remove capacityType`
      : undefined,
    options.launchTemplateSpec !== undefined
      ? `${name} has launchTemplateSpec, which ${blockName(facts)} cannot be applied to; pass launchTemplate (an ec2.LaunchTemplate) instead`
      : undefined,
    ...(options.instanceTypes ?? []).map(t => instanceTypeError(name, t.toString(), facts)),
    givenTemplate?.instanceType !== undefined && options.instanceTypes !== undefined
      ? `${name} sets instanceTypes and its launch template ${givenTemplate.node.path} sets instanceType too, which EKS refuses; remove instanceTypes`
      : undefined,
    maxSize === undefined
      ? `${name} needs maxSize: how many instances ${blockName(facts)} holds is not known at synth (an UltraServer block holds several per UltraServer); set maxSize to that number`
      : undefined,
    ...sizeErrors(name, sizes, facts),
    ...zoneErrors(name, subnets, facts),
    subnets.length === 0 ? `${name} has no subnets: the cluster's VPC has none in ${facts.literalZone ?? 'the selection'}; pass subnets in the block's zone` : undefined,
    ...(givenTemplate ? launchTemplateErrors(givenTemplate, facts) : []),
  ]);

  const launchTemplate = givenTemplate ?? new ec2.LaunchTemplate(cluster, `${id}LaunchTemplate`, {
    instanceType: options.instanceTypes || facts.instanceType === undefined ? undefined : new ec2.InstanceType(facts.instanceType),
    requireImdsv2: true,
  });
  facts.applyToLaunchTemplate(launchTemplate);
  registerConsumer(facts, { name, instances: sizes.maxSize });

  // previewOnly: the same node group (capacity type and template unchanged, so the real deploy
  // updates it in place) with no nodes; its template names no reservation, so it could launch none.
  // scaleUpAtStart: no nodes until the schedule gives it its sizes.
  const deployedSizes = facts.previewOnly ? { minSize: 0, desiredSize: 0, maxSize: sizes.maxSize } : scaleUpAtStart ? { ...sizes, minSize: 0, desiredSize: 0 } : sizes;
  const nodegroup = new Nodegroup(cluster, id, {
    ...nodegroupOptions,
    cluster,
    capacityType: CAPACITY_BLOCK,
    launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
    amiType: options.amiType ?? (hasImage(launchTemplate) ? undefined : defaultAmiType(options.instanceTypes?.[0]?.toString() ?? facts.instanceType)),
    subnets: subnetSelection,
    ...deployedSizes,
  });
  if (facts.previewOnly) {
    Annotations.of(nodegroup).addInfo(`previewOnly: ${blockName(facts)} buys nothing, so this node group is deployed with min and desired size 0 and a launch template that names no reservation; it gets its nodes when previewOnly is removed`);
  } else if (scaleUpAtStart) {
    scheduleScaleUp(facts, cluster, nodegroup, sizes, name);
  }
  return nodegroup;
}

/** One-time schedule at the block's start: eks:updateNodegroupConfig with the node group's sizes. */
function scheduleScaleUp(facts: BlockFacts, cluster: IConstruct & { readonly clusterName: string }, nodegroup: NodegroupLike, sizes: { minSize?: number; desiredSize?: number; maxSize?: number }, name: string): void {
  if (facts.startDate === undefined) throw new Error(`${name} has scaleUpAtStart, but the start of ${blockName(facts)} is not known; give startDate when importing it, or remove scaleUpAtStart`);
  new scheduler.Schedule(nodegroup, 'ScaleUpAtBlockStart', {
    description: `Scales ${nodegroup.node.path} to its sizes when ${blockName(facts)} starts`,
    schedule: scheduler.ScheduleExpression.expression(`at(${utcSeconds(facts.startDate)})`, TimeZone.ETC_UTC),
    target: new schedulerTargets.Universal({
      service: 'eks',
      action: 'updateNodegroupConfig',
      input: scheduler.ScheduleTargetInput.fromObject({
        ClusterName: cluster.clusterName,
        // The name itself: without the EKS_NODEGROUP_NAME feature flag, nodegroupName is `cluster/name`.
        NodegroupName: (nodegroup.node.defaultChild as IConstruct & { readonly attrNodegroupName: string }).attrNodegroupName,
        ScalingConfig: { MinSize: sizes.minSize, DesiredSize: sizes.desiredSize, MaxSize: sizes.maxSize },
      }),
      policyStatements: [new iam.PolicyStatement({ actions: ['eks:UpdateNodegroupConfig'], resources: [nodegroup.nodegroupArn] })],
      retryAttempts: 5,
    }),
  });
}

function hasImage(launchTemplate: ec2.LaunchTemplate): boolean {
  const data = (launchTemplate.node.defaultChild as ec2.CfnLaunchTemplate).launchTemplateData as ec2.CfnLaunchTemplate.LaunchTemplateDataProperty | undefined;
  return data?.imageId !== undefined;
}

/**
 * The EKS-optimized accelerated AMI for the instance types EC2 sells as Capacity Blocks: without it
 * EKS would pick the standard x86 AMI (no GPU or Neuron drivers) for a launch template without an image.
 */
function defaultAmiType(instanceType: string | undefined): string | undefined {
  if (instanceType === undefined || literal(instanceType) === undefined) return undefined;
  const family = instanceType.split('.')[0];
  if (/^(trn|inf)\d/.test(family)) return eks.NodegroupAmiType.AL2023_X86_64_NEURON;
  if (/^p\d+[a-z]*-gb\d+/.test(family)) return eks.NodegroupAmiType.AL2023_ARM_64_NVIDIA; // Grace (Arm) CPUs
  if (/^[pg]\d/.test(family)) return eks.NodegroupAmiType.AL2023_X86_64_NVIDIA;
  return undefined;
}
