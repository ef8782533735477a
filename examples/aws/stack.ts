import { CfnOutput, Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { CapacityBlockInstanceType, CapacityBlockPurchase } from '../../lib';

/**
 * A training team's stack: four H100 nodes for two days at no more than $6,500, a launch template
 * that lands instances in the block, and a warning 40 minutes before the block ends.
 */
export class TrainingCapacityStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const block = new CapacityBlockPurchase(this, 'TrainingBlock', {
      instanceType: CapacityBlockInstanceType.P5_48XLARGE,
      instanceCount: 4,
      duration: Duration.days(2),
      maxUpfrontFee: 6_500, // 4 x 48 h at ~$31 per instance-hour is ~$6,040 today
      availabilityZone: `${this.region}a`,
      tags: { project: 'llm-pretraining' },
    });
    Tags.of(this).add('cost-center', 'ml-research');

    const nodes = new ec2.LaunchTemplate(this, 'TrainingNodes', {
      instanceType: new ec2.InstanceType('p5.48xlarge'),
      machineImage: ec2.MachineImage.fromSsmParameter('/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id'),
      requireImdsv2: true,
    });
    block.applyToLaunchTemplate(nodes);

    const alerts = new sns.Topic(this, 'BlockEndingAlerts', { enforceSSL: true });
    block.onExpirationWarning('BlockEnding', {
      description: 'The training block ends in 40 minutes: checkpoint now',
      target: new targets.SnsTopic(alerts),
    });

    new CfnOutput(this, 'CapacityReservationId', { value: block.capacityReservationId });
    new CfnOutput(this, 'BlockState', { value: block.state });
    new CfnOutput(this, 'BlockWindow', { value: `${block.startDate} .. ${block.endDate}` });
    new CfnOutput(this, 'UpfrontFee', { value: `${block.upfrontFee} ${block.currencyCode}` });
  }
}
