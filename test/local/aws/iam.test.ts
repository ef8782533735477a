import { App, Duration, NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CapacityBlockInstanceType, CapacityBlockProvider, CapacityBlockPurchase } from '../../../lib';
import { CloudFormationStack, Ec2Call, quietly, withAwsHandler, withProviderFramework } from '../../../lib/local';
import { ACCOUNT, attributingCalls, authorizationRequests, AuthorizationRequest, isAllowed, REGION, resolve, stackIdOf, Statement } from './iam-policy';

/**
 * No emulator evaluates IAM, and a missing permission only shows in a real account, after a deploy
 * that may already have paid; a permission too wide lets one stack's role spend on another's blocks.
 * So each function's EC2 calls, over whole lifecycles under the real engine, are evaluated against
 * its own role's policy as the construct synthesizes it, conditions included (iam-policy.ts), and
 * calls on another stack's blocks are evaluated too.
 */
function policyOf(stackName: string, roleMatch: RegExp): Statement[] {
  const stack = new Stack(new App(), stackName, { env: { account: ACCOUNT, region: REGION } });
  new CapacityBlockPurchase(stack, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 8000 });
  const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([id]) => roleMatch.test(id));
  expect(policies).toHaveLength(1);
  return resolve(policies[0][1].Properties.PolicyDocument.Statement, stackName) as Statement[];
}

const ec2ActionsOf = (statements: Statement[]) => new Set(statements.flatMap(s => [s.Action].flat()).filter(a => a.startsWith('ec2:')));

const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };
const ULTRA = { UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '2', DurationHours: '24', MaxUpfrontFee: '70000', AllAvailabilityZones: 'true' };

/** Every call the handler made in whole lifecycles of an instance block and an UltraServer block, per function. */
async function lifecycleCalls(stackName: string): Promise<Record<'onEvent' | 'isComplete', Ec2Call[]>> {
  // EC2 answers an UltraServer purchase before it names the reservations: the handler follows the block.
  return withAwsHandler({ answersWithoutIds: o => o.ultraserverType !== undefined, listingDelayMs: 40_000 }, async (handler, emulator) => {
    const { traced, byFunction } = attributingCalls(handler, () => emulator.calls);
    await quietly(() => withProviderFramework(traced, emulator, handler.providerTimings, async framework => {
      const instance = new CloudFormationStack(framework, { stackName, logicalId: 'Block', region: REGION });
      await instance.deploy({ ...BLOCK, Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'cost', Value: 'a' }] });
      emulator.clock.advance(3_600_000);
      await instance.deploy({ ...BLOCK, DurationHours: '72', Tags: [{ Key: 'team', Value: 'research' }] });
      await instance.deploy({ ...BLOCK, PreviewOnly: 'true' });
      await instance.destroy();
      const ultra = new CloudFormationStack(framework, { stackName, logicalId: 'Ultra', region: REGION });
      await ultra.deploy(ULTRA);
      emulator.clock.advance(emulator.purchases[emulator.purchases.length - 1].offering.startDate.getTime() - emulator.clock.now().getTime() + 3_600_000);
      await ultra.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'ml' }] });
      await ultra.destroy();
    }));
    return byFunction;
  });
}

describe('each function may make exactly the EC2 calls it makes, conditions included', () => {
  let calls: Record<'onEvent' | 'isComplete', Ec2Call[]>;
  const onEventPolicy = () => policyOf('IamA', /ProviderOnEventRole/);
  const isCompletePolicy = () => policyOf('IamA', /ProviderIsCompleteRole/);
  beforeAll(async () => {
    calls = await lifecycleCalls('IamA');
  });

  test('every EC2 call onEvent makes, the dry run of previewOnly included, is allowed by its role\'s policy', () => {
    const policy = onEventPolicy();
    const actions = new Set(calls.onEvent.map(c => c.action));
    expect([...actions]).toEqual(expect.arrayContaining(['PurchaseCapacityBlock', 'PurchaseCapacityBlockExtension', 'CreateTags', 'DeleteTags', 'DescribeCapacityBlockExtensionHistory']));
    expect(calls.onEvent.some(c => c.action === 'PurchaseCapacityBlock' && c.params.DryRun === 'true')).toBe(true);
    const denied = calls.onEvent.flatMap(authorizationRequests).filter(r => !isAllowed(policy, r));
    expect(denied).toEqual([]);
  });

  test('every EC2 call isComplete makes is allowed by its role\'s policy', () => {
    const policy = isCompletePolicy();
    expect(new Set(calls.isComplete.map(c => c.action))).toEqual(new Set(['DescribeCapacityReservations', 'DescribeCapacityBlocks', 'DescribeCapacityBlockStatus']));
    expect(calls.isComplete.flatMap(authorizationRequests).filter(r => !isAllowed(policy, r))).toEqual([]);
  });

  test('no function is granted an EC2 action it never calls', () => {
    const called = (fn: 'onEvent' | 'isComplete') => new Set(calls[fn].map(c => `ec2:${c.action}`));
    expect([...ec2ActionsOf(onEventPolicy())].filter(a => !called('onEvent').has(a))).toEqual([]);
    expect([...ec2ActionsOf(isCompletePolicy())].filter(a => !called('isComplete').has(a))).toEqual([]);
  });
});

describe('a stack\'s role may spend on and retag only its own blocks', () => {
  const policy = () => policyOf('Training', /ProviderOnEventRole/);
  const arn = `arn:aws:ec2:${REGION}:${ACCOUNT}:capacity-reservation/cr-0other`;
  const ownedBy = (owner: string) => ({
    'aws:ResourceTag/cdk-capacity-reservations:owner': owner,
    'aws:ResourceTag/cdk-capacity-reservations:idempotency-key': 'k',
  });
  const mutations = (owner: string): AuthorizationRequest[] => [
    { action: 'ec2:PurchaseCapacityBlockExtension', resource: arn, context: ownedBy(owner) },
    { action: 'ec2:DescribeCapacityBlockExtensionOfferings', resource: arn, context: ownedBy(owner) },
    { action: 'ec2:CreateTags', resource: arn, context: { ...ownedBy(owner), 'aws:RequestTag/team': 'ml', 'aws:TagKeys': ['team'] } },
    { action: 'ec2:DeleteTags', resource: arn, context: { ...ownedBy(owner), 'aws:TagKeys': ['team'] } },
  ];

  test('its role may extend, and change the user tags of, a block this stack owns', () => {
    expect(mutations('Training/Block').filter(r => !isAllowed(policy(), r))).toEqual([]);
  });

  test('fails to extend or retag a block another stack owns, even one whose name starts like this one\'s', () => {
    for (const other of ['Inference/Block', 'Training2/Block', 'TrainingX/Block']) {
      expect(mutations(other).filter(r => isAllowed(policy(), r))).toEqual([]);
    }
  });

  test('fails to overwrite or remove the library\'s own tags on its own blocks', () => {
    for (const key of ['cdk-capacity-reservations:owner', 'cdk-capacity-reservations:idempotency-key', 'cdk-capacity-reservations:upfront-fee']) {
      expect(isAllowed(policy(), { action: 'ec2:CreateTags', resource: arn, context: { ...ownedBy('Training/Block'), [`aws:RequestTag/${key}`]: 'x', 'aws:TagKeys': [key] } })).toBe(false);
      expect(isAllowed(policy(), { action: 'ec2:DeleteTags', resource: arn, context: { ...ownedBy('Training/Block'), 'aws:TagKeys': [key] } })).toBe(false);
    }
  });

  test('fails to buy a block tagged for another stack', () => {
    const purchase = (owner: string): AuthorizationRequest => ({
      action: 'ec2:PurchaseCapacityBlock', resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:capacity-reservation/*`,
      context: { 'aws:RequestTag/cdk-capacity-reservations:owner': owner, 'aws:RequestTag/cdk-capacity-reservations:idempotency-key': 'k', 'aws:TagKeys': ['cdk-capacity-reservations:owner', 'cdk-capacity-reservations:idempotency-key'] },
    });
    expect(isAllowed(policy(), purchase('Training/Block'))).toBe(true);
    expect(isAllowed(policy(), purchase('Inference/Block'))).toBe(false);
  });
});

describe('one provider shared by the top-level stacks of an app', () => {
  test('its role may buy and extend the blocks of every stack it serves, and of no other', () => {
    const app = new App();
    const env = { account: ACCOUNT, region: REGION };
    const shared = new Stack(app, 'Shared', { env });
    const provider = new CapacityBlockProvider(shared, 'Provider');
    const props = { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 8000, provider };
    new CapacityBlockPurchase(new Stack(app, 'Training', { env }), 'Block', props);
    new CapacityBlockPurchase(new Stack(app, 'Inference', { env }), 'Block', props);
    const policies = Object.entries(Template.fromStack(shared).findResources('AWS::IAM::Policy')).filter(([id]) => /ProviderOnEventRole/.test(id));
    expect(policies).toHaveLength(1);
    const policy = resolve(policies[0][1].Properties.PolicyDocument.Statement, 'Shared') as Statement[];
    const purchase = (owner: string): AuthorizationRequest => ({
      action: 'ec2:PurchaseCapacityBlock', resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:capacity-reservation/*`,
      context: { 'aws:RequestTag/cdk-capacity-reservations:owner': owner, 'aws:RequestTag/cdk-capacity-reservations:idempotency-key': 'k', 'aws:TagKeys': ['cdk-capacity-reservations:owner', 'cdk-capacity-reservations:idempotency-key'] },
    });
    const extend = (owner: string): AuthorizationRequest => ({
      action: 'ec2:PurchaseCapacityBlockExtension', resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:capacity-reservation/cr-0a`,
      context: { 'aws:ResourceTag/cdk-capacity-reservations:owner': owner },
    });
    for (const owner of ['Training/Block', 'Inference/Block']) {
      expect(isAllowed(policy, purchase(owner))).toBe(true);
      expect(isAllowed(policy, extend(owner))).toBe(true);
    }
    for (const owner of ['Shared/Block', 'Other/Block']) {
      expect(isAllowed(policy, purchase(owner))).toBe(false);
      expect(isAllowed(policy, extend(owner))).toBe(false);
    }
  });

  test('fails at synth when a nested stack, whose name is known only at deploy time, uses another stack\'s provider', () => {
    const app = new App();
    const parent = new Stack(app, 'Parent', { env: { account: ACCOUNT, region: REGION } });
    const provider = new CapacityBlockProvider(parent, 'Provider');
    const nested = new NestedStack(parent, 'Nested');
    expect(() => new CapacityBlockPurchase(nested, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 8000, provider }))
      .toThrow(/Parent\/Nested\/Block uses the CapacityBlockProvider of stack Parent, but its own stack's name is known only at deploy time \(a nested stack\); share a provider only among top-level stacks/);
  });
});

describe('an Update asks CloudFormation about its own stack, and may ask about no other', () => {
  test('every DescribeStacks onEvent makes names the event\'s own StackId, and its role allows DescribeStacks on that stack only', () => withAwsHandler({}, async (handler, emulator, seams) => {
    const stack = await quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, async framework => {
      const cfn = new CloudFormationStack(framework, { stackName: 'IamC', logicalId: 'Block', region: REGION });
      await cfn.deploy(BLOCK);
      await cfn.deploy({ ...BLOCK, Tags: [{ Key: 'team', Value: 'ml' }] });
      return cfn;
    }));
    const asked = seams.cloudFormation.calls.filter(c => c.action === 'DescribeStacks').map(c => c.stackName);
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set([stack.stackId]));
    const policy = policyOf('IamC', /ProviderOnEventRole/);
    const describe = (resource: string) => isAllowed(policy, { action: 'cloudformation:DescribeStacks', resource, context: {} });
    expect(describe(stackIdOf('IamC'))).toBe(true);
    expect(describe(stackIdOf('OtherStack'))).toBe(false);
    expect(describe('*')).toBe(false);
  }));
});
