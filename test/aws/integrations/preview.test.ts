import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import { CapacityBlockPurchase } from '../../../lib';
import { BLOCK_ZONE, newStack, p5Block, threeZoneVpc } from './fixtures';

/**
 * One stack that wires a block into every helper, as a platform team would: a node group, an Auto
 * Scaling group, a Karpenter EC2NodeClass's terms and a ParallelCluster queue.
 */
function wiredStack(previewOnly: boolean) {
  const stack = newStack();
  const vpc = threeZoneVpc(stack);
  const block = p5Block(stack, { previewOnly });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'training', vpc });
  block.applyToNodegroup(cluster, 'Gpu', { maxSize: 1 });
  const launchTemplate = new ec2.LaunchTemplate(stack, 'Nodes', { instanceType: new ec2.InstanceType('p5.48xlarge'), machineImage: ec2.MachineImage.genericLinux({ 'us-east-2': 'ami-0123456789abcdef0' }) });
  const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [BLOCK_ZONE] }, launchTemplate, minCapacity: 0, desiredCapacity: 1, maxCapacity: 1,
  });
  block.applyToAutoScalingGroup(group);
  const terms = stack.resolve(block.karpenterSelectorTerms());
  const queue = stack.resolve(block.parallelClusterQueue({ queueName: 'gpu', subnets: vpc.privateSubnets.filter(s => s.availabilityZone === BLOCK_ZONE), instanceCount: 1 }));
  return { stack, block, terms, queue, template: Template.fromStack(stack) };
}

function launchTemplateData(template: Template, id: string): any {
  return Object.entries(template.findResources('AWS::EC2::LaunchTemplate')).find(([logicalId]) => logicalId.startsWith(id))![1].Properties.LaunchTemplateData;
}

describe('previewOnly wiring', () => {
  test('GIVEN a previewOnly block wired into every helper WHEN the app synthesizes THEN nothing can launch: no reservation target, no sizes, no Karpenter terms, a queue that starts no node', () => {
    const { terms, queue, template } = wiredStack(true);

    template.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'CAPACITY_BLOCK', ScalingConfig: { MinSize: 0, DesiredSize: 0, MaxSize: 1 } });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', DesiredCapacity: '0', MaxSize: '0' });
    template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    for (const id of ['Nodes', 'ClusterGpuLaunchTemplate']) {
      const data = launchTemplateData(template, id);
      // The capacity-block market type without a target: EC2 refuses every launch from the template.
      expect(data.InstanceMarketOptions).toEqual({ MarketType: 'capacity-block' });
      expect(data.CapacityReservationSpecification).toBeUndefined();
    }
    expect(terms).toEqual([]);
    expect(queue).toMatchObject({ CapacityType: 'ONDEMAND', ComputeResources: [{ MinCount: 0, MaxCount: 0 }] });
    expect(JSON.stringify(queue)).not.toContain('CapacityReservationTarget');
  });

  test('GIVEN the preview deployed WHEN previewOnly is removed THEN every consumer keeps its logical id and replacement-defining properties, so the real deploy updates them in place', () => {
    const preview = wiredStack(true).template.toJSON().Resources;
    const real = wiredStack(false).template.toJSON().Resources;
    const consumers = (resources: Record<string, any>) => Object.entries(resources)
      .filter(([, r]) => ['AWS::EKS::Nodegroup', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::LaunchTemplate'].includes(r.Type))
      .map(([id, r]) => [id, r.Type, r.Properties.CapacityType, r.Properties.NodegroupName]);
    expect(consumers(real)).toEqual(consumers(preview));
  });

  test('GIVEN the real deploy WHEN it synthesizes THEN the consumers get their sizes and the block', () => {
    const { template, terms, queue } = wiredStack(false);

    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 1, DesiredSize: 1, MaxSize: 1 } });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', DesiredCapacity: '1', MaxSize: '1' });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ CapacityReservationSpecification: Match.anyValue() }) });
    expect(terms).toHaveLength(1);
    expect(queue).toMatchObject({ CapacityType: 'CAPACITY_BLOCK', ComputeResources: [{ MinCount: 1, MaxCount: 1 }] });
  });

  test('GIVEN a previewOnly block WHEN it is wired THEN cdk synth says what each consumer will do', () => {
    const { stack } = wiredStack(true);
    Annotations.fromStack(stack).hasInfo('/Stack/Group', Match.stringLikeRegexp('previewOnly: .* deployed with min, desired and max 0'));
    Annotations.fromStack(stack).hasInfo('/Stack/Cluster/Gpu', Match.stringLikeRegexp('previewOnly: .* min and desired size 0'));
  });

  test('GIVEN a previewOnly block WHEN a launch template of the app is pointed at it directly THEN the template carries the market type only', () => {
    const app = new App();
    const stack = new Stack(app, 'Direct', { env: { account: '123456789012', region: 'us-east-2' } });
    const block = p5Block(stack, { previewOnly: true }) as CapacityBlockPurchase;
    const lt = new ec2.LaunchTemplate(stack, 'Lt', { instanceType: new ec2.InstanceType('p5.48xlarge') });
    block.applyToLaunchTemplate(lt);
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { InstanceType: 'p5.48xlarge', InstanceMarketOptions: { MarketType: 'capacity-block' }, CapacityReservationSpecification: Match.absent(), TagSpecifications: Match.anyValue() },
    });
  });
});
