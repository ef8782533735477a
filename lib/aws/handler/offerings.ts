import { CapacityBlockOffering, DescribeCapacityBlockOfferingsCommandInput, paginateDescribeCapacityBlockOfferings } from '@aws-sdk/client-ec2';
import { compareDecimal, nominalDurationHours, parseDecimal } from '../validation';
import { ec2, ec2CallOptions } from './ec2';
import { UserError } from './errors';
import { decimalMoney, iso, money } from './format';
import { CapacityBlockRequest, describeShape, isUltraServer } from './request';

export { decimalMoney, iso, money } from './format';

/** An offering as this library reasons about it. */
export interface Offering {
  readonly id: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly instanceCount: number;
  readonly startDate: Date;
  readonly endDate: Date;
  /**
   * The whole days (in hours) the offering is sold as. Blocks end at 11:30 UTC, so one that starts
   * at another time is shorter: EC2 gives hours plus minutes, and the judge compares this.
   */
  readonly durationHours: number;
  /** Its exact length in minutes (CapacityBlockDurationHours × 60 + CapacityBlockDurationMinutes). */
  readonly durationMinutes: number;
  /** UltraServer offerings: the type and how many. */
  readonly ultraserverType?: string;
  readonly ultraserverCount?: number;
  /** availability-zone or local-zone, as EC2 says. */
  readonly zoneType?: string;
  /** NaN when EC2 sent anything but a plain decimal: such an offering is never bought. */
  readonly upfrontFee: number;
  readonly upfrontFeeText: string;
  readonly currencyCode: string;
}

export interface Refusal {
  readonly offering: Offering;
  readonly reason: string;
}

export interface Judgement {
  /** Best first, by the request's selection. */
  readonly acceptable: Offering[];
  readonly refused: Refusal[];
}

/**
 * What to ask DescribeCapacityBlockOfferings for a request. One function, so that the deploy-time
 * search and `cdk-capacity-reservations plan` ask EC2 exactly the same question.
 */
export function offeringsQuery(request: CapacityBlockRequest, now: Date): DescribeCapacityBlockOfferingsCommandInput {
  const start = request.earliestStart && request.earliestStart > now ? request.earliestStart : undefined;
  const shape = isUltraServer(request)
    ? { UltraserverType: request.ultraserverType, UltraserverCount: request.ultraserverCount }
    : { InstanceType: request.instanceType, InstanceCount: request.instanceCount };
  return {
    ...shape,
    CapacityDurationHours: request.durationHours,
    StartDateRange: start,
    EndDateRange: request.latestEnd,
    ...(request.allAvailabilityZones ? { AllAvailabilityZones: true } : {}),
  };
}

/** Every page of DescribeCapacityBlockOfferings for the request (the SDK paginator follows NextToken). */
export async function searchOfferings(request: CapacityBlockRequest, now: Date): Promise<Offering[]> {
  const pages = paginateDescribeCapacityBlockOfferings({ client: ec2, pageSize: 1000 }, offeringsQuery(request, now), ec2CallOptions());
  const offerings: Offering[] = [];
  for await (const page of pages) {
    offerings.push(...(page.CapacityBlockOfferings ?? []).map(toOffering));
  }
  return offerings;
}

export function toOffering(o: CapacityBlockOffering): Offering {
  const feeText = o.UpfrontFee ?? '';
  const minutes = (o.CapacityBlockDurationHours ?? 0) * 60 + (o.CapacityBlockDurationMinutes ?? 0);
  return {
    id: o.CapacityBlockOfferingId ?? '',
    instanceType: o.InstanceType ?? '',
    availabilityZone: o.AvailabilityZone ?? '',
    instanceCount: o.InstanceCount ?? 0,
    startDate: new Date(o.StartDate ?? NaN),
    endDate: new Date(o.EndDate ?? NaN),
    durationHours: nominalDurationHours(minutes),
    durationMinutes: minutes,
    ultraserverType: o.UltraserverType,
    ultraserverCount: o.UltraserverCount,
    zoneType: o.ZoneType,
    upfrontFee: parseDecimal(feeText) ?? NaN,
    upfrontFeeText: feeText,
    currencyCode: o.CurrencyCode ?? '',
  };
}

/**
 * Splits offerings into acceptable (ranked) and refused (with the reason). EC2 filters by the
 * search parameters already; every criterion is checked again here because money depends on it.
 */
export function judgeOfferings(offerings: Offering[], request: CapacityBlockRequest, exclude: ReadonlySet<string> = new Set()): Judgement {
  const acceptable: Offering[] = [];
  const refused: Refusal[] = [];
  for (const offering of offerings) {
    const reason = refusalReason(offering, request, exclude);
    if (reason) {
      refused.push({ offering, reason });
    } else {
      acceptable.push(offering);
    }
  }
  acceptable.sort(request.selection === 'EARLIEST_START' ? byStartThenFee : byFeeThenStart);
  return { acceptable, refused };
}

function refusalReason(o: Offering, r: CapacityBlockRequest, exclude: ReadonlySet<string>): string | undefined {
  if (exclude.has(o.id)) return 'sold out at purchase time';
  if (r.offeringId !== undefined && o.id !== r.offeringId) return `not the pinned offering ${r.offeringId}`;
  if (!Number.isFinite(o.upfrontFee)) return `upfront fee '${o.upfrontFeeText}' is not a plain decimal number`;
  if (o.currencyCode !== r.currencyCode) return `priced in ${o.currencyCode || 'an unknown currency'}, not ${r.currencyCode}`;
  if (compareDecimal(o.upfrontFeeText, r.maxUpfrontFeeText) > 0) return `${decimalMoney(o.upfrontFeeText, o.currencyCode)} > maxUpfrontFee ${decimalMoney(r.maxUpfrontFeeText, r.currencyCode)}`;
  if (isUltraServer(r)) {
    if (o.ultraserverType !== r.ultraserverType) return o.ultraserverType ? `UltraServer type ${o.ultraserverType}` : `instances of ${o.instanceType}, not UltraServers`;
    if (o.ultraserverCount !== r.ultraserverCount) return `${o.ultraserverCount ?? 'an unknown number of'} UltraServers`;
  } else {
    if (o.ultraserverType) return `UltraServer ${o.ultraserverType}, not single instances`;
    if (o.instanceType !== r.instanceType) return `instance type ${o.instanceType}`;
    if (o.instanceCount !== r.instanceCount) return `${o.instanceCount} instances`;
  }
  // A block that starts off 11:30 UTC is up to a day shorter than asked and priced for that: the
  // whole days it is sold as are what must match.
  if (o.durationMinutes <= 0 || o.durationHours !== r.durationHours) return `${formatLength(o.durationMinutes)} long`;
  if (r.availabilityZone !== undefined && o.availabilityZone !== r.availabilityZone) return `in ${o.availabilityZone}, not ${r.availabilityZone}`;
  if (r.earliestStart && o.startDate < r.earliestStart) return `starts ${iso(o.startDate)}, before earliestStart`;
  if (r.latestEnd && o.endDate > r.latestEnd) return `ends ${iso(o.endDate)}, after latestEnd`;
  return undefined;
}

const byFeeThenStart = (a: Offering, b: Offering) => a.upfrontFee - b.upfrontFee || a.startDate.getTime() - b.startDate.getTime();
const byStartThenFee = (a: Offering, b: Offering) => a.startDate.getTime() - b.startDate.getTime() || a.upfrontFee - b.upfrontFee;

/** Zero acceptable offerings: one line with the cheapest ones seen and why each was refused. */
export function noAcceptableOffering(request: CapacityBlockRequest, judgement: Judgement): UserError {
  const shape = describeShape(request);
  if (judgement.refused.length === 0) {
    // Local Zones: EC2 lists their offerings only to accounts opted in to the zone, unless asked for all zones.
    const zones = request.allAvailabilityZones
      ? '; allAvailabilityZones was set, so zones the account has not opted in to were searched too: to buy and launch in a Local Zone, opt the account in to it (EC2 console, Zones) first'
      : '; if the offering you expect is in a Local Zone (P6e-GB200 UltraServers are sold in the Dallas Local Zone), the account must be opted in to that zone, or set allAvailabilityZones: true to see it';
    return new UserError(`No Capacity Block offering for ${shape}${request.availabilityZone ? ` in ${request.availabilityZone}` : ''} in the requested window; widen the window (earliestStart/latestEnd), drop availabilityZone, or try another ${isUltraServer(request) ? 'UltraServer type or count' : 'instance type or count'}${zones}`);
  }
  const cheapest = [...judgement.refused].sort((a, b) => byFeeThenStart(a.offering, b.offering)).slice(0, 5);
  const seen = cheapest.map(({ offering: o, reason }) => `${o.id} (${o.availabilityZone}, ${iso(o.startDate)}, ${money(o.upfrontFee, o.currencyCode)}): ${reason}`);
  const fix = request.offeringId !== undefined
    ? `offeringId ${request.offeringId} is not on offer any more or does not match; remove offeringId to search, or pin a current offering`
    : 'raise maxUpfrontFee, widen the window or try another instance type';
  return new UserError(`No acceptable Capacity Block offering for ${shape} with maxUpfrontFee ${money(request.maxUpfrontFee, request.currencyCode)}: ${judgement.refused.length} seen, all refused; cheapest: ${seen.join('; ')}. Fix: ${fix}`);
}

function formatLength(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
