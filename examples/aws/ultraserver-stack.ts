import { CfnOutput, Duration, Fn, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CapacityBlockPurchase, UltraServerType } from '../../lib';

/**
 * A frontier-model team's stack: one P6e-GB200 NVL72 UltraServer (18 nodes, 72 GPUs) for a day at no
 * more than $30,000. EC2 sells it only in the Dallas Local Zone of us-east-1, so the search lists every
 * zone (allAvailabilityZones); the account must be opted in to that Local Zone to launch there.
 */
export class FrontierCapacityStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const block = new CapacityBlockPurchase(this, 'FrontierBlock', {
      ultraserverType: UltraServerType.P6E_GB200_X72,
      ultraserverCount: 1,
      duration: Duration.days(1),
      maxUpfrontFee: 30_000, // 18 nodes x 24 h at ~$65 per node-hour is ~$28,000 today
      allAvailabilityZones: true,
      tags: { project: 'frontier-pretraining' },
    });

    // An UltraServer block is several Capacity Reservations: the launch template targets a Capacity
    // Reservation resource group that holds all of them (created by applyToLaunchTemplate).
    const nodes = new ec2.LaunchTemplate(this, 'FrontierNodes', {
      instanceType: new ec2.InstanceType('p6e-gb200.36xlarge'),
      machineImage: ec2.MachineImage.fromSsmParameter('/aws/service/deeplearning/ami/arm64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id'),
      requireImdsv2: true,
    });
    block.applyToLaunchTemplate(nodes);

    const alerts = new sns.Topic(this, 'BlockEndingAlerts', { enforceSSL: true });
    block.onExpirationWarning('BlockEnding', {
      description: 'The UltraServer block ends in 40 minutes: checkpoint now',
      target: new targets.SnsTopic(alerts),
    });

    new CfnOutput(this, 'CapacityBlockId', { value: block.capacityBlockId });
    new CfnOutput(this, 'CapacityReservationIds', { value: Fn.join(',', block.capacityReservationIds) });
    new CfnOutput(this, 'BlockState', { value: block.state });
    new CfnOutput(this, 'UpfrontFee', { value: `${block.upfrontFee} ${block.currencyCode}` });
  }
}
