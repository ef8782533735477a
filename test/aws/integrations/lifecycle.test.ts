import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { Duration } from 'aws-cdk-lib';
import { CapacityBlockPurchase, UltraServerType } from '../../../lib';
import { BLOCK_ZONE, deployTimeString, newStack, p5Block, threeZoneVpc } from './fixtures';

/** What the handler answers, in its format (toISOString): a block from 10 Dec 11:30 to 12 Dec 11:30 UTC. */
const DEPLOYED = { attributes: { StartDate: '2026-12-10T11:30:00.000Z', EndDate: '2026-12-12T11:30:00.000Z' } };

function asgSetup() {
  const stack = newStack();
  const vpc = threeZoneVpc(stack);
  const launchTemplate = new ec2.LaunchTemplate(stack, 'Nodes', { instanceType: new ec2.InstanceType('p5.48xlarge'), machineImage: ec2.MachineImage.genericLinux({ 'us-east-2': 'ami-0123456789abcdef0' }) });
  const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [BLOCK_ZONE] }, launchTemplate, minCapacity: 0, desiredCapacity: 4, maxCapacity: 4,
  });
  return { stack, vpc, group };
}

function scheduledActions(template: Template): any[] {
  return Object.values(template.findResources('AWS::AutoScaling::ScheduledAction')).map(r => r.Properties);
}

describe('lifecycle scaling: Auto Scaling groups', () => {
  test('GIVEN the defaults WHEN a group is wired THEN it asks for its instances at once and is scaled to 0 40 minutes before the block ends, at a StartTime in YYYY-MM-DDThh:mm:ssZ', () => {
    const { stack, group } = asgSetup();
    p5Block(stack).applyToAutoScalingGroup(group);

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', DesiredCapacity: '4', MaxSize: '4' });
    const actions = scheduledActions(template);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ MinSize: 0, DesiredCapacity: 0, AutoScalingGroupName: { Ref: expect.stringMatching(/^Group/) } });
    expect(actions[0].MaxSize).toBeUndefined();
    expect(deployTimeString(actions[0].StartTime, DEPLOYED)).toBe('2026-12-12T10:50:00Z');
  });

  test('GIVEN scaleUpAtStart WHEN a group is wired THEN it holds 0 until the block starts and gets its sizes then', () => {
    const { stack, group } = asgSetup();
    p5Block(stack).applyToAutoScalingGroup(group, { scaleUpAtStart: true, scaleDownBeforeEnd: false });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', DesiredCapacity: '0', MaxSize: '4' });
    const [action] = scheduledActions(template);
    expect(action).toMatchObject({ MinSize: 0, DesiredCapacity: 4, MaxSize: 4 });
    expect(deployTimeString(action.StartTime, DEPLOYED)).toBe('2026-12-10T11:30:00Z');
  });

  test('GIVEN an imported block with literal dates WHEN a group is wired THEN the times are computed at synth', () => {
    const { stack, group } = asgSetup();
    const block = CapacityBlockPurchase.fromCapacityReservationAttributes(stack, 'Bought', {
      capacityReservationId: 'cr-0123456789abcdef0', instanceType: 'p5.48xlarge', instanceCount: 4, availabilityZone: BLOCK_ZONE,
      startDate: '2026-12-10T11:30:00.000Z', endDate: '2026-12-12T11:30:00Z',
    });
    block.applyToAutoScalingGroup(group, { scaleUpAtStart: true });

    expect(scheduledActions(Template.fromStack(stack)).map(a => a.StartTime).sort()).toEqual(['2026-12-10T11:30:00Z', '2026-12-12T10:50:00Z']);
  });

  test('fails at synth on scaleUpAtStart for an imported block without its start, in one line', () => {
    const { stack, group } = asgSetup();
    const block = CapacityBlockPurchase.fromCapacityReservationAttributes(stack, 'Bought', { capacityReservationId: 'cr-0123456789abcdef0', availabilityZone: BLOCK_ZONE });
    expect(() => block.applyToAutoScalingGroup(group, { scaleUpAtStart: true })).toThrow(/has scaleUpAtStart, but the start of Capacity Block Stack\/Bought is not known; give startDate when importing it, or remove scaleUpAtStart/);
  });
});

describe('lifecycle scaling: EKS node groups', () => {
  function eksSetup() {
    const stack = newStack();
    const vpc = threeZoneVpc(stack);
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'training', vpc });
    return { stack, cluster };
  }

  test('GIVEN the defaults WHEN a node group is wired THEN nothing is scheduled: EKS retries until the block is active and scales to 0 by itself before the end', () => {
    const { stack, cluster } = eksSetup();
    p5Block(stack).applyToNodegroup(cluster, 'Gpu');

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 4, DesiredSize: 4, MaxSize: 4 } });
  });

  test('GIVEN scaleUpAtStart WHEN a node group is wired THEN it is created empty and a one-time schedule at the block\'s start calls eks:updateNodegroupConfig, with no Lambda function', () => {
    const { stack, cluster } = eksSetup();
    p5Block(stack).applyToNodegroup(cluster, 'Gpu', { scaleUpAtStart: true });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 0, DesiredSize: 0, MaxSize: 4 } });
    const [schedule] = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(r => r.Properties);
    expect(deployTimeString(schedule.ScheduleExpression, DEPLOYED)).toBe('at(2026-12-10T11:30:00)');
    expect(schedule.ScheduleExpressionTimezone).toBe('Etc/UTC');
    expect(deployTimeString(schedule.Target.Arn, { attributes: {}, refs: { 'AWS::Partition': 'aws' } })).toBe('arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig');
    const input = JSON.parse(deployTimeString(schedule.Target.Input, { attributes: { NodegroupName: 'gpu-nodes' } }));
    expect(input).toEqual({ ClusterName: 'training', NodegroupName: 'gpu-nodes', ScalingConfig: { MinSize: 4, DesiredSize: 4, MaxSize: 4 } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'eks:UpdateNodegroupConfig', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClusterGpu'), 'Arn'] } })]) },
    });
  });
});

describe('lifecycle scaling: aws-eks-v2 node groups', () => {
  test('GIVEN scaleUpAtStart on an aws-eks-v2 cluster WHEN a node group is wired THEN the same schedule names that node group', () => {
    const stack = newStack();
    const cluster = eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'auto', vpc: threeZoneVpc(stack) });
    p5Block(stack).applyToNodegroupV2(cluster, 'Gpu', { scaleUpAtStart: true });

    const [schedule] = Object.values(Template.fromStack(stack).findResources('AWS::Scheduler::Schedule')).map(r => r.Properties);
    expect(JSON.parse(deployTimeString(schedule.Target.Input, { attributes: { NodegroupName: 'gpu-nodes' } }))).toMatchObject({ ClusterName: 'auto', NodegroupName: 'gpu-nodes' });
  });
});

describe('lifecycle scaling: ParallelCluster', () => {
  test('GIVEN a queue WHEN it is made THEN nothing is scheduled: ParallelCluster runs a block\'s static nodes while it is active', () => {
    const stack = newStack();
    const vpc = threeZoneVpc(stack);
    const queue = p5Block(stack).parallelClusterQueue({ queueName: 'gpu', subnets: vpc.privateSubnets.filter(s => s.availabilityZone === BLOCK_ZONE) });
    expect(queue.ComputeResources[0]).toMatchObject({ MinCount: 4, MaxCount: 4 });
    Template.fromStack(stack).resourceCountIs('AWS::Scheduler::Schedule', 0);
  });
});

describe('lifecycle scaling: UltraServer blocks and ended blocks', () => {
  test('GIVEN an UltraServer block WHEN a group is wired THEN it is scaled to 0 70 minutes before the end (EC2 terminates UltraServer instances 60 minutes before)', () => {
    const stack = newStack();
    const vpc = threeZoneVpc(stack);
    const ultra = new CapacityBlockPurchase(stack, 'Ultra', {
      ultraserverType: UltraServerType.P6E_GB200_X72, ultraserverCount: 1, duration: Duration.days(1), maxUpfrontFee: 30_000, availabilityZone: BLOCK_ZONE,
    });
    const launchTemplate = new ec2.LaunchTemplate(stack, 'UltraNodes', { instanceType: new ec2.InstanceType('p6e-gb200.36xlarge'), machineImage: ec2.MachineImage.genericLinux({ 'us-east-2': 'ami-0123456789abcdef0' }) });
    ultra.applyToAutoScalingGroup(new autoscaling.AutoScalingGroup(stack, 'UltraGroup', {
      vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [BLOCK_ZONE] }, launchTemplate, minCapacity: 0, maxCapacity: 18,
    }));

    const [action] = scheduledActions(Template.fromStack(stack));
    expect(deployTimeString(action.StartTime, DEPLOYED)).toBe('2026-12-12T10:20:00Z');
  });

  test('fails at synth to schedule the scale-down of an imported block that has ended, in one line', () => {
    const { stack, group } = asgSetup();
    const block = CapacityBlockPurchase.fromCapacityReservationAttributes(stack, 'Bought', {
      capacityReservationId: 'cr-0123456789abcdef0', instanceType: 'p5.48xlarge', instanceCount: 4, availabilityZone: BLOCK_ZONE, endDate: '2020-01-01T11:30:00.000Z',
    });
    expect(() => block.applyToAutoScalingGroup(group)).toThrow(/it ended at 2020-01-01T11:30:00.000Z, and Auto Scaling refuses a scheduled action in the past; set scaleDownBeforeEnd: false/);
  });
});
