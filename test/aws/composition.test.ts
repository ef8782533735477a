import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps, UltraServerType } from '../../lib';

/** What experienced CDK users compose a block with: CloudWatch metrics and alarms, launch templates of every kind. */
const ENV = { account: '123456789012', region: 'us-east-2' };

function stackWithBlock(props: Partial<CapacityBlockPurchaseProps> = {}): { stack: Stack; block: CapacityBlockPurchase } {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  const block = new CapacityBlockPurchase(stack, 'Block', {
    instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 6_500, ...props,
  });
  return { stack, block };
}

const RESERVATION_ID = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Block'), 'CapacityReservationId'] };

describe('CloudWatch metrics', () => {
  test.each([
    ['metricInstanceUtilization', 'InstanceUtilization'],
    ['metricUsedInstanceCount', 'UsedInstanceCount'],
    ['metricAvailableInstanceCount', 'AvailableInstanceCount'],
  ] as const)('%s is AWS/EC2CapacityReservations %s of the block\'s reservation, averaged over 5 minutes', (method, metricName) => {
    const { stack, block } = stackWithBlock();
    const metric = block[method]();
    new cloudwatch.Alarm(stack, 'Alarm', { metric, threshold: 1, evaluationPeriods: 1 });

    expect(metric).toMatchObject({ namespace: 'AWS/EC2CapacityReservations', metricName, statistic: 'Average', period: Duration.minutes(5) });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/EC2CapacityReservations', MetricName: metricName, Statistic: 'Average', Period: 300,
      Dimensions: [{ Name: 'CapacityReservationId', Value: RESERVATION_ID }],
    });
  });

  test('the README\'s alarm: instances not using a paid block', () => {
    const { stack, block } = stackWithBlock();
    block.metricInstanceUtilization({ period: Duration.minutes(15) }).createAlarm(stack, 'BlockIdle', {
      alarmDescription: 'The Capacity Block is paid for and less than 90% used',
      threshold: 90, comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, // no data before the block starts
    });

    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'InstanceUtilization', Period: 900, Threshold: 90, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'notBreaching',
    });
  });

  test('a block bought elsewhere has the same metrics, by its id', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const metric = CapacityBlockPurchase.fromCapacityReservationId(stack, 'Existing', 'cr-0123456789abcdef0').metricUsedInstanceCount();
    expect(metric.dimensions).toEqual({ CapacityReservationId: 'cr-0123456789abcdef0' });
  });
});

describe('launch templates', () => {
  test('applyToCfnLaunchTemplate targets the block and sets the capacity-block market type on an L1 template', () => {
    const { stack, block } = stackWithBlock();
    const cfn = new ec2.CfnLaunchTemplate(stack, 'Nodes', { launchTemplateData: { instanceType: 'p5.48xlarge' } });
    block.applyToCfnLaunchTemplate(cfn);

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        InstanceType: 'p5.48xlarge',
        CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: RESERVATION_ID } },
        InstanceMarketOptions: { MarketType: 'capacity-block' },
      },
    });
  });

  test('fails to apply a block to an L1 template of another instance type', () => {
    const { stack, block } = stackWithBlock();
    const cfn = new ec2.CfnLaunchTemplate(stack, 'Nodes', { launchTemplateData: { instanceType: 'p4d.24xlarge' } });
    expect(() => block.applyToCfnLaunchTemplate(cfn)).toThrow('launch template Stack/Nodes has instanceType p4d.24xlarge, but Capacity Block Stack/Block reserves p5.48xlarge; use the same instance type');
  });

  test('applyToLaunchTemplate takes any ILaunchTemplate defined in the app', () => {
    const { stack, block } = stackWithBlock();
    const template: ec2.ILaunchTemplate = new ec2.LaunchTemplate(stack, 'Nodes', { instanceType: new ec2.InstanceType('p5.48xlarge') });
    block.applyToLaunchTemplate(template);
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: { InstanceMarketOptions: { MarketType: 'capacity-block' } } });
  });

  test('fails to apply a block to an imported launch template, saying what to do instead', () => {
    const { stack, block } = stackWithBlock();
    const imported = ec2.LaunchTemplate.fromLaunchTemplateAttributes(stack, 'Imported', { launchTemplateId: 'lt-0123456789abcdef0' });
    expect(() => block.applyToLaunchTemplate(imported)).toThrow(/^launch template Stack\/Imported is not defined in this app .*; create it in this app, or set its CapacityReservationTarget to Stack\/Block's reservation and its MarketType to capacity-block where it is defined$/);
  });

  test('an UltraServer block targets its reservation group on an L1 template too', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    const block = new CapacityBlockPurchase(stack, 'Block', { ultraserverType: UltraServerType.P6E_GB200_X72, ultraserverCount: 1, duration: Duration.days(1), maxUpfrontFee: 30_000 });
    block.applyToCfnLaunchTemplate(new ec2.CfnLaunchTemplate(stack, 'Nodes', { launchTemplateData: {} }));

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationResourceGroupArn: Match.anyValue() } } },
    });
  });
});
