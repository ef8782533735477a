/**
 * Validation rules shared by the construct (literal props, at synth) and the handler (every value,
 * at deploy time, after tokens resolve). Each returns a one-line message naming the prop, the value
 * and the fix, or undefined when the value is fine.
 */
import { MAX_LEAD_TIME_DAYS, MAX_TAGS_PER_RESOURCE, MAX_WAIT_TIMEOUT_SECONDS, RESERVED_TAG_COUNT, RESERVED_TAG_PREFIX, WireTag } from './wire';

export const MAX_INSTANCE_COUNT = 64;
const HOURS_PER_DAY = 24;

/** Durations EC2 sells: 1–14 days in 1-day steps, then 21–182 days in 7-day steps. */
export function isSellableDurationHours(hours: number): boolean {
  if (!Number.isInteger(hours) || hours <= 0 || hours % HOURS_PER_DAY !== 0) {
    return false;
  }
  const days = hours / HOURS_PER_DAY;
  return days <= 14 || (days <= 182 && days % 7 === 0);
}

export function durationError(hours: number): string | undefined {
  return isSellableDurationHours(hours)
    ? undefined
    : `duration must be 1-14 days in whole days, or 21-182 days in 7-day steps, got ${formatHours(hours)}`;
}

/**
 * A block is either instances (instanceType + instanceCount) or UltraServers (ultraserverType +
 * ultraserverCount), never both: EC2 sells them as different offerings.
 */
export function blockShapeError(given: { instanceType: boolean; instanceCount: boolean; ultraserverType: boolean; ultraserverCount: boolean }): string | undefined {
  const instances = given.instanceType || given.instanceCount;
  const ultraservers = given.ultraserverType || given.ultraserverCount;
  if (instances && ultraservers) {
    return 'instanceType/instanceCount and ultraserverType/ultraserverCount cannot be combined; set instanceType and instanceCount for an instance block, or ultraserverType and ultraserverCount for an UltraServer block';
  }
  if (ultraservers) {
    return given.ultraserverType && given.ultraserverCount ? undefined : `an UltraServer block needs both ultraserverType and ultraserverCount; set ${given.ultraserverType ? 'ultraserverCount' : 'ultraserverType'}`;
  }
  if (!given.instanceType || !given.instanceCount) {
    return `a Capacity Block needs instanceType and instanceCount (or ultraserverType and ultraserverCount); set ${given.instanceType ? 'instanceCount' : given.instanceCount ? 'instanceType' : 'them'}`;
  }
  return undefined;
}

export function ultraserverTypeError(name: string): string | undefined {
  return /^u-[a-z0-9-]+$/.test(name)
    ? undefined
    : `ultraserverType must be an EC2 UltraServer type such as u-p6e-gb200x72, got '${name}'`;
}

export function ultraserverCountError(count: number): string | undefined {
  return Number.isInteger(count) && count >= 1
    ? undefined
    : `ultraserverCount must be a whole number of UltraServers, 1 or more, got ${count}`;
}

/**
 * Blocks end at 11:30 UTC, so an offering that starts at another time of day is shorter than the
 * whole days asked for: EC2 reports its length as hours plus minutes. Its nominal length is the whole
 * days it was sold as (a 47 h 35 min block is a 2-day block).
 */
export function nominalDurationHours(minutes: number): number {
  return Math.ceil(minutes / (HOURS_PER_DAY * 60) - 1e-9) * HOURS_PER_DAY;
}

export function instanceCountError(count: number): string | undefined {
  return Number.isInteger(count) && count >= 1 && count <= MAX_INSTANCE_COUNT
    ? undefined
    : `instanceCount must be a whole number from 1 to ${MAX_INSTANCE_COUNT}, got ${count}`;
}

export function maxUpfrontFeeError(fee: number): string | undefined {
  if (!Number.isFinite(fee) || fee <= 0) return `maxUpfrontFee must be a positive number (the most you will pay up front), got ${fee}`;
  // The template carries the ceiling as JavaScript writes the number, and the handler compares it
  // exactly, as a decimal, with EC2's fees: 1e21 would be written "1e+21", which it refuses.
  return PLAIN_DECIMAL.test(String(fee))
    ? undefined
    : `maxUpfrontFee must be a plain decimal amount such as 60000 or 60000.50, got ${fee}, which the template would carry as '${String(fee)}'`;
}

/** A latestEnd that has passed can never hold a block: refused before anything is deployed. */
export function latestEndPassedError(latestEnd: Date | undefined, now: Date): string | undefined {
  return latestEnd !== undefined && !Number.isNaN(latestEnd.getTime()) && latestEnd.getTime() <= now.getTime()
    ? `latestEnd ${latestEnd.toISOString()} has already passed; move it into the future`
    : undefined;
}

export function currencyCodeError(code: string): string | undefined {
  return /^[A-Z]{3}$/.test(code) ? undefined : `currencyCode must be an ISO 4217 code such as USD, got '${code}'`;
}

/** family.size, with a size EC2 uses: every instance type of the EC2 API model fits (a spec checks). */
const EC2_INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9]\d*xlarge|metal(-[1-9]\d*xl)?)$/;

export function instanceTypeError(name: string): string | undefined {
  return EC2_INSTANCE_TYPE.test(name)
    ? undefined
    : `instanceType must be an EC2 instance type such as p5.48xlarge, got '${name}'`;
}

/**
 * The instance types EC2 sells as Capacity Blocks, as the EC2 API model this release was built with
 * names them (a spec keeps the list equal to CapacityBlockInstanceType's constants and to the
 * model's types of these families).
 */
export const CAPACITY_BLOCK_INSTANCE_TYPES: readonly string[] = [
  'p4d.24xlarge', 'p4de.24xlarge', 'p5.4xlarge', 'p5.48xlarge', 'p5e.48xlarge', 'p5en.48xlarge', 'p6-b200.48xlarge',
  'p6-b300.48xlarge', 'p6e-gb200.36xlarge', 'trn1.32xlarge', 'trn2.3xlarge', 'trn2.48xlarge', 'trn2u.48xlarge',
];

/**
 * A well-formed type that is not one EC2 sold as Capacity Blocks at release: a misspelt family, or a
 * type EC2 added since. Not an error (`CapacityBlockInstanceType.of()` exists for the second case),
 * but worth a warning at synth: a deploy would find no offering.
 */
export function capacityBlockInstanceTypeWarning(name: string): string | undefined {
  if (CAPACITY_BLOCK_INSTANCE_TYPES.includes(name)) return undefined;
  const family = name.split('.')[0];
  const sameFamily = CAPACITY_BLOCK_INSTANCE_TYPES.filter(t => t.split('.')[0] === family);
  return `instanceType ${name} is not an instance type EC2 sells as Capacity Blocks in the EC2 API model this release was built with (${(sameFamily.length > 0 ? sameFamily : CAPACITY_BLOCK_INSTANCE_TYPES).join(', ')}); check the spelling, or acknowledge this warning if EC2 sells it now`;
}

export function offeringIdError(id: string): string | undefined {
  return /^cb-[0-9a-z]+$/.test(id)
    ? undefined
    : `offeringId must be a Capacity Block offering id such as cb-0123456789abcdef0, got '${id}'`;
}

export function availabilityZoneError(zone: string, region?: string): string | undefined {
  if (!/^[a-z]{2}(-[a-z0-9]+)+[a-z]$/.test(zone)) {
    return `availabilityZone must be an Availability Zone name such as us-east-2a, got '${zone}'`;
  }
  if (region !== undefined && !zone.startsWith(`${region}`)) {
    return `availabilityZone must be in the stack's region ${region}, got '${zone}'`;
  }
  return undefined;
}

export function waitTimeoutError(seconds: number): string | undefined {
  return Number.isInteger(seconds) && seconds >= 0 && seconds <= MAX_WAIT_TIMEOUT_SECONDS
    ? undefined
    : `waitTimeout must be from 0 to ${MAX_WAIT_TIMEOUT_SECONDS / 60} minutes in whole seconds (CloudFormation gives a custom resource at most 60 minutes), got ${seconds} seconds`;
}

/** EC2 offers blocks that start at most 8 weeks ahead: a later earliestStart can never be bought. */
export function leadTimeError(earliestStart: Date | undefined, now: Date): string | undefined {
  if (earliestStart === undefined || Number.isNaN(earliestStart.getTime())) return undefined;
  const limit = new Date(now.getTime() + MAX_LEAD_TIME_DAYS * HOURS_PER_DAY * 3_600_000);
  return earliestStart <= limit
    ? undefined
    : `earliestStart ${earliestStart.toISOString()} is more than 8 weeks ahead (EC2 sells Capacity Blocks that start by ${limit.toISOString()}); deploy closer to the date or move earliestStart earlier`;
}

/** The search window must be a real interval that fits the block. */
export function windowError(earliestStart: Date | undefined, latestEnd: Date | undefined, durationHours: number | undefined): string | undefined {
  for (const [name, date] of [['earliestStart', earliestStart], ['latestEnd', latestEnd]] as const) {
    if (date !== undefined && Number.isNaN(date.getTime())) {
      return `${name} must be a valid date, got an invalid date`;
    }
  }
  if (earliestStart === undefined || latestEnd === undefined) {
    return undefined;
  }
  if (latestEnd.getTime() <= earliestStart.getTime()) {
    return `latestEnd (${latestEnd.toISOString()}) must be after earliestStart (${earliestStart.toISOString()})`;
  }
  if (durationHours !== undefined && latestEnd.getTime() - earliestStart.getTime() < durationHours * 3_600_000) {
    return `the window earliestStart..latestEnd (${earliestStart.toISOString()}..${latestEnd.toISOString()}) is shorter than duration ${formatHours(durationHours)}; widen the window or shorten the block`;
  }
  return undefined;
}

/** A pinned offering already fixes zone and dates, so search criteria alongside it would be ignored. */
export function pinnedOfferingConflicts(criteria: Record<string, unknown>): string | undefined {
  const given = Object.entries(criteria).filter(([, v]) => v !== undefined).map(([k]) => k);
  return given.length === 0
    ? undefined
    : `offeringId pins one offering, so ${given.join(', ')} cannot be set with it; remove ${given.length > 1 ? 'them' : 'it'} or remove offeringId`;
}

/**
 * EC2 tag rules (keys ≤ 127, not `aws:`; values ≤ 256), our reserved prefix, and room for our own tags.
 * SageMaker allows the same, keys up to 128: a training plan (`subject`) is held to the stricter rule.
 */
export function tagErrors(tags: readonly WireTag[], ultraserver = false, subject = 'Capacity Block'): string[] {
  const errors: string[] = [];
  for (const { Key: key, Value: value } of tags) {
    if (key.length < 1 || [...key].length > 127) {
      errors.push(`tag key must be 1-127 characters, got '${truncate(key)}' (${[...key].length} characters)`);
    } else if (key.toLowerCase().startsWith('aws:')) {
      errors.push(`tag key must not start with 'aws:' (reserved by AWS), got '${key}'`);
    } else if (key.startsWith(RESERVED_TAG_PREFIX)) {
      errors.push(`tag key must not start with '${RESERVED_TAG_PREFIX}' (written by this library), got '${key}'`);
    }
    if ([...value].length > 256) {
      errors.push(`tag value for '${truncate(key)}' must be at most 256 characters, got ${[...value].length}`);
    }
  }
  const reserved = RESERVED_TAG_COUNT + (ultraserver ? 1 : 0);
  const max = MAX_TAGS_PER_RESOURCE - reserved;
  if (tags.length > max) {
    errors.push(`a${ultraserver ? 'n UltraServer' : ''} ${subject} takes at most ${max} tags (${subject === 'Capacity Block' ? 'EC2' : 'SageMaker'} allows ${MAX_TAGS_PER_RESOURCE}, this library writes ${reserved}), got ${tags.length}`);
  }
  return errors;
}

/** A plain non-negative decimal as EC2 writes money ("6218.88"): no sign, exponent, hex, blanks or separators. */
const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;
const WHOLE_NUMBER = /^\d+$/;

/**
 * Reads a fee strictly. Number() would read '' and ' ' as 0 and '0x10' as 16: a fee that cannot be
 * read exactly is never compared with a ceiling, let alone bought.
 */
export function parseDecimal(text: string): number | undefined {
  return PLAIN_DECIMAL.test(text) ? Number(text) : undefined;
}

/**
 * Compares two plain decimals exactly: negative, zero or positive as `a` is below, equal to or above
 * `b`. Money is never compared as floating point: 40000.000000000001 reads as 40000 in binary.
 */
export function compareDecimal(a: string, b: string): number {
  if (!PLAIN_DECIMAL.test(a) || !PLAIN_DECIMAL.test(b)) throw new Error(`not plain decimals: '${a}', '${b}'`);
  const [aWhole, aFraction = ''] = a.split('.');
  const [bWhole, bFraction = ''] = b.split('.');
  const digits = Math.max(aFraction.length, bFraction.length);
  const difference = BigInt(aWhole + aFraction.padEnd(digits, '0')) - BigInt(bWhole + bFraction.padEnd(digits, '0'));
  return difference === BigInt(0) ? 0 : difference < BigInt(0) ? -1 : 1;
}

export function parseWholeNumber(text: string): number | undefined {
  return WHOLE_NUMBER.test(text) ? Number(text) : undefined;
}

export function formatHours(hours: number): string {
  return hours % HOURS_PER_DAY === 0 ? `${hours / HOURS_PER_DAY} day${hours === HOURS_PER_DAY ? '' : 's'} (${hours} h)` : `${hours} h`;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
