import { createHash } from 'crypto';
import { UserError } from '../../shared/handler-log';
import * as rules from '../validation';
import { RemovalPolicyValue } from '../validation';
import { ResourceKeys } from '../resource-keys';
import { AliReservationParameters, AliWireTag, DEFAULT_WAIT_TIMEOUT_SECONDS } from '../wire';

export { resourceKeys, ResourceKeys } from '../resource-keys';

/** The resource's parameters, parsed and validated. */
export interface ReservationRequest {
  readonly instanceType: string;
  readonly instanceAmount: number;
  readonly zoneIds: string[];
  readonly name?: string;
  readonly description?: string;
  readonly matchCriteria: 'Open' | 'Target';
  readonly endTime?: string;
  readonly platform?: string;
  readonly resourceGroupId?: string;
  readonly tags: AliWireTag[];
  readonly removalPolicy: RemovalPolicyValue;
  readonly waitTimeoutSeconds: number;
}

/**
 * ROS hands the custom resource's Parameters over as ResourceProperties; accept them either at the
 * top level or under `Parameters`, and scalars as numbers or strings.
 */
export function parametersOf(properties: unknown): AliReservationParameters {
  const p = (properties ?? {}) as { Parameters?: AliReservationParameters } & AliReservationParameters;
  return p.Parameters && typeof p.Parameters === 'object' ? p.Parameters : p;
}

export function parseReservationRequest(properties: unknown, now: Date): ReservationRequest {
  const p = parametersOf(properties);
  const errors: Array<string | undefined> = [];
  const text = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v));
  // ROS may hand numbers over as strings; anything else ("0x10", "1e3", true, [4]) is refused, not coerced.
  const int = (name: string, raw: unknown, fallback?: number) => {
    if (text(raw) === undefined && fallback !== undefined) return fallback;
    if ((typeof raw === 'number' && Number.isInteger(raw)) || (typeof raw === 'string' && /^\d{1,9}$/.test(raw))) return Number(raw);
    errors.push(`${name} must be a decimal whole number, got ${JSON.stringify(raw ?? null)}`);
    return Number.NaN;
  };
  const request: ReservationRequest = {
    instanceType: text(p.InstanceType) ?? '',
    instanceAmount: int('instanceAmount', p.InstanceAmount),
    zoneIds: zoneIdsOf(p.ZoneIds, errors),
    name: text(p.Name),
    description: text(p.Description),
    matchCriteria: (text(p.MatchCriteria) ?? 'Open') as 'Open' | 'Target',
    endTime: text(p.EndTime),
    platform: text(p.Platform),
    resourceGroupId: text(p.ResourceGroupId),
    tags: tagsOf(p.Tags, errors),
    removalPolicy: (text(p.RemovalPolicy) ?? 'release') as RemovalPolicyValue,
    waitTimeoutSeconds: int('waitTimeout', p.WaitTimeoutSeconds, DEFAULT_WAIT_TIMEOUT_SECONDS),
  };
  errors.push(rules.instanceTypeError(request.instanceType));
  if (!Number.isNaN(request.instanceAmount)) errors.push(rules.instanceAmountError(request.instanceAmount));
  errors.push(...rules.zoneIdsErrors(request.zoneIds));
  if (request.name !== undefined) errors.push(rules.nameError(request.name));
  if (request.description !== undefined) errors.push(rules.descriptionError(request.description));
  errors.push(rules.matchCriteriaError(request.matchCriteria));
  if (request.endTime !== undefined) errors.push(rules.endTimeError(request.endTime, now));
  if (request.platform !== undefined) errors.push(rules.platformError(request.platform));
  if (request.resourceGroupId !== undefined) errors.push(rules.resourceGroupIdError(request.resourceGroupId));
  errors.push(rules.removalPolicyError(request.removalPolicy));
  if (!Number.isNaN(request.waitTimeoutSeconds)) errors.push(rules.waitTimeoutError(request.waitTimeoutSeconds));
  errors.push(...rules.aliTagErrors(request.tags));
  const found = errors.filter((e): e is string => e !== undefined);
  if (found.length > 0) throw new UserError(`Invalid AliCapacityReservation parameters: ${found.join('; ')}`);
  return request;
}

/** A list of zone ids (or one as a string); anything else is refused. */
function zoneIdsOf(raw: unknown, errors: Array<string | undefined>): string[] {
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw) && raw.every(z => typeof z === 'string')) return raw;
  if (raw !== undefined) errors.push(`zoneIds must be a list of zone ids, got ${JSON.stringify(raw)}`);
  return [];
}

/** The construct writes a list of {Key, Value}; a map (or anything else) would be dropped silently, so it is refused. */
function tagsOf(raw: unknown, errors: Array<string | undefined>): AliWireTag[] {
  if (raw === undefined || raw === null) return [];
  const isTag = (t: unknown): t is { Key: string; Value?: unknown } => typeof t === 'object' && t !== null && typeof (t as { Key?: unknown }).Key === 'string'
    && ['string', 'undefined'].includes(typeof (t as { Value?: unknown }).Value);
  if (Array.isArray(raw) && raw.every(isTag)) return raw.map(t => ({ Key: t.Key, Value: String(t.Value ?? '') }));
  errors.push(`tags must be a list of {Key, Value}, got ${JSON.stringify(raw).slice(0, 80)}`);
  return [];
}

/**
 * ECS ClientToken (ASCII, ≤ 64): one per resource and generation, the same in every zone, so ECS
 * itself answers every delivery of the request that makes a generation (however late, in whatever
 * zone it tries) with the one reservation the first made (another zone: IdempotentParameterMismatch).
 */
export function clientToken(keys: ResourceKeys, generation: string): string {
  const token = createHash('sha256').update(`${keys.resource}\n${generation}`).digest('hex').slice(0, 48);
  const error = rules.clientTokenError(token);
  if (error) throw new UserError(error);
  return token;
}
