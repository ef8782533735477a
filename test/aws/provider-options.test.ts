import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CapacityBlockInstanceType, CapacityBlockProvider, CapacityBlockProviderProps, CapacityBlockPurchase } from '../../lib';

/** A provider made to the platform team's rules: log retention, KMS for its logs and claims, a VPC. */
const ENV = { account: '123456789012', region: 'us-east-2' };

function stackWithProvider(options: (stack: Stack) => CapacityBlockProviderProps): { stack: Stack; template: Template } {
  const stack = new Stack(new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } }), 'Stack', { env: ENV });
  const provider = new CapacityBlockProvider(stack, 'Provider', options(stack));
  for (const id of ['First', 'Second']) {
    new CapacityBlockPurchase(stack, id, {
      instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 1, duration: Duration.days(1), maxUpfrontFee: 1_000, provider,
    });
  }
  return { stack, template: Template.fromStack(stack) };
}

function everything(stack: Stack): CapacityBlockProviderProps {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  vpc.addFlowLog('FlowLog');
  return {
    logRetention: logs.RetentionDays.TEN_YEARS,
    logEncryptionKey: new kms.Key(stack, 'LogKey', { enableKeyRotation: true }),
    claimsTableEncryptionKey: new kms.Key(stack, 'TableKey', { enableKeyRotation: true }),
    vpc,
  };
}

test('blocks given a provider use it, and the stack makes no provider of its own', () => {
  const { template } = stackWithProvider(() => ({}));
  template.resourceCountIs('AWS::Lambda::Function', 5);
  template.resourceCountIs('AWS::DynamoDB::Table', 1);
  const tokens = Object.values(template.findResources('Custom::CapacityBlockPurchase')).map(r => r.Properties.ServiceToken);
  expect(tokens).toEqual([tokens[0], tokens[0]]);
  expect(tokens[0]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ProviderframeworkonEvent/), 'Arn'] });
});

test('logRetention sets the log group\'s retention; it is still kept after the stack is deleted', () => {
  const { template } = stackWithProvider(() => ({ logRetention: logs.RetentionDays.TEN_YEARS }));
  template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 3653 }, DeletionPolicy: 'Retain' });
});

test('logEncryptionKey encrypts the log group, and the key lets CloudWatch Logs use it for this account\'s log groups only', () => {
  const { template } = stackWithProvider(stack => ({ logEncryptionKey: new kms.Key(stack, 'LogKey', { enableKeyRotation: true }) }));
  template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogKey'), 'Arn'] } });
  template.hasResourceProperties('AWS::KMS::Key', {
    KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
      Principal: { Service: 'logs.us-east-2.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', Match.arrayWith([':logs:us-east-2:123456789012:log-group:*'])] } } },
    })]) },
  });
});

test('claimsTableEncryptionKey encrypts the claims table, and only onEvent may use the key', () => {
  const { template } = stackWithProvider(stack => ({ claimsTableEncryptionKey: new kms.Key(stack, 'TableKey', { enableKeyRotation: true }) }));
  template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TableKey'), 'Arn'] } } });
  const keyUsers = Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([, p]) => JSON.stringify(p.Properties.PolicyDocument).includes('kms:Decrypt'))
    .map(([id]) => id);
  expect(keyUsers).toEqual([expect.stringMatching(/^ProviderOnEventRoleDefaultPolicy/)]);
});

test('vpc puts every function, the Provider framework\'s too, in the VPC behind one outbound-only security group, each after its VPC permissions', () => {
  const { template } = stackWithProvider(stack => ({ vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) }));
  const functions = Object.values(template.findResources('AWS::Lambda::Function'));
  expect(functions).toHaveLength(5);
  for (const fn of functions) expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ProviderSecurityGroup/), 'GroupId'] }]);
  for (const fn of functions) expect(fn.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ProviderVpcAccess/)]));
  template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
  template.hasResourceProperties('AWS::EC2::SecurityGroup', { SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0' }], SecurityGroupIngress: Match.absent() });
});

test('fails on vpcSubnets without vpc', () => {
  const stack = new Stack(new App(), 'Stack', { env: ENV });
  expect(() => new CapacityBlockProvider(stack, 'Provider', { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))
    .toThrow('CapacityBlockProvider Stack/Provider: vpcSubnets and securityGroups need vpc; set vpc too');
});

test('with every option, cdk-nag AwsSolutions finds nothing unacknowledged', () => {
  const { stack } = stackWithProvider(everything);
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
  expect(report.violations.flatMap(v => v.violatingResources.map(r => `${v.ruleName} at ${r.constructPath}`))).toEqual([]);
});
