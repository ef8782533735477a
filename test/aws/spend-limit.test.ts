import { App, CfnParameter, Duration, Stack, Stage } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import {
  CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps, CapacitySpendLimit, TrainingPlanInstanceType, TrainingPlanPurchase, TrainingPlanTarget,
} from '../../lib';

const ENV = { account: '123456789012', region: 'us-east-2' };

function block(scope: Stack, id: string, overrides: Partial<CapacityBlockPurchaseProps> = {}): CapacityBlockPurchase {
  return new CapacityBlockPurchase(scope, id, {
    instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 30_000, ...overrides,
  });
}

describe('CapacitySpendLimit caps what the blocks of an app or a stage may cost up front together', () => {
  test('an app whose blocks stay within the limit synthesizes', () => {
    const app = new App();
    const stack = new Stack(app, 'Training', { env: ENV });
    block(stack, 'A');
    block(stack, 'B', { maxUpfrontFee: 20_000 });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 50_000 });
    expect(() => app.synth()).not.toThrow();
  });

  test('fails at synth above the limit, naming each block and its ceiling', () => {
    const app = new App();
    const first = new Stack(app, 'First', { env: ENV });
    const second = new Stack(app, 'Second', { env: ENV });
    block(first, 'A');
    block(second, 'B', { maxUpfrontFee: 25_000.5 });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 50_000 });
    expect(() => app.synth()).toThrow(/CapacitySpendLimit on the app: the Capacity Blocks may cost up to 55,000\.5 USD up front together, above the limit of 50,000 USD: First\/A \(30,000 USD\), Second\/B \(25,000\.5 USD\)\. Lower their maxUpfrontFee, remove blocks, or raise the limit/);
  });

  test('a limit on a stage counts only that stage\'s blocks', () => {
    const app = new App();
    const prod = new Stage(app, 'Prod');
    block(new Stack(prod, 'Training', { env: ENV }), 'A');
    block(new Stack(app, 'Dev', { env: ENV }), 'B', { maxUpfrontFee: 90_000 });
    CapacitySpendLimit.of(prod, { maxTotalUpfrontFee: 40_000 });
    expect(() => app.synth()).not.toThrow();
  });

  test('previewOnly blocks buy nothing and do not count', () => {
    const app = new App();
    const stack = new Stack(app, 'Training', { env: ENV });
    block(stack, 'A');
    block(stack, 'Preview', { maxUpfrontFee: 900_000, previewOnly: true });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 30_000 });
    expect(() => app.synth()).not.toThrow();
  });

  test('fails when a ceiling is a token, since the sum cannot be proven at synth', () => {
    const app = new App();
    const stack = new Stack(app, 'Training', { env: ENV });
    block(stack, 'A', { maxUpfrontFee: new CfnParameter(stack, 'Ceiling', { type: 'Number' }).valueAsNumber });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 1_000_000 });
    expect(() => app.synth()).toThrow(/cannot add up the ceilings of Training\/A \(a token\), whose maxUpfrontFee is only known at deploy time; give literal ceilings under a spend limit/);
  });

  test('fails when a block is priced in another currency than the limit', () => {
    const app = new App();
    const stack = new Stack(app, 'Training', { env: ENV });
    block(stack, 'A', { currencyCode: 'EUR' });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 1_000_000 });
    expect(() => app.synth()).toThrow(/CapacitySpendLimit on the app is in USD, but Training\/A \(30,000 EUR\) is priced in another currency/);
  });

  test('fails at once on a limit that is not a positive number', () => {
    expect(() => CapacitySpendLimit.of(new App(), { maxTotalUpfrontFee: 0 })).toThrow(/maxTotalUpfrontFee must be a positive number, got 0/);
  });
});

describe('every block shows its worst case in cdk synth', () => {
  test('an info annotation states the ceiling and that it is non-refundable', () => {
    const stack = new Stack(new App(), 'Training', { env: ENV });
    block(stack, 'A');
    Annotations.fromStack(stack).hasInfo('/Training/A', Match.stringLikeRegexp('up to 30000 USD up front, non-refundable: a Capacity Block cannot be cancelled. Each extension may cost that much again'));
  });

  test('a ceiling from a parameter says it is known at deploy time', () => {
    const stack = new Stack(new App(), 'Training', { env: ENV });
    block(stack, 'A', { maxUpfrontFee: new CfnParameter(stack, 'Ceiling', { type: 'Number' }).valueAsNumber });
    Annotations.fromStack(stack).hasInfo('/Training/A', Match.stringLikeRegexp('up to the maxUpfrontFee given at deploy time up front, non-refundable'));
  });
});

describe('CapacitySpendLimit counts SageMaker training plans', () => {
  const trainingPlan = (scope: Stack, id: string, maxUpfrontFee: number, extra: Record<string, unknown> = {}) => new TrainingPlanPurchase(scope, id, {
    instanceType: TrainingPlanInstanceType.ML_P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), targetResources: [TrainingPlanTarget.TRAINING_JOB], maxUpfrontFee, ...extra,
  });

  test('fails at synth when Capacity Blocks and training plans together exceed the limit, naming each', () => {
    const app = new App();
    const stack = new Stack(app, 'Training', { env: ENV });
    block(stack, 'Block');
    trainingPlan(stack, 'Plan', 25_000);
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 50_000 });
    expect(() => app.synth()).toThrow(/the Capacity Blocks and training plans may cost up to 55,000 USD up front together, above the limit of 50,000 USD: Training\/Block \(30,000 USD\), Training\/Plan \(25,000 USD\)/);
  });

  test('a previewOnly training plan buys nothing and does not count', () => {
    const app = new App();
    const stack = new Stack(app, 'Training', { env: ENV });
    trainingPlan(stack, 'Plan', 40_000);
    trainingPlan(stack, 'Preview', 40_000, { previewOnly: true });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 50_000 });
    expect(() => app.synth()).not.toThrow();
  });

  test('fails when a training plan is priced in another currency than the limit', () => {
    const app = new App();
    const stack = new Stack(app, 'Training', { env: ENV });
    trainingPlan(stack, 'Plan', 10_000, { currencyCode: 'EUR' });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 50_000 });
    expect(() => app.synth()).toThrow(/Training\/Plan \(10,000 EUR\) is priced in another currency/);
  });
});
