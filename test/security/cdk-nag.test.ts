import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { TrainingCapacityStack } from '../../examples/aws/stack';
import { HyperPodCapacityStack } from '../../examples/aws/training-plan-stack';
import { CapacityBlockInstanceType, CapacityBlockPurchase } from '../../lib';

// cdk-nag 3 is a CDK policy-validation plugin (`Validations.of(app).addPlugins`), not an Aspect, and it
// reports through the validation report instead of annotations. Acknowledgments are read from the
// construct tree (`Validations.of(x).acknowledge`); the library also writes the cdk-nag 2 form
// (`Metadata.cdk_nag.rules_to_suppress`) into the template for users still on cdk-nag 2.

const ENV = { account: '123456789012', region: 'us-east-2' };
const MIN_REASON = 20;

function newApp(): App {
  return new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
}

/** Every finding of the AWS Solutions pack that nothing acknowledged, one line each. */
function findings(scope: IConstruct, severity: 'error' | 'warning'): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations
    .filter(v => v.severity === severity)
    .flatMap(v => v.violatingResources.map(r => `${v.ruleName} at ${r.constructPath}`));
}

function exampleStack(app = newApp()): TrainingCapacityStack {
  return new TrainingCapacityStack(app, 'TrainingCapacity', { env: ENV });
}

describe('cdk-nag AwsSolutions on the AWS example', () => {
  test('synthesizes with the AwsSolutions plugin registered, as a user would run it', () => {
    const app = newApp();
    exampleStack(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

    // Validation failures make synth throw "Validation failed" and print each finding.
    expect(() => app.synth()).not.toThrow();
  });

  test('has no unacknowledged error and no unacknowledged warning', () => {
    const stack = exampleStack();
    const template = Template.fromStack(stack); // synthesizes (aspects, then validation)

    expect(template).toBeDefined();
    expect(findings(stack, 'error')).toEqual([]);
    expect(findings(stack, 'warning')).toEqual([]);
    // A pack that reports through annotations (cdk-nag 2 style) must find nothing either.
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  test('every suppression in the template says why, in at least 20 characters', () => {
    const template = Template.fromStack(exampleStack()).toJSON();
    const suppressions = Object.entries<any>(template.Resources)
      .flatMap(([logicalId, r]) => ((r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as any[]).map(s => ({ logicalId, ...s })));

    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) {
      expect(s.id).toMatch(/^AwsSolutions-[A-Z]+\d+$/);
      expect({ logicalId: s.logicalId, id: s.id, reason: s.reason }).toEqual(
        expect.objectContaining({ reason: expect.stringMatching(new RegExp(`^.{${MIN_REASON},}$`, 's')) }));
      if (s.applies_to !== undefined) expect(s.applies_to.length).toBeGreaterThan(0);
    }
  });

  test('every acknowledgment in the construct tree says why, and is also in the template', () => {
    const stack = exampleStack();
    const template = Template.fromStack(stack).toJSON();
    const inTemplate = new Set(Object.values<any>(template.Resources).flatMap(r =>
      ((r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as any[]).flatMap(s =>
        (s.applies_to ?? [undefined]).map((f: string | undefined) => `${s.id}${f ? `[${f}]` : ''}\n${s.reason}`))));

    const acknowledged = stack.node.findAll().flatMap(c => c.node.metadata
      .filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap(m => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason })))
      // cdk-nag's rules only: aws-cdk-lib acknowledges its own CloudFormation-Validate findings (a
      // Stack whose VPC names literal zones acknowledges W3010), which are no cdk-nag suppressions.
      .filter(a => a.id.startsWith('AwsSolutions-'));

    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      expect(a.reason.length).toBeGreaterThanOrEqual(MIN_REASON);
      expect(inTemplate).toContain(`${a.id}\n${a.reason}`);
    }
  });
});

describe('cdk-nag AwsSolutions on the library alone', () => {
  test('an environment-agnostic stack has no unacknowledged finding either', () => {
    const stack = new Stack(newApp(), 'Agnostic');
    new CapacityBlockPurchase(stack, 'Block', {
      instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 1, duration: Duration.days(1), maxUpfrontFee: 1_000,
    });
    Template.fromStack(stack);

    expect([...findings(stack, 'error'), ...findings(stack, 'warning')]).toEqual([]);
  });

  test('a stack with a training plan (and a HyperPod cluster on it) has no unacknowledged finding, and every acknowledgment says why', () => {
    const stack = new HyperPodCapacityStack(newApp(), 'HyperPodCapacity', { env: ENV });
    const template = Template.fromStack(stack).toJSON();

    expect([...findings(stack, 'error'), ...findings(stack, 'warning')]).toEqual([]);
    const suppressions = Object.values<any>(template.Resources).flatMap(r => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []) as any[]);
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) expect(s.reason.length).toBeGreaterThanOrEqual(MIN_REASON);
  });

  test('fails loudly on what the library did not acknowledge: the check is not vacuous', () => {
    const stack = exampleStack();
    new sns.Topic(stack, 'PlainTopic'); // no enforceSSL
    const role = new iam.Role(stack, 'UserRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
    Template.fromStack(stack);

    // The library's acknowledgments sit on its own resources only, not on the stack.
    expect(findings(stack, 'error')).toEqual(expect.arrayContaining([
      'AwsSolutions-SNS3 at TrainingCapacity/PlainTopic/Resource',
      'AwsSolutions-IAM5[Resource::*] at TrainingCapacity/UserRole/DefaultPolicy/Resource',
    ]));
  });
});
