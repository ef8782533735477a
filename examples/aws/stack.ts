import { Annotations, CfnOutput, Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { CapacityBlockInstanceType, CapacityBlockPurchase } from '../../lib';

/**
 * A training team's stack: four H100 nodes for two days at no more than $6,500, an Auto Scaling group
 * of four nodes that launch into the block (in its zone, from a launch template that targets it) and
 * are scaled to 0 before it ends, and a warning 40 minutes before the block ends.
 */
export class TrainingCapacityStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // A Capacity Block lives in one Availability Zone: pin it to the zone of the nodes' subnets.
    const zone = `${this.region}a`;
    const block = new CapacityBlockPurchase(this, 'TrainingBlock', {
      instanceType: CapacityBlockInstanceType.P5_48XLARGE,
      instanceCount: 4,
      duration: Duration.days(2),
      maxUpfrontFee: 6_500, // 4 x 48 h at ~$31 per instance-hour is ~$6,040 today
      availabilityZone: zone,
      tags: { project: 'llm-pretraining' },
      // `cdk deploy -c previewOnly=true` first: nothing is bought, and the group below is deployed
      // with no instances; the deploy without it buys the block and gives the group its sizes.
      previewOnly: this.node.tryGetContext('previewOnly') === 'true',
    });
    Tags.of(this).add('cost-center', 'ml-research');

    const nodes = new ec2.LaunchTemplate(this, 'TrainingNodes', {
      instanceType: new ec2.InstanceType('p5.48xlarge'),
      machineImage: ec2.MachineImage.fromSsmParameter('/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id'),
      requireImdsv2: true,
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(200, { encrypted: true }) }],
    });

    const alerts = new sns.Topic(this, 'BlockEndingAlerts', { enforceSSL: true });
    const vpc = new ec2.Vpc(this, 'TrainingVpc', { availabilityZones: [zone], natGateways: 1, flowLogs: { all: {} } });
    // Launches fail until the block is active, and Auto Scaling keeps retrying: the nodes come up
    // when it starts. 40 minutes before the end the group is scaled to 0 (a scheduled action),
    // 10 minutes before EC2 shuts the instances down.
    const group = new autoscaling.AutoScalingGroup(this, 'TrainingNodesGroup', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: nodes,
      minCapacity: 0,
      desiredCapacity: 4,
      maxCapacity: 4,
      notifications: [{ topic: alerts }],
    });
    // Applies the block to the group's launch template; fails at synth if the group's instance type,
    // zone, size or purchase option contradicts the block.
    block.applyToAutoScalingGroup(group);
    // The group runs the block's size while the block lasts: a deploy that sets it again is what we want.
    Annotations.of(group).acknowledgeWarning('@aws-cdk/aws-autoscaling:desiredCapacitySet', 'the group runs the block\'s 4 instances; the scheduled action scales it to 0 before the end');

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
