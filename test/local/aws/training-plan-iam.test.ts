import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { TrainingPlanInstanceType, TrainingPlanPurchase, TrainingPlanTarget } from '../../../lib';
import { CloudFormationStack, quietly, SageMakerCall, TRAINING_PLAN_TYPE, withProviderFramework, withTrainingPlanHandler } from '../../../lib/local';
import { ACCOUNT, attributingCalls, AuthorizationRequest, isAllowed, REGION, resolve, Statement } from './iam-policy';
import { sageMakerAuthorizationRequests } from './sagemaker-iam';
import { PLAN } from './training-plan-harness';

/**
 * Each function's SageMaker calls over whole lifecycles under the real engine, evaluated against its
 * own role's policy as the construct synthesizes it, conditions included, and calls on another
 * stack's plans evaluated too: a missing permission shows only in a real account, after a deploy that
 * may already have paid, and one too wide lets a stack spend on another's plans.
 */
function policyOf(stackName: string, role: RegExp): Statement[] {
  const stack = new Stack(new App(), stackName, { env: { account: ACCOUNT, region: REGION } });
  new TrainingPlanPurchase(stack, 'Plan', { instanceType: TrainingPlanInstanceType.ML_P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), targetResources: [TrainingPlanTarget.TRAINING_JOB], maxUpfrontFee: 10000 });
  const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([id]) => role.test(id));
  expect(policies).toHaveLength(1);
  return resolve(policies[0][1].Properties.PolicyDocument.Statement, stackName) as Statement[];
}

/** Every call the handler made in a whole lifecycle (create, retag, extend, preview, delete), per function. */
async function lifecycleCalls(stackName: string): Promise<Record<'onEvent' | 'isComplete', SageMakerCall[]>> {
  return withTrainingPlanHandler({}, async (handler, emulator) => {
    const { traced, byFunction } = attributingCalls(handler, () => emulator.calls);
    await quietly(() => withProviderFramework(traced, emulator, handler.providerTimings, async framework => {
      const cfn = new CloudFormationStack(framework, { stackName, logicalId: 'Plan', region: REGION, resourceType: TRAINING_PLAN_TYPE });
      await cfn.deploy({ ...PLAN, Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'cost', Value: 'a' }] });
      emulator.clock.advance(3_600_000);
      await cfn.deploy({ ...PLAN, DurationHours: '72', Tags: [{ Key: 'team', Value: 'research' }] });
      await cfn.deploy({ ...PLAN, PreviewOnly: 'true' });
      await cfn.destroy();
    }));
    return byFunction;
  });
}

describe('each function may make exactly the SageMaker calls it makes, conditions included', () => {
  let calls: Record<'onEvent' | 'isComplete', SageMakerCall[]>;
  beforeAll(async () => {
    calls = await lifecycleCalls('IamPlans');
  });

  test('every SageMaker call onEvent makes is allowed by its role\'s policy', () => {
    expect(new Set(calls.onEvent.map(c => c.action))).toEqual(new Set(['SearchTrainingPlanOfferings', 'CreateTrainingPlan', 'DescribeTrainingPlan', 'ListTags', 'AddTags', 'DeleteTags', 'DescribeTrainingPlanExtensionHistory', 'ExtendTrainingPlan']));
    const policy = policyOf('IamPlans', /TrainingPlanPurchaseProviderOnEventRole/);
    expect(calls.onEvent.flatMap(sageMakerAuthorizationRequests).filter(r => !isAllowed(policy, r))).toEqual([]);
  });

  test('every SageMaker call isComplete makes is allowed by its role\'s policy', () => {
    expect(new Set(calls.isComplete.map(c => c.action))).toEqual(new Set(['DescribeTrainingPlan']));
    const policy = policyOf('IamPlans', /TrainingPlanPurchaseProviderIsCompleteRole/);
    expect(calls.isComplete.flatMap(sageMakerAuthorizationRequests).filter(r => !isAllowed(policy, r))).toEqual([]);
  });

  test('no function is granted a SageMaker action it never needs', () => {
    const needed = (fn: 'onEvent' | 'isComplete') => new Set(calls[fn].flatMap(sageMakerAuthorizationRequests).map(r => r.action));
    for (const [fn, role] of [['onEvent', /TrainingPlanPurchaseProviderOnEventRole/], ['isComplete', /TrainingPlanPurchaseProviderIsCompleteRole/]] as const) {
      const granted = new Set(policyOf('IamPlans', role).flatMap(s => [s.Action].flat()).filter(a => a.startsWith('sagemaker:')));
      expect([...granted].filter(a => !needed(fn).has(a))).toEqual([]);
    }
  });
});

describe('a stack\'s role may spend on and retag only its own plans', () => {
  const policy = () => policyOf('Training', /TrainingPlanPurchaseProviderOnEventRole/);
  const arn = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-plan/other`;
  const ownedBy = (owner: string) => ({ 'aws:ResourceTag/cdk-capacity-reservations:owner': owner });
  const mutations = (owner: string): AuthorizationRequest[] => [
    { action: 'sagemaker:ExtendTrainingPlan', resource: arn, context: ownedBy(owner) },
    { action: 'sagemaker:AddTags', resource: arn, context: { ...ownedBy(owner), 'aws:RequestTag/team': 'ml', 'aws:TagKeys': ['team'] } },
    { action: 'sagemaker:DeleteTags', resource: arn, context: { ...ownedBy(owner), 'aws:TagKeys': ['team'] } },
  ];

  test('its role may extend, and change the user tags of, a plan this stack owns', () => {
    expect(mutations('Training/Plan').filter(r => !isAllowed(policy(), r))).toEqual([]);
  });

  test('fails to extend or retag a plan another stack owns, even one whose name starts like this one\'s', () => {
    for (const other of ['Inference/Plan', 'Training2/Plan']) expect(mutations(other).filter(r => isAllowed(policy(), r))).toEqual([]);
  });

  test('fails to overwrite or remove the library\'s own tags on its own plans', () => {
    const key = 'cdk-capacity-reservations:owner';
    expect(isAllowed(policy(), { action: 'sagemaker:AddTags', resource: arn, context: { ...ownedBy('Training/Plan'), [`aws:RequestTag/${key}`]: 'x', 'aws:TagKeys': [key] } })).toBe(false);
    expect(isAllowed(policy(), { action: 'sagemaker:DeleteTags', resource: arn, context: { ...ownedBy('Training/Plan'), 'aws:TagKeys': [key] } })).toBe(false);
  });

  test('fails to create a plan tagged for another stack, or untagged', () => {
    const create = (tags: Record<string, string>): AuthorizationRequest => ({
      action: 'sagemaker:CreateTrainingPlan', resource: arn,
      context: { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(tags) },
    });
    const keyed = { 'cdk-capacity-reservations:idempotency-key': 'k' };
    expect(isAllowed(policy(), create({ ...keyed, 'cdk-capacity-reservations:owner': 'Training/Plan' }))).toBe(true);
    expect(isAllowed(policy(), create({ ...keyed, 'cdk-capacity-reservations:owner': 'Inference/Plan' }))).toBe(false);
    expect(isAllowed(policy(), create({ 'cdk-capacity-reservations:owner': 'Training/Plan' }))).toBe(false);
  });
});
