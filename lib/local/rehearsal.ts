import { randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import * as path from 'path';
import { Ec2Emulator, Ec2EmulatorOptions, EmulatedOffering } from './ec2-emulator';
import { EcsEmulator, EcsEmulatorOptions } from './ecs-emulator';
import { LoopbackServer } from './http-server';

const ASSETS = path.join(__dirname, '..', '..', 'assets');
const AWS_BUNDLE = path.join(ASSETS, 'capacity-block-handler', 'index.js');
const ALI_BUNDLE = path.join(ASSETS, 'alicloud-capacity-reservation-handler', 'index.js');

export interface RehearsalOptions {
  /** Deliver every Create twice, as Lambda/ROS retries may. @default true */
  readonly redeliver?: boolean;
  /** Progress lines. @default no output */
  readonly progress?: (line: string) => void;
}

export interface AwsRehearsalOptions extends RehearsalOptions {
  readonly ec2?: Ec2EmulatorOptions;
  /** Stop polling isComplete after this many polls (the framework polls every 30 s). @default 40 */
  readonly maxPolls?: number;
}

export interface AliRehearsalOptions extends RehearsalOptions {
  readonly ecs?: EcsEmulatorOptions;
}

/** What happened to one Capacity Block in a rehearsal. */
export interface AwsBlockReport {
  readonly logicalId: string;
  readonly ok: boolean;
  readonly error?: string;
  /** What was asked for, to explain the offerings table. */
  readonly request: { readonly maxUpfrontFee: number; readonly availabilityZone?: string; readonly selection: string };
  readonly capacityReservationId?: string;
  readonly state?: string;
  readonly upfrontFee?: string;
  readonly chosenOfferingId?: string;
  readonly offeringsConsidered: EmulatedOffering[];
  readonly purchases: number;
  readonly updateNote?: string;
  readonly afterDelete?: string;
  readonly ec2Calls: number;
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

type Json = Record<string, any>;

/** Custom resources of a type in a synthesized template, with the properties a handler would receive. */
export function findResources(templatePath: string, type: string, keep: (props: Json) => boolean = () => true): Array<{ logicalId: string; properties: Json }> {
  const template = JSON.parse(readFileSync(templatePath, 'utf8'));
  return Object.entries<Json>(template.Resources ?? {})
    .filter(([, r]) => r.Type === type && keep(r.Properties ?? {}))
    .map(([logicalId, r]) => ({ logicalId, properties: resolveLiterals(r.Properties ?? {}, logicalId) }));
}

/** Keeps literal values; drops the ServiceToken (wiring, not input); refuses other unresolved tokens. */
function resolveLiterals(properties: Json, logicalId: string): Json {
  const resolve = (value: unknown, where: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${where}[${i}]`));
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
        throw new Error(`cannot rehearse ${logicalId}: ${where} is ${JSON.stringify(value)}, which only resolves in a real deployment; use literal values in the rehearsed app`);
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, `${where}.${k}`)]));
    }
    return value;
  };
  const { ServiceToken: _token, ...rest } = properties;
  return resolve(rest, 'Properties') as Json;
}

/**
 * The Lambda bundle's EC2 clients are created once per module load and resolve their endpoint
 * (AWS_ENDPOINT_URL_EC2) on first use, as in Lambda. Module registries differ between hosts (a test
 * runner keeps its own), so instead of reloading the bundle every rehearsal in a process serves
 * its EC2 emulator on the same loopback port.
 */
let ec2Port: number | undefined;

function loadBundle<T>(file: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a built bundle, loaded by path as Lambda/FC load it
  return require(file) as T;
}

export function quietly<T>(work: () => Promise<T>): Promise<T> {
  // The handlers log JSON lines for CloudWatch / SLS; the rehearsal prints its own progress instead.
  const original = console.log;
  console.log = () => undefined;
  return work().finally(() => { console.log = original; });
}

export interface AwsHandler {
  onEvent(event: Json): Promise<{ PhysicalResourceId: string; Data?: Json }>;
  isComplete(event: Json): Promise<{ IsComplete: boolean; Data?: Json }>;
  purchasePolicy: { lookupDelayMs: number };
}

/**
 * Runs every CapacityBlockPurchase of a synthesized CloudFormation template through the bundled
 * handler, against a local EC2 emulator, exactly as the Provider framework would: Create (twice if
 * redelivered), isComplete polls on simulated time, an Update (a tag), and Delete.
 */
export async function rehearseAws(templatePath: string, options: AwsRehearsalOptions = {}): Promise<{ reports: AwsBlockReport[]; emulator: Ec2Emulator }> {
  const say = options.progress ?? (() => undefined);
  const blocks = findResources(templatePath, 'Custom::CapacityBlockPurchase');
  const region = String(blocks.find(b => typeof b.properties.AvailabilityZone === 'string')?.properties.AvailabilityZone ?? 'us-east-1a').replace(/[a-z]$/, '');
  return withAwsHandler({ region, ...options.ec2 }, async (handler, emulator) => {
    const reports: AwsBlockReport[] = [];
    for (const block of blocks) reports.push(await quietly(() => rehearseBlock(handler, emulator, block, region, options, say)));
    return { reports, emulator };
  });
}

/** The bundled Lambda handler wired to a fresh EC2 emulator, for the length of `work`. */
export async function withAwsHandler<T>(ec2: Ec2EmulatorOptions, work: (handler: AwsHandler, emulator: Ec2Emulator) => Promise<T>): Promise<T> {
  const region = ec2.region ?? 'us-east-1';
  const emulator = new Ec2Emulator({ port: ec2Port, ...ec2, region });
  ec2Port = Number(new URL(await emulator.start()).port);
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_EC2: emulator.endpoint, AWS_REGION: region, AWS_ACCESS_KEY_ID: 'AKIDLOCALREHEARSAL', AWS_SECRET_ACCESS_KEY: 'local', AWS_MAX_ATTEMPTS: '5' });
  delete process.env.AWS_PROFILE;
  try {
    const handler = loadBundle<AwsHandler>(AWS_BUNDLE);
    handler.purchasePolicy.lookupDelayMs = 10;
    return await work(handler, emulator);
  } finally {
    process.env = saved;
    await emulator.stop();
  }
}

async function rehearseBlock(handler: AwsHandler, emulator: Ec2Emulator, block: { logicalId: string; properties: Json }, region: string, options: AwsRehearsalOptions, say: (l: string) => void): Promise<AwsBlockReport> {
  const callsBefore = emulator.calls.length;
  const purchasesBefore = emulator.purchases.length;
  const base = {
    StackId: `arn:aws:cloudformation:${region}:123456789012:stack/rehearsal/${randomUUID()}`,
    LogicalResourceId: block.logicalId,
    ResourceType: 'Custom::CapacityBlockPurchase',
    ResponseURL: 'https://cloudformation-custom-resource-response.invalid/presigned',
  };
  const stringify = (props: Json): Json => Object.fromEntries(Object.entries(props).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
  const properties = stringify(block.properties);
  const seen = () => [...emulator.offeringsSeen.values()].filter(o => o.instanceType === properties.InstanceType && o.instanceCount === Number(properties.InstanceCount));
  const request = { maxUpfrontFee: Number(properties.MaxUpfrontFee), availabilityZone: properties.AvailabilityZone, selection: properties.Selection ?? 'CHEAPEST' };
  const finish = (outcome: Pick<AwsBlockReport, 'ok'> & Partial<AwsBlockReport>): AwsBlockReport => ({
    ...outcome, logicalId: block.logicalId, request, offeringsConsidered: seen(),
    purchases: emulator.purchases.length - purchasesBefore, ec2Calls: emulator.calls.length - callsBefore,
  });

  const wait = async (event: Json): Promise<Json> => {
    for (let poll = 1; poll <= (options.maxPolls ?? 40); poll++) {
      emulator.clock.advance(30_000);
      const result = await handler.isComplete(event);
      if (result.IsComplete) return { ...event.Data, ...result.Data };
      if (poll === 1 || poll % 5 === 0) say(`  [aws] ${block.logicalId}: waiting for payment (poll ${poll}, simulated +${poll * 30}s)`);
    }
    throw new Error(`isComplete did not finish within ${options.maxPolls ?? 40} polls`);
  };

  say(`  [aws] ${block.logicalId}: Create ${properties.InstanceCount} x ${properties.InstanceType} for ${properties.DurationHours} h, ceiling ${properties.MaxUpfrontFee} ${properties.CurrencyCode ?? 'USD'}`);
  const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: properties };
  let created: { PhysicalResourceId: string; Data?: Json };
  try {
    created = await handler.onEvent(create);
    if (options.redeliver ?? true) {
      const again = await handler.onEvent(create);
      say(`  [aws] ${block.logicalId}: Create delivered again -> ${again.PhysicalResourceId === created.PhysicalResourceId ? 'same block, not bought twice' : `DIFFERENT block ${again.PhysicalResourceId}`}`);
      if (again.PhysicalResourceId !== created.PhysicalResourceId) throw new Error(`redelivered Create bought a second block ${again.PhysicalResourceId}`);
    }
  } catch (error) {
    say(`  [aws] ${block.logicalId}: Create FAILED: ${(error as Error).message}`);
    return finish({ ok: false, error: (error as Error).message });
  }
  const physicalId = created.PhysicalResourceId;
  let data: Json;
  try {
    data = await wait({ ...create, PhysicalResourceId: physicalId, Data: created.Data });
  } catch (error) {
    say(`  [aws] ${block.logicalId}: FAILED while waiting: ${(error as Error).message}`);
    await handler.onEvent({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: physicalId, ResourceProperties: properties });
    return finish({ ok: false, error: (error as Error).message, capacityReservationId: physicalId });
  }
  say(`  [aws] ${block.logicalId}: ${data.State === 'preview' ? 'previewed' : 'bought'} ${physicalId} (${data.OfferingId}, ${data.UpfrontFee} ${data.CurrencyCode}), state ${data.State}`);

  const updatedProps = { ...properties, Tags: [...(properties.Tags ?? []), { Key: 'rehearsal', Value: 'updated' }] };
  const update = { ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: physicalId, ResourceProperties: updatedProps, OldResourceProperties: properties };
  let afterUpdate: Json;
  try {
    const updated = await handler.onEvent(update);
    afterUpdate = await wait({ ...update, PhysicalResourceId: updated.PhysicalResourceId, Data: updated.Data });
    say(`  [aws] ${block.logicalId}: Update (a tag) in place -> ${updated.PhysicalResourceId === physicalId ? 'same block' : updated.PhysicalResourceId}`);
  } catch (error) {
    say(`  [aws] ${block.logicalId}: Update FAILED: ${(error as Error).message}`);
    return finish({ ok: false, error: `update: ${(error as Error).message}`, capacityReservationId: physicalId, chosenOfferingId: data.OfferingId });
  }

  await handler.onEvent({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: physicalId, ResourceProperties: updatedProps });
  const left = emulator.reservations.get(physicalId);
  const afterDelete = left ? `left to expire at ${left.endDate.toISOString()} (blocks cannot be cancelled)` : 'nothing was bought';
  say(`  [aws] ${block.logicalId}: Delete -> ${afterDelete}`);
  return finish({
    ok: true, capacityReservationId: physicalId, state: afterUpdate.State, upfrontFee: `${data.UpfrontFee} ${data.CurrencyCode}`,
    chosenOfferingId: data.OfferingId, updateNote: afterUpdate.Note, afterDelete,
  });
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
  const say = options.progress ?? (() => undefined);
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
