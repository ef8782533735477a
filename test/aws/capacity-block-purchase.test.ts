import { App, CfnParameter, Duration, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps, InstancePlatform, OfferingSelection,
} from '../../lib';
import { EC2_ACTIONS } from '../../lib/aws/provider';

const RESOURCE_TYPE = 'Custom::CapacityBlockPurchase';
const ENV = { account: '123456789012', region: 'us-east-2' };

function newApp(): App {
  return new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
}

function newStack(app: App = newApp(), id = 'Stack'): Stack {
  return new Stack(app, id, { env: ENV });
}

const REQUIRED: CapacityBlockPurchaseProps = {
  instanceType: CapacityBlockInstanceType.P5_48XLARGE,
  instanceCount: 2,
  duration: Duration.days(2),
  maxUpfrontFee: 50_000,
};

function block(stack: Stack, overrides: Partial<CapacityBlockPurchaseProps> = {}, id = 'Block'): CapacityBlockPurchase {
  return new CapacityBlockPurchase(stack, id, { ...REQUIRED, ...overrides });
}

/** The logical id of the stack's only Custom::CapacityBlockPurchase, read from the template. */
function blockLogicalId(template: Template): string {
  const ids = Object.keys(template.findResources(RESOURCE_TYPE));
  expect(ids).toHaveLength(1);
  return ids[0];
}

function resourceCount(stack: Stack): number {
  return Object.keys(Template.fromStack(stack).toJSON().Resources).length;
}

function handlerFunctions(template: Template, handler: string) {
  return template.findResources('AWS::Lambda::Function', { Properties: { Handler: handler } });
}

function templateFor(instanceType: string): (stack: Stack) => ec2.LaunchTemplate {
  return stack => new ec2.LaunchTemplate(stack, 'Template', { instanceType: new ec2.InstanceType(instanceType) });
}

const JAN_1 = new Date('2030-01-01T00:00:00.000Z');
const JAN_10 = new Date('2030-01-10T00:00:00.000Z');

describe('provider', () => {
  test('one provider serves every block of a stack', () => {
    const stack = newStack();
    for (let i = 0; i < 50; i++) {
      block(stack, {}, `Block${i}`);
    }

    const template = Template.fromStack(stack);
    expect(Object.keys(handlerFunctions(template, 'index.onEvent'))).toHaveLength(1);
    expect(Object.keys(handlerFunctions(template, 'index.isComplete'))).toHaveLength(1);
    template.resourceCountIs(RESOURCE_TYPE, 50);
  });

  test('each stack of an app gets its own provider', () => {
    const app = newApp();
    const first = newStack(app, 'First');
    const second = newStack(app, 'Second');
    block(first);
    block(second);

    for (const stack of [first, second]) {
      const template = Template.fromStack(stack);
      expect(Object.keys(handlerFunctions(template, 'index.onEvent'))).toHaveLength(1);
      expect(Object.keys(handlerFunctions(template, 'index.isComplete'))).toHaveLength(1);
    }
  });

  test('a further block costs exactly one CloudFormation resource', () => {
    const one = newStack(newApp(), 'One');
    block(one, {}, 'A');
    const two = newStack(newApp(), 'Two');
    block(two, {}, 'A');
    block(two, {}, 'B');

    expect(resourceCount(two) - resourceCount(one)).toBe(1);
  });

  test('the handlers run on a Node.js runtime from an asset', () => {
    const stack = newStack();
    block(stack);

    const template = Template.fromStack(stack);
    const functions = Object.values({
      ...handlerFunctions(template, 'index.onEvent'),
      ...handlerFunctions(template, 'index.isComplete'),
    });
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toMatch(/^nodejs/);
      expect(fn.Properties.Code.S3Key).toBeDefined();
    }
  });
});

describe('custom resource properties', () => {
  test('required props are written as strings and every optional key is omitted', () => {
    const stack = newStack();
    block(stack, { instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 12_345.5 });

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, {
      InstanceType: 'p5.48xlarge',
      InstanceCount: '4',
      DurationHours: '48',
      MaxUpfrontFee: '12345.5',
      CurrencyCode: Match.absent(),
      OfferingId: Match.absent(),
      EarliestStart: Match.absent(),
      LatestEnd: Match.absent(),
      AvailabilityZone: Match.absent(),
      Selection: Match.absent(),
      InstancePlatform: Match.absent(),
      PreviewOnly: Match.absent(),
      WaitTimeoutSeconds: Match.absent(),
      AllowRepurchase: Match.absent(),
      Tags: Match.absent(),
    });
  });

  test('search criteria and options are written when given', () => {
    const stack = newStack();
    block(stack, {
      currencyCode: 'EUR',
      earliestStart: JAN_1,
      latestEnd: JAN_10,
      availabilityZone: 'us-east-2b',
      selection: OfferingSelection.EARLIEST_START,
      instancePlatform: InstancePlatform.WINDOWS,
      waitTimeout: Duration.minutes(45),
      allowRepurchase: true,
    });

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, {
      CurrencyCode: 'EUR',
      EarliestStart: '2030-01-01T00:00:00.000Z',
      LatestEnd: '2030-01-10T00:00:00.000Z',
      AvailabilityZone: 'us-east-2b',
      Selection: 'EARLIEST_START',
      InstancePlatform: 'Windows',
      WaitTimeoutSeconds: '2700',
      AllowRepurchase: 'true',
      OfferingId: Match.absent(),
      PreviewOnly: Match.absent(),
    });
  });

  test('a pinned offering and previewOnly are written when given', () => {
    const stack = newStack();
    block(stack, { offeringId: 'cb-0123456789abcdef0', previewOnly: true });

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, {
      OfferingId: 'cb-0123456789abcdef0',
      PreviewOnly: 'true',
      AllowRepurchase: Match.absent(),
    });
  });

  test('the default platform Linux/UNIX is omitted even when given explicitly', () => {
    const stack = newStack();
    block(stack, { instancePlatform: InstancePlatform.LINUX_UNIX });

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { InstancePlatform: Match.absent() });
  });

  test('props tags and Tags.of() both reach the Capacity Reservation', () => {
    const stack = newStack();
    block(stack, { tags: { project: 'llm' } });
    Tags.of(stack).add('team', 'ml');

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, {
      Tags: Match.arrayWith([{ Key: 'project', Value: 'llm' }, { Key: 'team', Value: 'ml' }]),
    });
  });
});

describe('IAM', () => {
  interface Statement {
    readonly Action: string | string[];
    readonly Resource: unknown;
    readonly Condition?: unknown;
  }

  function ec2Statements(stack: Stack): Statement[] {
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    return Object.values(policies)
      .flatMap(p => p.Properties.PolicyDocument.Statement as Statement[])
      .filter(s => actionsOf(s).some(a => a.startsWith('ec2:')));
  }

  const actionsOf = (s: Statement): string[] => [s.Action].flat();
  const resourcesOf = (s: Statement): unknown[] => [s.Resource].flat();

  let statements: Statement[];
  beforeEach(() => {
    const stack = newStack();
    block(stack);
    statements = ec2Statements(stack);
  });

  test('grants exactly the EC2 actions the handler calls', () => {
    const granted = new Set(statements.flatMap(actionsOf).filter(a => a.startsWith('ec2:')));
    const expected = new Set<string>(Object.values(EC2_ACTIONS).flat());

    expect([...granted].sort()).toEqual([...expected].sort());
  });

  test('only the Describe* actions are granted on every resource', () => {
    const wildcard = statements.filter(s => resourcesOf(s).includes('*'));

    expect(wildcard.length).toBeGreaterThan(0);
    for (const s of wildcard) {
      expect(actionsOf(s).every(a => a.startsWith('ec2:Describe'))).toBe(true);
    }
  });

  test('PurchaseCapacityBlock is scoped to capacity-reservation ARNs built for the partition', () => {
    const purchase = statements.filter(s => actionsOf(s).includes(EC2_ACTIONS.purchase));

    expect(purchase).toHaveLength(1);
    const resources = resourcesOf(purchase[0]);
    expect(resources).toHaveLength(1);
    expect(resources[0]).toEqual({
      'Fn::Join': ['', expect.arrayContaining([expect.stringMatching(/:capacity-reservation\//)])],
    });
    expect(JSON.stringify(resources)).not.toContain('arn:aws');
  });

  test('CreateTags is allowed while purchasing a Capacity Block', () => {
    const tagOnPurchase = statements.filter(s =>
      actionsOf(s).includes(EC2_ACTIONS.tag)
      && JSON.stringify(s.Condition) === JSON.stringify({ StringEquals: { 'ec2:CreateAction': 'PurchaseCapacityBlock' } }));

    expect(tagOnPurchase).toHaveLength(1);
    expect(resourcesOf(tagOnPurchase[0])).not.toContain('*');
  });
});

describe('launch templates', () => {
  test('applyToLaunchTemplate targets the block and sets the capacity-block market type', () => {
    const stack = newStack();
    const b = block(stack);
    const lt = templateFor('p5.48xlarge')(stack);

    b.applyToLaunchTemplate(lt);

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        CapacityReservationSpecification: {
          CapacityReservationTarget: { CapacityReservationId: { 'Fn::GetAtt': [blockLogicalId(template), 'CapacityReservationId'] } },
        },
        InstanceMarketOptions: { MarketType: 'capacity-block' },
      },
    });
  });

  test('applyToLaunchTemplate accepts a launch template without an instance type', () => {
    const stack = newStack();
    const b = block(stack);
    const lt = new ec2.LaunchTemplate(stack, 'Template', {});

    b.applyToLaunchTemplate(lt);

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { InstanceMarketOptions: { MarketType: 'capacity-block' } },
    });
  });

  test('fails to apply a previewOnly block to a launch template', () => {
    const stack = newStack();
    const b = block(stack, { previewOnly: true });
    const lt = templateFor('p5.48xlarge')(stack);

    expect(() => b.applyToLaunchTemplate(lt)).toThrow(/previewOnly/);
  });

  test('fails to apply a block to a launch template of another instance type', () => {
    const stack = newStack();
    const b = block(stack);
    const lt = templateFor('p4d.24xlarge')(stack);

    expect(() => b.applyToLaunchTemplate(lt)).toThrow(/instance type/);
  });
});

describe('events', () => {
  test.each([
    ['onExpirationWarning', 'Capacity Block Expiration Warning'],
    ['onDelivered', 'Capacity Block Delivered'],
  ] as const)('%s creates a rule for "%s" of this block', (method, detailType) => {
    const stack = newStack();
    const b = block(stack);
    const topic = new sns.Topic(stack, 'Topic');

    b[method]('Rule', { target: new targets.SnsTopic(topic) });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ec2'],
        'detail-type': Match.arrayWith([detailType]),
        'detail': { 'capacity-reservation-id': [{ 'Fn::GetAtt': [blockLogicalId(template), 'CapacityReservationId'] }] },
      },
      Targets: [Match.objectLike({ Arn: stack.resolve(topic.topicArn) })],
    });
  });
});

describe('fromCapacityReservationId', () => {
  test('imports a block by id without buying anything', () => {
    const stack = newStack();
    const imported = CapacityBlockPurchase.fromCapacityReservationId(stack, 'Imported', 'cr-0123456789abcdef0');
    const lt = templateFor('p5.48xlarge')(stack);

    imported.applyToLaunchTemplate(lt);

    const arn = stack.resolve(imported.capacityReservationArn);
    expect(arn).toHaveProperty(['Fn::Join']);
    expect(JSON.stringify(arn)).toContain('capacity-reservation/cr-0123456789abcdef0');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: {
        CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } },
        InstanceMarketOptions: { MarketType: 'capacity-block' },
      },
    });
    template.resourceCountIs(RESOURCE_TYPE, 0);
  });
});

describe('attributes', () => {
  test.each([
    ['capacityReservationId', 'CapacityReservationId'],
    ['capacityReservationArn', 'CapacityReservationArn'],
    ['availabilityZone', 'AvailabilityZone'],
    ['startDate', 'StartDate'],
    ['endDate', 'EndDate'],
    ['upfrontFee', 'UpfrontFee'],
    ['currencyCode', 'CurrencyCode'],
    ['state', 'State'],
    ['purchasedOfferingId', 'OfferingId'],
  ] as const)('%s is the custom resource attribute %s', (prop, attribute) => {
    const stack = newStack();
    const b = block(stack);

    expect(stack.resolve(b[prop])).toEqual({ 'Fn::GetAtt': [blockLogicalId(Template.fromStack(stack)), attribute] });
  });
});

describe('validation at synth', () => {
  test.each<[string, Partial<CapacityBlockPurchaseProps>, RegExp]>([
    ['instanceCount 0', { instanceCount: 0 }, /instanceCount .*got 0$/],
    ['instanceCount 65', { instanceCount: 65 }, /instanceCount .*got 65$/],
    ['instanceCount 2.5', { instanceCount: 2.5 }, /instanceCount .*got 2\.5$/],
    ['maxUpfrontFee 0', { maxUpfrontFee: 0 }, /maxUpfrontFee .*got 0$/],
    ['maxUpfrontFee -5', { maxUpfrontFee: -5 }, /maxUpfrontFee .*got -5$/],
    ['maxUpfrontFee NaN', { maxUpfrontFee: NaN }, /maxUpfrontFee .*got NaN$/],
    ['duration 36 hours', { duration: Duration.hours(36) }, /duration .*got 36 h$/],
    ['duration 15 days', { duration: Duration.days(15) }, /duration .*got 15 days/],
    ['duration 189 days', { duration: Duration.days(189) }, /duration .*got 189 days/],
    ['currencyCode usd', { currencyCode: 'usd' }, /currencyCode .*got 'usd'/],
    ['offeringId not-an-offering', { offeringId: 'not-an-offering' }, /offeringId .*got 'not-an-offering'/],
    ['offeringId with availabilityZone',
      { offeringId: 'cb-0123456789abcdef0', availabilityZone: 'us-east-2a' }, /offeringId .*availabilityZone cannot be set/],
    ['offeringId with earliestStart',
      { offeringId: 'cb-0123456789abcdef0', earliestStart: JAN_1 }, /offeringId .*earliestStart cannot be set/],
    ['offeringId with selection',
      { offeringId: 'cb-0123456789abcdef0', selection: OfferingSelection.CHEAPEST }, /offeringId .*selection cannot be set/],
    ['availabilityZone us-west-2a in us-east-2', { availabilityZone: 'us-west-2a' }, /availabilityZone .*us-east-2, got 'us-west-2a'/],
    ['availabilityZone nonsense', { availabilityZone: 'nonsense' }, /availabilityZone .*got 'nonsense'/],
    ['latestEnd before earliestStart', { earliestStart: JAN_10, latestEnd: JAN_1 },
      /latestEnd \(2030-01-01T00:00:00.000Z\) must be after earliestStart \(2030-01-10T00:00:00.000Z\)/],
    ['a window shorter than the duration', { earliestStart: JAN_1, latestEnd: JAN_10, duration: Duration.days(10) },
      /earliestStart\.\.latestEnd .* is shorter than duration 10 days/],
    ['waitTimeout 3 hours', { waitTimeout: Duration.hours(3) }, /waitTimeout .*got 10800 seconds/],
    ['previewOnly with allowRepurchase', { previewOnly: true, allowRepurchase: true }, /allowRepurchase .*previewOnly/],
  ])('fails on %s', (_, overrides, message) => {
    expect(() => block(newStack(), overrides)).toThrow(message);
  });

  test.each([
    [14, '336'],
    [21, '504'],
    [182, '4368'],
  ])('accepts a duration of %i days', (days, hours) => {
    const stack = newStack();
    block(stack, { duration: Duration.days(days) });

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { DurationHours: hours });
  });

  test('accepts instanceCount 1 and 64', () => {
    const stack = newStack();
    block(stack, { instanceCount: 1 }, 'One');
    block(stack, { instanceCount: 64 }, 'SixtyFour');

    Template.fromStack(stack).resourceCountIs(RESOURCE_TYPE, 2);
  });

  test('fails on an instance type name that is not an EC2 name', () => {
    expect(() => CapacityBlockInstanceType.of('P5 48XL')).toThrow(/instanceType .*got 'P5 48XL'/);
  });

  test('fails on an empty instance platform', () => {
    expect(() => InstancePlatform.of('')).toThrow(/instancePlatform must not be empty/);
  });

  test('tokens are left for the handler to check', () => {
    const stack = newStack();
    const count = new CfnParameter(stack, 'Count', { type: 'Number' });
    const fee = new CfnParameter(stack, 'Fee', { type: 'Number' });

    block(stack, { instanceCount: count.valueAsNumber, maxUpfrontFee: fee.valueAsNumber });

    Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, {
      InstanceCount: { Ref: 'Count' },
      MaxUpfrontFee: { Ref: 'Fee' },
    });
  });
});

describe('tag validation', () => {
  /** Tag validation needs the finished tree (Tags.of() applies at synth), so it throws from synth. */
  function synthWithTags(tags: Record<string, string>): () => Template {
    const stack = newStack();
    block(stack, { tags });
    return () => Template.fromStack(stack);
  }

  function manyTags(n: number): Record<string, string> {
    return Object.fromEntries(Array.from({ length: n }, (_, i) => [`key${i}`, `value${i}`]));
  }

  test('fails on a tag key starting with aws:', () => {
    expect(synthWithTags({ 'aws:foo': 'x' })).toThrow(/tag key must not start with 'aws:'.*got 'aws:foo'/);
  });

  test('fails on a tag key of 128 characters', () => {
    expect(synthWithTags({ ['k'.repeat(128)]: 'x' })).toThrow(/tag key must be 1-127 characters.*\(128 characters\)/);
  });

  test('fails on a tag value of 257 characters', () => {
    expect(synthWithTags({ big: 'v'.repeat(257) })).toThrow(/tag value for 'big' must be at most 256 characters, got 257/);
  });

  test('fails on a tag key with the library prefix', () => {
    expect(synthWithTags({ 'cdk-capacity-reservations:x': 'x' }))
      .toThrow(/tag key must not start with 'cdk-capacity-reservations:'.*got 'cdk-capacity-reservations:x'/);
  });

  // EC2 allows 50 tags; the handler writes up to 4 of its own (idempotency key, offering, fee, extension).
  test('accepts 46 tags', () => {
    const synth = synthWithTags(manyTags(46));

    synth().hasResourceProperties(RESOURCE_TYPE, { Tags: Match.arrayWith([{ Key: 'key45', Value: 'value45' }]) });
  });

  test('fails when Tags.of() adds a 47th tag', () => {
    const stack = newStack();
    block(stack, { tags: manyTags(46) });
    Tags.of(stack).add('team', 'ml');

    expect(() => Template.fromStack(stack)).toThrow(/at most 46 tags .*got 47/);
  });
});
