import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/** A minimal synthesized template holding one CapacityBlockPurchase, as a file. */
export function awsTemplate(properties: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rehearsal-')), 'Test.template.json');
  writeFileSync(file, JSON.stringify({
    Resources: {
      Block: {
        Type: 'Custom::CapacityBlockPurchase',
        Properties: {
          ServiceToken: { 'Fn::GetAtt': ['ProviderframeworkonEvent', 'Arn'] },
          InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '6500', AvailabilityZone: 'us-east-1a',
          ...properties,
        },
      },
    },
  }));
  return file;
}

/** A minimal ROS template holding one AliCapacityReservation custom resource, as a file. */
export function rosTemplate(parameters: Record<string, unknown> = {}): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rehearsal-')), 'Test.template.json');
  writeFileSync(file, JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: {
      Pool: {
        Type: 'ALIYUN::ROS::CustomResource',
        Properties: {
          ServiceToken: { 'Fn::GetAtt': ['CrpHandler', 'ARN'] },
          Timeout: 900,
          Parameters: { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'], ...parameters },
        },
      },
    },
  }));
  return file;
}
