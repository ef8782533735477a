import { randomBytes } from 'crypto';
import { localVendor } from '../modules';
import { FaultInjector, FaultPlan, SimulatedClock } from '../faults';
import { LoopbackServer, RawRequest, RawResponse, sleep } from '../http-server';
import { refuseUnknownEc2InstanceType } from '../instance-types';
import { Ec2Error, list, tagSpecifications } from './ec2-query';
import { FutureReservationInventory, FutureReservationOptions } from './future-reservations';

/** A Capacity Block offering in the emulator's inventory. */
export interface EmulatedOffering {
  readonly id: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly instanceCount: number;
  readonly startDate: Date;
  /** The whole days (in hours) it is sold as: what a search's CapacityDurationHours matches. */
  readonly durationHours: number;
  /** Its exact length when it starts off 11:30 UTC and so ends before durationHours are up. @default durationHours × 60 */
  readonly durationMinutes?: number;
  /** UltraServer offerings: the type and how many UltraServers. */
  readonly ultraserverType?: string;
  readonly ultraserverCount?: number;
  /** 'availability-zone' or 'local-zone'. @default 'availability-zone' */
  readonly zoneType?: string;
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
  /** Local Zones the account has opted in to: only their offerings are listed unless AllAvailabilityZones is sent. @default none */
  readonly optedInLocalZones?: string[];
  /** Also offer, per zone, a block that starts within the hour and so ends at 11:30 UTC short of whole days. @default false */
  readonly sameDayOfferings?: boolean;
  /** Capacity Reservations per UltraServer (each holds part of its instances). @default 2 */
  readonly reservationsPerUltraServer?: number;
  /** The interconnect status DescribeCapacityBlockStatus reports for a block. @default 'ok' */
  readonly interconnectStatus?: (capacityBlockId: string) => string;
  /**
   * DescribeCapacityReservations calls during which a new UltraServer purchase lists only its highest
   * reservation id: EC2's lists are eventually consistent, so a lookup after a lost purchase answer may
   * see part of the purchase, and not the lowest id it is tracked by. @default 0
   */
  readonly ultraserverListingLag?: number;
  /**
   * DescribeCapacityReservations calls during which a new purchase's reservations show no tags and
   * match no tag filter: EC2 may apply tags given at creation a moment after the resource. @default 0
   */
  readonly tagLag?: number;
  /**
   * Simulated time after a purchase during which its reservations show no tags and match no tag
   * filter (the time-based form of tagLag). @default 0
   */
  readonly tagLagMs?: number;
  /**
   * The longest the lags counted in calls (tagLag, ultraserverListingLag) last, in simulated time
   * after the purchase. EC2's lists lag by seconds, not by how often they are read. @default 2 min
   */
  readonly lagCapMs?: number;
  /**
   * Whether DescribeCapacityReservations honours `tag:<key>` filters. EC2's model documents none for it
   * (instance-type, availability-zone, state, …), so 'refused' answers them as EC2 answers an unknown
   * filter, InvalidParameterValue. @default 'honoured'
   */
  readonly tagFilters?: 'honoured' | 'refused';
  /**
   * PurchaseCapacityBlock answers 200 with its Capacity Blocks but no reservation ids yet, as EC2 does
   * for UltraServer blocks (and may for instance blocks), for the purchases this selects. Their
   * reservations are then listed only `listingDelayMs` after the purchase. @default none
   */
  readonly answersWithoutIds?: (offering: EmulatedOffering) => boolean;
  /**
   * Simulated time after a purchase answered without ids until DescribeCapacityReservations lists its
   * reservations and DescribeCapacityBlocks names them (the block itself is read by id at once). The
   * review that found this saw about 40 s. @default 40 s
   */
  readonly listingDelayMs?: number;
  /**
   * Simulated time from an extension's purchase until its payment clears. EC2 moves the block's
   * EndDate only then; until then DescribeCapacityBlockExtensionHistory shows it payment-pending and
   * EC2 refuses another extension of the block (IncorrectState). @default paymentDelayMs
   */
  readonly extensionPaymentDelayMs?: number;
  /** Extension payments that fail (the extension goes payment-failed, EndDate stays). @default none */
  readonly extensionPaymentFails?: (reservationId: string) => boolean;
  /** How many purchases find their offering sold to someone else just before. @default 0 */
  readonly soldBeforePurchase?: number;
  /** Future-dated On-Demand Capacity Reservations: assessment time and outcome, quote timing. */
  readonly futureReservations?: FutureReservationOptions;
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
  readonly currencyCode: string;
  readonly purchaseDate: Date;
  /** Its payment fails: the block's EndDate never moves. */
  readonly paymentFails: boolean;
}

export interface EmulatedReservation {
  readonly id: string;
  /** The Capacity Block it belongs to (an UltraServer purchase makes one per UltraServer). */
  readonly blockId: string;
  /** The purchase (one PurchaseCapacityBlock) it came from: the lowest reservation id of that purchase. */
  readonly purchaseId: string;
  readonly instanceCount: number;
  readonly offering: EmulatedOffering;
  readonly platform: string;
  readonly createDate: Date;
  readonly tags: Map<string, string>;
  /** The end it was bought with; extensions whose payment cleared add to it (see endDateOf). */
  readonly boughtEndDate: Date;
  paymentFailed: boolean;
  /** A state EC2 put it in besides the payment/time ones (delayed, unavailable, …). */
  stateOverride?: string;
  /** DescribeCapacityReservations lists it from this call on (see ultraserverListingLag). */
  listedFromDescribe?: number;
  /** DescribeCapacityReservations shows its tags from this call on (see tagLag). */
  taggedFromDescribe?: number;
  /** Listed (and named by its block) only from this simulated instant on (see answersWithoutIds). */
  listedFrom?: Date;
}

/** Scripted faults; a burst is `failNext(action, 'throttle', N)`: the same call refused N times in a row. */
export type ScriptedEc2Fault = 'hang' | 'hangAfter' | 'lostAnswer' | 'serverError' | 'throttle';

/** One row of what the emulator saw: for reports and assertions. */
export interface Ec2Call {
  readonly action: string;
  readonly params: Record<string, string>;
  readonly fault?: string;
  /** The tags of each reservation the call names, as they were when it arrived: what IAM's aws:ResourceTag sees. */
  readonly resourceTags: Array<Record<string, string>>;
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const HOUR = 3_600_000;
const MUTATING = new Set([
  'PurchaseCapacityBlock', 'PurchaseCapacityBlockExtension', 'CreateTags', 'DeleteTags', 'CancelCapacityReservation',
  'CreateCapacityReservation', 'ModifyCapacityReservation', 'CreateCapacityReservationCancellationQuote', 'CreateCapacityReservationDateChangeQuote',
]);
const EXTENSION_STATES = { pending: 'payment-pending', failed: 'payment-failed', succeeded: 'payment-succeeded' } as const;
/** On-demand-like prices per instance-hour, so generated fees look like the real thing. */
const HOURLY_PRICE: Record<string, number> = {
  'p4d': 11.57, 'p4de': 14.39, 'p5': 31.46, 'p5e': 34.61, 'p5en': 36.18, 'p6-b200': 48.2, 'p6-b300': 60.1, 'p6e-gb200': 64.8, 'trn1': 9.9, 'trn2': 18.2, 'trn2u': 21.4,
};
/** What the emulator knows of UltraServer types: the node instance type and how many nodes one holds. */
const ULTRASERVERS: Record<string, { instanceType: string; nodes: number; localZoneOnly: boolean }> = {
  'u-p6e-gb200x72': { instanceType: 'p6e-gb200.36xlarge', nodes: 18, localZoneOnly: true },
  'u-p6e-gb200x36': { instanceType: 'p6e-gb200.36xlarge', nodes: 9, localZoneOnly: true },
  'u-trn2x64': { instanceType: 'trn2u.48xlarge', nodes: 4, localZoneOnly: false },
};

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
  /**
   * DescribeCapacityReservations calls the consistency options acted on, by option: tagLag (a
   * reservation asked about still showed no tags), ultraserverListingLag (one was still unlisted),
   * tagFilterRefused (a tag filter refused). For reports: proof the options really acted.
   */
  public readonly lagsShown: Record<string, number> = {};
  public readonly clock: SimulatedClock;
  /** Future-dated On-Demand Capacity Reservations (CreateCapacityReservation with a StartDate). */
  public readonly future: FutureReservationInventory;
  /**
   * Awaited before each request is carried out: a test sets it to hand the order in which concurrent
   * requests are served to a scheduler (fast-check's fc.scheduler), and so explore interleavings.
   */
  public gate?: (action: string) => Promise<void>;
  private readonly server = new LoopbackServer(request => this.handle(request));
  private readonly sold = new Set<string>();
  private soldBeforePurchase: number;
  private paymentFails?: (offeringId: string) => boolean;
  private readonly scripted: Array<{ action: string; fault: ScriptedEc2Fault; when?: (params: Record<string, string>) => boolean }> = [];
  private readonly xml = new (localVendor().XMLBuilder)({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: true });
  private endpointUrl?: string;
  /** DescribeCapacityReservations calls so far. */
  private describes = 0;

  constructor(private readonly options: Ec2EmulatorOptions = {}) {
    this.faults = new FaultInjector(options.faults);
    this.clock = options.clock ?? new SimulatedClock();
    this.future = new FutureReservationInventory(this.clock, { region: options.region ?? 'us-east-1', accountId: options.accountId ?? '123456789012' }, options.futureReservations);
    this.soldBeforePurchase = options.soldBeforePurchase ?? 0;
    this.paymentFails = options.paymentFails;
  }

  /**
   * The next request for `action` meets `fault`: 'hang' (never answered), 'hangAfter' (carried out,
   * never answered), 'lostAnswer' (carried out, answered 500), 'serverError' (500, not carried out) or
   * 'throttle' (RequestLimitExceeded, not carried out). `count` in a row makes a burst: the SDK's own
   * retries (4 attempts) meet it all, so a burst of 4 fails the call.
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

  /** Purchases that succeeded (each a block someone pays for), each as its lowest reservation. */
  public get purchases(): EmulatedReservation[] {
    return [...this.reservations.values()].filter(r => r.id === r.purchaseId);
  }

  /** Every reservation of the purchase `id` belongs to, lowest first. */
  public reservationsOfPurchase(id: string): EmulatedReservation[] {
    const purchaseId = this.reservations.get(id)?.purchaseId;
    return [...this.reservations.values()].filter(r => r.purchaseId === purchaseId).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** From now on EC2 lists every reservation it holds (ends ultraserverListingLag early). */
  public listEverything(): void {
    for (const r of this.reservations.values()) {
      r.listedFromDescribe = undefined;
      r.taggedFromDescribe = undefined;
    }
  }

  /** EC2 moves a reservation to a state of its own (delayed, unavailable, …); undefined to clear it. */
  public setState(id: string, state: string | undefined): void {
    const r = this.reservations.get(id);
    if (!r) throw new Error(`no reservation ${id}`);
    r.stateOverride = state;
  }

  public stateOf(r: EmulatedReservation): string {
    if (r.stateOverride) return r.stateOverride;
    const now = this.clock.now();
    if (now.getTime() < r.createDate.getTime() + (this.options.paymentDelayMs ?? 90_000)) return 'payment-pending';
    if (r.paymentFailed) return 'payment-failed';
    if (now < r.offering.startDate) return 'scheduled';
    return now < this.endDateOf(r) ? 'active' : 'expired';
  }

  /** The block's end: as bought, plus every extension whose payment has cleared. */
  public endDateOf(r: EmulatedReservation): Date {
    const paid = this.extensions.filter(e => e.reservationId === r.id && this.extensionStatus(e) === EXTENSION_STATES.succeeded);
    return new Date(r.boughtEndDate.getTime() + paid.reduce((h, e) => h + e.hours, 0) * HOUR);
  }

  public extensionStatus(e: EmulatedExtension): string {
    const delay = this.options.extensionPaymentDelayMs ?? this.options.paymentDelayMs ?? 90_000;
    if (this.clock.now().getTime() < e.purchaseDate.getTime() + delay) return EXTENSION_STATES.pending;
    return e.paymentFails ? EXTENSION_STATES.failed : EXTENSION_STATES.succeeded;
  }

  /** Listed by DescribeCapacityReservations (and named by its block) now: see answersWithoutIds. */
  private listedNow(r: EmulatedReservation): boolean {
    return !r.listedFrom || r.listedFrom <= this.clock.now();
  }

  private async handle(request: RawRequest): Promise<RawResponse | 'reset'> {
    const raw = Object.fromEntries(new URLSearchParams(request.body));
    const action = raw.Action ?? '';
    const params = this.recordingReads(action, raw);
    const latency = this.faults.latency();
    if (latency > 0) await sleep(latency);
    if (this.gate) await this.gate(action);
    const i = this.scripted.findIndex(s => s.action === action && (s.when?.(params) ?? true));
    const scripted = i >= 0 ? this.scripted.splice(i, 1)[0].fault : undefined;
    const fault = scripted ?? this.faults.before();
    this.calls.push({ action, params: raw, fault, resourceTags: this.tagsOfNamed(raw) });
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

  private tagsOfNamed(raw: Record<string, string>): Array<Record<string, string>> {
    const ids = [raw.CapacityReservationId, ...list(raw, 'ResourceId')].filter((id): id is string => !!id);
    return ids.map(id => Object.fromEntries(this.reservations.get(id)?.tags ?? this.future.reservations.get(id)?.tags ?? []));
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
      case 'CancelCapacityReservation': return this.future.owns(p.CapacityReservationId ?? '') ? this.future.cancel(p) : this.cancel(p);
      case 'CreateCapacityReservation': return this.createReservation(p);
      case 'ModifyCapacityReservation': return this.future.modify(p);
      case 'CreateCapacityReservationCancellationQuote': return this.future.createCancellationQuote(p);
      case 'CreateCapacityReservationDateChangeQuote': return this.future.createDateChangeQuote(p);
      case 'DescribeCapacityBlockExtensionOfferings': return this.describeExtensionOfferings(p);
      case 'PurchaseCapacityBlockExtension': return this.purchaseExtension(p);
      case 'DescribeCapacityBlocks': return this.describeCapacityBlocks(p);
      case 'DescribeCapacityBlockStatus': return this.describeCapacityBlockStatus(p);
      case 'DescribeCapacityBlockExtensionHistory': return this.describeExtensionHistory(p);
      default: throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private describeOfferings(p: Record<string, string>): Record<string, unknown> {
    const hours = Number(p.CapacityDurationHours);
    if (!hours) throw new Ec2Error('MissingParameter', 'The request must contain the parameter CapacityDurationHours');
    const from = p.StartDateRange ? new Date(p.StartDateRange) : undefined;
    const to = p.EndDateRange ? new Date(p.EndDateRange) : undefined;
    const ultraserver = p.UltraserverType;
    if (ultraserver && (p.InstanceType || p.InstanceCount)) {
      throw new Ec2Error('InvalidParameterCombination', 'UltraserverType cannot be combined with InstanceType or InstanceCount');
    }
    refuseUnknownEc2InstanceType(p.InstanceType, (code, message) => new Ec2Error(code, message));
    const allZones = p.AllAvailabilityZones === 'true';
    const optedIn = new Set(this.options.optedInLocalZones ?? []);
    const generated = () => (ultraserver
      ? this.generateUltraServers(ultraserver, Number(p.UltraserverCount ?? 1), hours)
      : this.generate(p.InstanceType ?? 'p5.48xlarge', Number(p.InstanceCount ?? 1), hours));
    const all = (this.options.offerings ?? generated())
      .filter(o => !this.sold.has(o.id))
      .filter(o => (ultraserver
        ? o.ultraserverType === ultraserver && (!p.UltraserverCount || o.ultraserverCount === Number(p.UltraserverCount))
        : !o.ultraserverType && (!p.InstanceType || o.instanceType === p.InstanceType) && (!p.InstanceCount || o.instanceCount === Number(p.InstanceCount))))
      // Local Zone offerings are listed to accounts opted in to the zone, or when all zones are asked for.
      .filter(o => o.zoneType !== 'local-zone' || allZones || optedIn.has(o.availabilityZone))
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
        // Hours plus minutes: a block that starts off 11:30 UTC is short of whole days.
        capacityBlockDurationHours: Math.floor(minutesOf(o) / 60), capacityBlockDurationMinutes: minutesOf(o) % 60,
        upfrontFee: o.upfrontFee, currencyCode: o.currencyCode, tenancy: 'default',
        ultraserverType: o.ultraserverType, ultraserverCount: o.ultraserverCount, zoneType: o.zoneType ?? 'availability-zone',
      })) },
      nextToken: start + size < all.length ? String(start + size) : undefined,
    };
  }

  /** Three zones × four start days; prices vary by zone and lead time, deterministically. */
  private generate(instanceType: string, count: number, hours: number): EmulatedOffering[] {
    const region = this.options.region ?? 'us-east-1';
    const perHour = HOURLY_PRICE[instanceType.split('.')[0]] ?? 20;
    const today = this.today();
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
    if (this.options.sameDayOfferings) {
      ['a', 'b', 'c'].forEach(zone => offerings.push(this.sameDay(`cb-${instanceType.replace(/[^a-z0-9]/g, '')}${count}x${hours}${zone}0`, `${region}${zone}`, hours, perHour * count, { instanceType, instanceCount: count })));
    }
    return offerings;
  }

  /**
   * UltraServer offerings: P6e-GB200 only in the region's Dallas Local Zone (as EC2 sells them), the
   * others in two Availability Zones and that Local Zone. Priced per node-hour like instances.
   */
  private generateUltraServers(type: string, count: number, hours: number): EmulatedOffering[] {
    const region = this.options.region ?? 'us-east-1';
    const known = ULTRASERVERS[type] ?? { instanceType: 'p6e-gb200.36xlarge', nodes: 18, localZoneOnly: false };
    const perHour = (HOURLY_PRICE[known.instanceType.split('.')[0]] ?? 40) * known.nodes * count;
    const zones: Array<[string, string]> = [[`${region}-dfw-2a`, 'local-zone']];
    if (!known.localZoneOnly) zones.push([`${region}a`, 'availability-zone'], [`${region}b`, 'availability-zone']);
    const today = this.today();
    const key = `cb-${type.replace(/[^a-z0-9]/g, '')}${count}x${hours}`;
    const offerings: EmulatedOffering[] = [];
    zones.forEach(([zone, zoneType], z) => [2, 9].forEach((days, d) => offerings.push({
      id: `${key}z${z}d${days}`, instanceType: known.instanceType, availabilityZone: zone, instanceCount: known.nodes * count,
      startDate: new Date(today.getTime() + days * 24 * HOUR), durationHours: hours, ultraserverType: type, ultraserverCount: count, zoneType,
      upfrontFee: (perHour * hours * (1 + 0.05 * z + 0.08 * (1 - d))).toFixed(2), currencyCode: 'USD',
    })));
    if (this.options.sameDayOfferings) {
      offerings.push(this.sameDay(`${key}z0d0`, zones[0][0], hours, perHour, {
        instanceType: known.instanceType, instanceCount: known.nodes * count, ultraserverType: type, ultraserverCount: count, zoneType: zones[0][1],
      }));
    }
    return offerings;
  }

  /** 11:30 UTC of the simulated day: EC2 never offers a block that starts before now, however far the clock moved. */
  private today(): Date {
    const now = this.clock.now();
    return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 11, 30));
  }

  /** Starts within the hour (on a 5-minute mark) and ends at 11:30 UTC: short of the whole days it is sold as. */
  private sameDay(id: string, zone: string, hours: number, perHour: number, shape: Pick<EmulatedOffering, 'instanceType' | 'instanceCount'> & Partial<EmulatedOffering>): EmulatedOffering {
    const now = this.clock.now().getTime();
    const start = new Date(Math.ceil((now + 35 * 60_000) / (5 * 60_000)) * 5 * 60_000);
    let end = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate(), 11, 30);
    while (end <= start.getTime()) end += 24 * HOUR;
    end += (hours / 24 - 1) * 24 * HOUR;
    const minutes = Math.round((end - start.getTime()) / 60_000);
    return { ...shape, id, availabilityZone: zone, startDate: start, durationHours: hours, durationMinutes: minutes, upfrontFee: (perHour * minutes / 60).toFixed(2), currencyCode: 'USD' };
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
    const tags = tagSpecifications(p, 'capacity-reservation', 'TagSpecification');
    // An instance purchase is one block of one reservation; an UltraServer purchase one block per
    // UltraServer, each of several reservations sharing its instances. Every one carries the tags.
    const ultraservers = offering.ultraserverType ? offering.ultraserverCount ?? 1 : 1;
    const perBlock = offering.ultraserverType ? this.options.reservationsPerUltraServer ?? 2 : 1;
    const paymentFailed = this.paymentFails?.(offering.id) ?? false;
    const ids = Array.from({ length: ultraservers * perBlock }, () => `cr-${randomBytes(8).toString('hex')}`);
    const purchaseId = [...ids].sort()[0];
    const blocks = Array.from({ length: ultraservers }, () => `cb-${randomBytes(8).toString('hex')}`);
    const instancesPerBlock = offering.instanceCount / ultraservers;
    const highest = [...ids].sort().pop();
    const lag = offering.ultraserverType ? this.options.ultraserverListingLag ?? 0 : 0;
    const withoutIds = this.options.answersWithoutIds?.(offering) ?? false;
    const listedFrom = withoutIds ? new Date(this.clock.now().getTime() + (this.options.listingDelayMs ?? 40_000)) : undefined;
    ids.forEach((id, i) => {
      const slot = i % perBlock;
      const share = Math.floor(instancesPerBlock / perBlock) + (slot < instancesPerBlock % perBlock ? 1 : 0);
      this.reservations.set(id, {
        id, blockId: blocks[Math.floor(i / perBlock)], purchaseId, instanceCount: share, offering, platform: p.InstancePlatform,
        createDate: this.clock.now(), tags: new Map(tags), boughtEndDate: endOf(offering), paymentFailed,
        listedFromDescribe: lag > 0 && id !== highest ? this.describes + lag + 1 : undefined,
        taggedFromDescribe: this.options.tagLag ? this.describes + this.options.tagLag + 1 : undefined,
        listedFrom,
      });
    });
    const capacityBlockSet = { item: blocks.map(b => this.renderBlock(b)) };
    // EC2 answers an UltraServer purchase with its blocks only; an instance purchase with the reservation
    // too, unless it answers before it has the ids (then the blocks name none yet).
    return offering.ultraserverType || withoutIds ? { capacityBlockSet } : { capacityReservation: this.render(this.reservations.get(ids[0])!), capacityBlockSet };
  }

  private blockMembers(blockId: string): EmulatedReservation[] {
    return [...this.reservations.values()].filter(r => r.blockId === blockId).sort((a, b) => a.id.localeCompare(b.id));
  }

  private renderBlock(blockId: string): Record<string, unknown> {
    const members = this.blockMembers(blockId);
    const first = members[0];
    const states = members.map(r => this.stateOf(r));
    return {
      capacityBlockId: blockId, ultraserverType: first.offering.ultraserverType, availabilityZone: first.offering.availabilityZone,
      capacityReservationIdSet: { item: members.filter(r => this.listedNow(r)).map(r => r.id) }, startDate: first.offering.startDate.toISOString(), endDate: this.endDateOf(first).toISOString(),
      createDate: first.createDate.toISOString(), state: blockState(states),
      tagSet: { item: [...first.tags].map(([key, value]) => ({ key, value })) },
    };
  }

  private describeCapacityBlocks(p: Record<string, string>): Record<string, unknown> {
    const ids = list(p, 'CapacityBlockId');
    const known = new Set([...this.reservations.values()].map(r => r.blockId));
    for (const id of ids) if (!known.has(id)) throw new Ec2Error('InvalidCapacityBlockId.NotFound', `The Capacity Block ID '${id}' does not exist`);
    return { capacityBlockSet: { item: (ids.length > 0 ? ids : [...known]).map(id => this.renderBlock(id)) } };
  }

  private describeCapacityBlockStatus(p: Record<string, string>): Record<string, unknown> {
    const ids = list(p, 'CapacityBlockId');
    const known = new Set([...this.reservations.values()].map(r => r.blockId));
    for (const id of ids) if (!known.has(id)) throw new Ec2Error('InvalidCapacityBlockId.NotFound', `The Capacity Block ID '${id}' does not exist`);
    return { capacityBlockStatusSet: { item: (ids.length > 0 ? ids : [...known]).map(id => {
      const members = this.blockMembers(id);
      const total = members.reduce((n, r) => n + r.instanceCount, 0);
      const active = members.every(r => this.stateOf(r) === 'active');
      return {
        capacityBlockId: id, interconnectStatus: this.options.interconnectStatus?.(id) ?? 'ok',
        totalCapacity: total, totalAvailableCapacity: active ? total : 0, totalUnavailableCapacity: 0,
        capacityReservationStatusSet: { item: members.map(r => ({ capacityReservationId: r.id, totalCapacity: r.instanceCount, totalAvailableCapacity: active ? r.instanceCount : 0, totalUnavailableCapacity: 0 })) },
      };
    }) } };
  }

  private describeReservations(p: Record<string, string>): Record<string, unknown> {
    const ids = list(p, 'CapacityReservationId');
    const call = ++this.describes;
    // Lags counted in calls end at the latest lagCapMs after the purchase: EC2's lists catch up in time,
    // however few calls were made meanwhile.
    const caughtUp = (r: EmulatedReservation) => this.clock.now().getTime() >= r.createDate.getTime() + (this.options.lagCapMs ?? 2 * 60_000);
    const listed = (r: EmulatedReservation) => ((r.listedFromDescribe ?? 0) <= call || caughtUp(r)) && this.listedNow(r);
    const tagged = (r: EmulatedReservation) => ((r.taggedFromDescribe ?? 0) <= call || caughtUp(r)) && this.clock.now().getTime() >= r.createDate.getTime() + (this.options.tagLagMs ?? 0);
    const tagsOf = (r: EmulatedReservation) => (tagged(r) ? r.tags : new Map<string, string>());
    const all = [...this.reservations.values()].filter(r => ids.length === 0 || ids.includes(r.id));
    if (all.some(r => !listed(r))) this.showed('ultraserverListingLag');
    if (all.some(r => listed(r) && !tagged(r))) this.showed('tagLag');
    const futureDated = this.future.describe(ids);
    for (const id of ids) {
      const r = this.reservations.get(id);
      if ((!r || !listed(r)) && !futureDated.some(f => f.id === id)) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${id}' does not exist`);
    }
    let found = all.filter(listed);
    for (let i = 1; p[`Filter.${i}.Name`] !== undefined; i++) {
      const name = p[`Filter.${i}.Name`];
      const values = list(p, `Filter.${i}.Value`);
      // EC2 refuses an unknown filter whatever it would match.
      if (name.startsWith('tag:') && this.options.tagFilters === 'refused') {
        this.showed('tagFilterRefused');
        throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      }
      found = found.filter(r => {
        if (name.startsWith('tag:')) return values.includes(tagsOf(r).get(name.slice(4)) ?? '\u0000');
        if (name === 'instance-type') return values.includes(r.offering.instanceType);
        if (name === 'availability-zone') return values.includes(r.offering.availabilityZone);
        if (name === 'state') return values.includes(this.stateOf(r));
        throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      });
    }
    const futureFound = futureDated.filter(r => filters(p).every(([name, values]) => {
      if (name.startsWith('tag:')) return values.includes(r.tags.get(name.slice(4)) ?? '\u0000');
      if (name === 'instance-type') return values.includes(r.instanceType);
      if (name === 'availability-zone') return values.includes(r.availabilityZone);
      return name === 'state' && values.includes(this.future.stateOf(r));
    }));
    return { capacityReservationSet: { item: [...found.map(r => this.render(r, tagsOf(r))), ...futureFound.map(r => this.future.render(r))] } };
  }

  private showed(lag: string): void {
    this.lagsShown[lag] = (this.lagsShown[lag] ?? 0) + 1;
  }

  private render(r: EmulatedReservation, tags = r.tags): Record<string, unknown> {
    const region = this.options.region ?? 'us-east-1';
    return {
      capacityReservationId: r.id,
      ownerId: this.options.accountId ?? '123456789012',
      capacityReservationArn: `arn:aws:ec2:${region}:${this.options.accountId ?? '123456789012'}:capacity-reservation/${r.id}`,
      instanceType: r.offering.instanceType,
      instancePlatform: r.platform,
      availabilityZone: r.offering.availabilityZone,
      tenancy: 'default',
      totalInstanceCount: r.instanceCount,
      availableInstanceCount: 0,
      state: this.stateOf(r),
      startDate: r.offering.startDate.toISOString(),
      endDate: this.endDateOf(r).toISOString(),
      endDateType: 'limited',
      instanceMatchCriteria: 'targeted',
      createDate: r.createDate.toISOString(),
      reservationType: 'capacity-block',
      capacityBlockId: r.blockId,
      tagSet: { item: [...tags].map(([key, value]) => ({ key, value })) },
    };
  }

  /** CreateCapacityReservation: only future-dated requests are emulated (immediate ones are not this library's). */
  private createReservation(p: Record<string, string>): Record<string, unknown> {
    if (!FutureReservationInventory.isFutureDated(p)) throw new Ec2Error('UnsupportedOperation', 'The emulator serves future-dated Capacity Reservations only (StartDate, CommitmentDuration, DeliveryPreference).');
    return this.future.create(p);
  }

  private tag(p: Record<string, string>, apply: (r: Pick<EmulatedReservation, 'tags'>, key: string, value: string) => void): Record<string, unknown> {
    for (const id of list(p, 'ResourceId')) {
      const r = this.reservations.get(id) ?? this.future.reservations.get(id);
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
      startDate: r.offering.startDate.toISOString(), capacityBlockExtensionStartDate: this.endDateOf(r).toISOString(),
      capacityBlockExtensionEndDate: new Date(this.endDateOf(r).getTime() + hours * HOUR).toISOString(),
      capacityBlockExtensionDurationHours: hours, upfrontFee: extensionFee(r, hours), currencyCode: r.offering.currencyCode, tenancy: 'default',
    }] } };
  }

  private purchaseExtension(p: Record<string, string>): Record<string, unknown> {
    const r = this.reservations.get(p.CapacityReservationId ?? '');
    if (!r) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${p.CapacityReservationId}' does not exist`);
    const hours = Number((p.CapacityBlockExtensionOfferingId ?? '').slice(12));
    const state = this.stateOf(r);
    if (state !== 'scheduled' && state !== 'active') {
      throw new Ec2Error('IncorrectState', `The Capacity Block ${r.id} is ${state}; only scheduled or active blocks can be extended.`);
    }
    if (this.extensions.some(e => e.reservationId === r.id && this.extensionStatus(e) === EXTENSION_STATES.pending)) {
      throw new Ec2Error('IncorrectState', `The Capacity Block ${r.id} has an extension whose payment is pending.`);
    }
    const extension: EmulatedExtension = {
      reservationId: r.id, offeringId: p.CapacityBlockExtensionOfferingId ?? '', hours, upfrontFee: extensionFee(r, hours),
      currencyCode: r.offering.currencyCode, purchaseDate: this.clock.now(), paymentFails: this.options.extensionPaymentFails?.(r.id) ?? false,
    };
    this.extensions.push(extension);
    return { capacityBlockExtensionSet: { item: [this.renderExtension(extension)] } };
  }

  private renderExtension(e: EmulatedExtension): Record<string, unknown> {
    const r = this.reservations.get(e.reservationId)!;
    // Its window runs from the block's end before it (earlier extensions included) for its hours.
    const before = this.extensions.slice(0, this.extensions.indexOf(e)).filter(x => x.reservationId === e.reservationId && this.extensionStatus(x) !== EXTENSION_STATES.failed);
    const start = new Date(r.boughtEndDate.getTime() + before.reduce((h, x) => h + x.hours, 0) * HOUR);
    return {
      capacityReservationId: r.id, instanceType: r.offering.instanceType, instanceCount: r.instanceCount, availabilityZone: r.offering.availabilityZone,
      capacityBlockExtensionOfferingId: e.offeringId, capacityBlockExtensionDurationHours: e.hours, capacityBlockExtensionStatus: this.extensionStatus(e),
      capacityBlockExtensionPurchaseDate: e.purchaseDate.toISOString(), capacityBlockExtensionStartDate: start.toISOString(),
      capacityBlockExtensionEndDate: new Date(start.getTime() + e.hours * HOUR).toISOString(), upfrontFee: e.upfrontFee, currencyCode: e.currencyCode,
    };
  }

  /** DescribeCapacityBlockExtensionHistory by reservation id: read by id, so it does not lag. */
  private describeExtensionHistory(p: Record<string, string>): Record<string, unknown> {
    const ids = list(p, 'CapacityReservationId');
    for (const id of ids) {
      if (!this.reservations.get(id)) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${id}' does not exist`);
    }
    const found = this.extensions.filter(e => ids.length === 0 || ids.includes(e.reservationId));
    return { capacityBlockExtensionSet: { item: found.map(e => this.renderExtension(e)) } };
  }

  private error(error: Ec2Error): RawResponse {
    return {
      status: error.status,
      contentType: 'text/xml;charset=UTF-8',
      body: this.xml.build({ Response: { Errors: { Error: { Code: error.code, Message: error.message } }, RequestID: requestId() } }),
    };
  }
}

/**
 * A Capacity Block's state from its reservations'. The model lists fewer block states than reservation
 * states (no delayed, pending or assessing): where no block state says it, none is sent.
 */
const BLOCK_STATES = ['payment-failed', 'failed', 'unavailable', 'cancelled', 'payment-pending', 'scheduled', 'active', 'expired'];
function blockState(reservationStates: string[]): string | undefined {
  if (reservationStates.some(s => !BLOCK_STATES.includes(s))) {
    return BLOCK_STATES.slice(0, 4).find(s => reservationStates.includes(s));
  }
  return BLOCK_STATES.find(s => reservationStates.includes(s));
}

/** Extensions cost 10% more per hour than the block did. */
function extensionFee(r: EmulatedReservation, hours: number): string {
  return (Number(r.offering.upfrontFee) / (r.offering.durationHours || 1) * hours * 1.1).toFixed(2);
}

function minutesOf(o: EmulatedOffering): number {
  return o.durationMinutes ?? o.durationHours * 60;
}

function endOf(o: EmulatedOffering): Date {
  return new Date(o.startDate.getTime() + minutesOf(o) * 60_000);
}

/** The Filter.N.Name / Filter.N.Value.M pairs of a request. */
function filters(p: Record<string, string>): Array<[string, string[]]> {
  const found: Array<[string, string[]]> = [];
  for (let i = 1; p[`Filter.${i}.Name`] !== undefined; i++) found.push([p[`Filter.${i}.Name`], list(p, `Filter.${i}.Value`)]);
  return found;
}

function requestId(): string {
  return randomBytes(16).toString('hex').replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');
}
