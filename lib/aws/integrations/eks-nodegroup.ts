import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { Construct, IConstruct } from 'constructs';
import { BlockFacts, blockName, literal } from './block-facts';
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
}

type NodegroupClass<N> = new (scope: Construct, id: string, props: any) => N;

const CAPACITY_BLOCK = 'CAPACITY_BLOCK';

/**
 * A managed node group that runs on the block: capacity type CAPACITY_BLOCK, a launch template
 * targeting the block, its instance type, subnets in its zone, and as many nodes as it holds.
 * EKS requires the launch template (capacity blocks work only through a custom launch template).
 */
export function capacityBlockNodegroup<N>(
  facts: BlockFacts, cluster: IConstruct & { readonly vpc: ec2.IVpc }, id: string, options: NodegroupShape, Nodegroup: NodegroupClass<N>,
): N {
  const name = `node group ${cluster.node.path}/${id}`;
  const count = literal(facts.instanceCount);
  const { launchTemplate: givenTemplate, ...nodegroupOptions } = options;
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

  return new Nodegroup(cluster, id, {
    ...nodegroupOptions,
    cluster,
    capacityType: CAPACITY_BLOCK,
    launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
    amiType: options.amiType ?? (hasImage(launchTemplate) ? undefined : defaultAmiType(options.instanceTypes?.[0]?.toString() ?? facts.instanceType)),
    subnets: subnetSelection,
    ...sizes,
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
