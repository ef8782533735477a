import { randomUUID } from 'crypto';
import { faultPlan, newReport, record, ChaosReport } from '../chaos-report';
import { seededRandom } from '../faults';
import { quietly } from '../resources';
import { RosInvoke, withAliHandler } from './rehearsal';

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
