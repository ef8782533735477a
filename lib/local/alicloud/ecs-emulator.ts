import { createHash, randomBytes } from 'crypto';
import { FaultInjector, FaultPlan, seededRandom, SimulatedClock } from '../faults';
import { localVendor } from '../modules';
import { LoopbackServer, RawRequest, RawResponse, sleep } from '../http-server';
import { refuseUnknownEcsInstanceType } from '../instance-types';

export interface EcsEmulatorOptions {
  /** The AccessKey pair requests must be signed with. */
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
  /** Instances in stock per zone; a zone not listed does not exist. */
  readonly stock?: Record<string, number>;
  /** Force an error code for creates in a zone, e.g. { 'cn-hangzhou-h': 'Zone.NotOnSale' }. */
  readonly zoneErrors?: Record<string, string>;
  /** Existing resource groups. @default none (any ResourceGroupId is InvalidResourceGroup.NotFound) */
  readonly resourceGroups?: string[];
  /** Pay-as-you-go price of one instance-hour per instance type, in CNY. @default DEFAULT_HOURLY_PRICE for any type */
  readonly hourlyPrices?: Record<string, number>;
  /** Chance a create in the zone answers NoStock although stock is left (stock comes and goes). */
  readonly flakyStock?: Record<string, number>;
  /** Sees every call as it is recorded (its answer is filled in once given). */
  readonly onCall?: (call: EcsCall) => void;
  /** Describes of a new reservation that still show Pending. @default 1 */
  readonly pendingPolls?: number;
  /** Seedable eventual consistency, drawn per reservation (see EcsConsistency). @default none: no lag */
  readonly consistency?: EcsConsistency;
  /** Pay-as-you-go price of one Windows instance-hour per type, in CNY. @default the Linux price */
  readonly windowsHourlyPrices?: Record<string, number>;
  readonly faults?: FaultPlan;
  readonly clock?: SimulatedClock;
  /**
   * Other tenants take capacity the moment it is released: a release (or an expiry) does not put
   * stock back. A rollback that would need the released capacity again finds none.
   * @default false (released capacity returns to the zone's stock)
   */
  readonly othersTakeReleased?: boolean;
}

/**
 * How ECS is eventually consistent, each range drawn per reservation from `seed` (ms of the
 * emulator's clock), so a run replays from its seed:
 * - tagListingLagMs: a new reservation is missing from tag-filtered DescribeCapacityReservations
 *   for this long (reads by PrivatePoolOptions.Ids show it at once). Source: the handler's own
 *   comments and DESIGN.md ("new reservations show in tag listings after a lag"); ECS does not
 *   document the lag, so the range is a model, not a measurement.
 * - pendingMs: how long a new reservation stays Pending before Active (as well as `pendingPolls`).
 *   Source: DescribeCapacityReservations' status list (Pending/Preparing/Prepared/Active/Released).
 * Always on, whatever the seed: a release of a Pending reservation is refused with
 * Invalid.PrivatePoolOptions.status (the handler's error table: "cannot be released in its current
 * state; wait until it is Active"), and a Limited reservation is Released at its EndTime (the ECS
 * seed: released by the system at expiry).
 */
export interface EcsConsistency {
  readonly seed?: number;
  readonly tagListingLagMs?: readonly [number, number];
  readonly pendingMs?: readonly [number, number];
}

export interface EmulatedCapacityReservation {
  readonly id: string;
  readonly zoneId: string;
  readonly instanceType: string;
  amount: number;
  status: 'Pending' | 'Active' | 'Released';
  name?: string;
  description?: string;
  matchCriteria: string;
  endTime?: string;
  readonly resourceGroupId?: string;
  readonly startTime: string;
  /** Instances (Open matching, or targeting it) that use the reservation now: Modify cannot go below it. */
  used: number;
  readonly tags: Map<string, string>;
  polls: number;
  /** Emulator clock (ms) from which tag-filtered listings show it, and from which it may turn Active. */
  listedFrom?: number;
  activeFrom?: number;
}

export interface EcsCall {
  readonly action: string;
  readonly query: Record<string, string>;
  readonly fault?: string;
  /** The JSON body answered (success or error), for the model checks. */
  answer?: Record<string, unknown>;
}

class EcsError extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 400) {
    super(message);
  }
}

/** What the emulator charges per instance-hour for a type not in `hourlyPrices`, in CNY. */
export const DEFAULT_HOURLY_PRICE = 1.5;

const MUTATING = new Set(['CreateCapacityReservation', 'ModifyCapacityReservation', 'ReleaseCapacityReservation', 'TagResources', 'UntagResources']);

/**
 * ECS RPC (2014-05-26) as the official OpenAPI client sends it: ACS3-HMAC-SHA256-signed requests
 * (verified against the configured key), JSON answers, per-zone stock, ClientToken idempotency,
 * Pending -> Active, and the CreateCapacityReservation error codes. Loopback only.
 */
export class EcsEmulator {
  public readonly calls: EcsCall[] = [];
  public readonly reservations = new Map<string, EmulatedCapacityReservation>();
  public readonly faults: FaultInjector;
  public readonly clock: SimulatedClock;
  public readonly accessKeyId: string;
  public readonly accessKeySecret: string;
  /** Error codes the next ReleaseCapacityReservation calls answer, one per call (after the reservation is found). */
  public readonly failNextRelease: string[] = [];
  /** Sees every call as it is recorded, like options.onCall, but settable after construction (a test's timing hook). */
  public tap?: (call: EcsCall) => void;
  private readonly flaky: () => number;
  private readonly stock: Record<string, number>;
  /** ClientToken -> the reservation it made and the parameters it was made with. */
  private readonly tokens = new Map<string, { id: string; params: string }>();
  private readonly consistencyDraw: () => number;
  private readonly server = new LoopbackServer(request => this.handle(request));
  private hostPort?: string;

  constructor(private readonly options: EcsEmulatorOptions = {}) {
    this.faults = new FaultInjector(options.faults);
    this.clock = options.clock ?? new SimulatedClock();
    this.accessKeyId = options.accessKeyId ?? 'LTAI5tLocalEmulatorKey';
    this.accessKeySecret = options.accessKeySecret ?? randomBytes(15).toString('base64');
    this.stock = { ...(options.stock ?? { 'cn-hangzhou-h': 16, 'cn-hangzhou-i': 16 }) };
    this.flaky = seededRandom((options.faults?.seed ?? 1) * 7919);
    this.consistencyDraw = seededRandom((options.consistency?.seed ?? 1) * 15485863);
  }

  /** A reservation made elsewhere (another team, the console): the handler must never touch it. */
  public addForeign(zoneId: string, instanceType: string, tags: Record<string, string> = {}): EmulatedCapacityReservation {
    const id = `crp-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const r: EmulatedCapacityReservation = {
      id, zoneId, instanceType, amount: 1, status: 'Active', matchCriteria: 'Open', startTime: this.clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      tags: new Map(Object.entries(tags)), polls: 0, used: 0,
    };
    this.reservations.set(id, r);
    return r;
  }

  private drawn(range: readonly [number, number] | undefined): number {
    return range ? range[0] + Math.floor(this.consistencyDraw() * (range[1] - range[0] + 1)) : 0;
  }

  /** host:port, for ALIBABA_CLOUD_ECS_ENDPOINT (with ALIBABA_CLOUD_ECS_PROTOCOL=http). */
  public get endpoint(): string {
    if (!this.hostPort) throw new Error('EcsEmulator is not started');
    return this.hostPort;
  }

  public async start(): Promise<string> {
    this.hostPort = await this.server.start();
    return this.hostPort;
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  /** Reservations not released: what still bills. */
  public live(): EmulatedCapacityReservation[] {
    return [...this.reservations.values()].filter(r => r.status !== 'Released');
  }

  private async handle(request: RawRequest): Promise<RawResponse | 'reset'> {
    const query = Object.fromEntries(request.url.searchParams);
    const action = String(request.headers['x-acs-action'] ?? query.Action ?? '');
    const latency = this.faults.latency();
    if (latency > 0) await sleep(latency);
    try {
      this.verifySignature(request, query);
    } catch (error) {
      this.calls.push({ action, query, fault: 'signature' });
      return this.error(error as EcsError);
    }
    const fault = this.faults.before();
    const call: EcsCall = { action, query, fault };
    this.calls.push(call);
    this.options.onCall?.(call);
    this.tap?.(call);
    if (fault === 'reset') return 'reset';
    if (fault === 'throttle') return this.error(new EcsError('Throttling.User', 'Request was denied due to user flow control.'));
    if (fault === 'serverError') return this.error(new EcsError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', 503));
    try {
      const body = this.dispatch(action, query);
      if (MUTATING.has(action) && this.faults.loseAnswer(action)) return this.error(new EcsError('InternalError', 'The request processing has failed due to some unknown error.', 500));
      call.answer = { RequestId: requestId(), ...body };
      return { status: 200, contentType: 'application/json', body: JSON.stringify(call.answer) };
    } catch (error) {
      if (error instanceof EcsError) return this.error(error);
      throw error;
    }
  }

  /** Recomputes the ACS3 signature with the official utility and compares; also checks the body hash. */
  private verifySignature(request: RawRequest, query: Record<string, string>): void {
    const authorization = String(request.headers.authorization ?? '');
    const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(authorization);
    if (!match) throw new EcsError('MissingParameter.Authorization', 'The request is not signed with ACS3-HMAC-SHA256.', 401);
    const [, keyId, signedHeaders] = match;
    if (keyId !== this.accessKeyId) throw new EcsError('InvalidAccessKeyId.NotFound', `Specified access key is not found: ${keyId}`, 404);
    const payloadHash = String(request.headers['x-acs-content-sha256'] ?? '');
    if (payloadHash !== createHash('sha256').update(request.body).digest('hex')) {
      throw new EcsError('IncompleteSignature', 'x-acs-content-sha256 does not match the body.');
    }
    const headers = Object.fromEntries(signedHeaders.split(';').map(h => [h, String(request.headers[h] ?? '')]));
    const expected = localVendor().OpenApiUtil.getAuthorization({ pathname: request.url.pathname, method: request.method, query, headers } as never, 'ACS3-HMAC-SHA256', payloadHash, keyId, this.accessKeySecret);
    if (expected !== authorization) throw new EcsError('SignatureDoesNotMatch', 'The request signature does not conform to Aliyun standards.');
  }

  private dispatch(action: string, q: Record<string, string>): Record<string, unknown> {
    refuseUnknownEcsInstanceType(q.InstanceType, (code, message) => new EcsError(code, message));
    switch (action) {
      case 'CreateCapacityReservation': return this.create(q);
      case 'DescribeCapacityReservations': return this.describe(q);
      case 'DescribeAvailableResource': return this.availableResource(q);
      case 'DescribePrice': return this.price(q);
      case 'ModifyCapacityReservation': return this.modify(q);
      case 'ReleaseCapacityReservation': return this.release(q);
      case 'TagResources': return this.tag(q, (r, i) => {
        // ECS allows 20 tags per resource (the code is a stand-in: only the refusal is modelled).
        if (!r.tags.has(q[`Tag.${i}.Key`]) && r.tags.size >= 20) throw new EcsError('InvalidTagCount', 'A resource can have at most 20 tags.');
        r.tags.set(q[`Tag.${i}.Key`], q[`Tag.${i}.Value`] ?? '');
      }, 'Tag', '.Key');
      case 'UntagResources': return this.tag(q, (r, i) => r.tags.delete(q[`TagKey.${i}`]), 'TagKey', '');
      default: throw new EcsError('InvalidAction.NotFound', `Specified api is not found, please check your url and method: ${action}`, 404);
    }
  }

  private create(q: Record<string, string>): Record<string, unknown> {
    // The ECS idempotence reference: a repeat with the same ClientToken and parameters gets the first
    // result; other parameters get IdempotentParameterMismatch. A failed request leaves the token
    // unused (its 4xx advice: fix the cause, then retry).
    const { ClientToken: token, ...rest } = q;
    const params = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
    const first = token ? this.tokens.get(token) : undefined;
    if (first && first.params !== params) throw new EcsError('IdempotentParameterMismatch', 'The specified parameter has changed while using an already used clientToken.');
    if (first) return { PrivatePoolOptionsId: first.id };
    if (!q.InstanceAmount) throw new EcsError('MissingParameter.InstanceAmount', 'The specified parameter "InstanceAmount" can not be empty.');
    if (!/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/.test(q.InstanceType ?? '')) throw new EcsError('Invalid.InstanceType', 'The specified InstanceType is not valid.');
    if (q['ZoneId.2']) throw new EcsError('Invalid.TooManyZoneIds', 'Too many ZoneIds in the request.');
    const zoneId = q['ZoneId.1'] ?? '';
    if (!(zoneId in this.stock)) throw new EcsError('InvalidZoneId.NotFound', 'The specified zoneId does not exist.', 404);
    const forced = this.options.zoneErrors?.[zoneId];
    if (forced) throw new EcsError(forced, `${forced} in ${zoneId}.`, forced === 'NoStock' ? 400 : 403);
    const name = q['PrivatePoolOptions.Name'];
    if (name !== undefined && !/^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9\u4e00-\u9fa5:_-]{1,127}$/.test(name)) {
      throw new EcsError('Invalid.PrivatePoolOptionsName.MalFormed', 'The specified PrivatePoolOptions.Name is not valid.');
    }
    if (q.ResourceGroupId && !(this.options.resourceGroups ?? []).includes(q.ResourceGroupId)) {
      throw new EcsError('InvalidResourceGroup.NotFound', 'The ResourceGroup provided does not exist in our records.', 404);
    }
    if (q.EndTimeType === 'Limited' && (!q.EndTime || Date.parse(q.EndTime) <= this.clock.now().getTime())) {
      throw new EcsError('Invalid.EndTime', 'The specified parameter "EndTime" is not valid.');
    }
    const amount = Number(q.InstanceAmount);
    if (this.flaky() < (this.options.flakyStock?.[zoneId] ?? 0)) throw new EcsError('NoStock', 'The resource is out of stock in the specified zone.');
    if (this.stock[zoneId] < amount) throw new EcsError('OperationDenied.NoStock', 'The resource is out of stock in the specified zone. Please try other types, or choose other regions and zones.', 403);
    this.stock[zoneId] -= amount;
    const tags = new Map<string, string>();
    for (let i = 1; q[`Tag.${i}.Key`] !== undefined; i++) tags.set(q[`Tag.${i}.Key`], q[`Tag.${i}.Value`] ?? '');
    const id = `crp-${randomBytes(9).toString('hex').slice(0, 17)}`;
    this.reservations.set(id, {
      id, zoneId, instanceType: q.InstanceType, amount, status: 'Pending', name, description: q.Description,
      matchCriteria: q['PrivatePoolOptions.MatchCriteria'] ?? 'Open', endTime: q.EndTime,
      resourceGroupId: q.ResourceGroupId, startTime: this.clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z'), tags, polls: 0, used: 0,
      listedFrom: this.clock.now().getTime() + this.drawn(this.options.consistency?.tagListingLagMs),
      activeFrom: this.clock.now().getTime() + this.drawn(this.options.consistency?.pendingMs),
    });
    if (token) this.tokens.set(token, { id, params });
    return { PrivatePoolOptionsId: id };
  }

  /** Released capacity returns to the zone, unless other tenants take it at once. */
  private giveBack(zoneId: string, amount: number): void {
    if (!this.options.othersTakeReleased) this.stock[zoneId] += amount;
  }

  /**
   * Instances start (or stop) using a reservation: Open matching takes any matching instance, so
   * the used count can reach the reservation's amount at any time (DescribeCapacityReservations' UsedAmount).
   */
  public useInstances(id: string, used: number): void {
    const r = this.reservations.get(id);
    if (!r) throw new Error(`no reservation ${id}`);
    r.used = Math.min(used, r.amount);
  }

  /** A Limited reservation is released by ECS at its EndTime. */
  private expire(): void {
    for (const r of this.reservations.values()) {
      if (r.status !== 'Released' && r.endTime && Date.parse(r.endTime) <= this.clock.now().getTime()) {
        r.status = 'Released';
        this.giveBack(r.zoneId, r.amount);
      }
    }
  }

  private describe(q: Record<string, string>): Record<string, unknown> {
    this.expire();
    let found = [...this.reservations.values()];
    if (q['PrivatePoolOptions.Ids']) {
      const ids: string[] = JSON.parse(q['PrivatePoolOptions.Ids']);
      found = found.filter(r => ids.includes(r.id));
      for (const r of found) {
        if (r.status === 'Pending' && ++r.polls > (this.options.pendingPolls ?? 1) && this.clock.now().getTime() >= (r.activeFrom ?? 0)) r.status = 'Active';
      }
    }
    const now = this.clock.now().getTime();
    for (let i = 1; q[`Tag.${i}.Key`] !== undefined; i++) {
      found = found.filter(r => r.tags.get(q[`Tag.${i}.Key`]) === q[`Tag.${i}.Value`] && now >= (r.listedFrom ?? 0));
    }
    if (q.Status && q.Status !== 'All') found = found.filter(r => r.status === q.Status);
    return {
      CapacityReservationSet: { CapacityReservationItem: found.map(r => ({
        PrivatePoolOptionsId: r.id, PrivatePoolOptionsName: r.name, Description: r.description, RegionId: 'cn-hangzhou',
        PrivatePoolOptionsMatchCriteria: r.matchCriteria, Status: r.status, StartTime: toMinute(r.startTime), StartTimeType: 'Now',
        EndTime: r.endTime ? toMinute(r.endTime) : '', EndTimeType: r.endTime ? 'Limited' : 'Unlimited', InstanceChargeType: 'PostPaid',
        // The request model documents Platform as "not available for use": ECS does not apply it, so every reservation reads as its default.
        Platform: 'linux',
        ResourceGroupId: r.resourceGroupId ?? '',
        // The model spells this one key in lower case (DescribeCapacityReservationsResponseBody...AllocatedResource).
        AllocatedResources: { AllocatedResource: [{ zoneId: r.zoneId, InstanceType: r.instanceType, TotalAmount: r.amount, UsedAmount: r.used, AvailableAmount: r.amount - r.used }] },
        Tags: { Tag: [...r.tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
      })) },
      NextToken: '',
      MaxResults: 100,
      TotalCount: found.length,
    };
  }

  /** Stock of one instance type per zone, as the plan asks it (DestinationResource=InstanceType). */
  private availableResource(q: Record<string, string>): Record<string, unknown> {
    if (!q.RegionId) throw new EcsError('MissingParameter.RegionId', 'The specified parameter "RegionId" can not be empty.');
    if (!q.DestinationResource) throw new EcsError('MissingParameter.DestinationResource', 'The specified parameter "DestinationResource" can not be empty.');
    const zones = Object.keys(this.stock).filter(z => !q.ZoneId || z === q.ZoneId);
    return {
      AvailableZones: { AvailableZone: zones.map(zoneId => {
        const status = this.stock[zoneId] > 0 ? 'Available' : 'SoldOut';
        const category = this.stock[zoneId] > 0 ? 'WithStock' : 'WithoutStock';
        return {
          ZoneId: zoneId, RegionId: q.RegionId, Status: status, StatusCategory: category,
          AvailableResources: { AvailableResource: [{ Type: 'InstanceType', SupportedResources: { SupportedResource: q.InstanceType
            ? [{ Value: q.InstanceType, Status: status, StatusCategory: category }]
            : [] } }] },
        };
      }) },
    };
  }

  /**
   * The pay-as-you-go price for one `PriceUnit` (Hour only here): of `Amount` instances, or for
   * ResourceType CapacityReservation of `InstanceAmount` instances on `Platform` (the request model's members).
   */
  private price(q: Record<string, string>): Record<string, unknown> {
    if (!q.RegionId) throw new EcsError('MissingParameter.RegionId', 'The specified parameter "RegionId" can not be empty.');
    if (!/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/.test(q.InstanceType ?? '')) throw new EcsError('InvalidInstanceType.ValueNotSupported', 'The specified InstanceType does not exist.');
    if ((q.PriceUnit ?? 'Hour') !== 'Hour') throw new EcsError('InvalidPriceUnit.ValueNotSupported', 'The emulator prices by the hour only.');
    const reservation = q.ResourceType === 'CapacityReservation';
    const amount = Number((reservation ? q.InstanceAmount : q.Amount) ?? 1);
    const windows = reservation && /^windows$/i.test(q.Platform ?? '');
    const unit = (windows ? this.options.windowsHourlyPrices?.[q.InstanceType] : undefined) ?? this.options.hourlyPrices?.[q.InstanceType] ?? DEFAULT_HOURLY_PRICE;
    const total = Math.round(unit * amount * 1000) / 1000;
    return { PriceInfo: { Price: { Currency: 'CNY', OriginalPrice: total, DiscountPrice: 0, TradePrice: total }, Rules: { Rule: [] } } };
  }

  private get(id: string | undefined): EmulatedCapacityReservation {
    this.expire();
    if (!id) throw new EcsError('MissingParameter.PrivatePoolOptions.Id', 'The specified PrivatePoolOptions.Id should not be null.');
    const r = this.reservations.get(id);
    if (!r || r.status === 'Released') throw new EcsError('Invalid.PrivatePoolOptions.Id', 'The PrivatePool does not exist.');
    return r;
  }

  private modify(q: Record<string, string>): Record<string, unknown> {
    const r = this.get(q['PrivatePoolOptions.Id']);
    if (q.InstanceAmount !== undefined) {
      // The ModifyCapacityReservation model: InstanceAmount ranges from the number of used instances to 1000.
      if (Number(q.InstanceAmount) < r.used) {
        throw new EcsError('OperationDenied', `The specified InstanceAmount ${q.InstanceAmount} is less than the used amount ${r.used} of the capacity reservation.`, 403);
      }
      const extra = Number(q.InstanceAmount) - r.amount;
      if (extra > (this.stock[r.zoneId] ?? 0)) throw new EcsError('OperationDenied.NoStock', 'The resource is out of stock in the specified zone.', 403);
      this.stock[r.zoneId] -= extra;
      r.amount = Number(q.InstanceAmount);
    }
    if (q['PrivatePoolOptions.Name'] !== undefined) r.name = q['PrivatePoolOptions.Name'];
    if (q.Description !== undefined) r.description = q.Description;
    if (q.EndTimeType === 'Limited' && (!q.EndTime || Date.parse(q.EndTime) <= this.clock.now().getTime())) {
      throw new EcsError('Invalid.EndTime', 'The specified parameter "EndTime" is not valid.');
    }
    if (q.EndTimeType === 'Unlimited') r.endTime = undefined;
    if (q.EndTime !== undefined) r.endTime = q.EndTime;
    return {};
  }

  /**
   * The Release reference: only immediate-effect reservations released manually (Unlimited) may be
   * released; an id released already or unknown is `400 InvalidParameter.PrivatePoolOptions.Ids`.
   * (The code for refusing a Limited one is not documented; OperationDenied stands in for it.)
   */
  private release(q: Record<string, string>): Record<string, unknown> {
    this.expire();
    const id = q['PrivatePoolOptions.Id'];
    if (!id) throw new EcsError('MissingParameter.PrivatePoolOptions.Id', 'The specified PrivatePoolOptions.Id should not be null.');
    const r = this.reservations.get(id);
    if (!r || r.status === 'Released') throw new EcsError('InvalidParameter.PrivatePoolOptions.Ids', 'The specified parameter PrivatePoolOptions.Ids is not valid.');
    if (r.endTime) throw new EcsError('OperationDenied', 'Only capacity reservations released manually (EndTimeType Unlimited) can be released.', 403);
    if (r.status === 'Pending') throw new EcsError('Invalid.PrivatePoolOptions.status', 'The capacity reservation cannot be released in its current status.');
    const injected = this.failNextRelease.shift();
    if (injected) throw new EcsError(injected, `${injected} (injected).`, 403);
    r.status = 'Released';
    this.giveBack(r.zoneId, r.amount);
    return {};
  }

  private tag(q: Record<string, string>, apply: (r: EmulatedCapacityReservation, i: number) => void, list: string, suffix: string): Record<string, unknown> {
    if (q.ResourceType !== 'capacityreservation') throw new EcsError('InvalidResourceType.NotSupported', `ResourceType ${q.ResourceType} is not supported here.`, 403);
    for (let n = 1; q[`ResourceId.${n}`] !== undefined; n++) {
      const r = this.get(q[`ResourceId.${n}`]);
      for (let i = 1; q[`${list}.${i}${suffix}`] !== undefined; i++) apply(r, i);
    }
    return {};
  }

  private error(error: EcsError): RawResponse {
    return { status: error.status, contentType: 'application/json', body: JSON.stringify({ Code: error.code, Message: error.message, RequestId: requestId() }) };
  }
}

/** ECS gives reservation times to the minute. */
function toMinute(time: string): string {
  return time.replace(/:\d\d(\.\d+)?Z$/, 'Z');
}

function requestId(): string {
  return randomBytes(16).toString('hex').toUpperCase().replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');
}
