import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { BLOCK_ZONE, logicalIdOf, newStack, p5Block, privateSubnetRefs, threeZoneVpc, ultraBlock } from './fixtures';

const BLOCK_TYPE = 'Custom::CapacityBlockPurchase';

function setup() {
  const stack = newStack();
  const vpc = threeZoneVpc(stack);
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'training', vpc });
  return { stack, vpc, cluster };
}

describe('applyToNodegroup', () => {
  test('creates a CAPACITY_BLOCK node group of the block\'s size, in its zone, through a launch template targeting it', () => {
    const { stack, vpc, cluster } = setup();
    const block = p5Block(stack);

    block.applyToNodegroup(cluster, 'Gpu');

    const template = Template.fromStack(stack);
    const blockId = logicalIdOf(template, BLOCK_TYPE);
    const ltId = logicalIdOf(template, 'AWS::EC2::LaunchTemplate');
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      ClusterName: 'training',
      CapacityType: 'CAPACITY_BLOCK',
      ScalingConfig: { MinSize: 4, DesiredSize: 4, MaxSize: 4 },
      Subnets: privateSubnetRefs(stack, vpc, BLOCK_ZONE),
      LaunchTemplate: { Id: { Ref: ltId }, Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] } },
      AmiType: 'AL2023_x86_64_NVIDIA',
      InstanceTypes: Match.absent(),
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'p5.48xlarge',
        InstanceMarketOptions: { MarketType: 'capacity-block' },
        CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: { 'Fn::GetAtt': [blockId, 'CapacityReservationId'] } } },
        MetadataOptions: Match.objectLike({ HttpTokens: 'required' }),
      }),
    });
  });

  test('a smaller desiredSize (0 until the block starts) lowers the floor and keeps the block\'s size as the ceiling', () => {
    const { stack, cluster } = setup();
    p5Block(stack).applyToNodegroup(cluster, 'Gpu', { desiredSize: 0 });

    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 0, DesiredSize: 0, MaxSize: 4 } });
  });

  test('applies the block to a launch template the user gives, and leaves the AMI type to its image', () => {
    const { stack, cluster } = setup();
    const nodes = new ec2.LaunchTemplate(stack, 'Nodes', {
      instanceType: new ec2.InstanceType('p5.48xlarge'),
      machineImage: ec2.MachineImage.genericLinux({ 'us-east-2': 'ami-0123456789abcdef0' }),
    });

    p5Block(stack).applyToNodegroup(cluster, 'Gpu', { launchTemplate: nodes, labels: { team: 'llm' } });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 1);
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      LaunchTemplate: { Id: { Ref: logicalIdOf(template, 'AWS::EC2::LaunchTemplate') } },
      AmiType: Match.absent(),
      Labels: { team: 'llm' },
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ ImageId: 'ami-0123456789abcdef0', InstanceMarketOptions: { MarketType: 'capacity-block' } }),
    });
  });

  test('an UltraServer block needs maxSize, targets its reservation group and picks the Arm NVIDIA AMI', () => {
    const { stack, cluster } = setup();
    const block = ultraBlock(stack);

    block.applyToNodegroup(cluster, 'Gb200', { maxSize: 18 });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'CAPACITY_BLOCK', ScalingConfig: { MinSize: 18, DesiredSize: 18, MaxSize: 18 }, AmiType: 'AL2023_ARM_64_NVIDIA',
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'p6e-gb200.36xlarge',
        CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationResourceGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('UltraReservationGroup'), 'Arn'] } } },
      }),
    });
  });

  test('works the same for an aws-eks-v2 cluster', () => {
    const stack = newStack();
    const vpc = threeZoneVpc(stack);
    const cluster = eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'training', vpc });

    const nodegroup = p5Block(stack).applyToNodegroupV2(cluster, 'Gpu', { taints: [{ key: 'nvidia.com/gpu', effect: eksv2.TaintEffect.NO_SCHEDULE }] });

    expect(nodegroup).toBeInstanceOf(eksv2.Nodegroup);
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'CAPACITY_BLOCK', ScalingConfig: { MinSize: 4, DesiredSize: 4, MaxSize: 4 }, Subnets: privateSubnetRefs(stack, vpc, BLOCK_ZONE),
      Taints: [{ Key: 'nvidia.com/gpu', Effect: 'NO_SCHEDULE' }],
    });
  });

  test.each<[string, (s: ReturnType<typeof setup>) => void, RegExp]>([
    ['an On-Demand capacity type', ({ stack, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', { capacityType: eks.CapacityType.ON_DEMAND }),
      /node group Stack\/Cluster\/Gpu has capacityType ON_DEMAND, but Capacity Block Stack\/Block is launched as CAPACITY_BLOCK; remove capacityType/],
    ['a Spot capacity type', ({ stack, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', { capacityType: eks.CapacityType.SPOT }),
      /has capacityType SPOT, but .* is launched as CAPACITY_BLOCK; remove capacityType/],
    ['another instance type', ({ stack, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', { instanceTypes: [new ec2.InstanceType('p4d.24xlarge')] }),
      /node group Stack\/Cluster\/Gpu uses instance type p4d.24xlarge, but Capacity Block Stack\/Block reserves p5.48xlarge; use p5.48xlarge/],
    ['more nodes than the block holds', ({ stack, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', { maxSize: 8 }),
      /has maxSize 8, but Capacity Block Stack\/Block holds 4 instances; set maxSize to at most 4/],
    ['a desired size above the block', ({ stack, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', { desiredSize: 5, maxSize: 5 }),
      /has desiredSize 5, .* set desiredSize to at most 4/],
    ['subnets in other zones', ({ stack, vpc, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', { subnets: { subnets: vpc.privateSubnets } }),
      /has subnets outside us-east-2a, the zone of Capacity Block Stack\/Block: .*\(us-east-2b\), .*\(us-east-2c\); select subnets in us-east-2a only/],
    ['a purchase in any zone', ({ stack, cluster }) => p5Block(stack, { availabilityZone: undefined }).applyToNodegroup(cluster, 'Gpu'),
      /cannot be kept to the zone of Capacity Block Stack\/Block: the purchase has no availabilityZone, so EC2 may sell a block in any zone; set availabilityZone on the purchase/],
    ['a launchTemplateSpec', ({ stack, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', { launchTemplateSpec: { id: 'lt-0123456789abcdef0' } }),
      /has launchTemplateSpec, which Capacity Block Stack\/Block cannot be applied to; pass launchTemplate/],
    ['a launch template that requests Spot', ({ stack, cluster }) => p5Block(stack).applyToNodegroup(cluster, 'Gpu', {
      launchTemplate: new ec2.LaunchTemplate(stack, 'Spot', { spotOptions: { requestType: ec2.SpotRequestType.ONE_TIME } }),
    }), /launch template Stack\/Spot requests Spot instances, .* remove spotOptions from the launch template/],
    ['an UltraServer block without maxSize', ({ stack, cluster }) => ultraBlock(stack).applyToNodegroup(cluster, 'Gb200'),
      /needs maxSize: how many instances Capacity Block Stack\/Ultra holds is not known at synth .*; set maxSize/],
  ])('fails at synth on %s, in one line', (_name, wire, message) => {
    expect(() => wire(setup())).toThrow(message);
    expect(() => wire(setup())).not.toThrow(/\n/);
  });
});
