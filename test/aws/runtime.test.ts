import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CapacityBlockInstanceType, CapacityBlockPurchase } from '../../lib';
import { latestNodeRuntime } from '../../lib/aws/provider';

/**
 * A fresh install resolves aws-cdk-lib to the newest release of the peer range. aws-cdk-lib 2.278
 * added `Runtime.NODEJS_26_X`, while `determineLatestNodeRuntime` (which the Provider framework uses
 * for its own functions) still answers the regional fact nodejs24.x, and cdk-nag's AwsSolutions-L1
 * compares every function with the newest Node.js runtime in `Runtime.ALL`. These specs declare that
 * runtime, as that release does, before the stack is built (a no-op once the lockfile has 2.278).
 */
const NEWER = new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

function stackWithBlock(): Stack {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'us-east-2' } });
  new CapacityBlockPurchase(stack, 'Block', {
    instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 1, duration: Duration.days(1), maxUpfrontFee: 1_000,
  });
  return stack;
}

test('the newest Node.js runtime is the newest one aws-cdk-lib declares, not the regional fact', () => {
  expect(latestNodeRuntime().name).toBe(NEWER.name);
  expect(lambda.determineLatestNodeRuntime(new Stack(new App(), 'S', { env: { region: 'us-east-2' } })).name).not.toBe(NEWER.name);
});

test('every Lambda function of the provider runs the newest Node.js runtime, the Provider framework\'s own functions included', () => {
  const functions = Template.fromStack(stackWithBlock()).findResources('AWS::Lambda::Function');

  expect(Object.keys(functions)).toHaveLength(5);
  expect(Object.entries(functions).map(([id, f]) => [id, f.Properties.Runtime]).filter(([, runtime]) => runtime !== NEWER.name)).toEqual([]);
});

test('cdk-nag AwsSolutions-L1 passes on every function', () => {
  const stack = stackWithBlock();
  Template.fromStack(stack);
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);

  expect(report.violations.filter(v => v.ruleName === 'AwsSolutions-L1').flatMap(v => v.violatingResources.map(r => r.constructPath))).toEqual([]);
});
