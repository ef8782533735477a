import { createHash } from 'crypto';
import { UserError } from '../../shared/handler-log';
import * as rules from '../validation';
import { AliReservationParameters, AliWireTag, DEFAULT_WAIT_TIMEOUT_SECONDS } from '../wire';

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
  readonly removalPolicy: 'release' | 'retain';
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
  const int = (name: string, raw: unknown, fallback?: number) => {
    if (text(raw) === undefined && fallback !== undefined) return fallback;
    const n = Number(raw);
    if (text(raw) === undefined || Number.isNaN(n)) errors.push(`${name} must be a number, got '${String(raw ?? '')}'`);
    return n;
  };
  const request: ReservationRequest = {
    instanceType: text(p.InstanceType) ?? '',
    instanceAmount: int('instanceAmount', p.InstanceAmount),
    zoneIds: Array.isArray(p.ZoneIds) ? p.ZoneIds.map(String) : typeof p.ZoneIds === 'string' ? [p.ZoneIds] : [],
    name: text(p.Name),
    description: text(p.Description),
    matchCriteria: (text(p.MatchCriteria) ?? 'Open') as 'Open' | 'Target',
    endTime: text(p.EndTime),
    platform: text(p.Platform),
    resourceGroupId: text(p.ResourceGroupId),
    tags: (Array.isArray(p.Tags) ? p.Tags : []).map(t => ({ Key: String(t.Key), Value: String(t.Value ?? '') })),
    removalPolicy: (text(p.RemovalPolicy) ?? 'release') as 'release' | 'retain',
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

/** Keys that tie reservations to the resource (stable) and to one request (redeliveries share it). */
export interface ResourceKeys {
  readonly resource: string;
  readonly request: string;
}

export function resourceKeys(e: { StackId: string; LogicalResourceId: string; RequestId: string }): ResourceKeys {
  const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
  return {
    resource: hash(`${e.StackId}\n${e.LogicalResourceId}`),
    request: hash(`${e.StackId}\n${e.LogicalResourceId}\n${e.RequestId}`),
  };
}

/** ECS ClientToken (ASCII, ≤ 64): one per request and zone, so a retry in the same zone is idempotent. */
export function clientToken(keys: ResourceKeys, zoneId: string): string {
  const token = createHash('sha256').update(`${keys.request}\n${zoneId}`).digest('hex').slice(0, 48);
  const error = rules.clientTokenError(token);
  if (error) throw new UserError(error);
  return token;
}
