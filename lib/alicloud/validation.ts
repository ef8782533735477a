/**
 * The CreateCapacityReservation constraints, shared by the construct (literal props, at synth) and
 * the handler (at deploy time). Each returns a one-line message naming the prop and value, or undefined.
 */
import { ALI_MAX_TAGS, ALI_MAX_USER_TAGS, ALI_RESERVED_TAG_COUNT, ALI_RESERVED_TAG_PREFIX, AliWireTag, ANSWER_MARKER_SLOTS, MAX_WAIT_TIMEOUT_SECONDS } from './wire';

const URL_PREFIX = /^https?:\/\//i;
const CONTAINS_URL = /https?:\/\//i;

export function instanceTypeError(type: string): string | undefined {
  if (/[,\s]/.test(type)) return `instanceType must be one instance type (one per reservation), got '${type}'`;
  return /^ecs\.[a-z0-9-]+\.[a-z0-9]+$/.test(type) ? undefined : `instanceType must be an ECS instance type such as ecs.gn7i-c8g1.2xlarge, got '${type}'`;
}

/** The size words ECS instance types end in (ecs.t1.xsmall, ecs.g7.large, ecs.gn7i-c8g1.2xlarge, ...). */
const ECS_SIZE = /\.(nano|micro|tiny|xsmall|small|medium|large|xlarge|[1-9]\d*xlarge|metal)$/;

/**
 * A type whose size is not one ECS uses (`ecs.gn7i-c8g1.2xlarg`). A warning, not an error: no API
 * model lists ECS's types, so ECS has the last word (the handler maps its Invalid.InstanceType).
 */
export function instanceTypeWarning(type: string): string | undefined {
  return instanceTypeError(type) !== undefined || ECS_SIZE.test(type)
    ? undefined
    : `instanceType ${type} does not end in a size ECS uses (large, xlarge, 2xlarge, ...); check the spelling, e.g. ecs.gn7i-c8g1.2xlarge`;
}

/** ECS: InstanceAmount of one reservation is at most 1000 (ModifyCapacityReservation's range too). */
export const MAX_INSTANCE_AMOUNT = 1000;

export function instanceAmountError(amount: unknown): string | undefined {
  if (typeof amount !== 'number') return `instanceAmount must be a number, got ${typeof amount} ${JSON.stringify(amount)}; write it without quotes`;
  if (!Number.isInteger(amount) || amount < 1) return `instanceAmount must be a whole number of at least 1, got ${amount}`;
  return amount <= MAX_INSTANCE_AMOUNT ? undefined : `instanceAmount must be at most ${MAX_INSTANCE_AMOUNT} (the ECS limit per reservation), got ${amount}; split it across reservations`;
}

export function zoneIdsErrors(zoneIds: readonly string[]): string[] {
  if (zoneIds.length === 0) return ['zoneIds must name at least one zone, e.g. [\'cn-hangzhou-h\']'];
  const errors = zoneIds
    .filter(z => !/^[a-z]{2,}-[a-z0-9-]+-[a-z0-9]+$/.test(z))
    .map(z => `zoneIds entries must be zone ids such as cn-hangzhou-h, got '${z}'`);
  const dupes = zoneIds.filter((z, i) => zoneIds.indexOf(z) !== i);
  if (dupes.length > 0) errors.push(`zoneIds must not repeat a zone, got ${[...new Set(dupes)].join(', ')} twice`);
  // ECS creates a reservation in the stack's region: a zone of another region can only fail.
  const regions = [...new Set(zoneIds.map(regionOfZone).filter((r): r is string => r !== undefined))];
  if (regions.length > 1) errors.push(`zoneIds must all be zones of one region (the stack's), got zones of ${regions.join(' and ')}: ${zoneIds.join(', ')}`);
  return errors;
}

/** cn-hangzhou-h → cn-hangzhou; ap-southeast-1a → ap-southeast-1. */
export function regionOfZone(zoneId: string | undefined): string | undefined {
  if (!zoneId) return undefined;
  return /^([a-z]+-[a-z]+-\d+)[a-z]$/.exec(zoneId)?.[1] ?? /^([a-z]+-[a-z]+(?:-\d+)?)-[a-z0-9]+$/.exec(zoneId)?.[1];
}

export function nameError(name: string): string | undefined {
  if (URL_PREFIX.test(name)) return `name must not start with http:// or https://, got '${name}'`;
  return /^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9\u4e00-\u9fa5:_-]{1,127}$/.test(name)
    ? undefined
    : `name must be 2-128 characters, start with a letter or Chinese character, and contain only letters, digits, Chinese characters, ':', '_' or '-', got '${name}'`;
}

export function descriptionError(description: string): string | undefined {
  if ([...description].length < 2 || [...description].length > 256) return `description must be 2-256 characters, got ${[...description].length}`;
  return URL_PREFIX.test(description) ? `description must not start with http:// or https://, got '${description.slice(0, 60)}'` : undefined;
}

/** ECS wants yyyy-MM-ddTHH:mm:ssZ (UTC) for a Limited reservation, in the future. */
export function endTimeError(endTime: string, now: Date): string | undefined {
  const parts = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/.exec(endTime)?.slice(1).map(Number);
  if (!parts) return `endTime must be UTC in the form yyyy-MM-ddTHH:mm:ssZ, got '${endTime}'`;
  // Date.parse rolls Feb 30 over to Mar 2 and T24:00 to the next day: only a time that reads back the same exists.
  const [year, month, day, hour, minute, second] = parts;
  if (formatEndTime(new Date(Date.UTC(year, month - 1, day, hour, minute, second))) !== endTime) {
    return `endTime must be a real UTC time (days of that month, hours 00-23), got '${endTime}'`;
  }
  return Date.parse(endTime) > now.getTime() ? undefined : `endTime must be in the future, got ${endTime} (now ${formatEndTime(now)})`;
}

export function matchCriteriaError(value: string): string | undefined {
  return value === 'Open' || value === 'Target' ? undefined : `matchCriteria must be Open or Target, got '${value}'`;
}

export function platformError(value: string): string | undefined {
  return value === 'Linux' || value === 'Windows' ? undefined : `platform must be Linux or Windows, got '${value}'`;
}

export function resourceGroupIdError(id: string): string | undefined {
  return /^rg-[a-z0-9]+$/.test(id) ? undefined : `resourceGroupId must be a resource group id such as rg-acfmxazb4ph6aiy, got '${id}'`;
}

export const REMOVAL_POLICIES = ['release', 'retain', 'retain-on-update-or-delete'] as const;
export type RemovalPolicyValue = typeof REMOVAL_POLICIES[number];

export function removalPolicyError(value: string): string | undefined {
  return (REMOVAL_POLICIES as readonly string[]).includes(value) ? undefined : `removalPolicy must be one of ${REMOVAL_POLICIES.join(', ')}, got '${value}'`;
}

export function waitTimeoutError(seconds: number): string | undefined {
  return Number.isInteger(seconds) && seconds >= 60 && seconds <= MAX_WAIT_TIMEOUT_SECONDS
    ? undefined
    : `waitTimeout must be 60-${MAX_WAIT_TIMEOUT_SECONDS} seconds, got ${seconds}`;
}

/** ECS tag rules, our reserved prefix, and room for the tags this library writes. */
export function aliTagErrors(tags: readonly AliWireTag[]): string[] {
  const errors: string[] = [];
  for (const { Key: key, Value: value } of tags) {
    if (key.trim() === '' && key.length > 0) errors.push(`tag key must not be blank, got '${key}'`);
    else if (key.length < 1 || [...key].length > 128) errors.push(`tag key must be 1-128 characters, got '${key.slice(0, 40)}' (${[...key].length})`);
    else if (/^(aliyun|acs:)/i.test(key)) errors.push(`tag key must not start with 'aliyun' or 'acs:', got '${key}'`);
    else if (key.startsWith(ALI_RESERVED_TAG_PREFIX)) errors.push(`tag key must not start with '${ALI_RESERVED_TAG_PREFIX}' (written by this library), got '${key}'`);
    else if (CONTAINS_URL.test(key)) errors.push(`tag key must not contain http:// or https://, got '${key}'`);
    if ([...value].length > 128) errors.push(`tag value for '${key}' must be at most 128 characters, got ${[...value].length}`);
    else if (value.startsWith('acs:')) errors.push(`tag value for '${key}' must not start with 'acs:', got '${value}'`);
    else if (CONTAINS_URL.test(value)) errors.push(`tag value for '${key}' must not contain http:// or https://, got '${value}'`);
  }
  const keys = tags.map(t => t.Key);
  const repeated = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
  if (repeated.length > 0) errors.push(`tag keys must be unique, got ${repeated.map(k => `'${k}'`).join(', ')} more than once`);
  if (tags.length > ALI_MAX_USER_TAGS) {
    errors.push(`a capacity reservation takes at most ${ALI_MAX_USER_TAGS} tags (ECS allows ${ALI_MAX_TAGS}; this library writes ${ALI_RESERVED_TAG_COUNT} and keeps ${ANSWER_MARKER_SLOTS} free for answer markers), got ${tags.length}`);
  }
  return errors;
}

/** ClientToken: ASCII, at most 64 characters. */
export function clientTokenError(token: string): string | undefined {
  return /^[\x20-\x7e]{1,64}$/.test(token) ? undefined : `ClientToken must be 1-64 ASCII characters, got ${token.length} characters`;
}

export function formatEndTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
