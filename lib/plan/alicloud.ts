import type { DescribeAvailableResourceResponseBody, DescribePriceResponseBody } from '@alicloud/ecs20140526';
import { asEcsError, createEcsCall, EcsCall, FcCredentials } from '../alicloud/handler/ecs';
import { parseReservationRequest, ReservationRequest } from '../alicloud/handler/request';
import { regionOfZone } from '../alicloud/validation';
import { FoundReservation, resolveTokens } from './templates';

/** One zone of zoneIds, as ECS answers for it now. */
export interface ZonePlan {
  readonly zoneId: string;
  /** `available` (in stock), `sold-out`, or `unknown` when ECS does not list the type there. */
  readonly stock: 'available' | 'sold-out' | 'unknown';
  readonly stockDetail: string;
  /** What the whole reservation (instanceAmount instances) costs for one hour: DescribePrice's TradePrice, as ECS gives it, and its currency. */
  readonly hourlyPrice?: number;
  /** The same figure as decimal text, exactly as ECS gave it. */
  readonly hourlyPriceText?: string;
  readonly currency?: string;
  readonly priceError?: string;
}

/** What one AliCapacityReservation would do if it were deployed now. */
export interface AliReservationPlan {
  readonly cloud: 'alicloud';
  readonly stack: string;
  readonly logicalId: string;
  readonly region: string;
  readonly verdict: 'would-reserve' | 'no-stock' | 'invalid' | 'unresolved';
  readonly reason?: string;
  readonly instanceType?: string;
  readonly instanceAmount?: number;
  /** In zoneIds order: the handler tries them in that order. */
  readonly zones: ZonePlan[];
  readonly chosenZone?: string;
  /** What the reservation costs per hour in the chosen zone (ECS prices ResourceType CapacityReservation for instanceAmount and platform). */
  readonly hourlyCost?: number;
  /** hourlyCost as decimal text, exactly as ECS gave it. */
  readonly hourlyCostText?: string;
  /** Unlimited (billed until released): 30 days (720 h) of it. */
  readonly thirtyDayCost?: number;
  /** Limited: the hours from now to endTime, started hours counted whole (an upper bound), and what they cost. */
  readonly hours?: number;
  readonly totalCost?: number;
  /** thirtyDayCost or totalCost as exact decimal text: ECS's hourly figure times the whole hours, in decimal arithmetic. */
  readonly periodCostText?: string;
  readonly endTime?: string;
  readonly currency?: string;
}

export interface AliPlanOptions {
  readonly region?: string;
  readonly parameters: Record<string, string>;
  readonly progress: (line: string) => void;
  /** Judges endTime as the handler would at this moment. @default now */
  readonly now?: Date;
  readonly credentials?: FcCredentials;
  /** Injected for tests. @default the official OpenAPI client (ALIBABA_CLOUD_ECS_ENDPOINT honoured) */
  readonly ecs?: (credentials: FcCredentials, regionId: string) => EcsCall;
}

/** Failures of the plan itself (credentials, region, permissions): exit 1, one line each. */
export class AliPlanError extends Error {}

/** ECS does not know the instance type: that reservation would fail, the plan goes on. */
class InstanceTypeRefused extends Error {}

/**
 * Plans every AliCapacityReservation: per zone of zoneIds, in order, whether the type has stock now
 * (DescribeAvailableResource) and its pay-as-you-go hourly price (DescribePrice), then the zone the
 * handler would use and what the reservation costs. Read-only: nothing is created.
 */
export async function planAlicloud(found: FoundReservation[], options: AliPlanOptions): Promise<AliReservationPlan[]> {
  if (found.length === 0) return [];
  const credentials = options.credentials ?? credentialsFromEnvironment();
  const plans: AliReservationPlan[] = [];
  const asked = new Map<string, Promise<ZonePlan>>();
  for (const reservation of found) {
    plans.push(await planReservation(reservation, credentials, options, asked));
  }
  return plans;
}

async function planReservation(found: FoundReservation, credentials: FcCredentials, options: AliPlanOptions, asked: Map<string, Promise<ZonePlan>>): Promise<AliReservationPlan> {
  const { properties, unresolved } = resolveTokens(found.properties, options.parameters);
  const zoneIds: string[] = Array.isArray(properties.ZoneIds) ? properties.ZoneIds.map(String) : [];
  const region = found.region ?? options.region ?? regionOfZone(zoneIds[0]);
  const base = { cloud: 'alicloud' as const, stack: found.stack, logicalId: found.logicalId, region: region ?? '(unknown)', zones: [] };
  if (unresolved.length > 0) return { ...base, verdict: 'unresolved', reason: `depends on values known only at deploy time: ${unresolved.join('; ')}` };
  let request: ReservationRequest;
  try {
    request = parseReservationRequest(properties, options.now ?? new Date());
  } catch (error) {
    return { ...base, verdict: 'invalid', reason: (error as Error).message };
  }
  const { instanceType, instanceAmount } = request;
  if (!region) throw new AliPlanError(`Alibaba Cloud: no region for ${found.stack}/${found.logicalId}; pass --region (e.g. cn-hangzhou)`);
  const ecs = (options.ecs ?? createEcsCall)(credentials, region);
  const zones: ZonePlan[] = [];
  for (const zoneId of zoneIds) {
    const key = JSON.stringify([region, zoneId, instanceType, instanceAmount, request.platform]);
    if (!asked.has(key)) {
      options.progress(`asking ECS about ${instanceType} in ${zoneId}`);
      asked.set(key, planZone(ecs, region, zoneId, request));
    }
    try {
      zones.push(await asked.get(key)!);
    } catch (error) {
      if (!(error instanceof InstanceTypeRefused)) throw error;
      return { ...base, verdict: 'invalid', instanceType, instanceAmount, zones, reason: `ECS refused instance type ${instanceType} (${error.message}): the create would fail the same way; fix instanceType` };
    }
  }
  const chosen = zones.find(z => z.stock === 'available');
  // The handler passes a zone over only on a no-stock code; a zone that does not exist stops it
  // (InvalidZoneId.NotFound). ECS not listing the type in a zone may mean either, so ask which.
  for (const zone of zones.slice(0, chosen ? zones.indexOf(chosen) : zones.length)) {
    if (zone.stock === 'unknown' && !(await zoneExists(ecs, region, zone.zoneId))) {
      return {
        ...base, verdict: 'invalid', instanceType, instanceAmount, zones,
        reason: `zone ${zone.zoneId} does not exist in ${region}: the handler would stop there (InvalidZoneId.NotFound), not try the next zone; fix zoneIds`,
      };
    }
  }
  if (!chosen) {
    return { ...base, verdict: 'no-stock', reason: `no stock of ${instanceType} in any of zoneIds (${zones.map(z => `${z.zoneId}: ${z.stockDetail}`).join('; ')})`, instanceType, instanceAmount, zones };
  }
  if (chosen.priceError !== undefined || chosen.hourlyPrice === undefined || !Number.isFinite(chosen.hourlyPrice)) {
    throw new AliPlanError(`Alibaba Cloud: DescribePrice for ${instanceAmount} x ${instanceType} in ${chosen.zoneId} failed with ${chosen.priceError ?? 'no price in the answer'}; the plan cannot say what ${found.stack}/${found.logicalId} would cost`);
  }
  // ECS's own figure for the reservation, never divided, rounded or multiplied in floating point.
  const hourlyCostText = chosen.hourlyPriceText!;
  const hours = request.endTime ? Math.max(0, Math.ceil((Date.parse(request.endTime) - (options.now ?? new Date()).getTime()) / 3_600_000)) : THIRTY_DAYS_HOURS;
  const periodCostText = decimalTimes(hourlyCostText, hours);
  return {
    ...base, verdict: 'would-reserve', instanceType, instanceAmount, zones, chosenZone: chosen.zoneId, hourlyCost: Number(hourlyCostText), hourlyCostText, currency: chosen.currency,
    periodCostText,
    ...(request.endTime ? { hours, endTime: request.endTime, totalCost: Number(periodCostText) } : { thirtyDayCost: Number(periodCostText) }),
  };
}

const THIRTY_DAYS_HOURS = 720;

/**
 * An ECS decimal figure times whole hours, exactly (BigInt over the decimal digits): DescribePrice
 * takes Period 1 for PriceUnit Hour, so the period's cost is ECS's hourly figure times the hours.
 */
export function decimalTimes(decimal: string, times: number): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!match || !Number.isInteger(times)) throw new AliPlanError(`Alibaba Cloud: DescribePrice answered a price that is not a decimal number: '${decimal}'`);
  const [, sign, whole, fraction = ''] = match;
  const digits = (BigInt(whole + fraction) * BigInt(times)).toString().padStart(fraction.length + 1, '0');
  const point = digits.length - fraction.length;
  return `${sign}${digits.slice(0, point)}${fraction ? `.${digits.slice(point)}` : ''}`;
}

/** ECS's number as decimal text (the JSON number it sent, in its shortest exact form), never in exponent form. */
function decimalText(value: number): string {
  const text = String(value);
  return /e/i.test(text) ? value.toFixed(20).replace(/\.?0+$/, '') : text;
}

async function planZone(ecs: EcsCall, regionId: string, zoneId: string, request: ReservationRequest): Promise<ZonePlan> {
  const { instanceType, instanceAmount } = request;
  const stock = await call(ecs, 'DescribeAvailableResource', {
    RegionId: regionId, ZoneId: zoneId, DestinationResource: 'InstanceType', InstanceType: instanceType,
    InstanceChargeType: 'PostPaid', ResourceType: 'instance',
  }) as WireAvailable;
  const zone = (stock.AvailableZones?.AvailableZone ?? []).find(z => z.ZoneId === zoneId);
  const supported = (zone?.AvailableResources?.AvailableResource ?? [])
    .flatMap(r => r.SupportedResources?.SupportedResource ?? [])
    .find(r => r.Value === instanceType);
  const available = zone?.Status === 'Available' && supported?.Status === 'Available';
  const state: ZonePlan['stock'] = available ? 'available' : supported || zone ? 'sold-out' : 'unknown';
  const stockDetail = supported ? supported.StatusCategory ?? supported.Status ?? 'listed' : zone ? `zone ${zone.StatusCategory ?? zone.Status ?? 'listed'}, type not listed` : 'not offered';
  try {
    // The reservation as ECS prices it (DescribePriceRequest: ResourceType CapacityReservation with
    // InstanceAmount and Platform), not an instance with its system disk priced as Linux.
    const price = await call(ecs, 'DescribePrice', {
      RegionId: regionId, ZoneId: zoneId, ResourceType: 'CapacityReservation', InstanceType: instanceType, PriceUnit: 'Hour',
      InstanceAmount: instanceAmount, Platform: request.platform,
    }) as WirePrice;
    const trade = Number(price.PriceInfo?.Price?.TradePrice);
    return { zoneId, stock: state, stockDetail, hourlyPrice: trade, hourlyPriceText: Number.isFinite(trade) ? decimalText(trade) : undefined, currency: price.PriceInfo?.Price?.Currency };
  } catch (error) {
    if (error instanceof AliPlanError) throw error;
    return { zoneId, stock: state, stockDetail, priceError: `${asEcsError(error).code}: ${asEcsError(error).message}` };
  }
}

/** Whether the region has the zone at all (the same read-only action, asked per zone). */
async function zoneExists(ecs: EcsCall, regionId: string, zoneId: string): Promise<boolean> {
  const answer = await call(ecs, 'DescribeAvailableResource', { RegionId: regionId, ZoneId: zoneId, DestinationResource: 'Zone' }) as WireAvailable;
  return (answer.AvailableZones?.AvailableZone ?? []).some(z => z.ZoneId === zoneId);
}

/** A read-only ECS call; credentials and permission problems become one-line plan errors. */
async function call(ecs: EcsCall, action: string, query: Record<string, unknown>): Promise<Record<string, any>> {
  try {
    return await ecs(action, query);
  } catch (error) {
    const e = asEcsError(error);
    if (/^(InvalidAccessKeyId|SignatureDoesNotMatch|InvalidSecurityToken|IncompleteSignature)/.test(e.code)) {
      throw new AliPlanError(`Alibaba Cloud: ${e.code}: check ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials)`);
    }
    if (/^(Forbidden|NoPermission)/.test(e.code)) {
      throw new AliPlanError(`Alibaba Cloud: ${e.code} on ${action}: grant the caller ecs:DescribeAvailableResource and ecs:DescribePrice (read-only; the plan calls nothing else)`);
    }
    if (/^Invalid\.?InstanceType/.test(e.code)) throw new InstanceTypeRefused(`${e.code}: ${e.message}`);
    if (/RegionId/.test(e.code)) throw new AliPlanError(`Alibaba Cloud: ${e.code}: the region is not valid; pass --region (e.g. cn-hangzhou)`);
    if (action === 'DescribePrice') throw error;
    throw new AliPlanError(`Alibaba Cloud: ${action} failed: ${e.code}: ${e.message}`);
  }
}

/** ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / ALIBABA_CLOUD_SECURITY_TOKEN, as Alibaba's tools read them. */
export function credentialsFromEnvironment(): FcCredentials {
  const accessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new AliPlanError('Alibaba Cloud: no credentials; set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials)');
  }
  return { accessKeyId, accessKeySecret, securityToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN || undefined };
}


/** The JSON ECS sends (PascalCase keys: the SDK models' name maps), as far as the plan reads it. */
type Capitalized<T> = T extends Array<infer U> ? Array<Capitalized<U>>
  : T extends object ? { [K in keyof T as K extends string ? (T[K] extends (...args: any[]) => any ? never : Capitalize<K>) : never]?: Capitalized<T[K]> }
    : T;
type WireAvailable = Capitalized<DescribeAvailableResourceResponseBody>;
type WirePrice = Capitalized<DescribePriceResponseBody>;
