import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Annotations as CdkAnnotations, Duration } from 'aws-cdk-lib';
import { CapacityBlockPurchase, ICapacityBlock, OVERSUBSCRIBED_WARNING, TrainingPlanInstanceType, TrainingPlanPurchase, TrainingPlanTarget } from '../../../lib';
import { BLOCK_ZONE, newStack, p5Block, threeZoneVpc } from './fixtures';

/** The app: one 4-instance block, and five consumers that each fit it alone. */
function fiveConsumers(block: (stack: ReturnType<typeof newStack>) => ICapacityBlock, sizes = { nodegroup: 4, v2: 4, asg: 4, queue: 4 }) {
  const stack = newStack();
  const vpc = threeZoneVpc(stack);
  const b = block(stack);
  b.applyToNodegroup(eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'training', vpc }), 'Gpu', { maxSize: sizes.nodegroup });
  b.applyToNodegroupV2(eksv2.Cluster.fromClusterAttributes(stack, 'ClusterV2', { clusterName: 'auto', vpc }), 'Gpu', { maxSize: sizes.v2 });
  const launchTemplate = new ec2.LaunchTemplate(stack, 'Nodes', { instanceType: new ec2.InstanceType('p5.48xlarge'), machineImage: ec2.MachineImage.genericLinux({ 'us-east-2': 'ami-0123456789abcdef0' }) });
  b.applyToAutoScalingGroup(new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: [BLOCK_ZONE] }, launchTemplate, minCapacity: 0, maxCapacity: sizes.asg,
  }));
  b.parallelClusterQueue({ queueName: 'gpu', subnets: vpc.privateSubnets.filter(s => s.availabilityZone === BLOCK_ZONE), instanceCount: sizes.queue });
  return { stack, block: b };
}

describe('one reservation, many consumers', () => {
  test('GIVEN a 4-instance block wired into five consumers that each fit it WHEN the app synthesizes THEN a warning with its id names each and the total', () => {
    const { stack } = fiveConsumers(s => { const b = p5Block(s); b.karpenterSelectorTerms(); return b; });

    Annotations.fromStack(stack).hasWarning('/Stack/Block', Match.stringLikeRegexp(
      `Capacity Block Stack/Block holds 4 instances, but its consumers can ask for 20 together: Karpenter \\(the EC2NodeClass selecting Capacity Block Stack/Block\\) \\(up to 4\\), node group Stack/Cluster/Gpu \\(up to 4\\), node group Stack/ClusterV2/Gpu \\(up to 4\\), Auto Scaling group Stack/Group \\(up to 4\\), ParallelCluster queue gpu \\(up to 4\\).*acknowledge '${OVERSUBSCRIBED_WARNING}'`));
  });

  test('GIVEN consumers that add up to the block WHEN the app synthesizes THEN there is no warning', () => {
    const { stack } = fiveConsumers(p5Block, { nodegroup: 1, v2: 1, asg: 1, queue: 1 });
    Annotations.fromStack(stack).hasNoWarning('/Stack/Block', Match.stringLikeRegexp('consumers can ask for'));
  });

  test('GIVEN the warning acknowledged by its id WHEN the app synthesizes THEN it is gone', () => {
    const { stack, block } = fiveConsumers(p5Block);
    CdkAnnotations.of(block).acknowledgeWarning(OVERSUBSCRIBED_WARNING, 'the queue and the node groups take turns');
    Annotations.fromStack(stack).hasNoWarning('/Stack/Block', Match.stringLikeRegexp('consumers can ask for'));
  });

  test('fails at synth when one consumer alone asks for more than the block holds, in one line', () => {
    expect(() => fiveConsumers(p5Block, { nodegroup: 4, v2: 4, asg: 5, queue: 4 })).toThrow(/Auto Scaling group Stack\/Group has maxCapacity 5, but Capacity Block Stack\/Block holds 4 instances; set maxCapacity to at most 4/);
  });
});

describe('a block bought elsewhere', () => {
  const imported = (stack: ReturnType<typeof newStack>) => CapacityBlockPurchase.fromCapacityReservationAttributes(stack, 'Bought', {
    capacityReservationId: 'cr-0123456789abcdef0', instanceType: 'p5.48xlarge', instanceCount: 4, availabilityZone: BLOCK_ZONE, endDate: '2026-12-12T11:30:00.000Z',
  });

  test('GIVEN fromCapacityReservationAttributes WHEN it is wired into every helper THEN each targets the reservation by id, and the consumers are counted together', () => {
    const { stack, block } = fiveConsumers(imported);

    const template = Template.fromStack(stack);
    template.allResourcesProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } } }),
    });
    template.resourcePropertiesCountIs('AWS::EKS::Nodegroup', { CapacityType: 'CAPACITY_BLOCK', ScalingConfig: { MinSize: 4, DesiredSize: 4, MaxSize: 4 } }, 2);
    expect(block.karpenterSelectorTerms()).toEqual([{ id: 'cr-0123456789abcdef0' }]);
    expect(block.karpenterRequirements()).toContainEqual({ key: 'topology.kubernetes.io/zone', operator: 'In', values: [BLOCK_ZONE] });
    Annotations.fromStack(stack).hasWarning('/Stack/Bought', Match.stringLikeRegexp('consumers can ask for 20 together'));
  });

  test('GIVEN fromCapacityReservationAttributes WHEN a consumer contradicts its facts THEN synth fails as for a purchase', () => {
    const stack = newStack();
    const vpc = threeZoneVpc(stack);
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'training', vpc });
    expect(() => imported(stack).applyToNodegroup(cluster, 'Gpu', { instanceTypes: [new ec2.InstanceType('p4d.24xlarge')] }))
      .toThrow(/uses instance type p4d.24xlarge, but Capacity Block Stack\/Bought reserves p5.48xlarge/);
  });

  test('GIVEN fromCapacityReservationId (the id alone) WHEN a node group is wired THEN it asks for the facts it lacks', () => {
    const stack = newStack();
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'training', vpc: threeZoneVpc(stack) });
    expect(() => CapacityBlockPurchase.fromCapacityReservationId(stack, 'Bought', 'cr-0123456789abcdef0').applyToNodegroup(cluster, 'Gpu'))
      .toThrow(/the purchase has no availabilityZone/);
  });

  test.each([
    [{ capacityReservationId: 'sg-0123' }, /capacityReservationId must be a Capacity Reservation id \(cr-…\), got 'sg-0123'/],
    [{ capacityReservationId: 'cr-0123', instanceCount: 0 }, /instanceCount must be a whole number of instances, 1 or more, got 0/],
    [{ capacityReservationId: 'cr-0123', endDate: 'Friday' }, /endDate must be an ISO 8601 date such as 2026-12-10T11:30:00.000Z, got 'Friday'/],
  ])('fails on bad attributes %j, in one line', (attrs, message) => {
    expect(() => CapacityBlockPurchase.fromCapacityReservationAttributes(newStack(), 'Bought', attrs)).toThrow(message);
  });
});

describe('ParallelCluster names', () => {
  test.each([
    [{ queueName: 'default' }, /queueName cannot be 'default', which Slurm reserves/],
    [{ queueName: 'gpu', computeResourceName: 'GPU_nodes' }, /computeResourceName must start with a lowercase letter and hold only lowercase letters, digits and hyphens, at most 25 characters, got 'GPU_nodes'/],
    [{ queueName: 'gpu', computeResourceName: 'a'.repeat(26) }, /computeResourceName must .* at most 25 characters/],
  ])('fails at synth on %j, in one line', (names, message) => {
    const stack = newStack();
    const vpc = threeZoneVpc(stack);
    expect(() => p5Block(stack).parallelClusterQueue({ subnets: vpc.privateSubnets.filter(s => s.availabilityZone === BLOCK_ZONE), ...names })).toThrow(message);
  });
});

describe('HyperPod and endpoints on training plans', () => {
  const group = { instanceGroupName: 'workers', instanceType: 'ml.p5.48xlarge', instanceCount: 4, executionRole: 'arn:aws:iam::123456789012:role/hyperpod', lifeCycleConfig: { sourceS3Uri: 's3://b/l', onCreate: 'on_create.sh' } };
  const plan = (stack: ReturnType<typeof newStack>, targets = [TrainingPlanTarget.HYPERPOD_CLUSTER]) => new TrainingPlanPurchase(stack, 'Plan', {
    instanceType: TrainingPlanInstanceType.ML_P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), targetResources: targets, maxUpfrontFee: 8_000,
  });

  test('fails at synth on an instance group larger than its training plan, in one line', () => {
    expect(() => plan(newStack()).instanceGroup({ ...group, instanceCount: 5 }))
      .toThrow(/HyperPod instance group workers has instanceCount 5, but training plan Stack\/Plan holds 4 instances; set instanceCount to at most 4/);
  });

  test('GIVEN an imported plan with its zone WHEN an instance group overrides its subnets THEN subnets outside the plan\'s zone fail at synth', () => {
    const stack = newStack();
    const vpc = threeZoneVpc(stack);
    const bought = TrainingPlanPurchase.fromTrainingPlanAttributes(stack, 'Bought', {
      trainingPlanArn: 'arn:aws:sagemaker:us-east-2:123456789012:training-plan/llm-7', instanceType: 'ml.p5.48xlarge', instanceCount: 4, availabilityZone: BLOCK_ZONE,
    });
    const subnets = (zone: string) => vpc.privateSubnets.filter(s => s.availabilityZone === zone).map(s => s.subnetId);

    expect(() => bought.instanceGroup({ ...group, overrideVpcConfig: { securityGroupIds: ['sg-1'], subnets: subnets('us-east-2b') } }))
      .toThrow(/HyperPod instance group workers has subnets outside us-east-2a, the zone of training plan Stack\/Bought: .*\(us-east-2b\); SageMaker requires the cluster in the plan's zone/);
    expect(bought.instanceGroup({ ...group, overrideVpcConfig: { securityGroupIds: ['sg-1'], subnets: subnets(BLOCK_ZONE) } }).trainingPlanArn).toMatch(/training-plan\/llm-7$/);
    expect(stack.resolve(bought.metricUsedInstanceCount().dimensions)).toEqual({ ReservationName: 'llm-7' });
  });

  test('GIVEN a plan for endpoints WHEN a production variant uses it THEN the variant names the plan, capacity-reservations-only', () => {
    const stack = newStack();
    const p = plan(stack, [TrainingPlanTarget.ENDPOINT]);
    new sagemaker.CfnEndpointConfig(stack, 'Config', { productionVariants: [p.productionVariant({ variantName: 'main', modelName: 'm', instanceType: 'ml.p5.48xlarge', initialInstanceCount: 2 })] });

    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ CapacityReservationConfig: { MlReservationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Plan'), 'TrainingPlanArn'] }, CapacityReservationPreference: 'capacity-reservations-only' } })],
    });
    expect(() => p.productionVariant({ variantName: 'big', modelName: 'm', instanceType: 'ml.p5.48xlarge', initialInstanceCount: 5 })).toThrow(/initialInstanceCount 5, but training plan Stack\/Plan holds 4 instances/);
    expect(() => plan(newStack()).productionVariant({ variantName: 'main', modelName: 'm' })).toThrow(/targets hyperpod-cluster, so endpoint variant main cannot use it; add TrainingPlanTarget.ENDPOINT to targetResources/);
  });

  test('GIVEN a previewOnly plan WHEN a HyperPod instance group uses it THEN the group is checked, and deployed with no instances and no plan', () => {
    const stack = newStack();
    const preview = new TrainingPlanPurchase(stack, 'Plan', {
      instanceType: TrainingPlanInstanceType.ML_P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), targetResources: [TrainingPlanTarget.HYPERPOD_CLUSTER], maxUpfrontFee: 8_000, previewOnly: true,
    });
    new sagemaker.CfnCluster(stack, 'Cluster', { instanceGroups: [preview.instanceGroup(group)] });

    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Cluster', { InstanceGroups: [Match.objectLike({ InstanceGroupName: 'workers', InstanceCount: 0, TrainingPlanArn: Match.absent() })] });
    expect(() => preview.instanceGroup({ ...group, instanceCount: 5 })).toThrow(/has instanceCount 5, but training plan Stack\/Plan holds 4 instances/);
  });
});
