import { randomBytes } from 'crypto';
import { localVendor } from '../modules';
import { FaultInjector, FaultPlan, SimulatedClock } from '../faults';
import { LoopbackServer, RawRequest, RawResponse, sleep } from '../http-server';

/** A Capacity Block offering in the emulator's inventory. */
export interface EmulatedOffering {
  readonly id: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly instanceCount: number;
  readonly startDate: Date;
  readonly durationHours: number;
  /** Decimal string, as EC2 sends it. */
  readonly upfrontFee: string;
  readonly currencyCode: string;
}

export interface Ec2EmulatorOptions {
  readonly region?: string;
  readonly accountId?: string;
  /** Fixed inventory; by default offerings are generated for whatever shape is asked for. */
  readonly offerings?: EmulatedOffering[];
  /** Offerings per page, to exercise NextToken. @default 3 */
  readonly pageSize?: number;
  /** Simulated time from purchase until payment clears. @default 90 s */
  readonly paymentDelayMs?: number;
  /** Payments that fail (the block goes payment-failed). @default none */
  readonly paymentFails?: (offeringId: string) => boolean;
  /** How many purchases find their offering sold to someone else just before. @default 0 */
  readonly soldBeforePurchase?: number;
  readonly faults?: FaultPlan;
  readonly clock?: SimulatedClock;
  /** Loopback port. @default any free port */
  readonly port?: number;
}

/** A Capacity Block extension that was bought: its fee is owed like the block's. */
export interface EmulatedExtension {
  readonly reservationId: string;
  readonly offeringId: string;
  readonly hours: number;
  readonly upfrontFee: string;
  /** The extension marker tag on the block when it was bought (the request that bought it). */
  readonly requestKey?: string;
}

export interface EmulatedReservation {
  readonly id: string;
  readonly offering: EmulatedOffering;
  readonly platform: string;
  readonly createDate: Date;
  readonly tags: Map<string, string>;
  endDate: Date;
  paymentFailed: boolean;
}

export type ScriptedEc2Fault = 'hang' | 'hangAfter' | 'lostAnswer' | 'serverError';

/** One row of what the emulator saw: for reports and assertions. */
export interface Ec2Call {
  readonly action: string;
  readonly params: Record<string, string>;
  readonly fault?: string;
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const HOUR = 3_600_000;
const MUTATING = new Set(['PurchaseCapacityBlock', 'PurchaseCapacityBlockExtension', 'CreateTags', 'DeleteTags', 'CancelCapacityReservation']);
/** On-demand-like prices per instance-hour, so generated fees look like the real thing. */
const HOURLY_PRICE: Record<string, number> = { 'p4d': 11.57, 'p4de': 14.39, 'p5': 31.46, 'p5e': 34.61, 'p5en': 36.18, 'p6-b200': 48.2, 'trn1': 9.9, 'trn2': 18.2 };

class Ec2Error extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 400) {
    super(message);
  }
}

/**
 * EC2 Query protocol (form POST in, XML in the EC2 namespace out) for the Capacity Block actions,
 * faithful enough for @aws-sdk/client-ec2 to parse every answer. Loopback only.
 */
export class Ec2Emulator {
  public readonly calls: Ec2Call[] = [];
  public readonly reservations = new Map<string, EmulatedReservation>();
  /** Every offering returned by a search, for the rehearsal's table. */
  public readonly offeringsSeen = new Map<string, EmulatedOffering>();
  /** Extensions that were bought. */
  public readonly extensions: EmulatedExtension[] = [];
  /**
   * Every request parameter the emulator read, and every answer it sent, by action: a test checks
   * both against the official @aws-sdk/client-ec2 model, so that neither can drift from the real wire.
   */
  public readonly parametersRead = new Map<string, Set<string>>();
  public readonly answers: Array<{ action: string; body: string }> = [];
  public readonly faults: FaultInjector;
  public readonly clock: SimulatedClock;
  private readonly server = new LoopbackServer(request => this.handle(request));
  private readonly sold = new Set<string>();
  private soldBeforePurchase: number;
  private paymentFails?: (offeringId: string) => boolean;
  private readonly scripted: Array<{ action: string; fault: ScriptedEc2Fault; when?: (params: Record<string, string>) => boolean }> = [];
  private readonly xml = new (localVendor().XMLBuilder)({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true });
  private endpointUrl?: string;

  constructor(private readonly options: Ec2EmulatorOptions = {}) {
    this.faults = new FaultInjector(options.faults);
    this.clock = options.clock ?? new SimulatedClock();
    this.soldBeforePurchase = options.soldBeforePurchase ?? 0;
    this.paymentFails = options.paymentFails;
  }

  /**
   * The next request for `action` meets `fault`: 'hang' (never answered), 'hangAfter' (carried out,
   * never answered), 'lostAnswer' (carried out, answered 500) or 'serverError' (500, not carried out).
   */
  public failNext(action: string, fault: ScriptedEc2Fault, count = 1, when?: (params: Record<string, string>) => boolean): void {
    for (let i = 0; i < count; i++) this.scripted.push({ action, fault, when });
  }

  /** From now on: no faults, no offering sold under a purchase, no failed payment. */
  public quiet(): void {
    this.faults.enabled = false;
    this.soldBeforePurchase = 0;
    this.paymentFails = undefined;
  }

  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_EC2. */
  public get endpoint(): string {
    if (!this.endpointUrl) throw new Error('Ec2Emulator is not started');
    return this.endpointUrl;
  }

  public async start(): Promise<string> {
    this.endpointUrl = `http://${await this.server.start(this.options.port)}`;
    return this.endpointUrl;
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  /** Purchases that succeeded (each a block someone pays for). */
  public get purchases(): EmulatedReservation[] {
    return [...this.reservations.values()];
  }

  public stateOf(r: EmulatedReservation): string {
    const now = this.clock.now();
    if (now.getTime() < r.createDate.getTime() + (this.options.paymentDelayMs ?? 90_000)) return 'payment-pending';
    if (r.paymentFailed) return 'payment-failed';
    if (now < r.offering.startDate) return 'scheduled';
    return now < r.endDate ? 'active' : 'expired';
  }

  private async handle(request: RawRequest): Promise<RawResponse | 'reset'> {
    const raw = Object.fromEntries(new URLSearchParams(request.body));
    const action = raw.Action ?? '';
    const params = this.recordingReads(action, raw);
    const latency = this.faults.latency();
    if (latency > 0) await sleep(latency);
    const i = this.scripted.findIndex(s => s.action === action && (s.when?.(params) ?? true));
    const scripted = i >= 0 ? this.scripted.splice(i, 1)[0].fault : undefined;
    const fault = scripted ?? this.faults.before();
    this.calls.push({ action, params: raw, fault });
    if (scripted === 'hangAfter' || scripted === 'lostAnswer') {
      try { this.dispatch(action, params); } catch { /* refused: the client learns nothing either way */ }
      return scripted === 'lostAnswer' ? this.error(new Ec2Error('InternalError', 'An internal error has occurred.', 500)) : new Promise<never>(() => undefined);
    }
    if (fault === 'reset') return 'reset';
    if (fault === 'throttle') return this.error(new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503));
    if (fault === 'serverError') return this.error(new Ec2Error('InternalError', 'An internal error has occurred.', 500));
    if (fault === 'hang') {
      if (!scripted && MUTATING.has(action) && params.DryRun !== 'true' && this.faults.carriedOutBeforeHang()) {
        try { this.dispatch(action, params); } catch { /* refused: still no answer */ }
      }
      return new Promise<never>(() => undefined); // no answer; the client's request timeout ends it
    }
    try {
      const body = this.dispatch(action, params);
      if (MUTATING.has(action) && params.DryRun !== 'true' && this.faults.loseAnswer(action)) {
        return this.error(new Ec2Error('InternalError', 'An internal error has occurred.', 500));
      }
      const xml = this.xml.build({ [`${action}Response`]: { '@_xmlns': NS, 'requestId': requestId(), ...body } });
      this.answers.push({ action, body: xml });
      return { status: 200, contentType: 'text/xml;charset=UTF-8', body: xml };
    } catch (error) {
      if (error instanceof Ec2Error) return this.error(error);
      throw error;
    }
  }

  private recordingReads(action: string, params: Record<string, string>): Record<string, string> {
    const read = this.parametersRead.get(action) ?? new Set<string>();
    this.parametersRead.set(action, read);
    return new Proxy(params, {
      get: (target, key) => {
        if (typeof key === 'string' && key !== 'Action' && key !== 'Version') read.add(key);
        return target[key as string];
      },
    });
  }

  private dispatch(action: string, p: Record<string, string>): Record<string, unknown> {
    switch (action) {
      case 'DescribeCapacityBlockOfferings': return this.describeOfferings(p);
      case 'PurchaseCapacityBlock': return this.purchase(p);
      case 'DescribeCapacityReservations': return this.describeReservations(p);
      case 'CreateTags': return this.tag(p, (r, key, value) => r.tags.set(key, value));
      case 'DeleteTags': return this.tag(p, (r, key) => r.tags.delete(key));
      case 'CancelCapacityReservation': return this.cancel(p);
      case 'DescribeCapacityBlockExtensionOfferings': return this.describeExtensionOfferings(p);
      case 'PurchaseCapacityBlockExtension': return this.purchaseExtension(p);
      default: throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private describeOfferings(p: Record<string, string>): Record<string, unknown> {
    const hours = Number(p.CapacityDurationHours);
    if (!hours) throw new Ec2Error('MissingParameter', 'The request must contain the parameter CapacityDurationHours');
    const from = p.StartDateRange ? new Date(p.StartDateRange) : undefined;
    const to = p.EndDateRange ? new Date(p.EndDateRange) : undefined;
    const all = (this.options.offerings ?? this.generate(p.InstanceType ?? 'p5.48xlarge', Number(p.InstanceCount ?? 1), hours))
      .filter(o => !this.sold.has(o.id))
      .filter(o => (!p.InstanceType || o.instanceType === p.InstanceType) && (!p.InstanceCount || o.instanceCount === Number(p.InstanceCount)))
      .filter(o => o.durationHours === hours)
      .filter(o => (!from || o.startDate >= from) && (!to || endOf(o) <= to));
    const start = Number(p.NextToken ?? 0);
    const size = Math.min(this.options.pageSize ?? 3, Number(p.MaxResults ?? 1000));
    const page = all.slice(start, start + size);
    page.forEach(o => this.offeringsSeen.set(o.id, o));
    return {
      capacityBlockOfferingSet: { item: page.map(o => ({
        capacityBlockOfferingId: o.id, instanceType: o.instanceType, availabilityZone: o.availabilityZone,
        instanceCount: o.instanceCount, startDate: o.startDate.toISOString(), endDate: endOf(o).toISOString(),
        capacityBlockDurationHours: o.durationHours, upfrontFee: o.upfrontFee, currencyCode: o.currencyCode, tenancy: 'default',
      })) },
      nextToken: start + size < all.length ? String(start + size) : undefined,
    };
  }

  /** Three zones × four start days; prices vary by zone and lead time, deterministically. */
  private generate(instanceType: string, count: number, hours: number): EmulatedOffering[] {
    const region = this.options.region ?? 'us-east-1';
    const perHour = HOURLY_PRICE[instanceType.split('.')[0]] ?? 20;
    const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate(), 11, 30));
    const offerings: EmulatedOffering[] = [];
    ['a', 'b', 'c'].forEach((zone, z) => [1, 3, 7, 14].forEach((days, d) => {
      const factor = 1 + 0.04 * z + 0.06 * (3 - d);
      offerings.push({
        id: `cb-${instanceType.replace(/[^a-z0-9]/g, '')}${count}x${hours}${zone}${days}`,
        instanceType, availabilityZone: `${region}${zone}`, instanceCount: count,
        startDate: new Date(today.getTime() + days * 24 * HOUR), durationHours: hours,
        upfrontFee: (perHour * count * hours * factor).toFixed(2), currencyCode: 'USD',
      });
    }));
    return offerings;
  }

  private findOffering(id: string): EmulatedOffering | undefined {
    return this.offeringsSeen.get(id) ?? this.options.offerings?.find(o => o.id === id);
  }

  private purchase(p: Record<string, string>): Record<string, unknown> {
    const offering = this.findOffering(p.CapacityBlockOfferingId ?? '');
    if (!offering || this.sold.has(offering.id)) {
      throw new Ec2Error('InsufficientInstanceCapacity', `The Capacity Block offering ${p.CapacityBlockOfferingId} is no longer available.`);
    }
    if (!p.InstancePlatform) throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstancePlatform');
    if (p.DryRun === 'true') throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    if (this.soldBeforePurchase > 0) {
      this.soldBeforePurchase--;
      this.sold.add(offering.id);
      throw new Ec2Error('InsufficientInstanceCapacity', `The Capacity Block offering ${offering.id} is no longer available.`);
    }
    this.sold.add(offering.id);
    const tags = new Map<string, string>();
    for (let i = 1; p[`TagSpecification.1.Tag.${i}.Key`] !== undefined; i++) tags.set(p[`TagSpecification.1.Tag.${i}.Key`], p[`TagSpecification.1.Tag.${i}.Value`] ?? '');
    const reservation: EmulatedReservation = {
      id: `cr-${randomBytes(8).toString('hex')}`, offering, platform: p.InstancePlatform, createDate: this.clock.now(), tags,
      endDate: endOf(offering), paymentFailed: this.paymentFails?.(offering.id) ?? false,
    };
    this.reservations.set(reservation.id, reservation);
    return { capacityReservation: this.render(reservation) };
  }

  private describeReservations(p: Record<string, string>): Record<string, unknown> {
    const ids = list(p, 'CapacityReservationId');
    for (const id of ids) {
      if (!this.reservations.has(id)) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${id}' does not exist`);
    }
    let found = [...this.reservations.values()].filter(r => ids.length === 0 || ids.includes(r.id));
    for (let i = 1; p[`Filter.${i}.Name`] !== undefined; i++) {
      const name = p[`Filter.${i}.Name`];
      const values = list(p, `Filter.${i}.Value`);
      found = found.filter(r => {
        if (name.startsWith('tag:')) return values.includes(r.tags.get(name.slice(4)) ?? '\u0000');
        if (name === 'instance-type') return values.includes(r.offering.instanceType);
        if (name === 'availability-zone') return values.includes(r.offering.availabilityZone);
        if (name === 'state') return values.includes(this.stateOf(r));
        throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      });
    }
    return { capacityReservationSet: { item: found.map(r => this.render(r)) } };
  }

  private render(r: EmulatedReservation): Record<string, unknown> {
    const region = this.options.region ?? 'us-east-1';
    return {
      capacityReservationId: r.id,
      ownerId: this.options.accountId ?? '123456789012',
      capacityReservationArn: `arn:aws:ec2:${region}:${this.options.accountId ?? '123456789012'}:capacity-reservation/${r.id}`,
      instanceType: r.offering.instanceType,
      instancePlatform: r.platform,
      availabilityZone: r.offering.availabilityZone,
      tenancy: 'default',
      totalInstanceCount: r.offering.instanceCount,
      availableInstanceCount: 0,
      state: this.stateOf(r),
      startDate: r.offering.startDate.toISOString(),
      endDate: r.endDate.toISOString(),
      endDateType: 'limited',
      instanceMatchCriteria: 'targeted',
      createDate: r.createDate.toISOString(),
      reservationType: 'capacity-block',
      tagSet: { item: [...r.tags].map(([key, value]) => ({ key, value })) },
    };
  }

  private tag(p: Record<string, string>, apply: (r: EmulatedReservation, key: string, value: string) => void): Record<string, unknown> {
    for (const id of list(p, 'ResourceId')) {
      const r = this.reservations.get(id);
      if (!r) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${id}' does not exist`);
      for (let i = 1; p[`Tag.${i}.Key`] !== undefined; i++) apply(r, p[`Tag.${i}.Key`], p[`Tag.${i}.Value`] ?? '');
    }
    return { return: true };
  }

  private cancel(p: Record<string, string>): never {
    const r = this.reservations.get(p.CapacityReservationId ?? '');
    if (!r) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${p.CapacityReservationId}' does not exist`);
    throw new Ec2Error('InvalidCapacityReservationId.Unsupported', `Capacity Block ${r.id} cannot be cancelled.`);
  }

  private describeExtensionOfferings(p: Record<string, string>): Record<string, unknown> {
    const r = this.reservations.get(p.CapacityReservationId ?? '');
    if (!r) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${p.CapacityReservationId}' does not exist`);
    const hours = Number(p.CapacityBlockExtensionDurationHours);
    return { capacityBlockExtensionOfferingSet: { item: [{
      capacityBlockExtensionOfferingId: `cbe-${r.id.slice(3, 11)}${hours}`,
      instanceType: r.offering.instanceType, instanceCount: r.offering.instanceCount, availabilityZone: r.offering.availabilityZone,
      startDate: r.offering.startDate.toISOString(), capacityBlockExtensionStartDate: r.endDate.toISOString(),
      capacityBlockExtensionEndDate: new Date(r.endDate.getTime() + hours * HOUR).toISOString(),
      capacityBlockExtensionDurationHours: hours, upfrontFee: extensionFee(r, hours), currencyCode: r.offering.currencyCode, tenancy: 'default',
    }] } };
  }

  private purchaseExtension(p: Record<string, string>): Record<string, unknown> {
    const r = this.reservations.get(p.CapacityReservationId ?? '');
    if (!r) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${p.CapacityReservationId}' does not exist`);
    const hours = Number((p.CapacityBlockExtensionOfferingId ?? '').slice(12));
    this.extensions.push({
      reservationId: r.id, offeringId: p.CapacityBlockExtensionOfferingId ?? '', hours,
      upfrontFee: extensionFee(r, hours), requestKey: r.tags.get('cdk-capacity-reservations:extension-request'),
    });
    r.endDate = new Date(r.endDate.getTime() + hours * HOUR);
    return { capacityBlockExtensionSet: { item: [{
      capacityReservationId: r.id, capacityBlockExtensionOfferingId: p.CapacityBlockExtensionOfferingId,
      capacityBlockExtensionDurationHours: hours, capacityBlockExtensionStatus: 'payment-succeeded',
      capacityBlockExtensionEndDate: r.endDate.toISOString(),
    }] } };
  }

  private error(error: Ec2Error): RawResponse {
    return {
      status: error.status,
      contentType: 'text/xml;charset=UTF-8',
      body: this.xml.build({ Response: { Errors: { Error: { Code: error.code, Message: error.message } }, RequestID: requestId() } }),
    };
  }
}

/** Extensions cost 10% more per hour than the block did. */
function extensionFee(r: EmulatedReservation, hours: number): string {
  return (Number(r.offering.upfrontFee) / (r.offering.durationHours || 1) * hours * 1.1).toFixed(2);
}

function endOf(o: EmulatedOffering): Date {
  return new Date(o.startDate.getTime() + o.durationHours * HOUR);
}

/** Values of Name.1, Name.2, … in a form-encoded EC2 request. */
function list(p: Record<string, string>, name: string): string[] {
  const values: string[] = [];
  for (let i = 1; p[`${name}.${i}`] !== undefined; i++) values.push(p[`${name}.${i}`]);
  return values;
}

function requestId(): string {
  return randomBytes(16).toString('hex').replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');
}
