import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CapacityBlockInstanceType, CapacityBlockPurchase } from '../../../lib';
import { CloudFormationStack, quietly, withAwsHandler, withProviderFramework } from '../../../lib/local';

/**
 * No emulator evaluates IAM, and a missing permission only shows in a real account, after a deploy
 * that may already have paid. So each function's EC2 calls, over a full lifecycle of an instance
 * block and an UltraServer block under the real engine, are checked against its own role's policy
 * as the construct synthesizes it.
 */
function grantedTo(roleMatch: RegExp): Set<string> {
  const stack = new Stack(new App(), 'Iam', { env: { account: '123456789012', region: 'us-east-1' } });
  new CapacityBlockPurchase(stack, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 8000 });
  const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([id]) => roleMatch.test(id));
  expect(policies).toHaveLength(1);
  return new Set((policies[0][1].Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap(s => [s.Action].flat()));
}

const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };
const ULTRA = { UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '2', DurationHours: '24', MaxUpfrontFee: '70000', AllAvailabilityZones: 'true' };

test('every EC2 call each function makes over whole lifecycles is granted to that function\'s role, and no function is granted an EC2 action it never calls', () => withAwsHandler({}, (handler, emulator) => quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, async framework => {
  const instance = new CloudFormationStack(framework, { stackName: 'IamA', logicalId: 'Block', region: 'us-east-1' });
  await instance.deploy({ ...BLOCK, Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'cost', Value: 'a' }] });
  emulator.clock.advance(3_600_000);
  await instance.deploy({ ...BLOCK, DurationHours: '72', Tags: [{ Key: 'team', Value: 'research' }] });
  await instance.deploy({ ...BLOCK, PreviewOnly: 'true' });
  await instance.destroy();
  const ultra = new CloudFormationStack(framework, { stackName: 'IamU', logicalId: 'Ultra', region: 'us-east-1' });
  await ultra.deploy(ULTRA);
  emulator.clock.advance(emulator.purchases[emulator.purchases.length - 1].offering.startDate.getTime() - emulator.clock.now().getTime() + 3_600_000);
  await ultra.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'ml' }] });
  await ultra.destroy();

  const ec2Actions = (commands: Set<string>) => [...commands].filter(c => !/^(GetItem|PutItem|UpdateItem|DeleteItem)Command$/.test(c)).map(c => `ec2:${c.replace(/Command$/, '')}`);
  const onEventCalls = ec2Actions(framework.commandsBy.onEvent);
  const isCompleteCalls = ec2Actions(framework.commandsBy.isComplete);
  expect(onEventCalls).toEqual(expect.arrayContaining(['ec2:PurchaseCapacityBlock', 'ec2:PurchaseCapacityBlockExtension', 'ec2:CreateTags', 'ec2:DeleteTags']));
  expect(isCompleteCalls).toEqual(expect.arrayContaining(['ec2:DescribeCapacityBlocks', 'ec2:DescribeCapacityBlockStatus']));

  const onEventGrants = [...grantedTo(/ProviderOnEventRole/)].filter(a => a.startsWith('ec2:'));
  const isCompleteGrants = [...grantedTo(/ProviderIsCompleteRole/)].filter(a => a.startsWith('ec2:'));
  expect(onEventCalls.filter(a => !onEventGrants.includes(a))).toEqual([]);
  expect(isCompleteCalls.filter(a => !isCompleteGrants.includes(a))).toEqual([]);
  expect(onEventGrants.filter(a => !onEventCalls.includes(a)).sort()).toEqual([]);
  expect(isCompleteGrants.filter(a => !isCompleteCalls.includes(a)).sort()).toEqual([]);
}))));
