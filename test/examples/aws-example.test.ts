import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TrainingCapacityStack } from '../../examples/aws/stack';
import { FrontierCapacityStack } from '../../examples/aws/ultraserver-stack';
import { HyperPodCapacityStack } from '../../examples/aws/training-plan-stack';

/** The example is what users copy: it must synthesize and wire the block the way the README says. */
test('the AWS example buys one block, runs an Auto Scaling group of its size in its zone on it, and warns before it ends', () => {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new TrainingCapacityStack(app, 'TrainingCapacity', { env: { account: '123456789012', region: 'us-east-2' } });
  const template = Template.fromStack(stack);

  template.resourceCountIs('Custom::CapacityBlockPurchase', 1);
  template.hasResourceProperties('Custom::CapacityBlockPurchase', {
    InstanceType: 'p5.48xlarge',
    InstanceCount: '4',
    DurationHours: '48',
    MaxUpfrontFee: '6500',
    AvailabilityZone: 'us-east-2a',
    Tags: Match.arrayWith([{ Key: 'cost-center', Value: 'ml-research' }, { Key: 'project', Value: 'llm-pretraining' }]),
  });
  template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
    LaunchTemplateData: Match.objectLike({
      InstanceMarketOptions: { MarketType: 'capacity-block' },
      CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TrainingBlock'), 'CapacityReservationId'] } } },
    }),
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: Match.objectLike({ 'detail-type': Match.arrayWith(['Capacity Block Expiration Warning']) }),
    Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('BlockEndingAlerts') } })],
  });
  // The nodes: built with applyToAutoScalingGroup, from the launch template above, in us-east-2a only.
  const subnets = template.findResources('AWS::EC2::Subnet');
  const groupSubnets: Array<{ Ref: string }> = Object.values<any>(template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0].Properties.VPCZoneIdentifier;
  expect(groupSubnets.map(s => subnets[s.Ref].Properties.AvailabilityZone)).toEqual(['us-east-2a']);
  template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
    MinSize: '0', DesiredCapacity: '4', MaxSize: '4',
    LaunchTemplate: Match.objectLike({ LaunchTemplateId: { Ref: Match.stringLikeRegexp('TrainingNodes') } }),
  });
});

test('the AWS example deployed with -c previewOnly=true buys nothing and launches nothing, then the same consumers get their sizes and a scale-down before the end', () => {
  const synth = (context: Record<string, string>) => {
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true, ...context } });
    return Template.fromStack(new TrainingCapacityStack(app, 'TrainingCapacity', { env: { account: '123456789012', region: 'us-east-2' } }));
  };
  const preview = synth({ previewOnly: 'true' });
  preview.hasResourceProperties('Custom::CapacityBlockPurchase', { PreviewOnly: 'true' });
  preview.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', DesiredCapacity: '0', MaxSize: '0' });
  preview.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);

  const real = synth({});
  real.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', DesiredCapacity: '4', MaxSize: '4' });
  real.hasResourceProperties('AWS::AutoScaling::ScheduledAction', { MinSize: 0, DesiredCapacity: 0 });
  expect(Object.keys(real.findResources('AWS::AutoScaling::AutoScalingGroup'))).toEqual(Object.keys(preview.findResources('AWS::AutoScaling::AutoScalingGroup')));
});

test('the UltraServer example buys one P6e-GB200 NVL72 in any zone, launches through a resource group of its reservations and warns before it ends', () => {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new FrontierCapacityStack(app, 'FrontierCapacity', { env: { account: '123456789012', region: 'us-east-1' } });
  const template = Template.fromStack(stack);

  template.resourceCountIs('Custom::CapacityBlockPurchase', 1);
  template.hasResourceProperties('Custom::CapacityBlockPurchase', {
    UltraserverType: 'u-p6e-gb200x72',
    UltraserverCount: '1',
    DurationHours: '24',
    MaxUpfrontFee: '30000',
    AllAvailabilityZones: 'true',
    InstanceType: Match.absent(),
  });
  template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
    LaunchTemplateData: Match.objectLike({
      InstanceMarketOptions: { MarketType: 'capacity-block' },
      CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationResourceGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('FrontierBlockReservationGroup'), 'Arn'] } } },
    }),
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: Match.objectLike({ 'detail-type': Match.arrayWith(['Capacity Block Expiration Warning']) }),
  });
});

test('the HyperPod example buys one training plan and runs the cluster\'s worker group on it', () => {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new HyperPodCapacityStack(app, 'HyperPodCapacity', { env: { account: '123456789012', region: 'us-east-2' } });
  const template = Template.fromStack(stack);

  template.resourceCountIs('Custom::TrainingPlanPurchase', 1);
  template.hasResourceProperties('Custom::TrainingPlanPurchase', {
    InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['hyperpod-cluster'], MaxUpfrontFee: '8000',
    TrainingPlanName: Match.stringLikeRegexp('^HyperPodCapacity-HyperPodPlan-'),
  });
  template.hasResourceProperties('AWS::SageMaker::Cluster', {
    InstanceGroups: [Match.objectLike({ InstanceGroupName: 'workers', TrainingPlanArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('HyperPodPlan'), 'TrainingPlanArn'] } })],
  });
  template.resourceCountIs('Custom::CapacityBlockPurchase', 0);
});

test('the HyperPod example deployed with -c previewOnly=true buys nothing and runs no worker; the real deploy gives the group its plan and its count', () => {
  const synth = (context: Record<string, string>) => {
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true, ...context } });
    return Template.fromStack(new HyperPodCapacityStack(app, 'HyperPodCapacity', { env: { account: '123456789012', region: 'us-east-2' } }));
  };
  synth({ previewOnly: 'true' }).hasResourceProperties('AWS::SageMaker::Cluster', { InstanceGroups: [Match.objectLike({ InstanceGroupName: 'workers', InstanceCount: 0, TrainingPlanArn: Match.absent() })] });
  synth({}).hasResourceProperties('AWS::SageMaker::Cluster', { InstanceGroups: [Match.objectLike({ InstanceGroupName: 'workers', InstanceCount: 4, TrainingPlanArn: Match.anyValue() })] });
});
