import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { IConstruct } from 'constructs';
import { literal } from './block-facts';

/** What is known at synth of the training plan a HyperPod instance group runs on. */
export interface PlanFacts {
  readonly instanceType?: string;
  readonly instanceCount?: number;
  readonly availabilityZone?: string;
}

/**
 * What SageMaker would refuse, or leave idle, in an instance group on a training plan: another
 * instance type, more instances than the plan holds, and subnets outside the plan's zone (SageMaker
 * requires the cluster's configuration to match the plan's Availability Zone). Literal values only.
 */
export function hyperPodGroupErrors(plan: IConstruct, group: sagemaker.CfnCluster.ClusterInstanceGroupProperty, facts: PlanFacts): string[] {
  const name = `HyperPod instance group ${group.instanceGroupName}`;
  const planName = `training plan ${plan.node.path}`;
  const errors: string[] = [];
  const type = literal(group.instanceType);
  if (facts.instanceType !== undefined && type !== undefined && type !== facts.instanceType) {
    errors.push(`${name} has instanceType ${type}, but ${planName} reserves ${facts.instanceType}; use the same instance type`);
  }
  const count = literal(group.instanceCount);
  if (facts.instanceCount !== undefined && count !== undefined && count > facts.instanceCount) {
    errors.push(`${name} has instanceCount ${count}, but ${planName} holds ${facts.instanceCount} instance${facts.instanceCount === 1 ? '' : 's'}; set instanceCount to at most ${facts.instanceCount}`);
  }
  const zone = facts.availabilityZone;
  const vpcConfig = Token.isUnresolved(group.overrideVpcConfig) ? undefined : group.overrideVpcConfig as sagemaker.CfnCluster.VpcConfigProperty | undefined;
  const subnetIds = new Set(Array.isArray(vpcConfig?.subnets) ? vpcConfig.subnets : []);
  if (zone !== undefined && subnetIds.size > 0) {
    const outside = plan.node.root.node.findAll()
      .filter((c): c is IConstruct & ec2.ISubnet => 'subnetId' in c && 'availabilityZone' in c && subnetIds.has((c as ec2.ISubnet).subnetId))
      .filter(s => literal(s.availabilityZone) !== undefined && s.availabilityZone !== zone);
    if (outside.length > 0) {
      errors.push(`${name} has subnets outside ${zone}, the zone of ${planName}: ${outside.map(s => `${s.node.path} (${s.availabilityZone})`).join(', ')}; SageMaker requires the cluster in the plan's zone: give overrideVpcConfig subnets in ${zone} only`);
    }
  }
  return errors;
}
