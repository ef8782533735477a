import { randomUUID } from 'crypto';
import * as path from 'path';
import { LoopbackServer } from '../http-server';
import { ASSETS, findResources, Json, loadBundle, progressOf, quietly, RehearsalOptions } from '../resources';
import { EcsEmulator, EcsEmulatorOptions } from './ecs-emulator';
import { newRosInvariants, RosInvariants, rosInvariantsLine, RosStack } from './ros-engine';
import { RosInvoke, RosResponder } from './ros-protocol';

export { RosInvoke, RosResponder } from './ros-protocol';

const ALI_BUNDLE = path.join(ASSETS, 'alicloud-capacity-reservation-handler', 'code.zip');

export interface AliRehearsalOptions extends RehearsalOptions {
  readonly ecs?: EcsEmulatorOptions;
}

export interface AliReservationReport {
  readonly logicalId: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly reservationId?: string;
  readonly zoneId?: string;
  readonly status?: string;
  readonly zonesTried: string[];
  readonly amountAfterUpdate?: number;
  readonly reservationsCreated: number;
  readonly releasedOnDelete: boolean;
  readonly ecsCalls: number;
}

interface AliHandler {
  handler(event: Buffer, context: Json): Promise<Json>;
  waitPolicy: { pollIntervalMs: number; now: () => number; sleep: (ms: number) => Promise<void> };
  retryPolicy: { backoff: Record<string, unknown>; now: () => number; sleep: (ms: number) => Promise<void> };
  ramPropagationPolicy: { retryForMs: number; intervalMs: number };
}

/**
 * ROS does not document what its ResponseURL does with a second answer to a request it already
 * has: accept (and ignore) it, or refuse it. The rehearsal runs both readings.
 */
export interface RosReading {
  /** @default false (a repeated answer is accepted and ignored) */
  readonly refusesRepeatedAnswers?: boolean;
}

/**
 * Runs every AliCapacityReservation of a synthesized ROS template through the bundled FC handler
 * against a local ECS emulator, as ROS would: the event as a Buffer, credentials in the context, a
 * ResponseURL served locally; Create (twice if redelivered), an in-place Update, Delete.
 */
export async function rehearseAlicloud(templatePath: string, options: AliRehearsalOptions = {}): Promise<{ reports: AliReservationReport[]; emulator: EcsEmulator }> {
  const say = progressOf(options);
  const resources = findResources(templatePath, 'ALIYUN::ROS::CustomResource', p => Array.isArray(p.Parameters?.ZoneIds));
  // By default the first zone of each reservation has no stock, so the fallback is rehearsed too.
  const zones = [...new Set(resources.flatMap(r => r.properties.Parameters.ZoneIds as string[]))];
  const firstZones = new Set(resources.map(r => r.properties.Parameters.ZoneIds[0] as string));
  const stock = Object.fromEntries(zones.map(z => [z, firstZones.has(z) && zones.length > 1 ? 0 : 64]));
  return withAliHandler({ stock, ...options.ecs }, async (invoke, emulator, responseUrl) => {
    const reports: AliReservationReport[] = [];
    for (const resource of resources) {
      reports.push(await quietly(() => rehearseReservation(invoke, emulator, resource, responseUrl, options, say)));
    }
    return { reports, emulator };
  });
}

/**
 * ROS's engine sequences for every AliCapacityReservation of a template, through the bundled FC
 * handler: concurrent duplicate Creates (stock in the first zone comes and goes), a replacement
 * rolled back by ROS because a later resource failed (it returns to the kept original), the stack's deletion,
 * then a late Create that runs after ROS's rollback Delete (sent without a PhysicalResourceId).
 * Returns the invariants: 0 duplicate live reservations, 0 live after deletion, 0 ROLLBACK_FAILED.
 */
export async function rehearseRosSequences(templatePath: string, options: AliRehearsalOptions = {}): Promise<RosInvariants> {
  const say = options.progress ?? (() => undefined);
  const counts = newRosInvariants();
  const resources = findResources(templatePath, 'ALIYUN::ROS::CustomResource', p => Array.isArray(p.Parameters?.ZoneIds));
  for (const resource of resources) for (const reading of [{}, { refusesRepeatedAnswers: true }] as RosReading[]) {
    const parameters = resource.properties.Parameters as Json;
    const zones: string[] = parameters.ZoneIds;
    const as = reading.refusesRepeatedAnswers ? ' (ROS refuses repeated answers)' : '';
    const otherType = parameters.InstanceType === 'ecs.gn7i-c16g1.4xlarge' ? 'ecs.gn7i-c8g1.2xlarge' : 'ecs.gn7i-c16g1.4xlarge';
    await withAliHandler({
      stock: Object.fromEntries(zones.map(z => [z, 64])),
      // Seed 4 of the flaky stock makes the two deliveries end up in different zones (two created).
      flakyStock: { [zones[0]]: 0.5 },
      faults: { seed: 4 },
      resourceGroups: parameters.ResourceGroupId ? [parameters.ResourceGroupId] : [],
      ...options.ecs,
    }, async (invoke, emulator, responseUrl, ros) => {
      await quietly(async () => {
        const stack = new RosStack(invoke, emulator, ros, responseUrl, resource.logicalId, counts);
        await stack.create(parameters, { duplicate: 'concurrent' });
        say(`  [ros] ${resource.logicalId}${as}: concurrent duplicate Creates -> ${emulator.reservations.size} created, ${stack.live().length} live`);
        if (stack.deployed) {
          // The replacement keeps the old reservation until the update completes: ROS's rollback returns to it and buys nothing.
          await stack.update({ ...parameters, InstanceType: otherType }, { laterFails: true });
          say(`  [ros] ${resource.logicalId}${as}: replacement, a later resource fails, ROS's rollback Update -> ${stack.live().length} live (${stack.failures.at(-1)?.slice(0, 60) ?? 'no failure'})`);
          await stack.delete();
          say(`  [ros] ${resource.logicalId}${as}: stack deleted -> ${stack.live().length} live`);
        }
        const late = new RosStack(invoke, emulator, ros, responseUrl, resource.logicalId, counts);
        await late.create(parameters, { late: true });
        say(`  [ros] ${resource.logicalId}${as}: late Create after the rollback Delete -> answer refused ${ros.refused.length} time(s), ${late.live().length} live`);
      });
    }, undefined, reading);
  }
  say(`  [ros] ${rosInvariantsLine(counts)}`);
  return counts;
}

/**
 * The bundled FC handler wired to a fresh ECS emulator and a local ResponseURL, for the length of
 * `work`. The ResponseURL accepts answers until ROS gives up on the request; then it answers 404.
 * A repeated answer to a request ROS already has is accepted and ignored, or (one reading of ROS's
 * undocumented behaviour) refused with 409.
 */
export async function withAliHandler<T>(ecs: EcsEmulatorOptions, work: (invoke: RosInvoke, emulator: EcsEmulator, responseUrl: string, ros: RosResponder) => Promise<T>, retryBackoffMs = 1_000, reading: RosReading = {}): Promise<T> {
  const emulator = new EcsEmulator(ecs);
  const given = new Set<string>();
  const accepted = new Map<string, Json>();
  const statuses = new Map<string, string>();
  const waiting = new Map<string, Array<(answer: Json) => void>>();
  let getStackThrottles = 0;
  const ros: RosResponder = {
    giveUp: id => { given.add(id); },
    refused: [],
    answerOf: id => accepted.get(id),
    answered: id => new Promise(resolve => {
      const answer = accepted.get(id);
      if (answer) resolve(answer);
      else waiting.set(id, [...(waiting.get(id) ?? []), resolve]);
    }),
    setStatus: (id, status) => { statuses.set(id, status); },
    throttleGetStack: times => { getStackThrottles = times; },
  };
  const responder = new LoopbackServer(async request => {
    // ROS GetStack (2019-09-10), signed by the same client; the one ROS API the handler calls.
    if (request.headers['x-acs-action'] === 'GetStack') {
      const stackId = request.url.searchParams.get('StackId') ?? '';
      if (getStackThrottles > 0) {
        getStackThrottles--;
        return { status: 400, contentType: 'application/json', body: JSON.stringify({ Code: 'Throttling.User', Message: 'Request was denied due to user flow control.', RequestId: randomUUID() }) };
      }
      const status = statuses.get(stackId);
      return status
        ? { status: 200, contentType: 'application/json', body: JSON.stringify({ RequestId: randomUUID(), StackId: stackId, Status: status }) }
        : { status: 404, contentType: 'application/json', body: JSON.stringify({ Code: 'StackNotFound', Message: `The Stack (${stackId}) could not be found.`, RequestId: randomUUID() }) };
    }
    const answer = JSON.parse(request.body);
    if (given.has(answer.RequestId)) {
      ros.refused.push(answer.RequestId);
      return { status: 404, contentType: 'text/plain', body: 'the request is over' };
    }
    if (accepted.has(answer.RequestId) && reading.refusesRepeatedAnswers) {
      ros.refused.push(answer.RequestId);
      return { status: 409, contentType: 'text/plain', body: 'the request already has an answer' };
    }
    if (!accepted.has(answer.RequestId)) {
      accepted.set(answer.RequestId, answer);
      for (const resolve of waiting.get(answer.RequestId) ?? []) resolve(answer);
      waiting.delete(answer.RequestId);
    }
    return { status: 200, contentType: 'text/plain', body: '' };
  });
  await emulator.start();
  const rosHost = await responder.start();
  const responseUrl = `http://${rosHost}/ros-response?Signature=local`;
  const saved = { ...process.env };
  Object.assign(process.env, {
    ALIBABA_CLOUD_ECS_ENDPOINT: emulator.endpoint, ALIBABA_CLOUD_ECS_PROTOCOL: 'http', ALIBABA_CLOUD_ROS_ENDPOINT: rosHost, ALIBABA_CLOUD_ROS_PROTOCOL: 'http',
  });
  const fc = loadBundle<AliHandler>(ALI_BUNDLE);
  const clock = { ...fc.waitPolicy };
  const retryClock = { ...fc.retryPolicy };
  try {
    // The handler waits on the emulator's simulated clock: minutes of Pending or tag lag, and the
    // backoff between retries of a throttled call, pass at once.
    const simulated = {
      now: () => emulator.clock.now().getTime(),
      sleep: (ms: number) => { emulator.clock.advance(ms); return new Promise<void>(resolve => setImmediate(resolve)); },
    };
    Object.assign(fc.waitPolicy, simulated);
    Object.assign(fc.retryPolicy, simulated);
    fc.retryPolicy.backoff = { policy: 'exponential_random', initial: retryBackoffMs, multiplier: 1, max: 8 * retryBackoffMs };
    if (fc.ramPropagationPolicy) Object.assign(fc.ramPropagationPolicy, { retryForMs: 5 * retryBackoffMs, intervalMs: retryBackoffMs });
    const context = { credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret, securityToken: 'local-sts-token' } };
    // The handler returns what it answered (or, when ROS refused it, what it did instead).
    const invoke: RosInvoke = event => fc.handler(Buffer.from(JSON.stringify(event)), context);
    return await work(invoke, emulator, responseUrl, ros);
  } finally {
    Object.assign(fc.waitPolicy, clock);
    Object.assign(fc.retryPolicy, retryClock);
    process.env = saved;
    await Promise.all([emulator.stop(), responder.stop()]);
  }
}

async function rehearseReservation(invoke: RosInvoke, emulator: EcsEmulator, resource: { logicalId: string; properties: Json }, responseUrl: string, options: AliRehearsalOptions, say: (l: string) => void): Promise<AliReservationReport> {
  const callsBefore = emulator.calls.length;
  const createdBefore = emulator.reservations.size;
  const parameters = resource.properties.Parameters as Json;
  const base = { ResponseURL: responseUrl, StackId: randomUUID(), LogicalResourceId: resource.logicalId, RegionId: 'cn-hangzhou', ResourceType: 'ALIYUN::ROS::CustomResource' };
  const zonesTried = () => emulator.calls.slice(callsBefore).filter(c => c.action === 'CreateCapacityReservation').map(c => `${c.query['ZoneId.1']}${c.fault ? ` (${c.fault})` : ''}`);
  const report = (r: Partial<AliReservationReport>): AliReservationReport => ({
    logicalId: resource.logicalId, ok: false, zonesTried: firstTried, reservationsCreated: emulator.reservations.size - createdBefore,
    releasedOnDelete: false, ecsCalls: emulator.calls.length - callsBefore, ...r,
  });

  say(`  [alicloud] ${resource.logicalId}: Create ${parameters.InstanceAmount} x ${parameters.InstanceType}, zones ${parameters.ZoneIds.join(' then ')}`);
  const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: resource.properties };
  let answer = await invoke(create);
  const firstTried = zonesTried();
  if (options.redeliver ?? true) {
    const again = await invoke(create);
    say(`  [alicloud] ${resource.logicalId}: Create delivered again -> ${again.PhysicalResourceId === answer.PhysicalResourceId ? 'same reservation' : `DIFFERENT ${again.PhysicalResourceId}`}`);
    if (again.PhysicalResourceId !== answer.PhysicalResourceId) return report({ error: `redelivered Create made a second reservation ${again.PhysicalResourceId}` });
  }
  if (answer.Status !== 'SUCCESS') {
    say(`  [alicloud] ${resource.logicalId}: Create FAILED: ${answer.Reason}`);
    return report({ error: answer.Reason });
  }
  const physicalId = answer.PhysicalResourceId;
  say(`  [alicloud] ${resource.logicalId}: ${answer.Data.ReservationId} ${answer.Data.Status} in ${answer.Data.ZoneId} (tried ${zonesTried().join(', ')})`);
  const created = answer.Data;

  const amount = Number(parameters.InstanceAmount) + 1;
  const updatedProps = { ...resource.properties, Parameters: { ...parameters, InstanceAmount: amount } };
  answer = await invoke({ ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: physicalId, ResourceProperties: updatedProps, OldResourceProperties: resource.properties });
  if (answer.Status !== 'SUCCESS') return report({ error: answer.Reason, reservationId: created.ReservationId });
  const inPlace = answer.Data.ReservationId === created.ReservationId;
  say(`  [alicloud] ${resource.logicalId}: Update instanceAmount -> ${amount}: ${inPlace ? 'modified in place' : `replaced by ${answer.Data.ReservationId}`}`);

  answer = await invoke({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: physicalId, ResourceProperties: updatedProps });
  const ours = [...emulator.reservations.values()].slice(createdBefore);
  const releasedOnDelete = answer.Status === 'SUCCESS' && ours.every(r => r.status === 'Released');
  say(`  [alicloud] ${resource.logicalId}: Delete -> ${releasedOnDelete ? 'released' : `NOT released (${answer.Reason ?? 'still live'})`}`);
  return report({
    ok: releasedOnDelete, reservationId: created.ReservationId, zoneId: created.ZoneId, status: created.Status,
    amountAfterUpdate: emulator.reservations.get(created.ReservationId)?.amount, releasedOnDelete,
  });
}
