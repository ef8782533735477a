import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CapacitySpendLimit, FutureCapacityReservation, FutureCapacityReservationProps, InstancePlatform } from '../../../lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUTURE_RESERVATION_ACTIONS } from '../../../lib/aws/future-reservation/provider';
import { IDEMPOTENCY_TAG, OWNER_TAG } from '../../../lib/aws/wire';

const DAY = 86_400_000;
const ENV = { account: '123456789012', region: 'us-east-1' };
const inDays = (days: number) => new Date(Math.floor((Date.now() + days * DAY) / DAY) * DAY);

function newStack(id = 'Stack'): Stack {
  return new Stack(new App(), id, { env: ENV });
}

const REQUIRED = (): FutureCapacityReservationProps => ({
  instanceType: new ec2.InstanceType('m7i.8xlarge'),
  instanceCount: 2,
  availabilityZone: 'us-east-1a',
  startDate: inDays(70),
  commitment: Duration.days(14),
  maxCommittedCost: 25_000,
});

function reservation(stack: Stack, overrides: Partial<FutureCapacityReservationProps> = {}, id = 'Reservation'): FutureCapacityReservation {
  return new FutureCapacityReservation(stack, id, { ...REQUIRED(), ...overrides });
}

describe('FutureCapacityReservation at synth', () => {
  test('GIVEN literal props WHEN synthesized THEN one Custom::FutureCapacityReservation carries them as strings', () => {
    const stack = newStack();
    reservation(stack, { instancePlatform: InstancePlatform.LINUX_UNIX, maxCancellationCharge: 500, tags: { team: 'ml' } });
    Template.fromStack(stack).hasResourceProperties('Custom::FutureCapacityReservation', {
      InstanceType: 'm7i.8xlarge', InstanceCount: '2', AvailabilityZone: 'us-east-1a', InstancePlatform: 'Linux/UNIX',
      StartDate: inDays(70).toISOString(), CommitmentSeconds: String(14 * 86_400), MaxCommittedCost: '25000', MaxCancellationCharge: '500',
      Tags: [{ Key: 'team', Value: 'ml' }],
    });
  });

  test('GIVEN two reservations in a stack WHEN synthesized THEN they share one provider', () => {
    const stack = newStack();
    reservation(stack);
    reservation(stack, {}, 'Second');
    Template.fromStack(stack).resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  test.each([
    [{ instanceType: new ec2.InstanceType('p5.48xlarge') }, /instanceType p5.48xlarge is not in a family/],
    [{ instanceCount: 1, instanceType: new ec2.InstanceType('m7i.xlarge') }, /4 vCPUs.*set instanceCount to 8 or more/],
    [{ commitment: Duration.days(7) }, /commitment must be at least 14 days/],
    [{ endDate: inDays(75) }, /endDate .* falls inside the commitment/],
    [{ maxCommittedCost: -1 }, /maxCommittedCost must be a positive number/],
    [{ availabilityZone: 'eu-west-1a' }, /availabilityZone must be in the stack's region us-east-1/],
    [{ instancePlatform: InstancePlatform.RHEL_WITH_HA }, /instancePlatform 'RHEL with HA' cannot be priced/],
  ])('fails GIVEN %p', (overrides, message) => {
    expect(() => reservation(newStack(), overrides as Partial<FutureCapacityReservationProps>)).toThrow(message);
  });

  test('fails GIVEN a plain-JavaScript caller without maxCommittedCost, naming it', () => {
    const { maxCommittedCost: _m, ...rest } = REQUIRED();
    expect(() => new FutureCapacityReservation(newStack(), 'R', rest as FutureCapacityReservationProps)).toThrow(/maxCommittedCost is required/);
  });

  test('GIVEN a plain-JavaScript caller passing the type as a string THEN it is taken as the EC2 name', () => {
    const stack = newStack();
    reservation(stack, { instanceType: 'c7g.16xlarge' as unknown as ec2.InstanceType });
    Template.fromStack(stack).hasResourceProperties('Custom::FutureCapacityReservation', { InstanceType: 'c7g.16xlarge' });
  });

  test('GIVEN a start 3 days after synth THEN a warning (deploy day decides), not an error', () => {
    const stack = newStack();
    reservation(stack, { startDate: inDays(3) });
    Annotations.fromStack(stack).hasWarning('/Stack/Reservation', Match.stringLikeRegexp('startDate .* 5 to 120 days ahead.*checked again on deploy day'));
  });

  test('GIVEN a reservation WHEN onScheduled/onActive THEN rules match EC2\'s detail-type for that id', () => {
    const stack = newStack();
    const r = reservation(stack);
    r.onScheduled('Scheduled');
    r.onUnsupported('Unsupported');
    const template = Template.fromStack(stack);
    for (const state of ['Scheduled', 'Unsupported']) {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { 'source': ['aws.ec2'], 'detail-type': [`EC2 Capacity Reservation ${state}`], 'detail': { 'capacity-reservation-id': [Match.anyValue()] } },
      });
    }
  });

  test('GIVEN applyRemovalPolicy(RETAIN) THEN the custom resource is retained', () => {
    const stack = newStack();
    reservation(stack).applyRemovalPolicy(RemovalPolicy.RETAIN);
    Template.fromStack(stack).hasResource('Custom::FutureCapacityReservation', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('GIVEN a spend limit below maxCommittedCost THEN synth fails naming the reservation', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack', { env: ENV });
    reservation(stack, { maxCommittedCost: 30_000 });
    CapacitySpendLimit.of(app, { maxTotalUpfrontFee: 20_000 });
    expect(() => app.synth()).toThrow(/future-dated reservations may cost up to 30,000 USD.*Stack\/Reservation/);
  });
});

describe('provider IAM', () => {
  const statements = () => {
    const stack = newStack();
    reservation(stack);
    const policies = Object.entries<any>(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([id]) => /ProviderOnEventRole/.test(id));
    expect(policies).toHaveLength(1);
    return policies[0][1].Properties.PolicyDocument.Statement as any[];
  };

  test('GIVEN the onEvent role THEN CreateCapacityReservation needs the owner and idempotency tags naming this stack', () => {
    const create = statements().find(s => s.Action === FUTURE_RESERVATION_ACTIONS.request);
    expect(create.Condition).toEqual({
      Null: { [`aws:RequestTag/${IDEMPOTENCY_TAG}`]: 'false', [`aws:RequestTag/${OWNER_TAG}`]: 'false' },
      StringLike: { [`aws:RequestTag/${OWNER_TAG}`]: 'Stack/*' },
    });
  });

  test('GIVEN the onEvent role THEN cancel, modify and quotes need the owner tag; only reads and pricing are on *', () => {
    const all = statements();
    const manage = all.find(s => Array.isArray(s.Action) && s.Action.includes('ec2:CancelCapacityReservation'));
    expect(manage.Condition).toEqual({ StringLike: { [`aws:ResourceTag/${OWNER_TAG}`]: 'Stack/*' } });
    const onStar = all.filter(s => s.Resource === '*').flatMap(s => [s.Action].flat());
    expect(onStar.sort()).toEqual([...FUTURE_RESERVATION_ACTIONS.describe, ...FUTURE_RESERVATION_ACTIONS.price].sort());
    const describeStacks = all.find(s => s.Action === 'cloudformation:DescribeStacks');
    expect(describeStacks.Resource).toEqual({ Ref: 'AWS::StackId' });
  });
});

describe('cdk-nag AwsSolutions', () => {
  test('GIVEN a stack with a FutureCapacityReservation THEN no finding is left unacknowledged', () => {
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    const stack = new Stack(app, 'Stack', { env: ENV });
    reservation(stack);
    Template.fromStack(stack);
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    expect(report.violations.flatMap(v => v.violatingResources.map(r => `${v.ruleName} (${v.severity}) at ${r.constructPath}`))).toEqual([]);
  });
});
