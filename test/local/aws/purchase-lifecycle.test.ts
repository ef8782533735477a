import { CloudFormationStack, Ec2Emulator } from '../../../lib/local';
import { engineFor } from './engine-harness';
import { offering, PLAN, planEngineFor } from './training-plan-harness';

/**
 * Issue 24, one spec per row: the purchase lifecycle decides from what it asked (a successful read,
 * the stack's own status, the answer CloudFormation received), never from what it could not read.
 * Each drives the bundled handlers inside the REAL Provider framework runtime against the emulators.
 */
const blockEngine = engineFor({ stackName: 'Lifecycle', logicalId: 'Block' });
const planEngine = planEngineFor({ stackName: 'Training', logicalId: 'Plan' });

const HOUR = 3_600_000;
/** 4 x p5.48xlarge for 2 days: the emulator offers them for about 6,040-7,600 USD. */
const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };
const TWO = { ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000' };
const failedReason = (stack: CloudFormationStack) => stack.exchanges.filter(e => e.response.Status === 'FAILED').pop()?.response.Reason ?? '';
/** A DescribeCapacityReservations that looks a purchase up by its idempotency tag. */
const byIdempotencyTag = (params: Record<string, string>) => Object.values(params).some(v => v === 'tag:cdk-capacity-reservations:idempotency-key');
const bought = (emulator: Ec2Emulator) => emulator.purchases.length;

describe('row 1: only a successful read that shows nothing settles an intent', () => {
  test('GIVEN a purchase whose answer was lost, WHEN the next deploy\'s look-up by idempotency tag is throttled 4 times in a row, THEN the deploy fails naming the intent and buys nothing', () => blockEngine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...BLOCK, PreviewOnly: 'true' })).toBe('CREATE_COMPLETE');
    emulator.failNext('PurchaseCapacityBlock', 'lostAnswer');
    // EC2 shows the new block's tags late: the look-ups after the lost answer do not find it.
    expect(await cfn.deploy(BLOCK)).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(bought(emulator)).toBe(1);

    emulator.clock.advance(11 * 60_000); // past the settle time, and past EC2's tag lag
    emulator.failNext('DescribeCapacityReservations', 'throttle', 4, byIdempotencyTag);
    expect(await cfn.deploy(BLOCK)).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(bought(emulator)).toBe(1);
    expect(failedReason(cfn)).toMatch(/could not be read/);
    expect(failedReason(cfn)).toMatch(/cb-p548xlarge4x48/);
    expect(failedReason(cfn)).not.toMatch(/nothing was bought/);

    // Once EC2 answers, the intent is found bought and adopted: still one block.
    expect(await cfn.deploy(BLOCK)).toBe('UPDATE_COMPLETE');
    expect(bought(emulator)).toBe(1);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].id);
  }, { tagLagMs: 5 * 60_000 }));
});

describe('row 2: a resource whose ledger lacks its own physical id finds it by id; a non-defining change never buys', () => {
  test('GIVEN the 200 answer\'s ledger write failed, WHEN a tags-only update days later meets a throttled tag look-up, THEN it tags the block CloudFormation tracks and buys nothing', () => blockEngine(async ({ emulator, stack, seams }) => {
    const cfn = stack();
    seams.claims.failNextWrites(4, 'ledger#', '"outcome":"bought"');
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(seams.claims.writesRefused).toBe(4);
    const block = cfn.resource!.physicalResourceId;

    emulator.clock.advance(3 * 24 * HOUR);
    emulator.failNext('DescribeCapacityReservations', 'throttle', 4, byIdempotencyTag);
    expect(await cfn.deploy({ ...BLOCK, Tags: [{ Key: 'team', Value: 'ml' }] })).toBe('UPDATE_COMPLETE');
    expect(bought(emulator)).toBe(1);
    expect(cfn.resource!.physicalResourceId).toBe(block);
    expect(emulator.reservations.get(block)!.tags.get('team')).toBe('ml');
  }));

  test('GIVEN the ledger lacks the tracked block, WHEN only the ceiling changes, THEN nothing is bought whatever the look-ups say', () => blockEngine(async ({ emulator, stack, seams }) => {
    const cfn = stack();
    seams.claims.failNextWrites(4, 'ledger#', '"outcome":"bought"');
    expect(await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true' })).toBe('CREATE_COMPLETE');
    emulator.clock.advance(3 * 24 * HOUR);
    emulator.failNext('DescribeCapacityReservations', 'throttle', 4, byIdempotencyTag);
    expect(await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true', MaxUpfrontFee: '9000' })).toBe('UPDATE_COMPLETE');
    expect(bought(emulator)).toBe(1);
  }));
});

describe('row 3: an answer is what CloudFormation tracks only once CloudFormation received it', () => {
  test('GIVEN 2x, an update to 4x whose payment failed and rolled back, WHEN the user fixes payment and deploys 4x again, THEN a new 4x block is bought and tracked', () => {
    let paymentFails = true;
    return blockEngine(async ({ emulator, stack }) => {
      const cfn = stack();
      expect(await cfn.deploy({ ...TWO, AllowRepurchase: 'true' })).toBe('CREATE_COMPLETE');
      const two = cfn.resource!.physicalResourceId;
      expect(await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true' })).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(failedReason(cfn)).toMatch(/Payment for Capacity Block cr-\w+ failed/);
      expect(cfn.resource!.physicalResourceId).toBe(two);

      paymentFails = false;
      expect(await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true' })).toBe('UPDATE_COMPLETE');
      expect(bought(emulator)).toBe(3);
      const tracked = emulator.reservations.get(cfn.resource!.physicalResourceId)!;
      expect(tracked.instanceCount).toBe(4);
      expect(emulator.stateOf(tracked)).not.toBe('payment-failed');
    }, { paymentFails: id => paymentFails && id.includes('4x48') });
  });
});

describe('row 4: a rollback is told from a forward update by asking CloudFormation', () => {
  test('GIVEN 4x expired and a 4x->2x update whose cleanup could not reach the ledger, WHEN 4x is deployed again with allowRepurchase, THEN a new 4x block is bought (DescribeStacks on the event\'s own stack says UPDATE_IN_PROGRESS)', () => blockEngine(async ({ emulator, stack, seams }) => {
    const cfn = stack();
    const four = { ...BLOCK, AllowRepurchase: 'true' };
    expect(await cfn.deploy(four)).toBe('CREATE_COMPLETE');
    const expired = cfn.resource!.physicalResourceId;
    emulator.clock.advance(30 * 24 * HOUR);
    // The cleanup Delete of the expired block cannot write the ledger: the ledger still has it as tracked.
    seams.claims.failNextWrites(4, 'ledger#', '"released":true');
    expect(await cfn.deploy({ ...TWO, AllowRepurchase: 'true' })).toBe('UPDATE_COMPLETE');
    expect(bought(emulator)).toBe(2);

    expect(await cfn.deploy(four)).toBe('UPDATE_COMPLETE');
    expect(bought(emulator)).toBe(3);
    expect(cfn.resource!.physicalResourceId).not.toBe(expired);
    expect(emulator.stateOf(emulator.reservations.get(cfn.resource!.physicalResourceId)!)).not.toBe('expired');
    expect(seams.cloudFormation.calls.filter(c => c.action === 'DescribeStacks').map(c => c.stackName)).toContain(cfn.stackId);
  }));

  test('GIVEN DescribeStacks cannot be read, WHEN an update would need to buy, THEN it fails naming why and buys nothing', () => blockEngine(async ({ emulator, stack, seams }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true' })).toBe('CREATE_COMPLETE');
    seams.cloudFormation.failNext('throttle', 8);
    expect(await cfn.deploy({ ...TWO, AllowRepurchase: 'true' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(bought(emulator)).toBe(1);
    expect(failedReason(cfn)).toMatch(/DescribeStacks/);
  }));
});

describe('row 5: a rollback always lands', () => {
  test('GIVEN a rollback decided in place that waits for the payment, WHEN EC2 fails the payment before the first poll, THEN the rollback answers SUCCESS with a note naming the dead block', () => blockEngine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...BLOCK, WaitTimeoutSeconds: '3000' })).toBe('CREATE_COMPLETE'); // payment still pending at waitTimeout
    const block = cfn.resource!.physicalResourceId;
    expect(emulator.stateOf(emulator.reservations.get(block)!)).toBe('payment-pending');
    // A tag and no wait: the update answers at once; a later resource fails; the rollback waits again, and the payment fails meanwhile.
    expect(await cfn.deploy({ ...BLOCK, WaitTimeoutSeconds: '0', Tags: [{ Key: 'team', Value: 'ml' }] }, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(cfn.continuedRollbacks).toBe(0);
    const rollback = cfn.exchanges.find(e => e.phase === 'rollback')!.response;
    expect(rollback.Status).toBe('SUCCESS');
    expect(rollback.Data?.Note).toMatch(new RegExp(`^Back to ${block} `));
    expect(bought(emulator)).toBe(1);
  }, { paymentDelayMs: 100 * 60_000, paymentFails: () => true }));

  test('GIVEN the payment failed during the forward update\'s wait, WHEN CloudFormation rolls back, THEN the rollback answers SUCCESS with a note naming the dead block', () => blockEngine(async ({ stack }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...BLOCK, WaitTimeoutSeconds: '3000' })).toBe('CREATE_COMPLETE');
    const block = cfn.resource!.physicalResourceId;
    expect(await cfn.deploy({ ...BLOCK, WaitTimeoutSeconds: '3000', Tags: [{ Key: 'team', Value: 'ml' }] })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(cfn.continuedRollbacks).toBe(0);
    const rollback = cfn.exchanges.find(e => e.phase === 'rollback')!.response;
    expect(rollback).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: block });
    expect(rollback.Data?.Note).toMatch(new RegExp(`^Back to ${block} .*payment-failed.*no longer live \\(payment-failed\\) and serves nothing`));
  }, { paymentDelayMs: 100 * 60_000, paymentFails: () => true }));
});

describe('row 6: while an intent is open, "nothing was bought" is never said, and no rename is advised', () => {
  test('GIVEN a create whose answer was lost, WHEN ListTags shows the new plan\'s tags only after two calls, THEN the deploy says it cannot be told yet, and the next deploy adopts the plan', () => planEngine(async ({ emulator, stack }) => {
    emulator.failNext('CreateTrainingPlan', 'lostAnswer');
    emulator.failNext('ListTags', 'untagged', 2);
    const cfn = stack();
    expect(await cfn.deploy(PLAN)).toBe('ROLLBACK_COMPLETE');
    expect(failedReason(cfn)).not.toMatch(/nothing was bought/);
    expect(failedReason(cfn)).not.toMatch(/Set trainingPlanName/);
    expect(failedReason(cfn)).toMatch(/cannot be told yet.*[Dd]eploy again/);
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].arn);
  }));
});

describe('row 7: an intent the cloud refused settles at once', () => {
  test('GIVEN a foreign plan holds the resource\'s name, WHEN the user sets trainingPlanName as advised, THEN the new name is bought', () => planEngine(async ({ emulator, stack }) => {
    emulator.addForeignPlan(PLAN.TrainingPlanName, offering('tpo-foreign', '1000', 5), 'Someone/Else');
    const cfn = stack();
    expect(await cfn.deploy({ ...PLAN, PreviewOnly: 'true' })).toBe('CREATE_COMPLETE');
    expect(await cfn.deploy(PLAN)).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(failedReason(cfn)).toMatch(/taken by a plan this resource did not buy/);
    expect(await cfn.deploy({ ...PLAN, TrainingPlanName: 'Training-Plan-own' })).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases.map(p => p.name)).toEqual([PLAN.TrainingPlanName, 'Training-Plan-own']);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[1].arn);
  }));
});

describe('row 8: "serves" compares the time left with the duration asked', () => {
  test('training plan: GIVEN a plan of this resource with 1 h of 48 h left, WHEN the stack is created again, THEN it is not adopted as fitting', () => planEngine(async ({ emulator, stack }) => {
    const cfn = stack();
    const props = { ...PLAN, AllowRepurchase: 'true' };
    expect(await cfn.deploy(props, { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    const old = emulator.purchases[0];
    emulator.clock.advance(emulator.endOf(old).getTime() - emulator.clock.now().getTime() - HOUR);
    expect(emulator.statusOf(old)).toBe('Active');
    expect(await cfn.deploy(props)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(2);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[1].arn);
  }));

  test('Capacity Block: GIVEN a block of this resource with 1 h of 48 h left, WHEN the stack is created again, THEN it is not adopted as fitting', () => blockEngine(async ({ emulator, stack }) => {
    const cfn = stack();
    const props = { ...BLOCK, AllowRepurchase: 'true' };
    expect(await cfn.deploy(props, { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    const old = emulator.purchases[0];
    emulator.clock.advance(emulator.endDateOf(old).getTime() - emulator.clock.now().getTime() - HOUR);
    expect(emulator.stateOf(old)).toBe('active');
    expect(await cfn.deploy(props)).toBe('CREATE_COMPLETE');
    expect(bought(emulator)).toBe(2);
    expect(cfn.resource!.physicalResourceId).not.toBe(old.id);
  }));
});

describe('row 9: a message says what is known', () => {
  test('GIVEN a create whose answer was lost and whose Describe does not show the plan yet, THEN the failure says a plan under this name exists or may exist, and the next deploy adopts it', () => planEngine(async ({ emulator, stack }) => {
    emulator.failNext('CreateTrainingPlan', 'lostAnswer');
    emulator.failNext('DescribeTrainingPlan', 'notFound', 2);
    const cfn = stack();
    expect(await cfn.deploy(PLAN)).toBe('ROLLBACK_COMPLETE');
    expect(failedReason(cfn)).not.toMatch(/nothing was bought/);
    expect(failedReason(cfn)).toMatch(/exists or may exist/);
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].arn);
  }));
});
