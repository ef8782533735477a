import { App, CfnParameter, Duration, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  CapacityBlockInstanceType, CapacityBlockPurchase, CapacityBlockPurchaseProps, InstancePlatform, OfferingSelection,
} from '../../lib';
import { EC2_ACTIONS } from '../../lib/aws/provider';
import { CLAIMS_TABLE_ENV, IDEMPOTENCY_TAG, OWNER_TAG } from '../../lib/aws/wire';

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

/** Whole days ahead, within the 8 weeks EC2 sells blocks in advance. */
function daysAhead(days: number): Date {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  return new Date(today.getTime() + days * 86_400_000);
}
const JAN_1 = daysAhead(21);
const JAN_10 = daysAhead(30);

describe('provider', () => {
  test('one provider serves every block of a stack', () => {
    const stack = newStack();
    for (let i = 0; i < 50; i++) {
      block(stack, {}, `Block${i}`);
    }

    const template = Template.fromStack(stack);
    expect(Object.keys(handlerFunctions(template, 'index.onEvent'))).toHaveLength(1);
    expect(Object.keys(handlerFunctions(template, 'is-complete.isComplete'))).toHaveLength(1);
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
      expect(Object.keys(handlerFunctions(template, 'is-complete.isComplete'))).toHaveLength(1);
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

  test('one on-demand DynamoDB table per stack holds the purchase claims; onEvent gets its name and may only use it', () => {
    const stack = newStack();
    block(stack, {}, 'A');
    block(stack, {}, 'B');
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    const [table] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    const [onEvent] = Object.values(handlerFunctions(template, 'index.onEvent'));
    expect(onEvent.Properties.Environment.Variables[CLAIMS_TABLE_ENV]).toEqual({ Ref: table });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: [{ 'Fn::GetAtt': [table, 'Arn'] }],
      }]) },
    });
  });

  test('every clock fits inside CloudFormation\'s: ServiceTimeout is explicit, and onEvent plus the waiter, and the longest wait plus a poll, end before it', () => {
    const stack = newStack();
    block(stack, { waitTimeout: Duration.minutes(50) });
    const template = Template.fromStack(stack);
    const [resource] = Object.values(template.findResources(RESOURCE_TYPE));
    const serviceTimeout = Number(resource.Properties.ServiceTimeout);
    const timeout = (handler: string) => Number(Object.values(handlerFunctions(template, handler))[0].Properties.Timeout);
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    const interval = Number(/\\"IntervalSeconds\\":(\d+)/.exec(definition)![1]);
    const attempts = Number(/\\"MaxAttempts\\":(\d+)/.exec(definition)![1]);
    const waitTimeout = Number(resource.Properties.WaitTimeoutSeconds);

    expect(serviceTimeout).toBe(3600);
    // The waiter's own limit (then onTimeout reports FAILED) comes after onEvent, well before CloudFormation's.
    expect(timeout('index.onEvent') + interval * attempts).toBeLessThanOrEqual(serviceTimeout - 120);
    // isComplete ends the longest wait (succeeding with payment-pending) before the waiter gives up.
    expect(waitTimeout + interval + timeout('is-complete.isComplete')).toBeLessThanOrEqual(interval * attempts);
  });

  test('the handlers run on a Node.js runtime from an asset', () => {
    const stack = newStack();
    block(stack);

    const template = Template.fromStack(stack);
    const functions = Object.values({
      ...handlerFunctions(template, 'index.onEvent'),
      ...handlerFunctions(template, 'is-complete.isComplete'),
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
      EarliestStart: JAN_1.toISOString(),
      LatestEnd: JAN_10.toISOString(),
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

  // The Service Authorization Reference gives DescribeCapacityBlockExtensionOfferings the resource type
  // capacity-reservation* (with aws:ResourceTag), unlike the other Describe* actions, which have none.
  test('extension offerings are read, and extensions bought, only for this stack\'s own blocks, not on every resource', () => {
    const extension = statements.filter(s => actionsOf(s).includes('ec2:DescribeCapacityBlockExtensionOfferings'));
    expect(extension).toHaveLength(1);
    expect(actionsOf(extension[0]).sort()).toEqual([EC2_ACTIONS.extensionOfferings, EC2_ACTIONS.extend].sort());
    expect(resourcesOf(extension[0])).not.toContain('*');
    expect(JSON.stringify(resourcesOf(extension[0]))).toMatch(/:capacity-reservation\//);
    expect(extension[0].Condition).toEqual({ StringLike: { [`aws:ResourceTag/${OWNER_TAG}`]: ownedByThisStack } });
  });

  test('isComplete may only read reservations and blocks: it searches, buys and tags nothing', () => {
    const stack = newStack();
    block(stack);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const isComplete = Object.entries(policies).filter(([id]) => /IsCompleteRole/.test(id));
    expect(isComplete).toHaveLength(1);
    const granted = (isComplete[0][1].Properties.PolicyDocument.Statement as Statement[]).flatMap(actionsOf).filter(a => a.startsWith('ec2:'));
    expect(granted.sort()).toEqual(['ec2:DescribeCapacityBlockStatus', 'ec2:DescribeCapacityBlocks', 'ec2:DescribeCapacityReservations']);
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

  // The stack's name, as CloudFormation deploys it ('Stack' here).
  const ownedByThisStack = 'Stack/*';
  const mustCarryOurTags = {
    Null: { [`aws:RequestTag/${IDEMPOTENCY_TAG}`]: 'false', [`aws:RequestTag/${OWNER_TAG}`]: 'false' },
    StringLike: { [`aws:RequestTag/${OWNER_TAG}`]: ownedByThisStack },
  };

  test('a purchase, and tagging during it, must carry the idempotency tag and an owner tag naming this stack: an untagged block could never be found again', () => {
    const purchase = statements.filter(s => actionsOf(s).includes(EC2_ACTIONS.purchase));
    expect(purchase.map(s => s.Condition)).toEqual([mustCarryOurTags]);

    const tagOnPurchase = statements.filter(s => actionsOf(s).includes(EC2_ACTIONS.tag)
      && JSON.stringify(s.Condition) === JSON.stringify({ StringEquals: { 'ec2:CreateAction': 'PurchaseCapacityBlock' }, ...mustCarryOurTags }));
    expect(tagOnPurchase).toHaveLength(1);
    expect(resourcesOf(tagOnPurchase[0])).not.toContain('*');
  });

  test('after the purchase, tags may be written and removed only on this stack\'s blocks, by name (DeleteTags without keys deletes every tag), and none of the library\'s own', () => {
    const retag = statements.filter(s => actionsOf(s).includes(EC2_ACTIONS.untag));
    expect(retag).toHaveLength(1);
    expect(actionsOf(retag[0]).sort()).toEqual([EC2_ACTIONS.tag, EC2_ACTIONS.untag].sort());
    expect(retag[0].Condition).toEqual({
      'StringLike': { [`aws:ResourceTag/${OWNER_TAG}`]: ownedByThisStack },
      'Null': { 'aws:TagKeys': 'false' },
      'ForAllValues:StringNotLike': { 'aws:TagKeys': ['cdk-capacity-reservations:*'] },
    });
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

  test('a previewOnly block gives a launch template the capacity-block market type and no target, so no launch from it can succeed', () => {
    const stack = newStack();
    const b = block(stack, { previewOnly: true });
    b.applyToLaunchTemplate(templateFor('p5.48xlarge')(stack));

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceMarketOptions: { MarketType: 'capacity-block' }, CapacityReservationSpecification: Match.absent() }),
    });
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
      new RegExp(`latestEnd \\(${JAN_1.toISOString()}\\) must be after earliestStart \\(${JAN_10.toISOString()}\\)`)],
    ['a window shorter than the duration', { earliestStart: JAN_1, latestEnd: JAN_10, duration: Duration.days(10) },
      /earliestStart\.\.latestEnd .* is shorter than duration 10 days/],
    ['waitTimeout 3 hours', { waitTimeout: Duration.hours(3) }, /waitTimeout .*got 10800 seconds/],
    ['waitTimeout 51 minutes (CloudFormation gives a custom resource 60)', { waitTimeout: Duration.minutes(51) }, /waitTimeout must be from 0 to 50 minutes .*CloudFormation gives a custom resource at most 60 minutes\), got 3060 seconds/],
    ['earliestStart more than 8 weeks ahead', { earliestStart: daysAhead(60) }, /earliestStart .* is more than 8 weeks ahead \(EC2 sells Capacity Blocks that start by .*\); deploy closer to the date or move earliestStart earlier/],
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
  test('accepts 45 tags', () => {
    const synth = synthWithTags(manyTags(45));

    synth().hasResourceProperties(RESOURCE_TYPE, { Tags: Match.arrayWith([{ Key: 'key44', Value: 'value44' }]) });
  });

  test('fails when Tags.of() adds a 46th tag', () => {
    const stack = newStack();
    block(stack, { tags: manyTags(45) });
    Tags.of(stack).add('team', 'ml');

    expect(() => Template.fromStack(stack)).toThrow(/at most 45 tags \(EC2 allows 50, this library writes 5\), got 46/);
  });
});
