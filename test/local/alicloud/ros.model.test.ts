import fc from 'fast-check';
import { EcsEmulator } from '../../../lib/local';
import { Json, quietly } from '../../../lib/local/resources';
import { withAliHandler } from '../../../lib/local/alicloud/rehearsal';
import { newRosInvariants, RosInvariants, RosStack } from '../../../lib/local/alicloud/ros-engine';
import { modelRuns, modelSeed } from '../../support/model-budgets';

/**
 * Model-based: random ROS operation sequences (create, updates of in-place and replacement
 * properties, delete, rollbacks, concurrent and late duplicate deliveries of any earlier request,
 * every removal policy; the logical id leaving the template and coming back: lifetimes) against
 * drawn ECS behaviour (tag-listing lag, Pending duration, stock, capacity other tenants take once
 * released, instances using the reservation, Platform not applied, faults), through the bundled
 * FC handler. After every step: at most one live reservation per lifetime; none released that a
 * live lifetime or a RETAIN holds; nothing live and untied unless a retain policy kept exactly it;
 * ECS's amount equals the stack's after every completed operation (or what instances use, after a
 * rollback that could not go lower); no ROLLBACK_FAILED; a foreign reservation never touched. FC_RUNS sets the budget (npm run verify
 * -- --runs N); a failure prints the shrunk sequence and the seed, path and replayPath that replay it
 * (FC_SEED, FC_PATH, FC_REPLAY_PATH).
 */
const RUNS = modelRuns('ros');
/** A fixed seed in `npm test`, so that CI replays the same sequences; `npm run verify` draws a new one and prints it. */
const SEED = modelSeed();
const TYPES = ['ecs.gn7i-c8g1.2xlarge', 'ecs.gn7i-c16g1.4xlarge'];
const POLICIES = [undefined, 'retain', 'retain-on-update-or-delete'] as const;

/** What the model knows: whether ROS tracks the resource, and what a retain policy kept on purpose. */
interface Model {
  deployed: boolean;
  gone: boolean;
  /** The stack exists but the template no longer holds the resource: it may come back (a new lifetime). */
  removed: boolean;
  /** Reservations a retain policy kept when the stack let go of them: the only ones allowed live and untied. */
  readonly kept: Set<string>;
  steps: number;
}

interface Real {
  readonly stack: RosStack;
  readonly emulator: EcsEmulator;
  readonly foreign: string;
  readonly counts: RosInvariants;
}

const retains = (p: Json | undefined) => p?.RemovalPolicy === 'retain' || p?.RemovalPolicy === 'retain-on-update-or-delete';

/** The invariants, after every step. */
function check(m: Model, r: Real): void {
  m.steps++;
  const held = r.stack.live();
  const untied = r.stack.untied();
  if (r.counts.rollbackFailed > 0) throw new Error(`ROLLBACK_FAILED: ${r.stack.failures.filter(f => f.startsWith('ROLLBACK_FAILED')).join(' | ')}`);
  if (held.length > 1) throw new Error(`${held.length} live reservations held by one resource: ${held.join(', ')}`);
  const releasedKept = [...m.kept].filter(id => r.emulator.reservations.get(id)?.status === 'Released' && !r.emulator.reservations.get(id)?.endTime);
  if (releasedKept.length > 0) throw new Error(`reservations a retain policy kept were released: ${releasedKept.join(', ')}`);
  if (m.deployed && held.length === 1 && !r.stack.failures.some(f => /ROLLBACK|DELETE_FAILED/.test(f))) {
    const reservation = r.emulator.reservations.get(held[0])!;
    const wanted = Number(r.stack.parameters!.InstanceAmount);
    if (reservation.amount !== Math.max(wanted, reservation.used)) {
      throw new Error(`ECS holds ${reservation.amount} instances in ${held[0]} (${reservation.used} used) while the stack says ${wanted} (failures: ${r.stack.failures.join(' | ') || 'none'})`);
    }
  }
  const loose = [...untied, ...(m.deployed ? [] : held)].filter(id => !m.kept.has(id));
  if (loose.length > 0) {
    throw new Error(`live reservations no stack tracks and no retain policy kept: ${loose.join(', ')} (deployed ${m.deployed}, kept ${[...m.kept].join(', ') || 'none'}; failures: ${r.stack.failures.join(' | ') || 'none'})`);
  }
  const foreign = r.emulator.reservations.get(r.foreign)!;
  const touched = r.emulator.calls.filter(c => /^(Release|Modify|Tag|Untag)/.test(c.action) && JSON.stringify(c.query).includes(r.foreign));
  if (foreign.status !== 'Active' || touched.length > 0) throw new Error(`the foreign reservation ${r.foreign} was touched: ${touched.map(c => c.action).join(', ')} (${foreign.status})`);
}

class Create implements fc.AsyncCommand<Model, Real> {
  constructor(readonly policy: typeof POLICIES[number], readonly duplicate: 'concurrent' | 'sequential' | undefined, readonly laterFails: boolean, readonly platform?: string) {}
  check(m: Readonly<Model>): boolean {
    return !m.deployed && (!m.gone || m.removed);
  }
  async run(m: Model, r: Real): Promise<void> {
    const parameters: Json = {
      InstanceType: TYPES[0], InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'], ...(this.policy ? { RemovalPolicy: this.policy } : {}),
      ...(this.platform ? { Platform: this.platform } : {}),
    };
    const readd = m.removed;
    m.deployed = await r.stack.create(parameters, { duplicate: this.duplicate, laterFails: this.laterFails });
    // A first Create that fails leaves a stack that can only be deleted; a failed re-add leaves the stack as it was.
    m.gone = !m.deployed && !readd;
    m.removed = !m.deployed && readd;
    // retain keeps what a rolled-back create made (CloudFormation's Retain); retain-on-update-or-delete does not.
    // (kept: retagged as retained, no longer held by any lifetime)
    if (!m.deployed && this.policy === 'retain') [...r.stack.live(), ...r.stack.untied()].forEach(id => m.kept.add(id));
    check(m, r);
  }
  toString(): string {
    return `create(${this.policy ?? 'release'}${this.platform ? `, ${this.platform}` : ''}${this.duplicate ? `, ${this.duplicate} duplicate` : ''}${this.laterFails ? ', a later resource fails' : ''})`;
  }
}

/** The logical id leaves the template (ROS's Delete inside an update); a later Create brings it back: a new lifetime. */
class Remove implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.deployed;
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.stack.live();
    const retained = retains(r.stack.parameters);
    await r.stack.removeFromTemplate();
    if (retained) before.forEach(id => m.kept.add(id));
    m.deployed = false;
    m.removed = true;
    check(m, r);
  }
  toString(): string {
    return 'remove the resource from the template';
  }
}

/** Instances under Open matching start using the reservation (UsedAmount): ECS will not lower it below them. */
class UseInstances implements fc.AsyncCommand<Model, Real> {
  constructor(readonly used: number) {}
  check(m: Readonly<Model>): boolean {
    return m.deployed;
  }
  async run(m: Model, r: Real): Promise<void> {
    for (const id of r.stack.live()) r.emulator.useInstances(id, this.used);
    check(m, r);
  }
  toString(): string {
    return `${this.used} instances use the reservation`;
  }
}

const UPDATES: Record<string, (p: Json) => Json> = {
  instanceAmount: p => ({ ...p, InstanceAmount: p.InstanceAmount === 4 ? 5 : 4 }),
  instanceAmountUp: p => ({ ...p, InstanceAmount: p.InstanceAmount === 4 ? 8 : 4 }),
  platform: p => ({ ...p, Platform: p.Platform === 'Windows' ? 'Linux' : 'Windows' }),
  name: p => ({ ...p, Name: p.Name === 'pool-a' ? 'pool-b' : 'pool-a' }),
  description: p => ({ ...p, Description: p.Description === 'first pool' ? 'second pool' : 'first pool' }),
  tags: p => ({ ...p, Tags: p.Tags ? undefined : [{ Key: 'team', Value: 'ml' }] }),
  endTime: p => ({ ...p, EndTime: p.EndTime ? undefined : '2030-01-01T00:00:00Z' }),
  waitTimeout: p => ({ ...p, WaitTimeoutSeconds: p.WaitTimeoutSeconds === 900 ? 600 : 900 }),
  instanceType: p => ({ ...p, InstanceType: p.InstanceType === TYPES[0] ? TYPES[1] : TYPES[0] }),
  zoneIds: p => ({ ...p, ZoneIds: p.ZoneIds.length === 2 ? ['cn-hangzhou-i'] : ['cn-hangzhou-h', 'cn-hangzhou-i'] }),
  matchCriteria: p => ({ ...p, MatchCriteria: p.MatchCriteria === 'Target' ? 'Open' : 'Target' }),
  removalPolicy: p => ({ ...p, RemovalPolicy: POLICIES[(POLICIES.indexOf(p.RemovalPolicy) + 1) % POLICIES.length] }),
};

class Update implements fc.AsyncCommand<Model, Real> {
  constructor(readonly change: string, readonly laterFails: boolean, readonly releaseFails: boolean, readonly staleAlongside?: number) {}
  check(m: Readonly<Model>): boolean {
    return m.deployed;
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.stack.live();
    const parameters = JSON.parse(JSON.stringify(UPDATES[this.change](r.stack.parameters!)));
    // A late duplicate of an earlier request, delivered while this update runs.
    const stale = this.staleAlongside !== undefined && r.stack.sent.length > 0 ? r.stack.sent[this.staleAlongside % r.stack.sent.length] : undefined;
    await r.stack.update(parameters, {
      laterFails: this.laterFails, releaseFails: this.releaseFails,
      whileRunning: stale && (() => r.stack.redeliverEvent(stale)),
    });
    // A committed replacement under a retain policy keeps the replaced reservation for the user.
    const committed = r.stack.parameters === parameters;
    if (committed && retains(parameters)) before.filter(id => !r.stack.live().includes(id)).forEach(id => m.kept.add(id));
    check(m, r);
  }
  toString(): string {
    return `update(${this.change}${this.laterFails ? ', a later resource fails' : ''}${this.releaseFails ? ', ECS refuses the next release' : ''}${this.staleAlongside !== undefined ? `, late request #${this.staleAlongside} alongside` : ''})`;
  }
}

class Delete implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>): boolean {
    return m.deployed;
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.stack.live();
    const retained = retains(r.stack.parameters);
    await r.stack.delete();
    if (retained) before.forEach(id => m.kept.add(id));
    m.deployed = false;
    m.gone = true;
    m.removed = false;
    check(m, r);
  }
  toString(): string {
    return 'delete stack';
  }
}

class Late implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    if (r.stack.sent.length === 0) return;
    await r.stack.redeliver(this.index);
    check(m, r);
  }
  toString(): string {
    return `late duplicate of request #${this.index}`;
  }
}

const create = fc.tuple(fc.constantFrom(...POLICIES), fc.constantFrom('concurrent' as const, 'sequential' as const, undefined), fc.boolean(), fc.constantFrom(undefined, 'Windows'))
  .map(([policy, duplicate, laterFails, platform]) => new Create(policy, duplicate, laterFails, platform));
const commands = [
  create,
  fc.tuple(fc.constantFrom(...Object.keys(UPDATES)), fc.boolean(), fc.boolean(), fc.option(fc.nat({ max: 30 }), { nil: undefined }))
    .map(([change, later, release, stale]) => new Update(change, later, release, stale)),
  fc.constant(new Delete()),
  fc.constant(new Remove()),
  fc.integer({ min: 1, max: 8 }).map(n => new UseInstances(n)),
  fc.nat({ max: 30 }).map(i => new Late(i)),
];

/** ECS's behaviour for one run: lag, Pending time, stock, faults; and which reading of ROS's repeated answers holds. */
const cloud = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  tagListingLagMs: fc.constantFrom<[number, number]>([0, 0], [0, 10_000], [5_000, 90_000]),
  pendingMs: fc.constantFrom<[number, number]>([0, 0], [0, 60_000], [300_000, 900_000]),
  firstZoneStock: fc.constantFrom(0, 16),
  othersTakeReleased: fc.boolean(),
  flakyFirstZone: fc.boolean(),
  faults: fc.boolean(),
  refusesRepeatedAnswers: fc.boolean(),
});

test('ROS sequences x ECS behaviour: one live reservation per lifetime, none released that a lifetime or RETAIN holds, ECS\'s amount is the stack\'s, none untied unless retained, no ROLLBACK_FAILED, no foreign release', async () => {
  const runs: number[] = [];
  process.stdout.write(`fast-check: ${RUNS} runs from seed ${SEED} (FC_SEED=${SEED} replays)\n`);
  await fc.assert(fc.asyncProperty(cloud, create, fc.commands(commands, { maxCommands: 12, replayPath: process.env.FC_REPLAY_PATH }), async (c, first, cmds) => {
    await withAliHandler({
      stock: { 'cn-hangzhou-h': c.firstZoneStock, 'cn-hangzhou-i': 16 },
      othersTakeReleased: c.othersTakeReleased,
      flakyStock: c.flakyFirstZone ? { 'cn-hangzhou-h': 0.5 } : undefined,
      consistency: { seed: c.seed, tagListingLagMs: c.tagListingLagMs, pendingMs: c.pendingMs },
      faults: c.faults ? { seed: c.seed, throttle: 0.05, serverError: 0.03, lostAnswer: 0.15 } : { seed: c.seed },
    }, async (invoke, emulator, responseUrl, ros) => {
      const counts = newRosInvariants();
      const foreign = emulator.addForeign('cn-hangzhou-h', TYPES[0], { team: 'someone-else' }).id;
      const real: Real = { stack: new RosStack(invoke, emulator, ros, responseUrl, 'Pool', counts), emulator, foreign, counts };
      const model: Model = { deployed: false, gone: false, removed: false, kept: new Set(), steps: 0 };
      // Every sequence starts with the stack's creation; then anything, late duplicates included.
      await quietly(async () => {
        await first.run(model, real);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      });
      runs.push(model.steps);
    }, 1, { refusesRepeatedAnswers: c.refusesRepeatedAnswers });
  }), { numRuns: RUNS, seed: SEED, path: process.env.FC_PATH });
  const steps = runs.reduce((a, b) => a + b, 0);
  process.stdout.write(`fast-check: ${runs.length} sequences, ${steps} steps, 6 invariants checked after every step, 0 violations\n`);
}, Math.max(600_000, RUNS * 2_000));
