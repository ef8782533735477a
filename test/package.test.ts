import { readFileSync } from 'fs';
import { join } from 'path';

/** jsii compiles the AWS API for Python, Java, .NET and Go; `npm test` builds first, so .jsii exists. */
test('the jsii assembly exports the AWS API with every language target', () => {
  const assembly = JSON.parse(readFileSync(join(__dirname, '..', '.jsii'), 'utf8'));
  expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining([
    'cdk-capacity-reservations.CapacityBlockPurchase',
    'cdk-capacity-reservations.CapacityBlockPurchaseProps',
    'cdk-capacity-reservations.CapacityBlockInstanceType',
    'cdk-capacity-reservations.InstancePlatform',
    'cdk-capacity-reservations.OfferingSelection',
    'cdk-capacity-reservations.ICapacityBlock',
  ]));
  expect(Object.keys(assembly.targets).sort()).toEqual(['dotnet', 'go', 'java', 'js', 'python']);
});

test('the packaged handler bundle, claim library included, stays within 100 KB, with the AWS SDK left to the Lambda runtime', () => {
  const bundle = readFileSync(join(__dirname, '..', 'assets', 'capacity-block-handler', 'index.js'), 'utf8');
  expect(bundle.length).toBeLessThan(100 * 1024);
  expect(bundle).toContain('require("@aws-sdk/client-ec2")');
});

test('the training plan handler is its own bundle within 100 KB, with SageMaker\'s SDK left to the Lambda runtime and no EC2 client', () => {
  const bundle = readFileSync(join(__dirname, '..', 'assets', 'training-plan-handler', 'index.js'), 'utf8');
  expect(bundle.length).toBeLessThan(100 * 1024);
  expect(bundle).toContain('require("@aws-sdk/client-sagemaker")');
  expect(bundle).not.toContain('@aws-sdk/client-ec2');
  const assembly = JSON.parse(readFileSync(join(__dirname, '..', '.jsii'), 'utf8'));
  expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining([
    'cdk-capacity-reservations.TrainingPlanPurchase', 'cdk-capacity-reservations.TrainingPlanPurchaseProps', 'cdk-capacity-reservations.TrainingPlanInstanceType',
    'cdk-capacity-reservations.TrainingPlanUltraServerType', 'cdk-capacity-reservations.TrainingPlanTarget',
  ]));
});

test('the FC handler is inlined within the 300 KB budget and carries no full ECS SDK', () => {
  const bundle = readFileSync(join(__dirname, '..', 'assets', 'alicloud-capacity-reservation-handler', 'index.js'), 'utf8');
  expect(Buffer.byteLength(bundle)).toBeLessThanOrEqual(300 * 1024);
  expect(bundle).not.toMatch(/require\("@alicloud\/ecs20140526"\)/);
  expect(bundle).toContain('ACS3-HMAC-SHA256');
});

test('the alicloud subpath is exported and compiled for JavaScript users', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  expect(pkg.exports['./alicloud']).toEqual({ types: './lib/alicloud/index.d.ts', default: './lib/alicloud/index.js' });
  // Load the compiled subpath as a consumer would (after `npm run build`).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled output, loaded by path as a consumer would
  const compiled = require(join(__dirname, '..', 'lib', 'alicloud', 'index.js'));
  expect(typeof compiled.AliCapacityReservation).toBe('function');
});
