import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { compareDecimal } from '../../../lib/aws/validation';
import {
  AwsHandler, AwsRehearsalSeams, CfnExchange, CloudFormationStack, Delivery, Ec2Emulator, Ec2EmulatorOptions, EngineFaults, Json, ProviderFramework,
} from '../../../lib/local';
import { checkAnswersServe, CoreFault, coreFaultArbitrary, describeFault, injectCoreFault, PurchasesView } from './lifecycle-model';

/**
 * A model-based test of one CapacityBlockPurchase: fast-check draws how EC2 behaves (its lags and
 * faults) and a sequence of what CloudFormation and its operators do, runs it through the bundled
 * handler inside the real Provider framework runtime against the EC2 emulator and a local DynamoDB,
 * and checks the money invariants after every step. A counterexample shrinks to a short sequence,
 * printed with the seed and path that replay it (FC_SEED / FC_PATH).
 */

const IDEMPOTENCY_TAG = 'cdk-capacity-reservations:idempotency-key';
const OWNER_TAG = 'cdk-capacity-reservations:owner';
const HOUR = 3_600_000;
export const STACK = { stackName: 'Model', logicalId: 'Block', region: 'us-east-1' };
const OWNER = `${STACK.stackName}/${STACK.logicalId}`;

/** How EC2 and the engine behave in one run: drawn once, documented in the emulator's options. */
export interface Cloud {
  readonly ultra: boolean;
  readonly ec2: Ec2EmulatorOptions;
  readonly engine: EngineFaults;
  readonly seed: number;
}

/**
 * EC2's consistency, each a documented option of the emulator: tags shown up to a minute after a
 * purchase, UltraServer purchases listed in part, tag filters refused, purchases answered before the
 * reservation ids exist (listed 10 s to 2 min later), payments that fail, extension payments that
 * take minutes to hours (and may fail), throttling, 5xx, lost and hung answers, offerings sold between
 * search and purchase; and the engine's: Invoke answers lost, StartExecution throttled, crashes.
 */
export const cloudArbitrary: fc.Arbitrary<Cloud> = fc.record({
  ultra: fc.boolean(),
  tagLagMs: fc.constantFrom(0, 0, 20_000, 60_000),
  ultraserverListingLag: fc.constantFrom(0, 0, 2),
  tagFilters: fc.constantFrom<'honoured' | 'refused'>('honoured', 'honoured', 'refused'),
  withoutIds: fc.boolean(),
  listingDelayMs: fc.constantFrom(10_000, 40_000, 120_000),
  paymentFails: fc.constantFrom(false, false, false, true),
  extensionPaymentDelayMs: fc.constantFrom(60_000, HOUR, 6 * HOUR),
  extensionPaymentFails: fc.constantFrom(false, false, true),
  throttle: fc.constantFrom(0, 0.1),
  serverError: fc.constantFrom(0, 0.05),
  lostAnswer: fc.constantFrom(0, 0, 0.15),
  hang: fc.constantFrom(0, 0, 0.03),
  soldBeforePurchase: fc.nat(2),
  invokeLost: fc.constantFrom(0, 0.1),
  startExecutionThrottle: fc.constantFrom(0, 0, 0.4),
  crash: fc.constantFrom(0, 0, 0.03),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
}).map(d => ({
  ultra: d.ultra,
  seed: d.seed,
  engine: { invokeLost: d.invokeLost, startExecutionThrottle: d.startExecutionThrottle, crash: d.crash },
  ec2: {
    tagLagMs: d.tagLagMs, ultraserverListingLag: d.ultraserverListingLag, tagFilters: d.tagFilters,
    answersWithoutIds: () => d.withoutIds, listingDelayMs: d.listingDelayMs,
    paymentFails: () => d.paymentFails, extensionPaymentDelayMs: d.extensionPaymentDelayMs, extensionPaymentFails: () => d.extensionPaymentFails,
    soldBeforePurchase: d.soldBeforePurchase,
    faults: { seed: d.seed, throttle: d.throttle, serverError: d.serverError, lostAnswer: d.lostAnswer, hang: d.hang, lostAnswerActions: ['PurchaseCapacityBlock', 'PurchaseCapacityBlockExtension', 'CreateTags'] },
  },
}));

/** The system under test in one run. */
export interface Real {
  readonly cloud: Cloud;
  readonly handler: AwsHandler;
  readonly emulator: Ec2Emulator;
  readonly framework: ProviderFramework;
  readonly cfn: CloudFormationStack;
  readonly db: DynamoDBClient;
  /** The claims table's DynamoDB and CloudFormation's DescribeStacks, for the core's faults. */
  readonly seams: AwsRehearsalSeams;
  /** Steps run and invariant checks passed, for the report. */
  steps: number;
}

/** Nothing to model but what was deployed: the checks read the real EC2, CloudFormation and ledger. */
export type Model = Record<string, never>;

/** The properties a change draws from, applied to what the stack holds now. */
export type Change =
  | 'tags' | 'longer' | 'shorter' | 'count' | 'zone' | 'platform' | 'latestEnd' | 'previewOnly' | 'allowRepurchase'
  | 'waitTimeout' | 'ceiling' | 'revert';
const CHANGES: Change[] = ['tags', 'longer', 'shorter', 'count', 'zone', 'platform', 'latestEnd', 'previewOnly', 'allowRepurchase', 'waitTimeout', 'ceiling', 'revert'];

function base(ultra: boolean): Json {
  return ultra
    ? { UltraserverType: 'u-trn2x64', UltraserverCount: '1', DurationHours: '24', MaxUpfrontFee: '2400', AllAvailabilityZones: 'true', WaitTimeoutSeconds: '600' }
    : { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '7400', WaitTimeoutSeconds: '600' };
}

/** Ceilings near the emulator's prices: some offerings fit, some do not; exact decimals included. */
function ceiling(props: Json, pick: number): string {
  const ultra = props.UltraserverType !== undefined;
  const perHour = ultra ? 4 * 21.4 * Number(props.UltraserverCount) : 31.46 * Number(props.InstanceCount);
  const factor = [0.95, 1.1, 1.25, 1.5][pick % 4];
  return (perHour * Number(props.DurationHours) * factor).toFixed(pick % 3 === 0 ? 2 : 0);
}

export function applyChange(r: Real, change: Change, pick: number): Json {
  const current: Json = { ...(r.cfn.resource?.properties ?? base(r.cloud.ultra)) };
  const ultra = r.cloud.ultra;
  const set = (k: string, v: string | undefined) => {
    if (v === undefined) delete current[k];
    else current[k] = v;
  };
  switch (change) {
    case 'tags': set('Tags', [{ Key: 'team', Value: ['ml', 'research', 'infra'][pick % 3] }] as never); break;
    case 'longer': set('DurationHours', String(Math.min(336, Number(current.DurationHours) + 24))); break;
    case 'shorter': set('DurationHours', String(Math.max(24, Number(current.DurationHours) - 24))); break;
    case 'count':
      if (ultra) set('UltraserverCount', String(1 + (pick % 2)));
      else set('InstanceCount', String([2, 4, 8][pick % 3]));
      set('MaxUpfrontFee', ceiling(current, pick));
      break;
    case 'zone': set('AvailabilityZone', [undefined, 'us-east-1a', 'us-east-1b'][pick % 3]); break;
    case 'platform': set('InstancePlatform', current.InstancePlatform ? undefined : 'Windows'); break;
    case 'latestEnd': set('LatestEnd', pick % 4 === 0 ? undefined : new Date(r.emulator.clock.now().getTime() + [0, 4, 10, 30][pick % 4] * 24 * HOUR).toISOString()); break;
    case 'previewOnly': set('PreviewOnly', current.PreviewOnly ? undefined : 'true'); break;
    case 'allowRepurchase': set('AllowRepurchase', current.AllowRepurchase ? undefined : 'true'); break;
    case 'waitTimeout': set('WaitTimeoutSeconds', ['0', '600', '3000'][pick % 3]); break;
    case 'ceiling': set('MaxUpfrontFee', ceiling(current, pick)); break;
    case 'revert': return { ...base(ultra), MaxUpfrontFee: ceiling(base(ultra), pick) };
  }
  return current;
}

const changeArbitrary = fc.tuple(fc.constantFrom(...CHANGES), fc.nat(11));

class Deploy implements fc.AsyncCommand<Model, Real> {
  constructor(readonly change: Change, readonly pick: number, readonly laterFails: boolean, readonly delivery: Delivery) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    if (r.cfn.status === 'UPDATE_ROLLBACK_FAILED') return;
    const props = applyChange(r, this.change, this.pick);
    r.cfn.delivery = () => this.delivery;
    await r.cfn.deploy(props, { laterResourceFails: this.laterFails });
    await checkInvariants(r);
  }
  toString = () => `deploy(${this.change}#${this.pick}${this.laterFails ? ', a later resource fails' : ''}, ${this.delivery})`;
}

/** Both copies of one deployment at the same time, the order EC2 serves their calls drawn by fc.scheduler. */
class ConcurrentDeploy implements fc.AsyncCommand<Model, Real> {
  constructor(readonly change: Change, readonly pick: number, readonly scheduler: fc.Scheduler) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    if (r.cfn.status === 'UPDATE_ROLLBACK_FAILED') return;
    const props = applyChange(r, this.change, this.pick);
    r.cfn.delivery = () => 'twice-concurrent';
    r.emulator.gate = action => this.scheduler.schedule(Promise.resolve(action), action).then(() => undefined);
    try {
      await this.scheduler.waitFor(r.cfn.deploy(props));
    } finally {
      r.emulator.gate = undefined;
    }
    await checkInvariants(r);
  }
  toString = () => `concurrentDeploy(${this.change}#${this.pick}, ${this.scheduler})`;
}

class Destroy implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    if (r.cfn.status === 'UPDATE_ROLLBACK_FAILED') return;
    await r.cfn.destroy();
    await checkInvariants(r);
  }
  toString = () => 'destroyStack';
}

/** Lambda's asynchronous queue delivers any earlier request of this stack again (at least once, hours later). */
class Redeliver implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    const earlier = r.cfn.exchanges.filter(e => e.stackId === r.cfn.stackId);
    if (earlier.length === 0) return;
    await r.cfn.redeliver(earlier[this.index % earlier.length]);
    await checkInvariants(r);
  }
  toString = () => `redeliver(#${this.index})`;
}

/** Time passes: payments clear or fail, blocks start and end, lost answers' intents settle. */
class Wait implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    r.emulator.clock.advance(this.ms);
    await checkInvariants(r);
  }
  toString = () => `wait(${Math.round(this.ms / 60_000)} min)`;
}

/** A fault of the core's (a burst on one EC2 call, a failed ledger write, DescribeStacks unreadable) before the next step. */
class Fault implements fc.AsyncCommand<Model, Real> {
  constructor(readonly fault: CoreFault) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    injectCoreFault(this.fault, r.seams, (action, count) => r.emulator.failNext(action, 'throttle', count));
  }
  toString = () => describeFault(this.fault);
}

const EC2_CALLS = ['DescribeCapacityReservations', 'DescribeCapacityBlockOfferings', 'PurchaseCapacityBlock', 'CreateTags', 'DescribeCapacityBlockExtensionHistory'];

export const commandsArbitrary = fc.commands<Model, Real, false>([
  coreFaultArbitrary(EC2_CALLS).map(f => new Fault(f)),
  fc.tuple(changeArbitrary, fc.boolean(), fc.constantFrom<Delivery>('once', 'once', 'twice-concurrent', 'twice-sequential'))
    .map(([[change, pick], laterFails, delivery]) => new Deploy(change, pick, laterFails && pick % 3 === 0, delivery)),
  fc.tuple(changeArbitrary, fc.scheduler()).map(([[change, pick], s]) => new ConcurrentDeploy(change, pick, s)),
  fc.constant(new Destroy()),
  fc.nat(20).map(i => new Redeliver(i)),
  fc.constantFrom(5 * 60_000, 11 * 60_000, 2 * HOUR, 3 * 24 * HOUR, 9 * 24 * HOUR).map(ms => new Wait(ms)),
], { maxCommands: 10, size: 'max' });

/** What an invariant check found: the first violation, with enough to read the counterexample. */
export class Violation extends Error {}

/**
 * The money invariants, from what EC2 holds, what CloudFormation recorded and the resource's ledger:
 * 1. every block and extension was bought by a request of this resource, within its ceiling and window;
 * 2. no block was bought while the resource held a live block, unless that request allowed a repurchase,
 *    and never a second live block for the same properties, and never by a rollback;
 * 3. the ledger knows every block and extension the resource bought (bought, or an open intent);
 * 4. no UPDATE_ROLLBACK_FAILED, no handler outlived its Lambda timeout;
 * 5. a FAILED answer from the handler after its request bought a block names the block (or its tag);
 * 6. after every SUCCESS for a change that defines the block, the id CloudFormation got names a block
 *    that was live then and serves what it was answered for (lifecycle-model.ts).
 */
export async function checkInvariants(r: Real): Promise<void> {
  r.steps++;
  const { emulator, cfn, handler } = r;
  const byKey = new Map<string, CfnExchange>();
  for (const e of cfn.exchanges) byKey.set(handler.resourceKeys({ StackId: e.stackId, LogicalResourceId: STACK.logicalId, RequestId: e.requestId }).request, e);
  const ours = emulator.purchases.filter(p => p.tags.get(OWNER_TAG) === OWNER).sort((a, b) => a.createDate.getTime() - b.createDate.getTime());
  const liveAt = (p: typeof ours[number], t: Date) => t < new Date(p.createDate.getTime() + 90_000) || (!p.paymentFailed && t < emulator.endDateOf(p));
  const shape = (props: Json) => JSON.stringify([props.InstanceType, props.InstanceCount, props.UltraserverType, props.UltraserverCount, props.DurationHours, props.AvailabilityZone, props.InstancePlatform, props.LatestEnd]);

  for (const p of ours) {
    const exchange = byKey.get(p.tags.get(IDEMPOTENCY_TAG) ?? '');
    if (!exchange) throw new Violation(`block ${p.id} was bought by no request of this resource`);
    const props = exchange.properties;
    if (compareDecimal(p.offering.upfrontFee, String(props.MaxUpfrontFee)) > 0) throw new Violation(`block ${p.id} cost ${p.offering.upfrontFee}, above its request's ceiling ${props.MaxUpfrontFee}`);
    if (props.LatestEnd && p.offering.startDate.getTime() + p.offering.durationHours * HOUR > Date.parse(props.LatestEnd)) throw new Violation(`block ${p.id} ends after its request's latestEnd ${props.LatestEnd}`);
    if (exchange.phase === 'rollback' || exchange.phase === 'continue-rollback') throw new Violation(`block ${p.id} was bought by a rollback`);
    for (const earlier of ours.filter(o => o.createDate < p.createDate && liveAt(o, p.createDate))) {
      const earlierProps = byKey.get(earlier.tags.get(IDEMPOTENCY_TAG) ?? '')?.properties ?? {};
      if (props.AllowRepurchase !== 'true') throw new Violation(`block ${p.id} was bought while ${earlier.id} was live, by a request without allowRepurchase`);
      if (shape(props) === shape(earlierProps)) throw new Violation(`block ${p.id} was bought for the same properties as ${earlier.id}, which was live`);
    }
  }
  for (const x of emulator.extensions.filter(e => ours.some(p => p.id === e.reservationId))) {
    const ceilings = cfn.exchanges.filter(e => Number(e.properties.DurationHours) > 0).map(e => String(e.properties.MaxUpfrontFee));
    if (!ceilings.some(c => compareDecimal(x.upfrontFee, c) <= 0)) throw new Violation(`extension ${x.offeringId} cost ${x.upfrontFee}, above every ceiling deployed`);
  }

  const exists = cfn.status === 'CREATE_COMPLETE' || cfn.status === 'UPDATE_COMPLETE' || cfn.status === 'UPDATE_ROLLBACK_COMPLETE';
  if (exists) {
    const ledger = await readLedger(r);
    for (const p of ours) {
      const known = ledger.purchases.some(l => l.reservationIds.includes(p.id) || l.blockIds.includes(p.blockId)
        || (l.outcome === 'intent' && l.requestKey === p.tags.get(IDEMPOTENCY_TAG)));
      if (!known) throw new Violation(`the ledger does not know block ${p.id}; it holds ${JSON.stringify(ledger.purchases)}`);
    }
    for (const x of emulator.extensions.filter(e => ours.some(p => p.id === e.reservationId))) {
      // One whose payment failed costs nothing: the ledger may know it as not bought.
      const owed = emulator.extensionStatus(x) !== 'payment-failed';
      if (!ledger.extensions.some(l => l.reservationId === x.reservationId && l.offeringId === x.offeringId && (l.outcome !== 'not-bought' || !owed))) {
        throw new Violation(`the ledger does not know extension ${x.offeringId} of ${x.reservationId}; it holds ${JSON.stringify(ledger.extensions)}`);
      }
    }
  }
  if (cfn.status === 'UPDATE_ROLLBACK_FAILED') throw new Violation(`UPDATE_ROLLBACK_FAILED: ${cfn.exchanges[cfn.exchanges.length - 1].response.Reason}`);
  // The stack model continues a failed rollback for the operator; a rollback the HANDLER answered FAILED wedged the stack all the same.
  const wedged = cfn.exchanges.find(e => e.phase !== 'deploy' && e.requestType === 'Update' && e.response.Status === 'FAILED' && !ENGINE_REASONS.test(e.response.Reason ?? ''));
  if (wedged) throw new Violation(`a rollback answered FAILED (UPDATE_ROLLBACK_FAILED until continued): ${wedged.response.Reason}`);
  try {
    checkAnswersServe(cfn.exchanges, blocksView(r));
  } catch (error) {
    throw new Violation((error as Error).message);
  }
  if (r.framework.invocations.some(i => i.outcome === 'timeout')) throw new Violation('a handler invocation outlived its Lambda timeout');

  for (const e of cfn.exchanges.filter(x => x.response.Status === 'FAILED' && !ENGINE_REASONS.test(x.response.Reason ?? ''))) {
    const key = handler.resourceKeys({ StackId: e.stackId, LogicalResourceId: STACK.logicalId, RequestId: e.requestId }).request;
    for (const p of ours.filter(o => o.tags.get(IDEMPOTENCY_TAG) === key && !o.paymentFailed)) {
      const reason = e.response.Reason ?? '';
      if (![p.id, p.blockId, key].some(name => reason.includes(name))) throw new Violation(`FAILED after buying ${p.id} without naming it: ${reason}`);
    }
  }
}

/** Failures of the engine itself (Lambda, Step Functions), which no handler answer can name anything in. */
const ENGINE_REASONS = /ThrottlingException|TooManyRequestsException|Runtime exited|Operation timed out|did not receive a response/;

interface LedgerView {
  purchases: Array<{ requestKey: string; outcome: string; reservationIds: string[]; blockIds: string[] }>;
  extensions: Array<{ reservationId: string; offeringId: string; outcome: string }>;
}

async function readLedger(r: Real): Promise<LedgerView> {
  const item = (await r.db.send(new GetItemCommand({ TableName: process.env.CAPACITY_BLOCK_CLAIMS_TABLE, Key: { id: { S: `ledger#${OWNER}` } }, ConsistentRead: true }))).Item;
  return item ? JSON.parse(item.record.S ?? '{}') as LedgerView : { purchases: [], extensions: [] };
}

/** The shared invariant's view of EC2: a physical id is a reservation (or a block, until EC2 names its reservations). */
function blocksView(r: Real): PurchasesView {
  const { emulator } = r;
  const purchaseOf = (id: string) => emulator.reservations.get(id) ?? [...emulator.reservations.values()].find(x => x.blockId === id);
  const shape = (props: Json) => JSON.stringify([props.InstanceType, props.InstanceCount, props.UltraserverType, props.UltraserverCount, props.DurationHours, props.AvailabilityZone, props.InstancePlatform ?? 'Linux/UNIX', props.LatestEnd, props.PreviewOnly]);
  /** The end a block had bought at `at`: its own, and every extension bought by then whose payment does not fail. */
  const endAt = (p: NonNullable<ReturnType<typeof purchaseOf>>, at: number) => p.boughtEndDate.getTime()
    + emulator.extensions.filter(x => x.reservationId === p.id && x.purchaseDate.getTime() <= at && !x.paymentFails).reduce((h, x) => h + x.hours, 0) * HOUR;
  return {
    liveAt: (id, at) => {
      const p = purchaseOf(id);
      if (!p) return undefined;
      return at < p.createDate.getTime() + 90_000 || (!p.paymentFailed && at < endAt(p, at));
    },
    mismatches: (id, props, at) => {
      const p = purchaseOf(id)!;
      const members = emulator.reservationsOfPurchase(p.id);
      const why: string[] = [];
      if (props.UltraserverType) {
        if (p.offering.ultraserverType !== props.UltraserverType || p.offering.ultraserverCount !== Number(props.UltraserverCount)) why.push(`UltraServers ${p.offering.ultraserverType} x ${p.offering.ultraserverCount}`);
      } else {
        if (p.offering.instanceType !== props.InstanceType) why.push(`instance type ${p.offering.instanceType}`);
        const count = members.reduce((n, m) => n + m.instanceCount, 0);
        if (count !== Number(props.InstanceCount)) why.push(`${count} instances`);
      }
      if (props.AvailabilityZone && p.offering.availabilityZone !== props.AvailabilityZone) why.push(`zone ${p.offering.availabilityZone}`);
      if ((props.InstancePlatform ?? 'Linux/UNIX') !== p.platform) why.push(`platform ${p.platform}`);
      const left = (endAt(p, at) - Math.max(at, p.offering.startDate.getTime())) / HOUR;
      if (left < Number(props.DurationHours)) why.push(`${left.toFixed(1)} h left of ${props.DurationHours} h asked`);
      if (props.LatestEnd && p.offering.startDate.getTime() + Number(props.DurationHours) * HOUR > Date.parse(props.LatestEnd)) why.push(`ends after latestEnd ${props.LatestEnd}`);
      return why;
    },
    defining: (props, old) => old === undefined || shape(props) !== shape(old),
  };
}
