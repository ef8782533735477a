import * as fc from 'fast-check';
import { CloudFormationStack, Delivery, Json, StackStatus } from '../../../lib/local';
import { compareDecimals, multiplyDecimals, readDecimal, wholeDecimal } from '../../../lib/shared/decimal';
import { checkAnswersServe, CoreFault, coreFaultArbitrary, describeFault, injectCoreFault, PurchasesView } from './lifecycle-model';
import { FutureEngine, withFutureEngine } from './future-reservation-harness';

/**
 * The lifecycle core's model (lifecycle-model.ts) run against FutureCapacityReservation: random
 * sequences of deployments (duplicate and concurrent deliveries, a later resource failing), stack
 * deletions and re-creations, lost answers, core fault bursts and simulated days, against the EC2 and
 * Price List emulators, with the invariants checked after every step. `npm test` runs FC_RUNS
 * sequences (small by default) from a fixed seed; replay a counterexample with FC_SEED and FC_PATH.
 */
const RUNS = Number(process.env.FC_RUNS ?? 12);
const SEED = Number(process.env.FC_SEED ?? 20261208);
const DAY = 86_400_000;
/** m7i.8xlarge as the Price List emulator rates it. */
const RATE = '1.5360000000';
const LIVE = ['assessing', 'scheduled', 'active', 'delayed'];

const BASE = { InstanceType: 'm7i.8xlarge', InstanceCount: '2', AvailabilityZone: 'us-east-1a', CommitmentSeconds: String(14 * 86_400), MaxCommittedCost: '1100' };
const VARIANTS: Record<string, Json> = {
  base: BASE,
  tagged: { ...BASE, Tags: [{ Key: 'team', Value: 'ml' }] },
  later: { ...BASE, StartOffsetDays: 70 },
  cancelCeiling: { ...BASE, MaxCancellationCharge: '1100' },
  bigger: { ...BASE, InstanceCount: '4', MaxCommittedCost: '2100' },
  biggerRepurchase: { ...BASE, InstanceCount: '4', MaxCommittedCost: '2100', AllowRepurchase: 'true' },
  belowCost: { ...BASE, MaxCommittedCost: '1032.19199999999999' },
};
type Variant = keyof typeof VARIANTS;

interface Real {
  readonly e: FutureEngine;
  readonly origin: number;
  stack: CloudFormationStack;
  readonly statuses: StackStatus[];
  /** Every id any answer named (a kept reservation, a FAILED after acceptance): known to the user. */
  readonly named: Set<string>;
}

/** The wire properties of a variant, with its start relative to the sequence's first day. */
function propsOf(real: Real, variant: Variant): Json {
  const { StartOffsetDays = 60, ...rest } = VARIANTS[variant] as Json & { StartOffsetDays?: number };
  return { ...rest, StartDate: new Date(real.origin + Number(StartOffsetDays) * DAY).toISOString() };
}

function checkInvariants(real: Real): void {
  const { e, stack } = real;
  // Named to the user: in a FAILED's reason (by id, or by ClientToken when nothing could be read), or
  // as kept or withdrawn in an answer (not merely answered on success).
  for (const x of stack.exchanges) {
    const note = String(x.response.Data?.Note ?? '');
    const texts = [x.response.Status === 'FAILED' ? x.response.Reason ?? '' : '', /Kept |Withdrew /.test(note) ? note : ''];
    for (const text of texts) for (const id of text.match(/(cr|fcr)-[0-9a-f]+/g) ?? []) real.named.add(id);
  }
  for (const r of e.ec2.future.requests) {
    // Never above the ceiling: the commitment of every request at most the highest ceiling any variant carried.
    const cost = multiplyDecimals(readDecimal(RATE)!, wholeDecimal(r.instanceCount), wholeDecimal(r.commitmentSeconds / 3600));
    expect(compareDecimals(cost, readDecimal('2100')!)).toBeLessThanOrEqual(0);
    expect(r.tags.get('cdk-capacity-reservations:owner')).toBe('Plans/Reservation');
    // Never orphaned silently: a live reservation is the one CloudFormation tracks, or one an answer named.
    if (LIVE.includes(e.ec2.future.stateOf(r)) && r.id !== stack.resource?.physicalResourceId && !real.named.has(r.id) && !real.named.has(r.clientToken ?? '')) {
      const failures = stack.exchanges.filter(x => x.response.Status === 'FAILED').map(x => `${x.requestType}/${x.phase}: ${(x.response.Reason ?? '').split('\n')[0]}`);
      throw new Error(`${r.id} (${e.ec2.future.stateOf(r)}) is live, not tracked by CloudFormation, and no answer named it; FAILED answers: ${failures.join(' | ')}`);
    }
  }
  // Requested once per request: EC2 holds at most one reservation per ClientToken.
  const tokens = e.ec2.future.requests.map(r => r.clientToken);
  expect(new Set(tokens).size).toBe(tokens.length);
  expect(real.statuses).not.toContain('UPDATE_ROLLBACK_FAILED');
  expect(real.statuses).not.toContain('ROLLBACK_FAILED');
  checkAnswersServe(stack.exchanges, reservationsView(e));
}

function reservationsView(e: FutureEngine): PurchasesView {
  const of = (id: string) => e.ec2.future.reservations.get(id);
  const shape = (p: Json) => JSON.stringify([p.InstanceType, p.InstanceCount, p.CommitmentSeconds, p.AvailabilityZone]);
  return {
    liveAt: (id, at) => {
      const r = of(id);
      if (!r) return undefined;
      return r.createDate.getTime() <= at && (!r.cancellation || r.cancellation.at.getTime() > at);
    },
    mismatches: (id, props) => {
      const r = of(id)!;
      const why: string[] = [];
      if (r.instanceType !== props.InstanceType) why.push(`instance type ${r.instanceType}`);
      if (r.instanceCount !== Number(props.InstanceCount)) why.push(`${r.instanceCount} instances`);
      if (r.commitmentSeconds !== Number(props.CommitmentSeconds)) why.push(`commitment ${r.commitmentSeconds} s`);
      return why;
    },
    defining: (props, old) => old === undefined || shape(props) !== shape(old),
  };
}

const seen = { deploys: 0, requested: 0, rollbacks: 0, cancelled: 0, kept: 0, lostAnswers: 0 };

class Deploy implements fc.AsyncCommand<object, Real> {
  constructor(readonly variant: Variant, readonly delivery: Delivery, readonly laterResourceFails: boolean) {}
  check = () => true;
  async run(_m: object, real: Real): Promise<void> {
    if (real.stack.status === 'UPDATE_ROLLBACK_FAILED') return;
    real.stack.delivery = () => this.delivery;
    const status = await real.stack.deploy(propsOf(real, this.variant), { laterResourceFails: this.laterResourceFails });
    real.statuses.push(status);
    seen.deploys++;
    if (status.includes('ROLLBACK')) seen.rollbacks++;
    checkInvariants(real);
  }
  toString = () => `deploy ${this.variant} (${this.delivery}${this.laterResourceFails ? ', a later resource fails' : ''})`;
}

class Destroy implements fc.AsyncCommand<object, Real> {
  check = () => true;
  async run(_m: object, real: Real): Promise<void> {
    if (real.stack.status === 'UPDATE_ROLLBACK_FAILED') return;
    const status = await real.stack.destroy();
    real.statuses.push(status);
    checkInvariants(real);
    if (status === 'DELETE_COMPLETE') real.stack = real.e.stack();
  }
  toString = () => 'delete the stack';
}

class Cloud implements fc.AsyncCommand<object, Real> {
  constructor(readonly event: 'lose-create' | 'days' | 'weeks') {}
  check = () => true;
  async run(_m: object, real: Real): Promise<void> {
    if (this.event === 'lose-create') real.e.ec2.failNext('CreateCapacityReservation', 'lostAnswer');
    if (this.event === 'days') real.e.ec2.clock.advance(3 * DAY);
    if (this.event === 'weeks') real.e.ec2.clock.advance(30 * DAY);
    checkInvariants(real);
  }
  toString = () => this.event;
}

class Fault implements fc.AsyncCommand<object, Real> {
  constructor(readonly fault: CoreFault) {}
  check = () => true;
  async run(_m: object, real: Real): Promise<void> {
    injectCoreFault(this.fault, real.e.seams, (action, count) => (action === 'GetProducts' ? real.e.pricing.failNext(action, 'throttle', count) : real.e.ec2.failNext(action, 'throttle', count)));
    checkInvariants(real);
  }
  toString = () => describeFault(this.fault);
}

const CALLS = ['DescribeCapacityReservations', 'CreateCapacityReservation', 'CancelCapacityReservation', 'CreateCapacityReservationCancellationQuote', 'GetProducts'];

const commands = [
  coreFaultArbitrary(CALLS).map(f => new Fault(f)),
  fc.tuple(fc.constantFrom(...Object.keys(VARIANTS) as Variant[]), fc.constantFrom<Delivery>('once', 'twice-concurrent', 'twice-sequential'), fc.boolean())
    .map(([variant, delivery, fails]) => new Deploy(variant, delivery, fails)),
  fc.constant(new Destroy()),
  fc.constantFrom('lose-create', 'days', 'weeks').map(event => new Cloud(event as Cloud['event'])),
];

test('FutureCapacityReservation: random CloudFormation sequences against a lossy EC2 never request above the ceiling or twice per request, never orphan a live reservation silently, and never wedge a rollback', async () => {
  await fc.assert(fc.asyncProperty(fc.commands(commands, { maxCommands: 8 }), async sequence => {
    await withFutureEngine(async e => {
      const real: Real = { e, origin: Math.floor(e.ec2.clock.now().getTime() / DAY) * DAY, stack: e.stack(), statuses: [], named: new Set() };
      await fc.asyncModelRun(() => ({ model: {}, real }), sequence);
      seen.requested += e.ec2.future.requests.length;
      seen.cancelled += e.ec2.future.requests.filter(r => r.cancellation).length;
      seen.kept += [...real.named].length;
      seen.lostAnswers += e.ec2.calls.filter(c => c.fault === 'lostAnswer').length;
    });
  }), {
    numRuns: RUNS,
    seed: SEED,
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
    endOnFailure: process.env.FC_SHRINK === 'false',
  });
  expect(seen.requested).toBeGreaterThan(0);
  process.stderr.write(`future reservation model: ${RUNS} sequences from seed ${SEED}, ${JSON.stringify(seen)}\n`);
}, 600_000);
