import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps, UltraServerType } from '../../../lib';

export const ZONES = ['us-east-2a', 'us-east-2b', 'us-east-2c'];
export const BLOCK_ZONE = 'us-east-2a';

export function newStack(context: Record<string, unknown> = {}): Stack {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true, ...context } });
  return new Stack(app, 'Stack', { env: { account: '123456789012', region: 'us-east-2' } });
}

/** Four p5.48xlarge in us-east-2a, the block most specs use. */
export function p5Block(stack: Stack, overrides: Partial<CapacityBlockPurchaseProps> = {}): CapacityBlockPurchase {
  return new CapacityBlockPurchase(stack, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 6_500, availabilityZone: BLOCK_ZONE, ...overrides });
}

/** One P6e-GB200 NVL72 UltraServer (18 nodes) in us-east-2a. */
export function ultraBlock(stack: Stack, overrides: Partial<CapacityBlockPurchaseProps> = {}): CapacityBlockPurchase {
  return new CapacityBlockPurchase(stack, 'Ultra', { ultraserverType: UltraServerType.P6E_GB200_X72, ultraserverCount: 1, duration: Duration.days(1), maxUpfrontFee: 30_000, availabilityZone: BLOCK_ZONE, ...overrides });
}

/** A VPC with public and private subnets in three zones. */
export function threeZoneVpc(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Vpc', { availabilityZones: ZONES, natGateways: 1 });
}

export function logicalIdOf(template: Template, type: string): string {
  return Object.keys(template.findResources(type))[0];
}

/** The private subnets of `vpc` in `zone`, resolved to their logical ids' Refs. */
export function privateSubnetRefs(stack: Stack, vpc: ec2.Vpc, zone: string): unknown[] {
  return vpc.privateSubnets.filter(s => s.availabilityZone === zone).map(s => stack.resolve(s.subnetId));
}

/**
 * A template string value (Fn::Join of literals, GetAtt and Ref) as CloudFormation resolves it at
 * deploy time, given what each GetAtt attribute and Ref answers.
 */
export function deployTimeString(value: any, answers: { attributes: Record<string, string>; refs?: Record<string, string> }): string {
  const resolve = (v: any): string => {
    if (typeof v === 'string') return v;
    if (v['Fn::Join']) return v['Fn::Join'][1].map(resolve).join(v['Fn::Join'][0]);
    if (v['Fn::Select']) {
      const [index, list] = v['Fn::Select'];
      if (!list['Fn::Split']) throw new Error(`no deploy-time answer for ${JSON.stringify(v)}`);
      return resolve(list['Fn::Split'][1]).split(list['Fn::Split'][0])[index];
    }
    const answer = v['Fn::GetAtt'] ? answers.attributes[v['Fn::GetAtt'][1]] : v.Ref !== undefined ? answers.refs?.[v.Ref] : undefined;
    if (answer === undefined) throw new Error(`no deploy-time answer for ${JSON.stringify(v)}`);
    return answer;
  };
  return resolve(value);
}
