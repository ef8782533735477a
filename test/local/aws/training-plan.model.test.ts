import * as fc from 'fast-check';
import { AwsRehearsalSeams, CloudFormationStack, Delivery, Json, SageMakerEmulator, StackStatus } from '../../../lib/local';
import { checkAnswersServe, CoreFault, coreFaultArbitrary, describeFault, injectCoreFault, PurchasesView } from './lifecycle-model';
import { forgetLedgers, offering, PLAN, planEngineFor } from './training-plan-harness';
import { modelRuns, modelSeed } from '../../support/model-budgets';

/**
 * A generated proof of TrainingPlanPurchase's money rules: random sequences of CloudFormation
 * operations (create, update, rollback after a later resource fails, delete, the stack created again
 * with its ledger gone, duplicate deliveries) against the SageMaker emulator with randomly drawn
 * behaviour (lost create and extension answers, offerings sold under a create, failed payments,
 * simulated time passing), and the invariants checked after every step. A counterexample shrinks to
 * a minimal sequence and prints its seed and path: replay with FC_SEED=<seed> FC_PATH=<path>.
 * `npm test` runs the budget in test/support/model-budgets.ts; `npm run verify -- --runs N` (FC_RUNS) runs more.
 */
const engine = planEngineFor({ stackName: 'Model', logicalId: 'Plan' });
const RUNS = modelRuns('training-plan');
/** A fixed seed in `npm test`, so that CI replays the same sequences; `npm run verify` draws a new one and prints it. */
const SEED = modelSeed();
const HOUR = 3_600_000;

/** The properties a sequence deploys: each names what it asks for; ceilings in USD. */
const VARIANTS = {
  base: PLAN,
  tagged: { ...PLAN, Tags: [{ Key: 'team', Value: 'ml' }] },
  longer: { ...PLAN, DurationHours: '72' },
  bigger: { ...PLAN, InstanceCount: '8', MaxUpfrontFee: '20000' },
  biggerRepurchase: { ...PLAN, InstanceCount: '8', MaxUpfrontFee: '20000', AllowRepurchase: 'true' },
  baseRepurchase: { ...PLAN, AllowRepurchase: 'true' },
} as const;
type Variant = keyof typeof VARIANTS;
const CEILING = Math.max(...Object.values(VARIANTS).map(v => Number(v.MaxUpfrontFee)));

interface Model {
  /** Whether any deployed properties ever allowed a repurchase (then several live plans are legitimate). */
  repurchaseAllowed: boolean;
}

interface Real {
  readonly emulator: SageMakerEmulator;
  readonly seams: AwsRehearsalSeams;
  stack: CloudFormationStack;
  readonly newStack: () => CloudFormationStack;
  readonly statuses: StackStatus[];
}

/** The invariants, after every step. */
function checkInvariants(model: Model, real: Real): void {
  const { emulator, stack } = real;
  // A plan someone else bought under a name this resource would use is not the resource's.
  const plans = emulator.purchases.filter(p => p.offering.id !== 'tpo-foreign');
  // Never above the ceiling: every plan and every extension within the highest ceiling any request carried.
  for (const p of plans) {
    expect(Number(p.offering.upfrontFee)).toBeLessThanOrEqual(CEILING);
    for (const e of p.extensions) expect(Number(e.upfrontFee)).toBeLessThanOrEqual(CEILING);
  }
  // Never buys twice: without allowRepurchase, at most one plan that is paid (or being paid).
  const paid = plans.filter(p => emulator.statusOf(p) !== 'Failed');
  if (!model.repurchaseAllowed && paid.length > 1) throw new Error(`bought twice without allowRepurchase: ${paid.map(p => p.name).join(', ')}`);
  // Every plan is the resource's own, under one of its names, tagged so a lost ledger finds it again.
  for (const p of plans) {
    expect(p.name).toMatch(/^Training-Plan-1a2b3c(-\d+)?$/);
    expect(p.tags.get('cdk-capacity-reservations:owner')).toBe('Model/Plan');
  }
  // No extension is bought while another's payment is pending, and none twice for one update.
  for (const p of plans) expect(p.extensions.filter(e => emulator.extensionStatus(e) === 'Pending').length).toBeLessThanOrEqual(1);
  // No rollback wedges the stack.
  expect(real.statuses).not.toContain('UPDATE_ROLLBACK_FAILED');
  // The stack model continues a failed rollback for the operator: a rollback the handler answered FAILED wedged the stack all the same.
  const engineReasons = /ThrottlingException|TooManyRequestsException|Runtime exited|Operation timed out|did not receive a response/;
  const wedged = stack.exchanges.find(e => e.phase !== 'deploy' && e.requestType === 'Update' && e.response.Status === 'FAILED' && !engineReasons.test(e.response.Reason ?? ''));
  if (wedged) throw new Error(`a rollback answered FAILED (UPDATE_ROLLBACK_FAILED until continued): ${wedged.response.Reason}`);
  // After every SUCCESS for a change that defines the plan, CloudFormation got a plan live then that serves it.
  checkAnswersServe(stack.exchanges, plansView(emulator));
}

/** The shared invariant's view of SageMaker: a physical id is a plan's ARN. */
function plansView(emulator: SageMakerEmulator): PurchasesView {
  const planOf = (arn: string) => emulator.purchases.find(p => p.arn === arn);
  const shape = (props: Json) => JSON.stringify([props.InstanceType, props.InstanceCount, props.DurationHours, props.TargetResources, props.PreviewOnly]);
  const endAt = (p: NonNullable<ReturnType<typeof planOf>>, at: number) => p.offering.startTime.getTime() + (p.offering.durationHours + p.extensions.filter(x => x.extendedAt.getTime() <= at).reduce((h, x) => h + x.hours, 0)) * HOUR;
  return {
    liveAt: (arn, at) => {
      const p = planOf(arn);
      if (!p) return undefined;
      return at < p.createdAt.getTime() + p.pendingMs || (!p.paymentFails && at < endAt(p, at));
    },
    mismatches: (arn, props, at) => {
      const p = planOf(arn)!;
      const why: string[] = [];
      if (p.offering.instanceType !== props.InstanceType) why.push(`instance type ${p.offering.instanceType}`);
      if (p.offering.instanceCount !== Number(props.InstanceCount)) why.push(`${p.offering.instanceCount} instances`);
      const left = (endAt(p, at) - Math.max(at, p.offering.startTime.getTime())) / HOUR;
      if (left < Number(props.DurationHours)) why.push(`${left.toFixed(1)} h left of ${props.DurationHours} h asked`);
      if (!(props.TargetResources as string[]).every(t => p.offering.targetResources.includes(t))) why.push(`targets ${p.offering.targetResources.join(',')}`);
      return why;
    },
    defining: (props, old) => old === undefined || shape(props) !== shape(old),
  };
}

/** What the sequences did, across runs: proof that the invariants were checked against something. */
const seen = { steps: 0, deploys: 0, failedDeploys: 0, rollbacks: 0, plansBought: 0, extensionsBought: 0, lostAnswersTaken: 0, soldOut: 0 };

class Deploy implements fc.AsyncCommand<Model, Real> {
  constructor(readonly variant: Variant, readonly delivery: Delivery, readonly laterResourceFails: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const before = new Set(real.emulator.purchases.map(p => p.name));
    const exchangesBefore = real.stack.exchanges.length;
    real.stack.delivery = () => this.delivery;
    if (real.stack.status === 'UPDATE_ROLLBACK_FAILED') return;
    const properties = VARIANTS[this.variant];
    const status = await real.stack.deploy(properties, { laterResourceFails: this.laterResourceFails });
    real.statuses.push(status);
    seen.deploys++;
    if (status === 'ROLLBACK_COMPLETE' || status === 'UPDATE_ROLLBACK_COMPLETE') seen.rollbacks++;
    if (real.stack.exchanges.slice(exchangesBefore).some(x => x.phase === 'deploy' && x.response.Status === 'FAILED')) seen.failedDeploys++;
    if ('AllowRepurchase' in properties) model.repurchaseAllowed = true;
    // A FAILED Create or Update that bought a plan names it.
    const boughtNow = real.emulator.purchases.filter(p => !before.has(p.name));
    for (const e of real.stack.exchanges.slice(exchangesBefore).filter(x => x.phase === 'deploy' && x.response.Status === 'FAILED')) {
      for (const p of boughtNow) expect(e.response.Reason).toContain(p.name);
    }
    checkInvariants(model, real);
  }
  toString = () => `deploy ${this.variant} (${this.delivery}${this.laterResourceFails ? ', a later resource fails' : ''})`;
}

class Destroy implements fc.AsyncCommand<Model, Real> {
  constructor(readonly forgetLedger: boolean) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (real.stack.status === 'UPDATE_ROLLBACK_FAILED') return;
    real.statuses.push(await real.stack.destroy());
    // Created again under the same name: with a new claims table when the stack's was deleted.
    if (this.forgetLedger) await forgetLedgers();
    real.stack = real.newStack();
    checkInvariants(model, real);
  }
  toString = () => `delete the stack${this.forgetLedger ? ' (and its claims table)' : ''}`;
}

class Cloud implements fc.AsyncCommand<Model, Real> {
  constructor(readonly event: 'lose-create' | 'lose-extend' | 'sell-next' | 'advance') {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (this.event === 'lose-create') real.emulator.failNext('CreateTrainingPlan', 'lostAnswer');
    if (this.event === 'lose-extend') real.emulator.failNext('ExtendTrainingPlan', 'lostAnswer');
    if (this.event === 'sell-next') real.emulator.sellNextOffering();
    if (this.event === 'advance') real.emulator.clock.advance(HOUR);
    checkInvariants(model, real);
  }
  toString = () => this.event;
}

/** A fault of the core's (a burst on one SageMaker call, a failed ledger write, DescribeStacks unreadable), or a foreign plan taking a name this resource would use next. */
class Fault implements fc.AsyncCommand<Model, Real> {
  constructor(readonly fault: CoreFault | 'foreign-name') {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (this.fault === 'foreign-name') {
      const next = `${PLAN.TrainingPlanName}-${real.emulator.purchases.length + 1}`;
      if (!real.emulator.plans.has(next)) real.emulator.addForeignPlan(next, offering('tpo-foreign', '1000', 5), 'Someone/Else');
    } else {
      injectCoreFault(this.fault, real.seams, (action, count) => real.emulator.failNext(action, 'throttle', count));
    }
    checkInvariants(model, real);
  }
  toString = () => (this.fault === 'foreign-name' ? 'a foreign plan takes the next name' : describeFault(this.fault));
}

const SAGEMAKER_CALLS = ['DescribeTrainingPlan', 'ListTags', 'SearchTrainingPlanOfferings', 'CreateTrainingPlan', 'DescribeTrainingPlanExtensionHistory'];

const commands = [
  fc.oneof(coreFaultArbitrary(SAGEMAKER_CALLS), fc.constant<'foreign-name'>('foreign-name')).map(f => new Fault(f)),
  fc.tuple(fc.constantFrom(...Object.keys(VARIANTS) as Variant[]), fc.constantFrom<Delivery>('once', 'twice-concurrent', 'twice-sequential'), fc.boolean())
    .map(([variant, delivery, fails]) => new Deploy(variant, delivery, fails)),
  fc.boolean().map(forget => new Destroy(forget)),
  fc.constantFrom('lose-create', 'lose-extend', 'sell-next', 'advance').map(event => new Cloud(event as Cloud['event'])),
];

test('random CloudFormation sequences against a lagging, lossy SageMaker never buy twice, above the ceiling, or wedge a rollback', async () => {
  await fc.assert(fc.asyncProperty(fc.commands(commands, { maxCommands: 8 }), fc.boolean(), async (sequence, failingPayments) => {
    await engine(async ({ emulator, stack, seams }) => {
      const real: Real = { emulator, seams, stack: stack(), newStack: () => stack(), statuses: [] };
      await fc.asyncModelRun(() => ({ model: { repurchaseAllowed: false }, real }), sequence);
      seen.steps += [...sequence].length;
      const own = emulator.purchases.filter(p => p.offering.id !== 'tpo-foreign');
      seen.plansBought += own.length;
      seen.extensionsBought += emulator.purchases.reduce((n, p) => n + p.extensions.length, 0);
      seen.lostAnswersTaken += emulator.calls.filter(c => c.fault === 'lostAnswer').length;
      seen.soldOut += emulator.calls.filter(c => c.action === 'CreateTrainingPlan').length - own.length;
    }, { paymentFails: failingPayments ? o => o.instanceCount === 8 : undefined, pendingMs: [0, 45 * 60_000] });
  }), {
    numRuns: RUNS,
    seed: SEED,
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
    endOnFailure: process.env.FC_SHRINK === 'false',
  });
  // The sequences reached what the invariants are about.
  expect(seen).toMatchObject({ plansBought: expect.any(Number), rollbacks: expect.any(Number) });
  expect([seen.plansBought, seen.rollbacks, seen.lostAnswersTaken].every(n => n > 0)).toBe(true);
  process.stderr.write(`training plan model: ${RUNS} sequences, ${JSON.stringify(seen)}\n`);
}, 600_000);
