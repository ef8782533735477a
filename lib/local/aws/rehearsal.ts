import { randomUUID } from 'crypto';
import * as path from 'path';
import { ASSETS, findResources, Json, loadBundle, quietly, RehearsalOptions } from '../resources';
import { Ec2Emulator, Ec2EmulatorOptions, EmulatedOffering } from './ec2-emulator';

const AWS_BUNDLE = path.join(ASSETS, 'capacity-block-handler', 'index.js');

export interface AwsRehearsalOptions extends RehearsalOptions {
  readonly ec2?: Ec2EmulatorOptions;
  /** Stop polling isComplete after this many polls (the framework polls every 30 s). @default 40 */
  readonly maxPolls?: number;
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

/**
 * The Lambda bundle's EC2 clients are created once per module load and resolve their endpoint
 * (AWS_ENDPOINT_URL_EC2) on first use, as in Lambda. Module registries differ between hosts (a test
 * runner keeps its own), so instead of reloading the bundle every rehearsal in a process serves
 * its EC2 emulator on the same loopback port.
 */
let ec2Port: number | undefined;

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
