import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { FutureCapacityReservation } from '../../../lib';
import { Ec2Call } from '../../../lib/local';
import { withFutureEngine } from './future-reservation-harness';
import { ACCOUNT, AuthorizationRequest, isAllowed, REGION, resolve, stackIdOf, Statement } from './iam-policy';

/**
 * Every EC2, Price List and CloudFormation call FutureCapacityReservation's onEvent makes over whole
 * lifecycles under the real engine, evaluated against the onEvent role as the construct synthesizes it
 * (iam-policy.ts), conditions included; and the same calls on another stack's reservation are denied.
 */
const DAY = 86_400_000;
const STACK = 'Plans';

function onEventPolicy(stackName: string): Statement[] {
  const stack = new Stack(new App(), stackName, { env: { account: ACCOUNT, region: REGION } });
  new FutureCapacityReservation(stack, 'Reservation', {
    instanceType: new ec2.InstanceType('m7i.8xlarge'), instanceCount: 2, availabilityZone: 'us-east-1a',
    startDate: new Date(Date.now() + 60 * DAY), commitment: Duration.days(14), maxCommittedCost: 1100,
  });
  const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([id]) => /ProviderOnEventRole/.test(id));
  expect(policies).toHaveLength(1);
  return resolve(policies[0][1].Properties.PolicyDocument.Statement, stackName) as Statement[];
}

const arnOf = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:capacity-reservation/${id}`;

function tagsIn(params: Record<string, string>, prefix: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params[`${prefix}.${i}.Key`] !== undefined; i++) tags[params[`${prefix}.${i}.Key`]] = params[`${prefix}.${i}.Value`] ?? '';
  return tags;
}
const requestTags = (tags: Record<string, string>) => ({ ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(tags) });
const resourceTags = (tags: Record<string, string> | undefined) => Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));

/** How EC2 authorizes each call of a future-dated reservation's lifecycle (a create with TagSpecifications is also a CreateTags with ec2:CreateAction). */
function authorizationRequests(call: Ec2Call): AuthorizationRequest[] {
  const action = `ec2:${call.action}`;
  const p = call.params;
  switch (call.action) {
    case 'CreateCapacityReservation': {
      const tags = tagsIn(p, 'TagSpecifications.1.Tag');
      const context = requestTags(tags);
      return [{ action, resource: arnOf('*'), context }, { action: 'ec2:CreateTags', resource: arnOf('*'), context: { ...context, 'ec2:CreateAction': 'CreateCapacityReservation' } }];
    }
    case 'CreateTags':
    case 'DeleteTags':
      return [{ action, resource: arnOf(p['ResourceId.1']), context: { ...resourceTags(call.resourceTags[0]), ...requestTags(tagsIn(p, 'Tag')) } }];
    case 'CancelCapacityReservation':
    case 'ModifyCapacityReservation':
    case 'CreateCapacityReservationCancellationQuote':
    case 'CreateCapacityReservationDateChangeQuote':
      return [{ action, resource: arnOf(p.CapacityReservationId), context: resourceTags(call.resourceTags[0]) }];
    default:
      if (!call.action.startsWith('Describe')) throw new Error(`the IAM evaluator does not know how EC2 authorizes ${call.action}`);
      return [{ action, resource: '*', context: {} }];
  }
}

describe('FutureCapacityReservation onEvent may make exactly the calls it makes', () => {
  let ec2Calls: Ec2Call[] = [];
  let pricingCalls: string[] = [];
  let stackCalls: Array<{ action: string; stackName: string }> = [];
  beforeAll(() => withFutureEngine(async e => {
    const stack = e.stack();
    const first = {
      InstanceType: 'm7i.8xlarge', InstanceCount: '2', AvailabilityZone: 'us-east-1a', StartDate: new Date(Math.floor(e.ec2.clock.now().getTime() / DAY) * DAY + 60 * DAY).toISOString(),
      CommitmentSeconds: String(14 * 86_400), MaxCommittedCost: '1100', MaxCancellationCharge: '1100', Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'cost', Value: 'a' }],
    };
    await stack.deploy(first);
    e.ec2.clock.advance(3 * DAY);
    await stack.deploy({ ...first, StartDate: new Date(Date.parse(first.StartDate) + 5 * DAY).toISOString(), Tags: [{ Key: 'team', Value: 'research' }] });
    await stack.destroy();
    const assessing = e.stack();
    await assessing.deploy(first);
    await assessing.destroy();
    ec2Calls = e.ec2.calls;
    pricingCalls = e.pricing.calls.map(c => c.action);
    stackCalls = e.seams.cloudFormation.calls;
  }));

  test('GIVEN whole lifecycles THEN every EC2 call is allowed by the onEvent role, tag conditions included', () => {
    const policy = onEventPolicy(STACK);
    expect([...new Set(ec2Calls.map(c => c.action))]).toEqual(expect.arrayContaining([
      'CreateCapacityReservation', 'CreateTags', 'DeleteTags', 'CreateCapacityReservationDateChangeQuote', 'ModifyCapacityReservation',
      'CreateCapacityReservationCancellationQuote', 'CancelCapacityReservation', 'DescribeCapacityReservations',
    ]));
    const denied = ec2Calls.flatMap(authorizationRequests).filter(r => !isAllowed(policy, r));
    expect(denied).toEqual([]);
  });

  test('GIVEN whole lifecycles THEN GetProducts and DescribeStacks (on this stack) are allowed', () => {
    const policy = onEventPolicy(STACK);
    expect(pricingCalls).toContain('GetProducts');
    expect(isAllowed(policy, { action: 'pricing:GetProducts', resource: '*', context: {} })).toBe(true);
    expect(stackCalls.length).toBeGreaterThan(0);
    for (const call of stackCalls) {
      expect(call.stackName).toMatch(new RegExp(`^arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/`));
      expect(isAllowed(policy, { action: `cloudformation:${call.action}`, resource: stackIdOf(STACK), context: {} })).toBe(true);
    }
    expect(isAllowed(policy, { action: 'cloudformation:DescribeStacks', resource: stackIdOf('Other'), context: {} })).toBe(false);
  });

  test('GIVEN another stack\'s role THEN none of the calls on this stack\'s reservations is allowed', () => {
    const other = onEventPolicy('Other');
    const onReservations = ec2Calls.flatMap(authorizationRequests).filter(r => r.resource !== '*');
    expect(onReservations.length).toBeGreaterThan(0);
    expect(onReservations.filter(r => isAllowed(other, r))).toEqual([]);
  });
});
