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

test('the packaged handler bundle is small, with the AWS SDK left to the Lambda runtime', () => {
  const bundle = readFileSync(join(__dirname, '..', 'assets', 'capacity-block-handler', 'index.js'), 'utf8');
  expect(bundle.length).toBeLessThan(50 * 1024);
  expect(bundle).toContain('require("@aws-sdk/client-ec2")');
});
