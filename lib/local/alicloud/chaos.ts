import { ChaosReport, faultPlan, newReport, record } from '../chaos-report';
import { seededRandom } from '../faults';
import { Json, quietly } from '../resources';
import { withAliHandler } from './rehearsal';
import { newRosInvariants, RosInvariants, RosStack } from './ros-engine';

/** A chaos report plus what ROS's engine did and its invariants (each must be 0). */
export interface AliChaosReport extends ChaosReport {
  readonly ros: RosInvariants;
}

const TYPES = ['ecs.gn7i-c8g1.2xlarge', 'ecs.gn7i-c16g1.4xlarge'];

/** Every kind of update the construct allows, each as a change of the current parameters. */
const UPDATES: Array<[string, (p: Json) => Json]> = [
  ['instanceAmount', p => ({ ...p, InstanceAmount: p.InstanceAmount === 4 ? 5 : 4 })],
  ['name', p => ({ ...p, Name: p.Name === 'pool-a' ? 'pool-b' : 'pool-a' })],
  ['description', p => ({ ...p, Description: p.Description === 'first pool' ? 'second pool' : 'first pool' })],
  ['endTime', p => ({ ...p, EndTime: p.EndTime ? undefined : '2030-01-01T00:00:00Z' })],
  ['tags', p => ({ ...p, Tags: p.Tags ? undefined : [{ Key: 'team', Value: 'ml' }] })],
  ['waitTimeout', p => ({ ...p, WaitTimeoutSeconds: p.WaitTimeoutSeconds === 900 ? 600 : 900 })],
  ['instanceType', p => ({ ...p, InstanceType: p.InstanceType === TYPES[0] ? TYPES[1] : TYPES[0] })],
  ['zoneIds', p => ({ ...p, ZoneIds: p.ZoneIds.length === 2 ? ['cn-hangzhou-i'] : ['cn-hangzhou-h', 'cn-hangzhou-i'] })],
  ['matchCriteria', p => ({ ...p, MatchCriteria: p.MatchCriteria === 'Target' ? 'Open' : 'Target' })],
  ['resourceGroupId', p => ({ ...p, ResourceGroupId: p.ResourceGroupId === 'rg-acfm2' ? 'rg-acfm3' : 'rg-acfm2' })],
];

const clean = (p: Json): Json => JSON.parse(JSON.stringify(p));

/**
 * `count` seeded reservation lifecycles through ROS's engine against a faulty ECS: throttling, 5xx,
 * resets, lost create/modify/release answers, zones without stock, not on sale or with stock that
 * comes and goes, slow activation; Creates delivered twice (at once or in turn), late after ROS gave
 * up, or rolled back; one or two updates of every kind, some with the next release refused, some
 * rolled back (a replacement's rollback returns to the kept original); then the stack's deletion (or RETAIN).
 */
export async function chaosAlicloud(count: number, baseSeed = 1): Promise<AliChaosReport> {
  const started = Date.now();
  const report = newReport();
  const ros = newRosInvariants();
  for (let i = 0; i < count; i++) {
    const seed = baseSeed + i;
    const random = seededRandom(seed * 104729);
    const zoneErrors = random() < 0.2 ? { 'cn-hangzhou-h': random() < 0.5 ? 'Zone.NotOnSale' : 'NoStock' } : undefined;
    await withAliHandler({
      stock: { 'cn-hangzhou-h': random() < 0.3 ? 0 : 16, 'cn-hangzhou-i': random() < 0.1 ? 0 : 16 },
      zoneErrors,
      flakyStock: random() < 0.3 ? { 'cn-hangzhou-h': 0.5 } : undefined,
      resourceGroups: ['rg-acfm2', 'rg-acfm3'],
      pendingPolls: Math.floor(random() * 4),
      faults: faultPlan(random, seed, ['CreateCapacityReservation', 'ReleaseCapacityReservation', 'ModifyCapacityReservation'], 0.2),
    }, async (invoke, emulator, responseUrl, responder) => {
      const before = { ...ros };
      const stack = new RosStack(invoke, emulator, responder, responseUrl, 'Pool', ros);
      await quietly(async () => {
        const draw = random();
        const parameters: Json = {
          InstanceType: TYPES[0], InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'],
          ...(random() < 0.1 ? { RemovalPolicy: 'retain' } : {}),
        };
        const up = await stack.create(parameters, {
          late: draw < 0.08,
          duplicate: draw < 0.3 ? 'concurrent' : draw < 0.45 ? 'sequential' : undefined,
          laterFails: random() < 0.1,
        });
        if (!up) return;
        for (let u = 1 + Math.floor(random() * 2); u > 0; u--) {
          const [, change] = UPDATES[Math.floor(random() * UPDATES.length)];
          await stack.update(clean(change(stack.parameters!)), { releaseFails: random() < 0.2, laterFails: random() < 0.2 });
        }
        await stack.delete();
      });
      const broke = {
        duplicate: ros.duplicateLive > before.duplicateLive,
        untracked: ros.liveAfterDeletion > before.liveAfterDeletion,
        other: ros.rollbackFailed > before.rollbackFailed || ros.lostWhileHeld > before.lostWhileHeld,
        above: false,
      };
      record(report, seed, broke, stack.failures[0], emulator.faults.injected);
    // ROS's handling of a repeated answer is undocumented: odd seeds refuse it, even seeds accept it.
    }, 1, { refusesRepeatedAnswers: seed % 2 === 1 });
  }
  return { cloud: 'alicloud', lifecycles: count, ...report, wallMs: Date.now() - started, ros };
}
