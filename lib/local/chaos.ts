import { randomUUID } from 'crypto';
import { FaultPlan, seededRandom } from './faults';
import { AwsHandler, quietly, RosInvoke, withAliHandler, withAwsHandler } from './rehearsal';

/** What a chaos run found. The three counts are the invariants: each must be 0. */
export interface ChaosReport {
  readonly cloud: 'aws' | 'alicloud';
  readonly lifecycles: number;
  /** Lifecycles in which more than one block / reservation was bought for one resource. */
  readonly duplicatePurchases: number;
  /** Paid blocks the stack does not track (Create reported FAILED, or another id reported); live ECS reservations after delete. */
  readonly untracked: number;
  /** Blocks bought above maxUpfrontFee. */
  readonly aboveCeiling: number;
  /** Lifecycles that failed cleanly (nothing bought or nothing owed), e.g. all offerings above the ceiling. */
  readonly cleanFailures: number;
  /** Why they failed: the start of each failure reason, counted. */
  readonly cleanFailureReasons: Record<string, number>;
  readonly faultsInjected: Record<string, number>;
  /** Seeds of lifecycles that broke an invariant: `chaosAws(1, seed)` replays one. */
  readonly failingSeeds: number[];
  readonly wallMs: number;
}

type Json = Record<string, any>;

function newReport() {
  return { duplicatePurchases: 0, untracked: 0, aboveCeiling: 0, cleanFailures: 0, cleanFailureReasons: {} as Record<string, number>, failingSeeds: [] as number[], faultsInjected: {} as Record<string, number> };
}

function countReason(reasons: Record<string, number>, reason: string | undefined): void {
  const key = (reason ?? 'unknown').replace(/cr-\w+|crp-\w+|cb-\w+|\d[\d.:TZ-]*/g, '…').slice(0, 70);
  reasons[key] = (reasons[key] ?? 0) + 1;
}

type Report = ReturnType<typeof newReport>;

/** Counts one lifecycle: which invariants it broke, why it failed cleanly, which faults it saw. */
function record(report: Report, seed: number, broke: { duplicate: boolean; above: boolean; untracked: boolean }, failure: string | undefined, injected: Record<string, number>): void {
  if (broke.duplicate) report.duplicatePurchases++;
  if (broke.above) report.aboveCeiling++;
  if (broke.untracked) report.untracked++;
  if (broke.duplicate || broke.above || broke.untracked) {
    report.failingSeeds.push(seed);
  } else if (failure) {
    report.cleanFailures++;
    countReason(report.cleanFailureReasons, failure);
  }
  for (const [k, v] of Object.entries(injected)) report.faultsInjected[k] = (report.faultsInjected[k] ?? 0) + v;
}

function faultPlan(random: () => number, seed: number, lostAnswerActions: string[], maxThrottle: number): FaultPlan {
  return {
    seed,
    throttle: random() * maxThrottle,
    serverError: random() * 0.1,
    reset: random() * 0.05,
    lostAnswer: random() < 0.5 ? random() * 0.6 : 0,
    lostAnswerActions,
    latencyMs: random() < 0.2 ? 3 : 0,
  };
}

/**
 * `count` seeded Capacity Block lifecycles against a faulty EC2: throttling, 5xx, resets, lost
 * purchase answers, offerings sold between search and purchase, failed payments, waitTimeout
 * reached while payment is pending, redelivered Creates and deletes during the wait.
 */
export async function chaosAws(count: number, baseSeed = 1): Promise<ChaosReport> {
  const started = Date.now();
  const report = newReport();
  for (let i = 0; i < count; i++) {
    const seed = baseSeed + i;
    const random = seededRandom(seed * 7919);
    const ceiling = random() < 0.15 ? 5_000 : 6_000 + Math.floor(random() * 2_000);
    const scenario = {
      redeliver: random() < 0.5,
      deleteDuringWait: random() < 0.2,
      waitTimeoutSeconds: random() < 0.15 ? 0 : 1_800,
      props: { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: String(ceiling), AvailabilityZone: random() < 0.5 ? 'us-east-1a' : undefined },
    };
    const paymentFails = random() < 0.1;
    await withAwsHandler({
      // The AWS SDK backs off 0.5 s and more per throttle: a lower rate keeps 200 lifecycles in minutes.
      faults: faultPlan(random, seed, ['PurchaseCapacityBlock', 'CreateTags'], 0.1),
      soldBeforePurchase: Math.floor(random() * 3),
      paymentFails: () => paymentFails,
    }, async (handler, emulator) => {
      const outcome = await quietly(() => awsLifecycle(handler, emulator.clock.advance.bind(emulator.clock), scenario));
      const bought = emulator.purchases;
      const owed = bought.filter(r => emulator.stateOf(r) !== 'payment-failed');
      record(report, seed, {
        duplicate: bought.length > 1,
        above: bought.some(r => Number(r.offering.upfrontFee) > ceiling),
        untracked: owed.some(r => r.id !== outcome.trackedId),
      }, outcome.failure, emulator.faults.injected);
    });
  }
  return { cloud: 'aws', lifecycles: count, ...report, wallMs: Date.now() - started };
}

/** Drives one resource as the Provider framework would; returns the block id the stack tracks, if any. */
async function awsLifecycle(handler: AwsHandler, advance: (ms: number) => void, scenario: { redeliver: boolean; deleteDuringWait: boolean; waitTimeoutSeconds: number; props: Json }): Promise<{ trackedId?: string; failure?: string }> {
  const properties = Object.fromEntries(Object.entries({ ...scenario.props, WaitTimeoutSeconds: String(scenario.waitTimeoutSeconds) }).filter(([, v]) => v !== undefined));
  const base = { StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/chaos/${randomUUID()}`, LogicalResourceId: 'Block', ResponseURL: 'https://cfn.invalid/presigned' };
  const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: properties };
  let created: { PhysicalResourceId: string; Data?: Json };
  try {
    created = await handler.onEvent(create);
    if (scenario.redeliver) {
      const again = await handler.onEvent(create);
      if (again.PhysicalResourceId !== created.PhysicalResourceId) return { trackedId: created.PhysicalResourceId };
    }
  } catch (error) {
    return { failure: (error as Error).message }; // CloudFormation records the Create as failed: the stack tracks nothing.
  }
  const id = created.PhysicalResourceId;
  const remove = () => handler.onEvent({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: id, ResourceProperties: properties });
  if (scenario.deleteDuringWait) {
    await remove(); // a rollback or stack delete while payment is pending: tracked until deleted, left to expire
    return { trackedId: id };
  }
  for (let poll = 0; poll < 40; poll++) {
    advance(30_000);
    try {
      const result = await handler.isComplete({ ...create, PhysicalResourceId: id, Data: created.Data });
      if (result.IsComplete) break;
    } catch (error) {
      return { failure: (error as Error).message }; // reported FAILED: allowed only when nothing is owed (payment-failed)
    }
  }
  await remove();
  return { trackedId: id };
}

/**
 * `count` seeded reservation lifecycles against a faulty ECS: throttling, 5xx, resets, lost create
 * answers, zones without stock or not on sale, slow activation, redelivered Creates; then an
 * in-place update and Delete (or ROS's rollback Delete after a failed Create).
 */
export async function chaosAlicloud(count: number, baseSeed = 1): Promise<ChaosReport> {
  const started = Date.now();
  const report = newReport();
  for (let i = 0; i < count; i++) {
    const seed = baseSeed + i;
    const random = seededRandom(seed * 104729);
    const zoneErrors = random() < 0.2 ? { 'cn-hangzhou-h': random() < 0.5 ? 'Zone.NotOnSale' : 'NoStock' } : undefined;
    const redeliver = random() < 0.5;
    await withAliHandler({
      stock: { 'cn-hangzhou-h': random() < 0.3 ? 0 : 16, 'cn-hangzhou-i': random() < 0.1 ? 0 : 16 },
      zoneErrors,
      pendingPolls: Math.floor(random() * 4),
      faults: faultPlan(random, seed, ['CreateCapacityReservation', 'ReleaseCapacityReservation', 'ModifyCapacityReservation'], 0.2),
    }, async (invoke, emulator, responseUrl) => {
      const outcome = await quietly(() => aliLifecycle(invoke, responseUrl, redeliver));
      // Every reservation one resource ever made must be released by the end, and there is only one.
      record(report, seed, { duplicate: emulator.reservations.size > 1, above: false, untracked: emulator.live().length > 0 }, outcome.failure, emulator.faults.injected);
    }, 1);
  }
  return { cloud: 'alicloud', lifecycles: count, ...report, wallMs: Date.now() - started };
}

async function aliLifecycle(invoke: RosInvoke, responseUrl: string, redeliver: boolean): Promise<{ failure?: string }> {
  const parameters = { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'] };
  const base = { ResponseURL: responseUrl, StackId: randomUUID(), LogicalResourceId: 'Pool', RegionId: 'cn-hangzhou' };
  const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: { Parameters: parameters } };
  let answer = await invoke(create);
  if (redeliver) answer = await invoke(create);
  const id = answer.PhysicalResourceId;
  if (answer.Status === 'SUCCESS') {
    await invoke({ ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: id, ResourceProperties: { Parameters: { ...parameters, InstanceAmount: 5 } }, OldResourceProperties: { Parameters: parameters } });
  }
  // After a failed Create ROS rolls back with a Delete; after success the stack is deleted at the end.
  let deleted = await invoke({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: id, ResourceProperties: { Parameters: parameters } });
  for (let retry = 0; deleted.Status !== 'SUCCESS' && retry < 3; retry++) {
    // ROS shows DELETE_FAILED; the operator retries the delete.
    deleted = await invoke({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: id, ResourceProperties: { Parameters: parameters } });
  }
  return { failure: answer.Status === 'SUCCESS' ? undefined : answer.Reason };
}
