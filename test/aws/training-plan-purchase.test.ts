import { App, CfnParameter, Duration, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import {
  CapacityBlockInstanceType, CapacityBlockPurchase, OfferingSelection, TrainingPlanInstanceType, TrainingPlanPurchase, TrainingPlanPurchaseProps,
  TrainingPlanTarget, TrainingPlanUltraServerType,
} from '../../lib';
import { SAGEMAKER_ACTIONS } from '../../lib/aws/training-plan-provider';
import { CLAIMS_TABLE_ENV, IDEMPOTENCY_TAG, OWNER_TAG } from '../../lib/aws/wire';

const RESOURCE_TYPE = 'Custom::TrainingPlanPurchase';
const ENV = { account: '123456789012', region: 'us-east-2' };

function newStack(id = 'Stack', app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } })): Stack {
  return new Stack(app, id, { env: ENV });
}

const REQUIRED: TrainingPlanPurchaseProps = {
  instanceType: TrainingPlanInstanceType.ML_P5_48XLARGE,
  instanceCount: 4,
  duration: Duration.days(2),
  targetResources: [TrainingPlanTarget.HYPERPOD_CLUSTER],
  maxUpfrontFee: 10_000,
};

function plan(stack: Stack, overrides: Partial<TrainingPlanPurchaseProps> = {}, id = 'Plan'): TrainingPlanPurchase {
  return new TrainingPlanPurchase(stack, id, { ...REQUIRED, ...overrides });
}

/** Every statement of the role whose logical id matches, resolved as written. */
function statementsOf(template: Template, role: RegExp): any[] {
  const policies = Object.entries<any>(template.findResources('AWS::IAM::Policy')).filter(([id]) => role.test(id));
  expect(policies).toHaveLength(1);
  return policies[0][1].Properties.PolicyDocument.Statement;
}

const actionsOf = (statements: any[]) => new Set(statements.flatMap(s => [s.Action].flat()).filter((a: string) => a.startsWith('sagemaker:')));

describe('provider', () => {
  test('a stack with training plans gets one training plan provider, with its own claims table, and no Capacity Block provider', () => {
    const stack = newStack();
    plan(stack);
    plan(stack, {}, 'Second');
    const template = Template.fromStack(stack);
    template.resourceCountIs(RESOURCE_TYPE, 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(stack.node.tryFindChild('TrainingPlanPurchaseProvider')).toBeDefined();
    expect(stack.node.tryFindChild('CapacityBlockPurchaseProvider')).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.onEvent', Environment: { Variables: { [CLAIMS_TABLE_ENV]: Match.anyValue() } } });
  });

  test('a stack with Capacity Blocks only gets no training plan provider', () => {
    const stack = newStack();
    new CapacityBlockPurchase(stack, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 1, duration: Duration.days(1), maxUpfrontFee: 5000 });
    expect(stack.node.tryFindChild('TrainingPlanPurchaseProvider')).toBeUndefined();
  });

  test('a stack with both keeps the two providers and their tables apart', () => {
    const stack = newStack();
    plan(stack);
    new CapacityBlockPurchase(stack, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 1, duration: Duration.days(1), maxUpfrontFee: 5000 });
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 2);
  });

  test('a further plan costs exactly one CloudFormation resource', () => {
    const one = newStack('One');
    plan(one);
    const two = newStack('Two');
    plan(two);
    plan(two, {}, 'Second');
    const count = (s: Stack) => Object.keys(Template.fromStack(s).toJSON().Resources).length;
    expect(count(two) - count(one)).toBe(1);
  });

  test('the handlers run from the training plan bundle, within CloudFormation\'s clock', () => {
    const stack = newStack();
    plan(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties(RESOURCE_TYPE, { ServiceTimeout: '3600' });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.onEvent', Timeout: 300, Description: Match.stringLikeRegexp('SageMaker training plans') });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.isComplete', Timeout: 60 });
  });
});

describe('custom resource properties', () => {
  test('required props are written as strings, the default name is derived from the stack and path, and every optional key is omitted', () => {
    const stack = newStack('TrainingStack');
    plan(stack);
    const props = Object.values<any>(Template.fromStack(stack).findResources(RESOURCE_TYPE))[0].Properties;
    expect(props).toEqual({
      ServiceToken: expect.anything(), ServiceTimeout: '3600', InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['hyperpod-cluster'],
      MaxUpfrontFee: '10000', TrainingPlanName: expect.stringMatching(/^TrainingStack-Plan-[A-Z0-9]{8}$/),
    });
    expect(props.TrainingPlanName.length).toBeLessThanOrEqual(60);
  });

  test('two plans of a stack get different default names', () => {
    const stack = newStack();
    plan(stack);
    plan(stack, {}, 'Other');
    const found = Object.values<any>(Template.fromStack(stack).findResources(RESOURCE_TYPE)).map(r => r.Properties.TrainingPlanName);
    expect(new Set(found).size).toBe(2);
  });

  test('an UltraServer plan, the window, selection, name and options are written when given', () => {
    const stack = newStack();
    plan(stack, {
      instanceType: undefined, instanceCount: undefined, ultraServerType: TrainingPlanUltraServerType.ML_U_P6E_GB200X72, ultraServerCount: 1, spareInstanceCountPerUltraServer: 2,
      earliestStart: new Date('2030-01-01T00:00:00Z'), latestEnd: new Date('2030-02-01T00:00:00Z'), selection: OfferingSelection.EARLIEST_START,
      trainingPlanName: 'frontier-run-7', currencyCode: 'EUR', waitTimeout: Duration.minutes(10), allowRepurchase: true,
      targetResources: [TrainingPlanTarget.TRAINING_JOB, TrainingPlanTarget.of('studio-apps')],
    });
    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, {
      UltraServerType: 'ml.u-p6e-gb200x72', UltraServerCount: '1', SpareInstanceCountPerUltraServer: '2', InstanceType: Match.absent(), EarliestStart: '2030-01-01T00:00:00.000Z', LatestEnd: '2030-02-01T00:00:00.000Z',
      Selection: 'EARLIEST_START', TrainingPlanName: 'frontier-run-7', CurrencyCode: 'EUR', WaitTimeoutSeconds: '600', AllowRepurchase: 'true', TargetResources: ['training-job', 'studio-apps'],
    });
  });

  test('props tags and Tags.of() both reach the plan', () => {
    const stack = newStack();
    plan(stack, { tags: { project: 'llm' } });
    Tags.of(stack).add('cost-center', 'ml');
    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { Tags: Match.arrayWith([{ Key: 'cost-center', Value: 'ml' }, { Key: 'project', Value: 'llm' }]) });
  });
});

describe('IAM', () => {
  test('onEvent is granted exactly the SageMaker actions the handler calls, and isComplete only DescribeTrainingPlan', () => {
    const template = Template.fromStack((() => { const s = newStack(); plan(s); return s; })());
    expect(actionsOf(statementsOf(template, /TrainingPlanPurchaseProviderOnEventRole/))).toEqual(new Set([
      ...SAGEMAKER_ACTIONS.search, ...SAGEMAKER_ACTIONS.read, ...SAGEMAKER_ACTIONS.create, SAGEMAKER_ACTIONS.tag, SAGEMAKER_ACTIONS.untag, SAGEMAKER_ACTIONS.extend,
    ]));
    expect(actionsOf(statementsOf(template, /TrainingPlanPurchaseProviderIsCompleteRole/))).toEqual(new Set(['sagemaker:DescribeTrainingPlan']));
  });

  test('only the offering search is granted on every resource', () => {
    const template = Template.fromStack((() => { const s = newStack(); plan(s); return s; })());
    const onAny = statementsOf(template, /TrainingPlanPurchaseProviderOnEventRole/).filter(s => s.Resource === '*');
    expect(onAny.flatMap(s => [s.Action].flat()).filter((a: string) => a.startsWith('sagemaker:')).sort()).toEqual([...SAGEMAKER_ACTIONS.search].sort());
  });

  test('a plan may only be created carrying the idempotency tag and an owner tag naming this stack, and extended only when its owner tag names this stack', () => {
    const template = Template.fromStack((() => { const s = newStack('TrainingStack'); plan(s); return s; })());
    const statements = statementsOf(template, /TrainingPlanPurchaseProviderOnEventRole/);
    const create = statements.find(s => s.Action === 'sagemaker:CreateTrainingPlan');
    expect(create.Condition).toEqual({
      Null: { [`aws:RequestTag/${IDEMPOTENCY_TAG}`]: 'false', [`aws:RequestTag/${OWNER_TAG}`]: 'false' },
      StringLike: { [`aws:RequestTag/${OWNER_TAG}`]: 'TrainingStack/*' },
    });
    expect(JSON.stringify(create.Resource)).toMatch(/:training-plan\/\*/);
    expect(statements.find(s => s.Action === 'sagemaker:ExtendTrainingPlan').Condition).toEqual({ StringLike: { [`aws:ResourceTag/${OWNER_TAG}`]: 'TrainingStack/*' } });
    const tagAtCreate = statements.find(s => s.Action === 'sagemaker:AddTags' && s.Condition.StringEquals);
    expect(tagAtCreate.Condition.StringEquals).toEqual({ 'sagemaker:TaggingAction': ['CreateTrainingPlan', 'CreateReservedCapacity'] });
  });
});

describe('using the plan', () => {
  test('instanceGroup sets the plan\'s ARN on a HyperPod instance group', () => {
    const stack = newStack();
    const p = plan(stack);
    new sagemaker.CfnCluster(stack, 'Cluster', {
      clusterName: 'llm',
      instanceGroups: [p.instanceGroup({
        instanceGroupName: 'workers', instanceType: 'ml.p5.48xlarge', instanceCount: 4, executionRole: 'arn:aws:iam::123456789012:role/hyperpod',
        lifeCycleConfig: { sourceS3Uri: 's3://bucket/lifecycle', onCreate: 'on_create.sh' },
      })],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Cluster', {
      InstanceGroups: [Match.objectLike({ InstanceGroupName: 'workers', TrainingPlanArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Plan'), 'TrainingPlanArn'] } })],
    });
  });

  test('fails to use a plan for a HyperPod instance group of another instance type, or that does not target HyperPod', () => {
    const stack = newStack();
    const group = { instanceGroupName: 'g', instanceType: 'ml.p4d.24xlarge', instanceCount: 1, executionRole: 'r', lifeCycleConfig: { sourceS3Uri: 's3://b/l', onCreate: 'x.sh' } };
    expect(() => plan(stack).instanceGroup(group)).toThrow(/instance group g has instanceType ml\.p4d\.24xlarge, but training plan Stack\/Plan reserves ml\.p5\.48xlarge/);
    expect(() => plan(stack, { targetResources: [TrainingPlanTarget.TRAINING_JOB] }, 'Jobs').instanceGroup({ ...group, instanceType: 'ml.p5.48xlarge' }))
      .toThrow(/targets training-job, so HyperPod instance group g cannot use it; add TrainingPlanTarget\.HYPERPOD_CLUSTER/);
  });

  test('grantUse lets a role start the plan\'s targets on it', () => {
    const stack = newStack();
    const p = plan(stack, { targetResources: [TrainingPlanTarget.TRAINING_JOB, TrainingPlanTarget.HYPERPOD_CLUSTER] });
    const role = new iam.Role(stack, 'Scientist', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    p.grantUse(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Scientist') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateCluster', 'sagemaker:UpdateCluster'] })] },
    });
  });

  test('a plan bought elsewhere is imported by ARN: it runs a HyperPod instance group, and grantUse grants every target\'s create calls on it', () => {
    const stack = newStack();
    const arn = 'arn:aws:sagemaker:us-east-2:123456789012:training-plan/console-plan';
    const imported = TrainingPlanPurchase.fromTrainingPlanArn(stack, 'Imported', arn);
    expect(imported.instanceGroup({ instanceGroupName: 'g', instanceType: 'ml.p4d.24xlarge', instanceCount: 1, executionRole: 'r' })).toMatchObject({ trainingPlanArn: arn });
    imported.grantUse(new iam.Role(stack, 'User', { assumedBy: new iam.AccountRootPrincipal() }));
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({
        Action: ['sagemaker:CreateTrainingJob', 'sagemaker:CreateCluster', 'sagemaker:UpdateCluster', 'sagemaker:CreateEndpointConfig', 'sagemaker:CreateEndpoint', 'sagemaker:CreateApp'],
        Resource: [arn, Match.anyValue()],
      })] },
    });
    Template.fromStack(stack).resourceCountIs(RESOURCE_TYPE, 0);
  });

  test('fails to use a previewOnly plan', () => {
    const stack = newStack();
    expect(() => plan(stack, { previewOnly: true }).grantUse(new iam.AccountRootPrincipal())).toThrow(/is previewOnly and buys nothing/);
  });
});

describe('validation at synth', () => {
  test.each<[string, Partial<TrainingPlanPurchaseProps>, RegExp]>([
    ['instances and UltraServers', { ultraServerType: TrainingPlanUltraServerType.ML_U_P6E_GB200X72, ultraServerCount: 1 }, /cannot be combined; set one pair/],
    ['no instance count', { instanceCount: undefined }, /needs instanceType and instanceCount .*; set instanceCount/],
    ['a fractional instance count', { instanceCount: 1.5 }, /instanceCount must be a whole number from 1 to 256, got 1\.5/],
    ['spare instances for an instance plan', { spareInstanceCountPerUltraServer: 1 }, /spareInstanceCountPerUltraServer applies to UltraServer plans only/],
    ['a negative spare count', { instanceType: undefined, instanceCount: undefined, ultraServerType: TrainingPlanUltraServerType.ML_U_P6E_GB200X36, ultraServerCount: 1, spareInstanceCountPerUltraServer: -1 }, /spareInstanceCountPerUltraServer must be a whole number, 0 or more, got -1/],
    ['a fractional duration', { duration: Duration.minutes(90) }, /duration must be whole hours from 1 to 4368 \(182 days\), got 1\.5 h/],
    ['a duration over 182 days', { duration: Duration.days(183) }, /duration must be whole hours from 1 to 4368/],
    ['no target', { targetResources: [] }, /targetResources must name at least one of training-job, hyperpod-cluster, endpoint, studio-apps/],
    ['a target named twice', { targetResources: [TrainingPlanTarget.ENDPOINT, TrainingPlanTarget.ENDPOINT] }, /targetResources names 'endpoint' twice/],
    ['a ceiling of 0', { maxUpfrontFee: 0 }, /maxUpfrontFee must be a positive number \(the most you will pay up front\), got 0/],
    ['a ceiling the template would write as 1e+21', { maxUpfrontFee: 1e21 }, /maxUpfrontFee must be a plain decimal amount such as 60000/],
    ['a name SageMaker refuses', { trainingPlanName: 'my_plan' }, /trainingPlanName must be 1-60 letters, digits and hyphens/],
    ['a name with no room for a repurchase', { trainingPlanName: 'a'.repeat(61) }, /trainingPlanName must be 1-60/],
    ['a latestEnd already past', { latestEnd: new Date('2020-01-01T00:00:00Z') }, /latestEnd 2020-01-01T00:00:00\.000Z has already passed/],
    ['a window shorter than the plan', { earliestStart: new Date('2030-01-01T00:00:00Z'), latestEnd: new Date('2030-01-02T00:00:00Z') }, /shorter than duration 2 days/],
    ['previewOnly with allowRepurchase', { previewOnly: true, allowRepurchase: true }, /allowRepurchase has no effect with previewOnly/],
  ])('fails on %s', (_what, overrides, message) => {
    expect(() => plan(newStack(), overrides)).toThrow(message);
  });

  test('fails on a tag key with the library prefix, naming a training plan', () => {
    const stack = newStack();
    plan(stack, { tags: { 'cdk-capacity-reservations:owner': 'x' } });
    expect(() => Template.fromStack(stack)).toThrow(/tag key must not start with 'cdk-capacity-reservations:'/);
  });

  test('fails on names that are not SageMaker names', () => {
    expect(() => TrainingPlanInstanceType.of('p5.48xlarge')).toThrow(/instanceType must be a SageMaker instance type such as ml\.p5\.48xlarge, got 'p5\.48xlarge'/);
    expect(() => TrainingPlanUltraServerType.of('u-p6e-gb200x72')).toThrow(/ultraServerType must be a SageMaker UltraServer type such as ml\.u-p6e-gb200x72/);
    expect(() => TrainingPlanTarget.of('Training Job')).toThrow(/targetResources must hold SageMaker resource names/);
  });

  test('tokens are left for the handler to check', () => {
    const stack = newStack();
    const fee = new CfnParameter(stack, 'Fee', { type: 'Number' });
    const count = new CfnParameter(stack, 'Count', { type: 'Number' });
    plan(stack, { maxUpfrontFee: fee.valueAsNumber, instanceCount: count.valueAsNumber });
    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { MaxUpfrontFee: { Ref: 'Fee' }, InstanceCount: { Ref: 'Count' } });
  });
});

describe('training-plan facts (issue 24)', () => {
  test('GIVEN a plan for endpoints, WHEN grantUse is called, THEN the role may create the endpoint config that names the plan (CapacityReservationConfig.MlReservationArn) and the endpoint', () => {
    const stack = newStack();
    const p = plan(stack, { targetResources: [TrainingPlanTarget.ENDPOINT] });
    p.grantUse(new iam.Role(stack, 'Deployer', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') }));
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Deployer') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['sagemaker:CreateEndpointConfig', 'sagemaker:CreateEndpoint'] })] },
    });
  });

  test('fails at synth for an instanceCount above 256 (SageMaker\'s model allows 1-256)', () => {
    expect(() => plan(newStack(), { instanceCount: 257 })).toThrow(/instanceCount must be a whole number from 1 to 256, got 257/);
    expect(() => plan(newStack(), { instanceCount: 256 })).not.toThrow();
  });

  test('a plain-JavaScript caller passing instanceType and targetResources as strings gets them in the template', () => {
    const stack = newStack();
    plan(stack, { instanceType: 'ml.p5.48xlarge' as never, targetResources: ['training-job'] as never });
    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { InstanceType: 'ml.p5.48xlarge', TargetResources: ['training-job'] });
  });

  test('fails at synth for a plain-JavaScript instanceType or target that is no SageMaker name', () => {
    expect(() => plan(newStack(), { instanceType: 'p5.48xlarge' as never })).toThrow(/instanceType must be a SageMaker instance type such as ml\.p5\.48xlarge, got 'p5\.48xlarge'/);
    expect(() => plan(newStack(), { targetResources: [{}] as never })).toThrow(/targetResources must hold SageMaker resource names/);
  });
});
