import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BLOCK_ZONE, logicalIdOf, newStack, p5Block, privateSubnetRefs, threeZoneVpc } from './fixtures';

const IMAGE = ec2.MachineImage.genericLinux({ 'us-east-2': 'ami-0123456789abcdef0' });

function setup(context: Record<string, unknown> = {}) {
  const stack = newStack(context);
  const vpc = threeZoneVpc(stack);
  const launchTemplate = new ec2.LaunchTemplate(stack, 'Nodes', {
    instanceType: new ec2.InstanceType('p5.48xlarge'),
    machineImage: IMAGE,
  });
  return { stack, vpc, launchTemplate };
}

function group(stack: Stack, vpc: ec2.IVpc, props: Partial<autoscaling.AutoScalingGroupProps>): autoscaling.AutoScalingGroup {
  return new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [BLOCK_ZONE] },
    minCapacity: 0, desiredCapacity: 4, maxCapacity: 4, ...props,
  });
}

describe('applyToAutoScalingGroup', () => {
  test('launches the group from its launch template into the block', () => {
    const { stack, vpc, launchTemplate } = setup();
    const asg = group(stack, vpc, { launchTemplate });

    p5Block(stack).applyToAutoScalingGroup(asg);

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: privateSubnetRefs(stack, vpc, BLOCK_ZONE) });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceMarketOptions: { MarketType: 'capacity-block' },
        CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: { 'Fn::GetAtt': [logicalIdOf(template, 'Custom::CapacityBlockPurchase'), 'CapacityReservationId'] } } },
      }),
    });
  });

  test('finds the launch template of a mixed instances policy, and accepts distribution segments that name capacity-block', () => {
    const { stack, vpc, launchTemplate } = setup();
    const asg = group(stack, vpc, {
      mixedInstancesPolicy: {
        launchTemplate,
        launchTemplateOverrides: [{ instanceType: new ec2.InstanceType('p5.48xlarge') }],
        instancesDistribution: { onDemandPercentageAboveBaseCapacity: 100 },
      },
    });
    const cfn = asg.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    cfn.addPropertyOverride('MixedInstancesPolicy.InstancesDistribution.DistributionSegments', [{ TargetCapacityTypes: ['capacity-block', 'on-demand'] }]);

    p5Block(stack).applyToAutoScalingGroup(asg);

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceMarketOptions: { MarketType: 'capacity-block' } }),
    });
  });

  test('finds the launch template an Auto Scaling group generates from instanceType and machineImage', () => {
    const { stack, vpc } = setup({ '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true });
    const asg = group(stack, vpc, { instanceType: new ec2.InstanceType('p5.48xlarge'), machineImage: ec2.MachineImage.latestAmazonLinux2023() });

    p5Block(stack).applyToAutoScalingGroup(asg);

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'p5.48xlarge', InstanceMarketOptions: { MarketType: 'capacity-block' } }),
    });
  });

  test.each<[string, (s: ReturnType<typeof setup>) => void, RegExp]>([
    ['subnets in every zone', ({ stack, vpc, launchTemplate }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, { launchTemplate, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } })),
      /Auto Scaling group Stack\/Group has subnets outside us-east-2a, the zone of Capacity Block Stack\/Block: .*us-east-2b.*; select subnets in us-east-2a only/],
    ['more instances than the block holds', ({ stack, vpc, launchTemplate }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, { launchTemplate, maxCapacity: 8 })),
      /Auto Scaling group Stack\/Group has maxCapacity 8, but Capacity Block Stack\/Block holds 4 instances; set maxCapacity to at most 4/],
    ['Spot instances in a mixed instances policy', ({ stack, vpc, launchTemplate }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, {
      mixedInstancesPolicy: { launchTemplate, instancesDistribution: { onDemandPercentageAboveBaseCapacity: 50 } },
    })), /launches 50% Spot instances \(onDemandPercentageAboveBaseCapacity 50\), .*; remove the Spot settings from instancesDistribution/],
    ['an override of another instance type', ({ stack, vpc, launchTemplate }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, {
      mixedInstancesPolicy: { launchTemplate, launchTemplateOverrides: [{ instanceType: new ec2.InstanceType('p4d.24xlarge') }] },
    })), /\(launchTemplateOverrides\) uses instance type p4d.24xlarge, but Capacity Block Stack\/Block reserves p5.48xlarge; use p5.48xlarge/],
    ['a launch template of another instance type', ({ stack, vpc }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, {
      launchTemplate: new ec2.LaunchTemplate(stack, 'Other', { instanceType: new ec2.InstanceType('p4d.24xlarge'), machineImage: IMAGE }),
    })), /instanceType p4d.24xlarge, but Capacity Block Stack\/Block reserves p5.48xlarge; use the same instance type/],
    ['a launch template that requests Spot', ({ stack, vpc }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, {
      launchTemplate: new ec2.LaunchTemplate(stack, 'Spot', { instanceType: new ec2.InstanceType('p5.48xlarge'), machineImage: IMAGE, spotOptions: {} }),
    })), /launch template Stack\/Spot requests Spot instances/],
    ['a launch configuration', ({ stack, vpc }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, {
      instanceType: new ec2.InstanceType('p5.48xlarge'), machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    })), /uses a launch configuration, which cannot launch into Capacity Block Stack\/Block; give the group a launchTemplate/],
    ['a launch template from outside the app', ({ stack, vpc }) => p5Block(stack).applyToAutoScalingGroup(group(stack, vpc, {
      launchTemplate: ec2.LaunchTemplate.fromLaunchTemplateAttributes(stack, 'Imported', { launchTemplateId: 'lt-0123456789abcdef0' }),
    })), /launches from a launch template that is not an ec2.LaunchTemplate of this app/],
    ['a purchase in any zone', ({ stack, vpc, launchTemplate }) => p5Block(stack, { availabilityZone: undefined }).applyToAutoScalingGroup(group(stack, vpc, { launchTemplate })),
      /the purchase has no availabilityZone, so EC2 may sell a block in any zone; set availabilityZone on the purchase to 'us-east-2a', the zone of its subnets/],
  ])('fails at synth on %s, in one line', (_name, wire, message) => {
    expect(() => wire(setup({ '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': false }))).toThrow(message);
    expect(() => wire(setup({ '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': false }))).not.toThrow(/\n/);
  });

  test('fails at synth when the group is later changed through its L1 to outgrow the block, or to skip capacity-block', () => {
    const { stack, vpc, launchTemplate } = setup();
    const asg = group(stack, vpc, { mixedInstancesPolicy: { launchTemplate } });
    p5Block(stack).applyToAutoScalingGroup(asg);
    const cfn = asg.node.defaultChild as autoscaling.CfnAutoScalingGroup;

    cfn.maxSize = '6';
    cfn.mixedInstancesPolicy = { launchTemplate: { launchTemplateSpecification: { launchTemplateId: launchTemplate.launchTemplateId, version: launchTemplate.latestVersionNumber } }, instancesDistribution: { distributionSegments: [{ targetCapacityTypes: ['on-demand'] }] } };

    expect(() => Template.fromStack(stack)).toThrow(/has maxCapacity 6, .*set maxCapacity to at most 4/);
    expect(() => Template.fromStack(stack)).toThrow(/has distribution segments without 'capacity-block', .*; add 'capacity-block' to targetCapacityTypes/);
  });
});
