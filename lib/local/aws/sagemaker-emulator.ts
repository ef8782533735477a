import { createHash } from 'crypto';
import { FaultInjector, FaultPlan, seededRandom, SimulatedClock } from '../faults';
import { LoopbackServer, RawRequest, RawResponse, sleep } from '../http-server';

/**
 * SageMaker's JSON 1.1 protocol (POST /, `X-Amz-Target: SageMaker.<Action>`, JSON in and out, epoch
 * seconds for timestamps, errors as `{"__type": …}`) for the training-plan actions, faithful enough
 * for @aws-sdk/client-sagemaker to parse every answer (a spec checks every key against its model).
 * Loopback only; point the SDK at it with AWS_ENDPOINT_URL_SAGEMAKER.
 *
 * Eventual consistency, drawn per plan from `seed` so that a run replays exactly:
 * - a new plan stays `Pending` (its payment) for `pendingMs` (default 60-300 s), then Scheduled, Active,
 *   Expired by its times; `paymentFails` makes it `Failed` instead;
 * - ListTrainingPlans shows a new plan only `listLagMs` after its creation (default 0-90 s): lists lag;
 * - DescribeTrainingPlan and ListTags read by name/ARN and never lag (the handler decides from them);
 * - an extension is Pending for `extensionPaymentDelayMs`, and moves the plan's end only once paid;
 * - lost answers: `faults.lostAnswer` (or failNext 'lostAnswer') carries a create or extension out and
 *   answers 500, as a timeout or a dropped connection would leave the caller.
 * Sources: SageMaker's API reference (CreateTrainingPlan: "After successful upfront payment, the plan's
 * status becomes Scheduled"; DescribeTrainingPlan by name) and the SDK model for the shapes.
 */
export interface SageMakerEmulatorOptions {
  readonly region?: string;
  readonly accountId?: string;
  readonly seed?: number;
  /** Simulated time a new plan stays Pending: [min, max] ms, drawn per plan. @default [60 s, 300 s] */
  readonly pendingMs?: readonly [number, number];
  /** Simulated time before ListTrainingPlans shows a new plan: [min, max] ms, drawn per plan. @default [0, 90 s] */
  readonly listLagMs?: readonly [number, number];
  /** Simulated time an extension's payment takes. @default 90 s */
  readonly extensionPaymentDelayMs?: number;
  /** Plans whose payment fails (status Failed). @default none */
  readonly paymentFails?: (offering: EmulatedPlanOffering) => boolean;
  /** How many creates find their offering sold to someone else just before. @default 0 */
  readonly soldBeforePurchase?: number;
  /** Fixed offerings instead of generated ones. */
  readonly offerings?: EmulatedPlanOffering[];
  readonly faults?: FaultPlan;
  readonly clock?: SimulatedClock;
  readonly port?: number;
}

/** A training plan offering in the emulator's inventory (one reserved capacity). */
export interface EmulatedPlanOffering {
  readonly id: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly ultraServerType?: string;
  readonly ultraServerCount?: number;
  readonly availabilityZone: string;
  readonly startTime: Date;
  readonly durationHours: number;
  readonly targetResources: string[];
  /** Decimal string, as SageMaker sends it. */
  readonly upfrontFee: string;
  readonly currencyCode: string;
}

export interface EmulatedPlanExtension {
  readonly offeringId: string;
  readonly hours: number;
  readonly upfrontFee: string;
  readonly currencyCode: string;
  readonly extendedAt: Date;
}

export interface EmulatedPlan {
  readonly name: string;
  readonly arn: string;
  readonly offering: EmulatedPlanOffering;
  readonly createdAt: Date;
  readonly tags: Map<string, string>;
  readonly paymentFails: boolean;
  /** Drawn at creation: how long it stays Pending, and how long lists lag behind it. */
  readonly pendingMs: number;
  readonly listLagMs: number;
  readonly extensions: EmulatedPlanExtension[];
  /** UltraServer plans: spare instances per UltraServer, as created (SageMaker's default 1). */
  readonly spareInstancesPerUltraServer?: number;
}

/**
 * Scripted faults. 'notFound': a DescribeTrainingPlan that does not show a plan that exists (a read
 * right after a create may lag; it applies only once the named plan exists); 'untagged': a ListTags that shows none of the plan's tags yet (tags
 * given at creation may show a moment late). `failNext(action, fault, N)` makes a burst of N in a row.
 */
export type ScriptedSageMakerFault = 'lostAnswer' | 'serverError' | 'hang' | 'throttle' | 'notFound' | 'untagged';

export interface SageMakerCall {
  readonly action: string;
  readonly params: Record<string, any>;
  readonly fault?: string;
  /** The tags of the plan the call names (by ARN, name or extension offering), as they were: what IAM's aws:ResourceTag sees. */
  readonly resourceTags?: Record<string, string>;
}

class SageMakerError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

const HOUR = 3_600_000;
const MUTATING = new Set(['CreateTrainingPlan', 'ExtendTrainingPlan', 'AddTags', 'DeleteTags']);
/** On-demand-like prices per instance-hour, so generated fees look like the real thing. */
const HOURLY_PRICE: Record<string, number> = {
  'ml.p4d': 14.2, 'ml.p4de': 17.6, 'ml.p5': 38.4, 'ml.p5e': 42.1, 'ml.p5en': 44.3, 'ml.p6-b200': 57.9, 'ml.p6-b300': 71.5, 'ml.p6e-gb200': 77.2, 'ml.trn1': 12.1, 'ml.trn2': 22.3,
};
const ULTRASERVER_NODES: Record<string, number> = { 'ml.u-p6e-gb200x72': 18, 'ml.u-p6e-gb200x36': 9 };

export class SageMakerEmulator {
  public readonly calls: SageMakerCall[] = [];
  public readonly plans = new Map<string, EmulatedPlan>();
  public readonly offeringsSeen = new Map<string, EmulatedPlanOffering>();
  /** Every request key the emulator read and every answer it sent, by action: checked against the SDK model. */
  public readonly parametersRead = new Map<string, Set<string>>();
  public readonly answers: Array<{ action: string; body: Record<string, unknown> }> = [];
  public readonly faults: FaultInjector;
  public readonly clock: SimulatedClock;
  /** Calls the consistency options acted on (a list that left a plan out, a read of a Pending plan), for reports. */
  public readonly lagsShown: Record<string, number> = {};
  private readonly server = new LoopbackServer(request => this.handle(request));
  private readonly random: () => number;
  private readonly sold = new Set<string>();
  private readonly scripted: Array<{ action: string; fault: ScriptedSageMakerFault }> = [];
  private soldBeforePurchase: number;
  private paymentFails?: (offering: EmulatedPlanOffering) => boolean;
  private endpointUrl?: string;

  constructor(private readonly options: SageMakerEmulatorOptions = {}) {
    this.faults = new FaultInjector(options.faults);
    this.clock = options.clock ?? new SimulatedClock();
    this.random = seededRandom(options.seed ?? 1);
    this.soldBeforePurchase = options.soldBeforePurchase ?? 0;
    this.paymentFails = options.paymentFails;
  }

  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_SAGEMAKER. */
  public get endpoint(): string {
    if (!this.endpointUrl) throw new Error('SageMakerEmulator is not started');
    return this.endpointUrl;
  }

  public async start(): Promise<string> {
    this.endpointUrl = `http://${await this.server.start(this.options.port)}`;
    return this.endpointUrl;
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  /** The next `count` requests for `action` meet `fault` ('lostAnswer': carried out, answered 500). */
  public failNext(action: string, fault: ScriptedSageMakerFault, count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push({ action, fault });
  }

  /**
   * A plan someone else bought under `name` (another account's team, another stack): it holds the name,
   * and carries `owner` as its owner tag if given.
   */
  public addForeignPlan(name: string, offering: EmulatedPlanOffering, owner?: string): EmulatedPlan {
    const plan: EmulatedPlan = {
      name, arn: `arn:aws:sagemaker:${this.options.region ?? 'us-east-1'}:${this.options.accountId ?? '123456789012'}:training-plan/${name}`, offering,
      createdAt: this.clock.now(), tags: new Map(owner ? [['cdk-capacity-reservations:owner', owner]] : []), paymentFails: false, pendingMs: 0, listLagMs: 0, extensions: [],
    };
    this.plans.set(name, plan);
    return plan;
  }

  /** The next create finds its offering sold to someone else just before it. */
  public sellNextOffering(): void {
    this.soldBeforePurchase++;
  }

  /** From now on: no faults, no offering sold under a create, no failed payment. */
  public quiet(): void {
    this.faults.enabled = false;
    this.soldBeforePurchase = 0;
    this.paymentFails = undefined;
  }

  /** Plans that were created: each is paid for (or Failed, and owed nothing). */
  public get purchases(): EmulatedPlan[] {
    return [...this.plans.values()];
  }

  public statusOf(plan: EmulatedPlan): string {
    const now = this.clock.now().getTime();
    if (now < plan.createdAt.getTime() + plan.pendingMs) return 'Pending';
    if (plan.paymentFails) return 'Failed';
    if (now < plan.offering.startTime.getTime()) return 'Scheduled';
    return now < this.endOf(plan).getTime() ? 'Active' : 'Expired';
  }

  /** The plan's end: as bought, plus every extension whose payment has cleared. */
  public endOf(plan: EmulatedPlan): Date {
    return new Date(plan.offering.startTime.getTime() + this.paidHours(plan) * HOUR);
  }

  public extensionStatus(e: EmulatedPlanExtension): string {
    return this.clock.now().getTime() < e.extendedAt.getTime() + (this.options.extensionPaymentDelayMs ?? 90_000) ? 'Pending' : 'Active';
  }

  private paidHours(plan: EmulatedPlan): number {
    return plan.offering.durationHours + plan.extensions.filter(e => this.extensionStatus(e) === 'Active').reduce((h, e) => h + e.hours, 0);
  }

  private async handle(request: RawRequest): Promise<RawResponse | 'reset'> {
    const action = String(request.headers['x-amz-target'] ?? '').replace(/^SageMaker\./, '');
    const raw = request.body ? JSON.parse(request.body) as Record<string, any> : {};
    const params = this.recordingReads(action, raw);
    const latency = this.faults.latency();
    if (latency > 0) await sleep(latency);
    // 'notFound' hides a plan that exists: a read of a name nobody holds answers as it would anyway.
    const i = this.scripted.findIndex(s => s.action === action && (s.fault !== 'notFound' || this.plans.has(String(raw.TrainingPlanName ?? ''))));
    const scripted = i >= 0 ? this.scripted.splice(i, 1)[0].fault : undefined;
    const fault = scripted ?? this.faults.before();
    this.calls.push({ action, params: raw, fault, resourceTags: this.tagsOfNamed(raw) });
    if (scripted === 'lostAnswer') {
      try { this.dispatch(action, params); } catch { /* refused: the caller learns nothing either way */ }
      return this.error(new SageMakerError('InternalFailure', 'An internal error occurred.', 500));
    }
    if (scripted === 'notFound') return this.error(new SageMakerError('ResourceNotFound', `Training plan ${raw.TrainingPlanName ?? raw.ResourceArn} does not exist`));
    if (scripted === 'untagged') {
      this.showed('tagLag');
      return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ Tags: [] }) };
    }
    if (fault === 'reset') return 'reset';
    if (fault === 'throttle') return this.error(new SageMakerError('ThrottlingException', 'Rate exceeded', 400));
    if (fault === 'serverError') return this.error(new SageMakerError('InternalFailure', 'An internal error occurred.', 500));
    if (fault === 'hang') {
      if (!scripted && MUTATING.has(action) && this.faults.carriedOutBeforeHang()) {
        try { this.dispatch(action, params); } catch { /* refused: still no answer */ }
      }
      return new Promise<never>(() => undefined);
    }
    try {
      const body = this.dispatch(action, params);
      if (MUTATING.has(action) && this.faults.loseAnswer(action)) return this.error(new SageMakerError('InternalFailure', 'An internal error occurred.', 500));
      this.answers.push({ action, body });
      return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(body) };
    } catch (error) {
      if (error instanceof SageMakerError) return this.error(error);
      throw error;
    }
  }

  private recordingReads(action: string, params: Record<string, any>): Record<string, any> {
    const read = this.parametersRead.get(action) ?? new Set<string>();
    this.parametersRead.set(action, read);
    return new Proxy(params, {
      get: (target, key) => {
        if (typeof key === 'string') read.add(key);
        return target[key as string];
      },
    });
  }

  private tagsOfNamed(raw: Record<string, any>): Record<string, string> | undefined {
    const plan = this.planByArn(raw.ResourceArn ?? raw.TrainingPlanArn) ?? this.plans.get(raw.TrainingPlanName ?? '') ?? this.planOfExtension(raw.TrainingPlanExtensionOfferingId);
    return plan ? Object.fromEntries(plan.tags) : undefined;
  }

  private dispatch(action: string, p: Record<string, any>): Record<string, unknown> {
    switch (action) {
      case 'SearchTrainingPlanOfferings': return p.TrainingPlanArn ? this.searchExtensions(p) : this.search(p);
      case 'CreateTrainingPlan': return this.create(p);
      case 'DescribeTrainingPlan': return this.describe(p);
      case 'ListTrainingPlans': return this.list(p);
      case 'ListTags': return this.listTags(p);
      case 'AddTags': return this.addTags(p);
      case 'DeleteTags': return this.deleteTags(p);
      case 'ExtendTrainingPlan': return this.extend(p);
      case 'DescribeTrainingPlanExtensionHistory': return this.extensionHistory(p);
      default: throw new SageMakerError('UnknownOperationException', `Unknown operation ${action}`);
    }
  }

  private search(p: Record<string, any>): Record<string, unknown> {
    const hours = Number(p.DurationHours ?? 0);
    if (!(hours > 0)) throw new SageMakerError('ValidationException', 'DurationHours is required');
    if (p.UltraServerType && (p.InstanceType || p.InstanceCount)) throw new SageMakerError('ValidationException', 'UltraServerType cannot be combined with InstanceType or InstanceCount');
    const targets: string[] = p.TargetResources ?? ['training-job'];
    const after = p.StartTimeAfter !== undefined ? new Date(Number(p.StartTimeAfter) * 1000) : undefined;
    const before = p.EndTimeBefore !== undefined ? new Date(Number(p.EndTimeBefore) * 1000) : undefined;
    const all = (this.options.offerings ?? this.generate(p, hours, targets))
      .filter(o => !this.sold.has(o.id))
      .filter(o => (p.UltraServerType ? o.ultraServerType === p.UltraServerType && o.ultraServerCount === Number(p.UltraServerCount ?? 1) : !o.ultraServerType && (!p.InstanceType || o.instanceType === p.InstanceType) && (!p.InstanceCount || o.instanceCount === Number(p.InstanceCount))))
      .filter(o => o.durationHours === hours && targets.every(t => o.targetResources.includes(t)))
      .filter(o => (!after || o.startTime >= after) && (!before || endOf(o) <= before));
    all.forEach(o => this.offeringsSeen.set(o.id, o));
    return {
      TrainingPlanOfferings: all.map(o => ({
        TrainingPlanOfferingId: o.id, TargetResources: o.targetResources, RequestedStartTimeAfter: p.StartTimeAfter, RequestedEndTimeBefore: p.EndTimeBefore,
        DurationHours: o.durationHours, DurationMinutes: 0, UpfrontFee: o.upfrontFee, CurrencyCode: o.currencyCode,
        ReservedCapacityOfferings: [{
          ReservedCapacityType: o.ultraServerType ? 'UltraServer' : 'Instance', UltraServerType: o.ultraServerType, UltraServerCount: o.ultraServerCount,
          InstanceType: o.instanceType, InstanceCount: o.instanceCount, AvailabilityZone: o.availabilityZone, DurationHours: o.durationHours, DurationMinutes: 0,
          StartTime: seconds(o.startTime), EndTime: seconds(endOf(o)),
        }],
      })),
    };
  }

  /** Three zones × four start days, 11:30 UTC; prices vary by zone and lead time, deterministically. */
  private generate(p: Record<string, any>, hours: number, targets: string[]): EmulatedPlanOffering[] {
    const region = this.options.region ?? 'us-east-1';
    const ultra = p.UltraServerType as string | undefined;
    const count = Number(ultra ? p.UltraServerCount ?? 1 : p.InstanceCount ?? 1);
    const instanceType = ultra ? 'ml.p6e-gb200.36xlarge' : String(p.InstanceType ?? 'ml.p5.48xlarge');
    const instances = ultra ? (ULTRASERVER_NODES[ultra] ?? 18) * count : count;
    const perHour = (HOURLY_PRICE[instanceType.split('.').slice(0, 2).join('.')] ?? 30) * instances;
    const now = this.clock.now();
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 11, 30);
    const offerings: EmulatedPlanOffering[] = [];
    ['a', 'b', 'c'].forEach((zone, z) => [1, 3, 7, 14].forEach((days, d) => {
      const key = `${instanceType}|${ultra ?? ''}|${count}|${hours}|${targets.join(',')}|${zone}|${days}|${today}`;
      offerings.push({
        id: `tpo-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`,
        instanceType, instanceCount: instances, ultraServerType: ultra, ultraServerCount: ultra ? count : undefined,
        availabilityZone: `${region}${zone}`, startTime: new Date(today + days * 24 * HOUR), durationHours: hours, targetResources: [...targets],
        upfrontFee: (perHour * hours * (1 + 0.04 * z + 0.06 * (3 - d))).toFixed(2), currencyCode: 'USD',
      });
    }));
    return offerings;
  }

  private create(p: Record<string, any>): Record<string, unknown> {
    const name = String(p.TrainingPlanName ?? '');
    if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,63}$/.test(name)) throw new SageMakerError('ValidationException', `1 validation error detected: Value '${name}' at 'trainingPlanName' failed to satisfy constraint`);
    if (this.plans.has(name)) throw new SageMakerError('ResourceInUse', `Training plan with name ${name} already exists`);
    const offering = this.offeringsSeen.get(String(p.TrainingPlanOfferingId ?? '')) ?? this.options.offerings?.find(o => o.id === p.TrainingPlanOfferingId);
    if (!offering || this.sold.has(offering.id)) throw new SageMakerError('ResourceNotFound', `Training plan offering ${p.TrainingPlanOfferingId} not found`);
    if (this.soldBeforePurchase > 0) {
      this.soldBeforePurchase--;
      this.sold.add(offering.id);
      throw new SageMakerError('ResourceNotFound', `Training plan offering ${offering.id} not found`);
    }
    this.sold.add(offering.id);
    const arn = `arn:aws:sagemaker:${this.options.region ?? 'us-east-1'}:${this.options.accountId ?? '123456789012'}:training-plan/${name}`;
    const tags = new Map<string, string>((p.Tags ?? []).map((t: { Key: string; Value?: string }) => [t.Key, t.Value ?? '']));
    this.plans.set(name, {
      name, arn, offering, createdAt: this.clock.now(), tags, paymentFails: this.paymentFails?.(offering) ?? false,
      pendingMs: this.draw(this.options.pendingMs ?? [60_000, 300_000]), listLagMs: this.draw(this.options.listLagMs ?? [0, 90_000]), extensions: [],
      spareInstancesPerUltraServer: offering.ultraServerType ? Number(p.SpareInstanceCountPerUltraServer ?? 1) : undefined,
    });
    return { TrainingPlanArn: arn };
  }

  private draw([min, max]: readonly [number, number]): number {
    return Math.round(min + (max - min) * this.random());
  }

  private describe(p: Record<string, any>): Record<string, unknown> {
    const plan = this.plans.get(String(p.TrainingPlanName ?? ''));
    if (!plan) throw new SageMakerError('ResourceNotFound', `Training plan ${p.TrainingPlanName} does not exist`);
    if (this.statusOf(plan) === 'Pending') this.showed('pending');
    return this.render(plan, true);
  }

  private render(plan: EmulatedPlan, detail: boolean): Record<string, unknown> {
    const o = plan.offering;
    const status = this.statusOf(plan);
    const end = this.endOf(plan);
    const active = status === 'Active' ? o.instanceCount : 0;
    return {
      TrainingPlanArn: plan.arn, TrainingPlanName: plan.name, Status: status, ...(status === 'Failed' ? { StatusMessage: 'Payment for the training plan failed' } : {}),
      DurationHours: this.paidHours(plan), DurationMinutes: 0, StartTime: seconds(o.startTime), EndTime: seconds(end), UpfrontFee: o.upfrontFee, CurrencyCode: o.currencyCode,
      TotalInstanceCount: o.instanceCount, AvailableInstanceCount: active, InUseInstanceCount: 0, ...(detail ? { UnhealthyInstanceCount: 0 } : {}),
      ...(o.ultraServerType ? { TotalUltraServerCount: o.ultraServerCount, ...(detail ? { AvailableSpareInstanceCount: status === 'Active' ? (plan.spareInstancesPerUltraServer ?? 0) * (o.ultraServerCount ?? 0) : 0 } : {}) } : {}), TargetResources: o.targetResources,
      ReservedCapacitySummaries: [{
        ReservedCapacityArn: `arn:aws:sagemaker:${this.options.region ?? 'us-east-1'}:${this.options.accountId ?? '123456789012'}:reserved-capacity/${plan.name}-rc-1`,
        ReservedCapacityType: o.ultraServerType ? 'UltraServer' : 'Instance', UltraServerType: o.ultraServerType, UltraServerCount: o.ultraServerCount,
        InstanceType: o.instanceType, TotalInstanceCount: o.instanceCount, Status: status, AvailabilityZone: o.availabilityZone,
        DurationHours: this.paidHours(plan), DurationMinutes: 0, StartTime: seconds(o.startTime), EndTime: seconds(end),
      }],
    };
  }

  /** ListTrainingPlans: lags behind creation (listLagMs); Filters by Status; one page of MaxResults. */
  private list(p: Record<string, any>): Record<string, unknown> {
    const now = this.clock.now().getTime();
    const all = [...this.plans.values()];
    const shown = all.filter(plan => now >= plan.createdAt.getTime() + plan.listLagMs);
    if (shown.length < all.length) this.showed('listLag');
    const statuses = (p.Filters ?? []).filter((f: { Name: string }) => f.Name === 'Status').map((f: { Value: string }) => f.Value);
    const filtered = shown.filter(plan => statuses.length === 0 || statuses.includes(this.statusOf(plan)));
    const start = Number(p.NextToken ?? 0);
    const size = Number(p.MaxResults ?? 100);
    return {
      TrainingPlanSummaries: filtered.slice(start, start + size).map(plan => this.render(plan, false)),
      ...(start + size < filtered.length ? { NextToken: String(start + size) } : {}),
    };
  }

  private planByArn(arn: unknown): EmulatedPlan | undefined {
    return typeof arn === 'string' ? [...this.plans.values()].find(plan => plan.arn === arn) : undefined;
  }

  private planOf(arn: unknown): EmulatedPlan {
    const plan = this.planByArn(arn);
    if (!plan) throw new SageMakerError('ResourceNotFound', `Resource ${String(arn)} not found`);
    return plan;
  }

  private listTags(p: Record<string, any>): Record<string, unknown> {
    return { Tags: [...this.planOf(p.ResourceArn).tags].map(([Key, Value]) => ({ Key, Value })) };
  }

  private addTags(p: Record<string, any>): Record<string, unknown> {
    const plan = this.planOf(p.ResourceArn);
    for (const t of p.Tags ?? []) plan.tags.set(t.Key, t.Value ?? '');
    return { Tags: [...plan.tags].map(([Key, Value]) => ({ Key, Value })) };
  }

  private deleteTags(p: Record<string, any>): Record<string, unknown> {
    const plan = this.planOf(p.ResourceArn);
    for (const key of p.TagKeys ?? []) plan.tags.delete(key);
    return {};
  }

  /** Extension offerings encode their plan and hours: tpeo-<hex of the name>-<hours>. */
  private searchExtensions(p: Record<string, any>): Record<string, unknown> {
    const plan = this.planOf(p.TrainingPlanArn);
    const hours = Number(p.DurationHours ?? 0);
    const end = this.endOf(plan);
    return {
      TrainingPlanOfferings: [],
      TrainingPlanExtensionOfferings: hours > 0 ? [{
        TrainingPlanExtensionOfferingId: `tpeo-${Buffer.from(plan.name).toString('hex')}-${hours}`, AvailabilityZone: plan.offering.availabilityZone,
        StartDate: seconds(end), EndDate: seconds(new Date(end.getTime() + hours * HOUR)), DurationHours: hours, UpfrontFee: extensionFee(plan, hours), CurrencyCode: plan.offering.currencyCode,
      }] : [],
    };
  }

  private planOfExtension(offeringId: unknown): EmulatedPlan | undefined {
    const match = /^tpeo-([0-9a-f]+)-(\d+)$/.exec(String(offeringId ?? ''));
    return match ? this.plans.get(Buffer.from(match[1], 'hex').toString()) : undefined;
  }

  private extend(p: Record<string, any>): Record<string, unknown> {
    const plan = this.planOfExtension(p.TrainingPlanExtensionOfferingId);
    if (!plan) throw new SageMakerError('ResourceNotFound', `Extension offering ${p.TrainingPlanExtensionOfferingId} not found`);
    const status = this.statusOf(plan);
    if (status !== 'Scheduled' && status !== 'Active') throw new SageMakerError('ValidationException', `Training plan ${plan.name} is ${status}; only Scheduled or Active plans can be extended`);
    if (plan.extensions.some(e => this.extensionStatus(e) === 'Pending')) throw new SageMakerError('ValidationException', `Training plan ${plan.name} has an extension whose payment is pending`);
    const hours = Number(String(p.TrainingPlanExtensionOfferingId).split('-').pop());
    plan.extensions.push({ offeringId: String(p.TrainingPlanExtensionOfferingId), hours, upfrontFee: extensionFee(plan, hours), currencyCode: plan.offering.currencyCode, extendedAt: this.clock.now() });
    return { TrainingPlanExtensions: [this.renderExtension(plan, plan.extensions[plan.extensions.length - 1])] };
  }

  private renderExtension(plan: EmulatedPlan, e: EmulatedPlanExtension): Record<string, unknown> {
    const before = plan.extensions.slice(0, plan.extensions.indexOf(e)).reduce((h, x) => h + x.hours, 0);
    const start = new Date(plan.offering.startTime.getTime() + (plan.offering.durationHours + before) * HOUR);
    const status = this.extensionStatus(e);
    return {
      TrainingPlanExtensionOfferingId: e.offeringId, ExtendedAt: seconds(e.extendedAt), StartDate: seconds(start), EndDate: seconds(new Date(start.getTime() + e.hours * HOUR)),
      Status: status, PaymentStatus: status === 'Pending' ? 'Pending' : 'Succeeded', AvailabilityZone: plan.offering.availabilityZone, DurationHours: e.hours,
      UpfrontFee: e.upfrontFee, CurrencyCode: e.currencyCode,
    };
  }

  private extensionHistory(p: Record<string, any>): Record<string, unknown> {
    const plan = this.planOf(p.TrainingPlanArn);
    return { TrainingPlanExtensions: plan.extensions.map(e => this.renderExtension(plan, e)) };
  }

  private showed(lag: string): void {
    this.lagsShown[lag] = (this.lagsShown[lag] ?? 0) + 1;
  }

  private error(error: SageMakerError): RawResponse {
    return {
      status: error.status,
      contentType: 'application/x-amz-json-1.1',
      body: JSON.stringify({ __type: error.type, message: error.message }),
    };
  }
}

/** Extensions cost 10% more per hour than the plan did. */
function extensionFee(plan: EmulatedPlan, hours: number): string {
  return (Number(plan.offering.upfrontFee) / (plan.offering.durationHours || 1) * hours * 1.1).toFixed(2);
}

function endOf(o: EmulatedPlanOffering): Date {
  return new Date(o.startTime.getTime() + o.durationHours * HOUR);
}

/** JSON 1.1 timestamps: epoch seconds. */
function seconds(date: Date): number {
  return date.getTime() / 1000;
}
