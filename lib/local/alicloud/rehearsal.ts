import { randomUUID } from 'crypto';
import * as path from 'path';
import { LoopbackServer } from '../http-server';
import { ASSETS, findResources, Json, loadBundle, progressOf, quietly, RehearsalOptions } from '../resources';
import { EcsEmulator, EcsEmulatorOptions } from './ecs-emulator';

const ALI_BUNDLE = path.join(ASSETS, 'alicloud-capacity-reservation-handler', 'index.js');

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
  waitPolicy: { pollIntervalMs: number };
  retryPolicy: { backoff: Record<string, unknown> };
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

/** Invokes the FC handler as ROS would and returns the answer it POSTed to the ResponseURL. */
export type RosInvoke = (event: Json) => Promise<Json>;

/** The bundled FC handler wired to a fresh ECS emulator and a local ResponseURL, for the length of `work`. */
export async function withAliHandler<T>(ecs: EcsEmulatorOptions, work: (invoke: RosInvoke, emulator: EcsEmulator, responseUrl: string) => Promise<T>, retryBackoffMs = 1_000): Promise<T> {
  const emulator = new EcsEmulator(ecs);
  const answers: Json[] = [];
  const responder = new LoopbackServer(async request => {
    answers.push(JSON.parse(request.body));
    return { status: 200, contentType: 'text/plain', body: '' };
  });
  await emulator.start();
  const responseUrl = `http://${await responder.start()}/ros-response?Signature=local`;
  const saved = { ...process.env };
  Object.assign(process.env, { ALIBABA_CLOUD_ECS_ENDPOINT: emulator.endpoint, ALIBABA_CLOUD_ECS_PROTOCOL: 'http' });
  try {
    const fc = loadBundle<AliHandler>(ALI_BUNDLE);
    fc.waitPolicy.pollIntervalMs = 10;
    fc.retryPolicy.backoff = { policy: 'exponential_random', initial: retryBackoffMs, multiplier: 1, max: 8 * retryBackoffMs };
    const context = { credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret, securityToken: 'local-sts-token' } };
    const invoke: RosInvoke = async event => {
      await fc.handler(Buffer.from(JSON.stringify(event)), context);
      return answers[answers.length - 1];
    };
    return await work(invoke, emulator, responseUrl);
  } finally {
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
    logicalId: resource.logicalId, ok: false, zonesTried: zonesTried(), reservationsCreated: emulator.reservations.size - createdBefore,
    releasedOnDelete: false, ecsCalls: emulator.calls.length - callsBefore, ...r,
  });

  say(`  [alicloud] ${resource.logicalId}: Create ${parameters.InstanceAmount} x ${parameters.InstanceType}, zones ${parameters.ZoneIds.join(' then ')}`);
  const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: resource.properties };
  let answer = await invoke(create);
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
