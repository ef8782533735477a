import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * Minimal synthesized templates holding one reservation, written to a file: for rehearsals of a
 * single resource without synthesizing an app (tests, the bench, your own fault experiments).
 */
function write(template: object, dir?: string): string {
  const file = join(dir ?? mkdtempSync(join(tmpdir(), 'rehearsal-')), 'Rehearsal.template.json');
  writeFileSync(file, JSON.stringify(template));
  return file;
}

/** One CapacityBlockPurchase: 4 x p5.48xlarge for 48 h in us-east-1a at most 6,500 USD, plus `properties`. */
export function writeAwsTemplate(properties: Record<string, unknown> = {}, dir?: string): string {
  return write({
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
  }, dir);
}

/** One AliCapacityReservation: 4 x ecs.gn7i-c8g1.2xlarge in cn-hangzhou-h then -i, plus `parameters`. */
export function writeRosTemplate(parameters: Record<string, unknown> = {}, dir?: string): string {
  return write({
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
  }, dir);
}
