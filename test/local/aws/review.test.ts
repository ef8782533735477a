import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CapacityBlockInstanceType, CapacityBlockProvider, CapacityBlockPurchase } from '../../../lib';
import { CloudFormationStack, Ec2Emulator } from '../../../lib/local';
import { engineFor } from './engine-harness';
import { ACCOUNT, isAllowed, REGION, resolve, stackIdOf, Statement } from './iam-policy';
import { PLAN, planEngineFor } from './training-plan-harness';

/**
 * Review of the lifecycle core (issue 24): money and wedge cases the table does not draw,
 * each under the REAL Provider framework runtime against the bundled handlers and the emulators.
 */
const blockEngine = engineFor({ stackName: 'Review', logicalId: 'Block' });
const planEngine = planEngineFor({ stackName: 'ReviewPlans', logicalId: 'Plan' });

const HOUR = 3_600_000;
const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };
const TWO = { ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000' };
const bought = (emulator: Ec2Emulator) => emulator.purchases.length;
const rollbacks = (stack: CloudFormationStack) => stack.exchanges.filter(e => e.phase === 'rollback').map(e => e.response);

describe('REVIEW: rollbacks always land, whatever DescribeStacks answers', () => {
  test('REVIEW: GIVEN the tracked block expired, WHEN a change to 2x is refused and DescribeStacks is throttled through the deploy, THEN the rollback to 4x answers SUCCESS (no UPDATE_ROLLBACK_FAILED) and buys nothing', () => blockEngine(async ({ emulator, stack, seams }) => {
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    emulator.clock.advance(30 * 24 * HOUR);
    // Throttling bursts on DescribeStacks, each outlasting the SDK's 4 attempts, through the update and into its rollback.
    seams.cloudFormation.failNext('throttle', 12);
    expect(await cfn.deploy(TWO)).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(rollbacks(cfn)[0]).toMatchObject({ Status: 'SUCCESS' });
    expect(cfn.continuedRollbacks).toBe(0);
    expect(bought(emulator)).toBe(1);
  }));

  test('REVIEW: GIVEN a block whose payment is pending, WHEN an update to previewOnly succeeds, a later resource fails, and EC2 fails the payment during the rollback\'s wait, THEN the rollback answers SUCCESS (no UPDATE_ROLLBACK_FAILED) and buys nothing', () => blockEngine(async ({ emulator, stack }) => {
    const cfn = stack();
    const waiting = { ...BLOCK, WaitTimeoutSeconds: '3000' };
    expect(await cfn.deploy(waiting)).toBe('CREATE_COMPLETE'); // payment still pending at waitTimeout (50 min)
    const block = cfn.resource!.physicalResourceId;
    expect(emulator.stateOf(emulator.reservations.get(block)!)).toBe('payment-pending');
    // previewOnly answers a preview id; CloudFormation's rollback sends the block's properties to that id.
    expect(await cfn.deploy({ ...waiting, PreviewOnly: 'true' }, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(rollbacks(cfn)[0]).toMatchObject({ Status: 'SUCCESS' });
    expect(cfn.continuedRollbacks).toBe(0);
    expect(bought(emulator)).toBe(1);
    expect(cfn.resource!.physicalResourceId).toBe(block);
  }, { paymentDelayMs: 80 * 60_000, paymentFails: () => true }));
});

describe('REVIEW: a FAILED after money may have moved names what was bought', () => {
  test('REVIEW: GIVEN a purchase whose answer was lost and whose block the look-up found, WHEN the ledger write of that outcome is throttled, THEN the Create still answers SUCCESS with the block (rule 4) and nothing more is bought', () => blockEngine(async ({ emulator, stack, seams }) => {
    const cfn = stack();
    emulator.failNext('PurchaseCapacityBlock', 'lostAnswer');
    seams.claims.failNextWrites(4, 'ledger#', '"outcome":"bought"');
    const status = await cfn.deploy(BLOCK);
    expect(bought(emulator)).toBe(1);
    const create = cfn.exchanges.find(e => e.requestType === 'Create')!.response;
    // On FAILED at least the reason must name the block that was bought.
    if (create.Status === 'FAILED') expect(create.Reason).toContain(emulator.purchases[0].id);
    expect(status).toBe('CREATE_COMPLETE');
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].id);
  }));
});

describe('REVIEW: training plans: rollbacks always land', () => {
  test('REVIEW: GIVEN a plan whose payment is pending, WHEN an update to previewOnly succeeds, a later resource fails, and SageMaker fails the payment during the rollback\'s wait, THEN the rollback answers SUCCESS (no UPDATE_ROLLBACK_FAILED) and buys nothing', () => planEngine(async ({ emulator, stack }) => {
    const cfn = stack();
    const waiting = { ...PLAN, WaitTimeoutSeconds: '3000' };
    expect(await cfn.deploy(waiting)).toBe('CREATE_COMPLETE'); // payment still pending at waitTimeout (50 min)
    const plan = cfn.resource!.physicalResourceId;
    expect(await cfn.deploy({ ...waiting, PreviewOnly: 'true' }, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(rollbacks(cfn)[0]).toMatchObject({ Status: 'SUCCESS' });
    expect(cfn.continuedRollbacks).toBe(0);
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(plan);
  }, { pendingMs: [80 * 60_000, 80 * 60_000], paymentFails: () => true }));
});

describe('REVIEW: messages name what they are about exactly', () => {
  test('REVIEW: GIVEN the tracked block expired, WHEN a change to 2x without allowRepurchase is refused, THEN the reason names the block by its id as EC2 spells it', () => blockEngine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    const block = cfn.resource!.physicalResourceId;
    emulator.clock.advance(30 * 24 * HOUR);
    expect(await cfn.deploy(TWO)).toBe('UPDATE_ROLLBACK_COMPLETE');
    const reason = cfn.exchanges.find(e => e.response.Status === 'FAILED')!.response.Reason ?? '';
    expect(reason).toMatch(/is over/);
    expect(reason).toContain(block);
    expect(bought(emulator)).toBe(1);
  }));
});

describe('REVIEW: an answer serves what it was answered for', () => {
  test('REVIEW: GIVEN DescribeStacks cannot be read, WHEN duration goes 48 h -> 72 h, THEN the update is not answered SUCCESS on the 48 h block (it fails naming why, buying nothing), and the next deploy extends it', () => blockEngine(async ({ emulator, stack, seams }) => {
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    seams.cloudFormation.failNext('throttle', 4);
    const status = await cfn.deploy({ ...BLOCK, DurationHours: '72' });
    // SUCCESS here would record duration 72 h for a 48 h block: deploying 72 h again sends no Update, and nothing ever extends it.
    expect({ status, extensions: emulator.extensions.length }).not.toEqual({ status: 'UPDATE_COMPLETE', extensions: 0 });
    expect(emulator.extensions).toHaveLength(0);
    expect(await cfn.deploy({ ...BLOCK, DurationHours: '72' })).toBe('UPDATE_COMPLETE');
    expect(emulator.extensions).toHaveLength(1);
    expect(bought(emulator)).toBe(1);
  }));
});

describe('REVIEW: training plans: a FAILED after money may have moved names what was bought', () => {
  test('REVIEW: GIVEN a create whose answer was lost and whose plan the read by name found, WHEN the ledger write of that outcome is throttled, THEN the Create still answers SUCCESS with the plan and nothing more is bought', () => planEngine(async ({ emulator, stack, seams }) => {
    emulator.failNext('CreateTrainingPlan', 'lostAnswer');
    seams.claims.failNextWrites(4, 'ledger#', '"outcome":"bought"');
    const cfn = stack();
    const status = await cfn.deploy(PLAN);
    expect(emulator.purchases).toHaveLength(1);
    const create = cfn.exchanges.find(e => e.requestType === 'Create')!.response;
    if (create.Status === 'FAILED') expect(create.Reason).toContain(PLAN.TrainingPlanName);
    expect(status).toBe('CREATE_COMPLETE');
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].arn);
  }));

  test('REVIEW: GIVEN a create SageMaker answered 200, WHEN the ledger write of that outcome is throttled, THEN CloudFormation tracks the plan by its ARN', () => planEngine(async ({ emulator, stack, seams }) => {
    seams.claims.failNextWrites(4, 'ledger#', '"outcome":"bought"');
    const cfn = stack();
    expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].arn);
  }));
});

describe('REVIEW: IAM: DescribeStacks for every stack a provider serves, and no other', () => {
  test('REVIEW: GIVEN a provider shared with another top-level stack, THEN its onEvent role may DescribeStacks on that consumer stack (else every Update there reads "unknown": no update may buy or extend, and a rollback relies on inference)', () => {
    const app = new App();
    const env = { account: ACCOUNT, region: REGION };
    const home = new Stack(app, 'Home', { env });
    const provider = CapacityBlockProvider.getOrCreate(home);
    const consumer = new Stack(app, 'Consumer', { env });
    new CapacityBlockPurchase(consumer, 'Block', { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2), maxUpfrontFee: 8000, provider });
    const [policy] = Object.entries(Template.fromStack(home).findResources('AWS::IAM::Policy')).filter(([id]) => /ProviderOnEventRole/.test(id));
    const statements = resolve(policy[1].Properties.PolicyDocument.Statement, 'Home') as Statement[];
    const describe = (resource: string) => isAllowed(statements, { action: 'cloudformation:DescribeStacks', resource, context: {} });
    expect(describe(stackIdOf('Home'))).toBe(true);
    expect(describe(stackIdOf('Consumer'))).toBe(true);
    expect(describe(stackIdOf('Elsewhere'))).toBe(false);
  });
});

