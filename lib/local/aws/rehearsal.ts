import { readFileSync } from 'fs';
import * as path from 'path';
import { ASSETS, findResources, Json, loadBundle, progressOf, quietly, RehearsalOptions } from '../resources';
import { SimulatedClock } from '../faults';
import { requireAwsRehearsalModules } from '../modules';
import { ClaimsStore } from './claims-store';
import { EventBridgeApi } from './eventbridge';
import { CloudFormationApi, CloudFormationStack } from './cloudformation';
import { Ec2Emulator, Ec2EmulatorOptions, EmulatedOffering } from './ec2-emulator';
import { CfnResponse, EngineFaults, FrameworkTimings, LambdaContext, ProviderFramework, timingsFromTemplate, UserFunctions } from './provider-framework';

/** The onEvent function's environment variable naming the claims table (lib/aws/wire.ts CLAIMS_TABLE_ENV). */
const CLAIMS_TABLE_ENV = 'CAPACITY_BLOCK_CLAIMS_TABLE';

const AWS_BUNDLE = path.join(ASSETS, 'capacity-block-handler', 'index.js');
const AWS_IS_COMPLETE_BUNDLE = path.join(ASSETS, 'capacity-block-handler', 'is-complete.js');

export interface AwsRehearsalOptions extends RehearsalOptions {
  readonly ec2?: Ec2EmulatorOptions;
}

/** What happened to one Capacity Block in a rehearsal. */
export interface AwsBlockReport {
  readonly logicalId: string;
  readonly ok: boolean;
  readonly error?: string;
  /** What was asked for, to explain the offerings table. */
  readonly request: { readonly maxUpfrontFee: number; readonly availabilityZone?: string; readonly selection: string };
  readonly capacityReservationId?: string;
  /** Every reservation of the block (several for an UltraServer block). */
  readonly capacityReservationIds?: string[];
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
/** The same for the bundles' CloudFormation client (DescribeStacks). */
let cloudFormationPort: number | undefined;
/** The same for the event bus the handlers put their audit events on. */
let eventBridgePort: number | undefined;

/** Any bundled Lambda handler of lib/aws, with the seams the rehearsal uses to run it on simulated time. */
export interface BundledHandler extends UserFunctions {
  onEvent(event: Json, context?: LambdaContext): Promise<Json>;
  isComplete(event: Json, context?: LambdaContext): Promise<Json>;
  clock: { now: () => Date };
  timeouts: Record<string, number>;
  retryPolicy: { waitBackoff: boolean };
  purchasePolicy: { lookupDelayMs: number };
  claimPolicy: { pollMs: number };
  /** The provider's timings as the library sets them, for templates that do not hold the provider. */
  providerTimings: FrameworkTimings;
}

/** The bundled Capacity Block handler (the training-plan bundle exports the same). */
export interface AwsHandler extends BundledHandler {
  resourceKeys(ids: { StackId: string; LogicalResourceId: string; RequestId: string }): { request: string; owner: string };
}

/**
 * Real milliseconds per simulated millisecond of Lambda time: a 5-minute onEvent gets 6 s, and the
 * handler's own budgets (request timeout, margins, waits) shrink alike, so their proportions, which
 * decide whether it answers before Lambda's timeout, stay the production ones.
 */
export const LAMBDA_TIME_SCALE = 0.02;

/** Each bundle's budgets as it shipped them, before the first rehearsal scaled them (one per loaded bundle). */
const productionBudgets = new WeakMap<object, { timeouts: Record<string, number>; lookupDelayMs: number; pollMs: number }>();

/** What a rehearsal may do besides calling the handler. */
export interface AwsRehearsalSeams {
  /** Gives the provider a new, empty claims table, as a stack created again has: every resource's ledger starts over. */
  newClaimsTable(): Promise<void>;
  /** The local DynamoDB behind the claims table, to refuse ledger writes (ClaimsStore.failNextWrites). */
  readonly claims: ClaimsStore;
  /** CloudFormation's DescribeStacks, answering the status of every stack of the rehearsal. */
  readonly cloudFormation: CloudFormationApi;
  /** The default event bus: the audit events the handler put on it. */
  readonly events: EventBridgeApi;
}

/** The bundled Lambda handler wired to a fresh EC2 emulator and claims table, for the length of `work`. */
export async function withAwsHandler<T>(ec2: Ec2EmulatorOptions, work: (handler: AwsHandler, emulator: Ec2Emulator, seams: AwsRehearsalSeams) => Promise<T>): Promise<T> {
  requireAwsRehearsalModules('rehearseAws (and the AWS chaos suite)');
  const region = ec2.region ?? 'us-east-1';
  const emulator = new Ec2Emulator({ port: ec2Port, ...ec2, region });
  ec2Port = Number(new URL(await emulator.start()).port);
  return withBundledHandler<AwsHandler, Ec2Emulator, T>(capacityBlockHandler, emulator, 'AWS_ENDPOINT_URL_EC2', region, work);
}

/** The seams both entries of the Capacity Block provider export: the rehearsal sets each on both. */
const SHARED_SEAMS = ['clock', 'hooks', 'timeouts', 'retryPolicy'] as const;
let capacityBlockHandlerLoaded: AwsHandler | undefined;

/**
 * The Capacity Block provider's two shipped entries as one handler: onEvent from index.js,
 * isComplete from is-complete.js (each function loads only its own), every seam written to both.
 */
function capacityBlockHandler(): AwsHandler {
  if (capacityBlockHandlerLoaded) return capacityBlockHandlerLoaded;
  const onEvent = loadBundle<AwsHandler>(AWS_BUNDLE);
  const waiter = loadBundle<Pick<AwsHandler, 'isComplete' | typeof SHARED_SEAMS[number]>>(AWS_IS_COMPLETE_BUNDLE);
  const both = (key: typeof SHARED_SEAMS[number]) => new Proxy(onEvent[key] as object, {
    set: (target, prop, value) => {
      Reflect.set(target, prop, value);
      Reflect.set(waiter[key] as object, prop, value);
      return true;
    },
  });
  const handler = Object.fromEntries(Object.keys(onEvent).map(key => [key, (onEvent as unknown as Json)[key]])) as AwsHandler;
  Object.assign(handler, { isComplete: waiter.isComplete }, Object.fromEntries(SHARED_SEAMS.map(key => [key, both(key)])));
  return (capacityBlockHandlerLoaded = handler);
}

/** What a rehearsal needs of a cloud emulator: a started endpoint, a clock, and a way to stop. */
export interface StartedEmulator {
  readonly endpoint: string;
  readonly clock: SimulatedClock;
  stop(): Promise<void>;
}

/**
 * A Lambda handler bundle (assets/…/index.js) wired to a started emulator (its SDK endpoint variable
 * `endpointEnv`) and a fresh claims table on a local DynamoDB, on the emulator's simulated clock with
 * budgets scaled to LAMBDA_TIME_SCALE, for the length of `work`; the environment is restored and the
 * emulator and DynamoDB stopped afterwards. Serves every bundle with the seams of lib/aws/handler.
 */
export async function withBundledHandler<H extends BundleSeams, E extends StartedEmulator, T>(bundle: string | (() => H), emulator: E, endpointEnv: string, region: string, work: (handler: H, emulator: E, seams: AwsRehearsalSeams) => Promise<T>): Promise<T> {
  const claims = new ClaimsStore();
  await claims.start();
  const cloudFormation = new CloudFormationApi();
  cloudFormationPort = Number(new URL(await cloudFormation.start(cloudFormationPort)).port);
  CloudFormationApi.serving = cloudFormation;
  const events = new EventBridgeApi();
  eventBridgePort = Number(new URL(await events.start(eventBridgePort)).port);
  const saved = { ...process.env };
  Object.assign(process.env, {
    [endpointEnv]: emulator.endpoint, AWS_ENDPOINT_URL_DYNAMODB: claims.endpoint, [CLAIMS_TABLE_ENV]: await claims.newTable(),
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
    AWS_REGION: region, AWS_ACCESS_KEY_ID: 'AKIDLOCALREHEARSAL', AWS_SECRET_ACCESS_KEY: 'local',
  });
  delete process.env.AWS_PROFILE;
  const handler = typeof bundle === 'string' ? loadBundle<H>(bundle) : bundle();
  const realClock = handler.clock.now;
  try {
    handler.clock.now = () => emulator.clock.now();
    handler.retryPolicy.waitBackoff = false;
    scaleBudgets(handler, LAMBDA_TIME_SCALE);
    return await work(handler, emulator, { newClaimsTable: async () => { process.env[CLAIMS_TABLE_ENV] = await claims.newTable(); }, claims, cloudFormation, events });
  } finally {
    handler.clock.now = realClock;
    process.env = saved;
    CloudFormationApi.serving = undefined;
    await Promise.all([emulator.stop(), claims.stop(), cloudFormation.stop(), events.stop()]);
  }
}

/** The seams every handler bundle of lib/aws/handler exports for rehearsals. */
export type BundleSeams = Pick<AwsHandler, 'clock' | 'timeouts' | 'retryPolicy' | 'purchasePolicy' | 'claimPolicy'>;

/** Shrinks a handler bundle's time budgets with its simulated Lambda timeouts (any bundle with these seams). */
export function scaleBudgets(handler: Pick<BundleSeams, 'timeouts' | 'purchasePolicy' | 'claimPolicy'>, scale: number): void {
  const production = productionBudgets.get(handler.timeouts) ?? { timeouts: { ...handler.timeouts }, lookupDelayMs: handler.purchasePolicy.lookupDelayMs, pollMs: handler.claimPolicy.pollMs };
  productionBudgets.set(handler.timeouts, production);
  for (const [name, ms] of Object.entries(production.timeouts)) handler.timeouts[name] = ms * scale;
  handler.purchasePolicy.lookupDelayMs = production.lookupDelayMs * scale;
  handler.claimPolicy.pollMs = production.pollMs * scale;
}

/** The real Provider framework runtime around the handler, for the length of `work`. */
export async function withProviderFramework<T>(handler: UserFunctions, emulator: { readonly clock: SimulatedClock }, timings: FrameworkTimings, work: (framework: ProviderFramework) => Promise<T>, faults?: EngineFaults, random?: () => number): Promise<T> {
  const framework = new ProviderFramework(handler, { timings, clock: emulator.clock, timeScale: LAMBDA_TIME_SCALE, faults, random });
  try {
    return await work(framework);
  } finally {
    framework.dispose();
  }
}

/**
 * Runs every CapacityBlockPurchase of a synthesized CloudFormation template through the bundled
 * handler, inside the real Provider framework runtime, against a local EC2 emulator and a local
 * DynamoDB: Create (delivered twice at the same time, as Lambda's async queue may), the waiter's
 * isComplete polls on simulated time, an Update (a tag), and Delete, in CloudFormation's sequence.
 */
export async function rehearseAws(templatePath: string, options: AwsRehearsalOptions = {}): Promise<{ reports: AwsBlockReport[]; emulator: Ec2Emulator }> {
  const say = progressOf(options);
  const blocks = findResources(templatePath, 'Custom::CapacityBlockPurchase');
  const template = JSON.parse(readFileSync(templatePath, 'utf8'));
  const region = String(blocks.find(b => typeof b.properties.AvailabilityZone === 'string')?.properties.AvailabilityZone ?? 'us-east-1a').replace(/[a-z]$/, '');
  return withAwsHandler({ region, ...options.ec2 }, async (handler, emulator) => {
    const reports: AwsBlockReport[] = [];
    for (const block of blocks) {
      const timings = timingsFromTemplate(template, block.logicalId, handler.providerTimings);
      reports.push(await quietly(() => withProviderFramework(handler, emulator, timings, framework => rehearseBlock(framework, emulator, block, region, options, say))));
    }
    return { reports, emulator };
  });
}

async function rehearseBlock(framework: ProviderFramework, emulator: Ec2Emulator, block: { logicalId: string; properties: Json }, region: string, options: AwsRehearsalOptions, say: (l: string) => void): Promise<AwsBlockReport> {
  const callsBefore = emulator.calls.length;
  const purchasesBefore = emulator.purchases.length;
  const properties = asCloudFormationDelivers(block.properties);
  const ultraserver = properties.UltraserverType as string | undefined;
  const seen = () => [...emulator.offeringsSeen.values()].filter(o => (ultraserver
    ? o.ultraserverType === ultraserver && o.ultraserverCount === Number(properties.UltraserverCount)
    : !o.ultraserverType && o.instanceType === properties.InstanceType && o.instanceCount === Number(properties.InstanceCount)));
  const shape = ultraserver ? `${properties.UltraserverCount} x UltraServer ${ultraserver}` : `${properties.InstanceCount} x ${properties.InstanceType}`;
  const request = { maxUpfrontFee: Number(properties.MaxUpfrontFee), availabilityZone: properties.AvailabilityZone, selection: properties.Selection ?? 'CHEAPEST' };
  const finish = (outcome: Pick<AwsBlockReport, 'ok'> & Partial<AwsBlockReport>): AwsBlockReport => ({
    ...outcome, logicalId: block.logicalId, request, offeringsConsidered: seen(),
    purchases: emulator.purchases.length - purchasesBefore, ec2Calls: emulator.calls.length - callsBefore,
  });
  const redeliver = options.redeliver ?? true;
  const stack = new CloudFormationStack(framework, { stackName: 'Rehearsal', logicalId: block.logicalId, region }, () => (redeliver ? 'twice-concurrent' : 'once'));
  const last = () => stack.exchanges[stack.exchanges.length - 1].response;
  const reason = (response: CfnResponse) => (response.Reason ?? '').split('\n')[0];

  say(`  [aws] ${block.logicalId}: Create ${shape} for ${properties.DurationHours} h, ceiling ${properties.MaxUpfrontFee} ${properties.CurrencyCode ?? 'USD'}${redeliver ? ', delivered twice at the same time' : ''}`);
  if (await stack.deploy(properties) !== 'CREATE_COMPLETE') {
    const failed = stack.exchanges.find(e => e.requestType === 'Create')!.response;
    say(`  [aws] ${block.logicalId}: Create FAILED: ${reason(failed)}`);
    return finish({ ok: false, error: reason(failed) });
  }
  const data = stack.exchanges[0].response.Data ?? {};
  const physicalId = stack.resource!.physicalResourceId;
  const bought = emulator.purchases.length - purchasesBefore;
  const reservations = String(data.CapacityReservationIds ?? '').split(',').filter(Boolean);
  const more = reservations.length > 1 ? ` with ${reservations.length} reservations in ${String(data.CapacityBlockIds ?? '').split(',').length} Capacity Blocks` : '';
  say(`  [aws] ${block.logicalId}: ${data.State === 'preview' ? 'previewed' : 'bought'} ${physicalId}${more} (${data.OfferingId}, ${data.UpfrontFee} ${data.CurrencyCode}, ${data.AvailabilityZone}), state ${data.State}; blocks bought: ${bought}`);

  const updatedProps = { ...properties, Tags: [...(properties.Tags ?? []), { Key: 'rehearsal', Value: 'updated' }] };
  if (await stack.deploy(updatedProps) !== 'UPDATE_COMPLETE') {
    say(`  [aws] ${block.logicalId}: Update FAILED: ${reason(last())}`);
    return finish({ ok: false, error: `update: ${reason(last())}`, capacityReservationId: physicalId, chosenOfferingId: data.OfferingId });
  }
  const afterUpdate = last().Data ?? {};
  say(`  [aws] ${block.logicalId}: Update (a tag) in place -> ${stack.resource!.physicalResourceId === physicalId ? 'same block' : stack.resource!.physicalResourceId}`);

  await stack.destroy();
  const left = emulator.reservations.get(physicalId);
  const afterDelete = left ? `left to expire at ${emulator.endDateOf(left).toISOString()} (blocks cannot be cancelled)` : 'nothing was bought';
  say(`  [aws] ${block.logicalId}: Delete -> ${afterDelete}`);
  return finish({
    ok: stack.status === 'DELETE_COMPLETE', capacityReservationId: physicalId, capacityReservationIds: reservations, state: afterUpdate.State, upfrontFee: `${data.UpfrontFee} ${data.CurrencyCode}`,
    chosenOfferingId: data.OfferingId, updateNote: afterUpdate.Note, afterDelete,
  });
}

/** CloudFormation delivers every scalar property as a string. */
export function asCloudFormationDelivers(properties: Json): Json {
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
}
