import { CloudFormationStack, SageMakerCall } from '../../../lib/local';
import { forgetLedgers, offering, PLAN, planEngineFor } from './training-plan-harness';

/**
 * The money rules of TrainingPlanPurchase under CloudFormation's engine: the bundled handler runs
 * inside the REAL Provider framework runtime of aws-cdk-lib, against the SageMaker emulator (plans
 * Pending for a while, lists that lag, lost answers) and a local DynamoDB, through CloudFormation's
 * event sequences. SageMaker sells a plan name once: that, the claim and the ledger keep every rule.
 */
const engine = planEngineFor({ stackName: 'Training', logicalId: 'Plan' });
const HOUR = 3_600_000;
const lastResponse = (stack: CloudFormationStack) => stack.exchanges[stack.exchanges.length - 1].response;
const creates = (calls: SageMakerCall[]) => calls.filter(c => c.action === 'CreateTrainingPlan');

describe('never buys twice', () => {
  test('two copies of one Create delivered at the same time buy one plan', () => engine(async ({ emulator, stack }) => {
    const cfn = stack('twice-concurrent');
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].arn);
  }));

  test('a Create delivered again after the first copy\'s Lambda time is over buys nothing more and answers the same plan', () => engine(async ({ emulator, stack }) => {
    const cfn = stack('twice-late');
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
  }));

  test('a create whose answer is lost is found by its name, not bought again, and answered as the plan', () => engine(async ({ emulator, stack }) => {
    emulator.failNext('CreateTrainingPlan', 'lostAnswer');
    const cfn = stack();
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].arn);
    expect(lastResponse(cfn).Data?.Note).toMatch(/answer was lost; nothing more was bought/);
  }));

  test('an invocation that crashes right after its create leaves the intent; the late redelivery reads the name, buys nothing, and the redeploy reports the plan as it was bought', () => engine(async ({ emulator, framework, stack }) => {
    framework.crashAfter('CreateTrainingPlanCommand');
    const cfn = stack('twice-late');
    expect(await cfn.deploy(PLAN)).toBe('ROLLBACK_COMPLETE'); // CloudFormation keeps the crash's FAILED
    expect(framework.invocations.filter(i => i.fn === 'onEvent').map(i => i.outcome)).toEqual(['crash', 'ok']);
    expect(emulator.purchases).toHaveLength(1);
    expect(creates(emulator.calls)).toHaveLength(1);
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(lastResponse(cfn).Data).toMatchObject({ OfferingId: emulator.purchases[0].offering.id, UpfrontFee: emulator.purchases[0].offering.upfrontFee });
  }));

  test('a redeploy after a Create that paid and was rolled back adopts the plan, even with the stack\'s ledger gone', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(PLAN, { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    await forgetLedgers(); // the stack, and with it its claims table, was deleted and created again
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].arn);
    expect(lastResponse(cfn).Data?.Note).toMatch(/Adopted training plan Training-Plan-1a2b3c, which this resource \(Training\/Plan\) already owns/);
  }));

  test('an update rolled back after it bought a new plan (allowRepurchase) returns to the first plan and buys nothing more', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    const first = { ...PLAN, AllowRepurchase: 'true' };
    expect(await cfn.deploy(first)).toBe('CREATE_COMPLETE');
    const firstArn = cfn.resource!.physicalResourceId;
    const bigger = { ...first, InstanceCount: '8', MaxUpfrontFee: '20000' };
    expect(await cfn.deploy(bigger, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.purchases.map(p => p.name)).toEqual(['Training-Plan-1a2b3c', 'Training-Plan-1a2b3c-2']);
    expect(cfn.resource?.physicalResourceId).toBe(firstArn);
    expect(cfn.exchanges.find(e => e.phase === 'rollback')!.response.Data?.Note).toMatch(/^Back to training plan Training-Plan-1a2b3c /);
  }));
});

describe('a rollback is the plan the ledger answered before, not a plan that happens to fit', () => {
  test('with allowRepurchase, an update rolled back after the first plan\'s payment failed returns to that plan and buys no third one', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    const first = { ...PLAN, AllowRepurchase: 'true', WaitTimeoutSeconds: '0' };
    expect(await cfn.deploy(first)).toBe('CREATE_COMPLETE');
    emulator.clock.advance(HOUR);
    expect(emulator.statusOf(emulator.purchases[0])).toBe('Failed');
    const bigger = { ...first, InstanceCount: '8', MaxUpfrontFee: '20000' };
    expect(await cfn.deploy(bigger, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.purchases.map(p => p.name)).toEqual(['Training-Plan-1a2b3c', 'Training-Plan-1a2b3c-2']);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].arn);
    expect(cfn.exchanges.find(e => e.phase === 'rollback')!.response.Data).toMatchObject({ Status: 'Failed' });
  }, { paymentFails: o => o.instanceCount === 4, pendingMs: [60_000, 60_000] }));
});

describe('never above the ceiling, never outside the window', () => {
  test('fails when the only offering costs a fraction of a cent more than maxUpfrontFee, and buys nothing (exact decimal comparison)', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    // 40000.000000000001 reads as 40000 in binary floating point.
    expect(await cfn.deploy({ ...PLAN, MaxUpfrontFee: '40000' })).toBe('ROLLBACK_COMPLETE');
    expect(creates(emulator.calls)).toHaveLength(0);
    expect(cfn.exchanges[0].response.Reason).toMatch(/40000\.000000000001 USD > maxUpfrontFee 40000\.00 USD/);
  }, { offerings: [offering('tpo-pricey', '40000.000000000001', 3)] }));

  test('buys an offering priced exactly at maxUpfrontFee', () => engine(async ({ emulator, stack }) => {
    expect(await stack().deploy({ ...PLAN, MaxUpfrontFee: '10000' })).toBe('CREATE_COMPLETE');
    expect(emulator.purchases.map(p => p.offering.id)).toEqual(['tpo-exact']);
  }, { offerings: [offering('tpo-exact', '10000.00', 3)] }));

  test('fails when the only offerings end after latestEnd, and buys nothing', () => engine(async ({ emulator, stack }) => {
    const latestEnd = new Date(offering('x', '1', 3).startTime.getTime() + 47 * HOUR).toISOString();
    const cfn = stack();
    expect(await cfn.deploy({ ...PLAN, LatestEnd: latestEnd })).toBe('ROLLBACK_COMPLETE');
    expect(creates(emulator.calls)).toHaveLength(0);
    // SageMaker filters by EndTimeBefore itself; the handler checks again (test/aws/handler/training-plan.test.ts).
    expect(emulator.calls.find(c => c.action === 'SearchTrainingPlanOfferings')!.params.EndTimeBefore).toBe(Date.parse(latestEnd) / 1000);
    expect(cfn.exchanges[0].response.Reason).toMatch(/^No training plan offering for 4 x ml\.p5\.48xlarge for 2 days \(48 h\) \(training-job\) in the requested window/);
  }, { offerings: [offering('tpo-late', '8000', 3)] }));

  test('fails an update to a longer duration whose extension would end after latestEnd, and buys nothing', () => engine(async ({ emulator, stack }) => {
    const latestEnd = new Date(offering('x', '1', 3).startTime.getTime() + 60 * HOUR).toISOString();
    const cfn = stack();
    expect(await cfn.deploy({ ...PLAN, LatestEnd: latestEnd })).toBe('CREATE_COMPLETE');
    emulator.clock.advance(HOUR); // paid: Scheduled
    expect(await cfn.deploy({ ...PLAN, LatestEnd: latestEnd, DurationHours: '72' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.purchases[0].extensions).toHaveLength(0);
    expect(cfn.exchanges.find(e => e.phase === 'deploy' && e.requestType === 'Update')!.response.Reason).toMatch(/after latestEnd/);
  }, { offerings: [offering('tpo-a', '8000', 3)] }));

  test('an update to a longer duration buys one extension within the ceiling, and a later update while its payment is pending buys no second one', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    emulator.clock.advance(HOUR);
    const longer = { ...PLAN, DurationHours: '72' };
    expect(await cfn.deploy(longer)).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases[0].extensions).toHaveLength(1);
    expect(lastResponse(cfn).Data?.Note).toMatch(/^Extended Training-Plan-1a2b3c by 1 day \(24 h\) for \d+\.\d\d USD/);
    expect(await cfn.deploy({ ...longer, Tags: [{ Key: 'team', Value: 'ml' }] })).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases[0].extensions).toHaveLength(1);
    expect(lastResponse(cfn).Data?.Note).toMatch(/pending payment/);
  }, { extensionPaymentDelayMs: 6 * HOUR }));

  test('fails an update whose extension costs more than maxUpfrontFee on its own, and buys nothing', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...PLAN, MaxUpfrontFee: '8000' })).toBe('CREATE_COMPLETE');
    emulator.clock.advance(HOUR);
    // 4 x ml.p5 for 10 more days: far above 8,000 USD.
    expect(await cfn.deploy({ ...PLAN, MaxUpfrontFee: '8000', DurationHours: '288' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.purchases[0].extensions).toHaveLength(0);
    expect(cfn.exchanges.find(e => e.phase === 'deploy' && e.requestType === 'Update')!.response.Reason).toMatch(/No extension of training plan .* within maxUpfrontFee 8000\.00 USD/);
  }));
});

describe('sold out between search and create', () => {
  test('the next acceptable offering is bought, once', () => engine(async ({ emulator, stack }) => {
    expect(await stack().deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(creates(emulator.calls)).toHaveLength(2);
    expect(creates(emulator.calls)[0].params.TrainingPlanOfferingId).not.toBe(emulator.purchases[0].offering.id);
  }, { soldBeforePurchase: 1 }));
});

describe('a FAILED answer after paying names the plan', () => {
  test('fails a Create whose plan SageMaker reports Failed, naming the plan', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(PLAN)).toBe('ROLLBACK_COMPLETE');
    expect(cfn.exchanges[0].response.Reason).toMatch(new RegExp(`training plan Training-Plan-1a2b3c \\(${emulator.purchases[0].arn}\\) Failed`));
  }, { paymentFails: () => true }));

  test('a plan still Pending at waitTimeout succeeds with status Pending and a note, never FAILED', () => engine(async ({ stack }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...PLAN, WaitTimeoutSeconds: '0' })).toBe('CREATE_COMPLETE');
    expect(lastResponse(cfn).Data).toMatchObject({ Status: 'Pending', TrainingPlanName: 'Training-Plan-1a2b3c' });
    expect(lastResponse(cfn).Data?.Note).toMatch(/payment was still pending at waitTimeout/);
  }, { pendingMs: [HOUR, HOUR] }));
});

describe('updates', () => {
  test('a tag change updates the plan in place and buys nothing', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy({ ...PLAN, Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'cost', Value: 'a' }] });
    expect(await cfn.deploy({ ...PLAN, Tags: [{ Key: 'team', Value: 'research' }] })).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    const tags = Object.fromEntries(emulator.purchases[0].tags);
    expect(tags).toMatchObject({ 'team': 'research', 'cdk-capacity-reservations:owner': 'Training/Plan' });
    expect(tags.cost).toBeUndefined();
  }));

  test('fails a change that needs another plan without allowRepurchase, naming the plan it holds, and buys nothing', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(PLAN);
    expect(await cfn.deploy({ ...PLAN, InstanceCount: '8', MaxUpfrontFee: '20000' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.exchanges.find(e => e.phase === 'deploy' && e.requestType === 'Update')!.response.Reason)
      .toMatch(/^This change needs a new training plan: instanceCount 8 \(the plan has 4\)\. This resource already holds training plan Training-Plan-1a2b3c/);
  }));

  test('with allowRepurchase, a change that needs another plan buys <name>-2 and keeps naming the first', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy({ ...PLAN, AllowRepurchase: 'true' });
    expect(await cfn.deploy({ ...PLAN, AllowRepurchase: 'true', InstanceCount: '8', MaxUpfrontFee: '20000' })).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases.map(p => p.name)).toEqual(['Training-Plan-1a2b3c', 'Training-Plan-1a2b3c-2']);
    expect(cfn.exchanges.find(e => e.requestType === 'Update')!.response.Data?.Note).toMatch(/also owns, and you pay for until they end: training plan Training-Plan-1a2b3c /);
    // CloudFormation's cleanup of the first plan's id cancels nothing.
    expect(cfn.exchanges.map(e => `${e.phase} ${e.requestType}`)).toEqual(['deploy Create', 'deploy Update', 'cleanup Delete']);
  }));
});

describe('delete', () => {
  test('Delete cancels nothing (SageMaker cannot), makes no call that changes anything, and says so', () => engine(async ({ emulator, stack, handler }) => {
    const cfn = stack();
    await cfn.deploy(PLAN);
    const before = emulator.calls.length;
    const logged: string[] = [];
    const log = console.log;
    console.log = (line: string) => logged.push(String(line));
    try {
      await handler.onEvent({ RequestType: 'Delete', StackId: cfn.stackId, RequestId: 'r-delete', LogicalResourceId: 'Plan', PhysicalResourceId: cfn.resource!.physicalResourceId, ResourceProperties: PLAN });
    } finally {
      console.log = log;
    }
    expect(emulator.calls.slice(before).map(c => c.action)).toEqual(['DescribeTrainingPlan']);
    expect(emulator.statusOf(emulator.purchases[0])).not.toBe('Expired');
    expect(logged.join('\n')).toMatch(/Training plan Training-Plan-1a2b3c \(\w+, ends [^)]+\) cannot be cancelled: CloudFormation no longer tracks it, and it expires by itself at its end/);
  }));
});
