import type { DescribeCapacityReservationsResponseBody } from '@alicloud/ecs20140526';
import { log, UserError } from '../../shared/handler-log';
import { ALI_RESERVED_TAG_PREFIX, AliReservationAttributes, AliWireTag, ANSWER_TAG_PREFIX, REQUEST_TAG, RESOURCE_TAG } from '../wire';
import { asEcsError, EcsCall } from './ecs';
import { ecsFailure, isGone, NO_STOCK_CODES } from './errors';
import { clientToken, ReservationRequest, ResourceKeys } from './request';

/**
 * The JSON ECS sends: the SDK models' wire names (static names()), which are the field names
 * capitalized, except AllocatedResource's `zoneId`, the one lower-case key the model has.
 */
type Wire<T> = T extends Array<infer U> ? Array<Wire<U>>
  : T extends object ? { [K in keyof T as K extends string ? (T[K] extends (...args: any[]) => any ? never : K extends 'zoneId' ? K : Capitalize<K>) : never]?: Wire<T[K]> }
    : T;
type DescribeBody = Wire<DescribeCapacityReservationsResponseBody>;
type WireItem = NonNullable<NonNullable<DescribeBody['CapacityReservationSet']>['CapacityReservationItem']>[number];

export interface Reservation {
  readonly id: string;
  readonly zoneId: string;
  readonly status: string;
  readonly instanceType: string;
  readonly startTime: string;
  readonly endTime: string;
  /** Limited (ends at endTime) or Unlimited (manual release). */
  readonly endTimeType: string;
  readonly matchCriteria: string;
  readonly platform: string;
  readonly resourceGroupId: string;
  readonly tags: AliWireTag[];
}

/** Tunables, exported so tests can shorten the waits. */
export const waitPolicy = { pollIntervalMs: 5_000 };

const RESOURCE_TYPE = 'capacityreservation';

function toReservation(item: WireItem): Reservation {
  const allocated = item.AllocatedResources?.AllocatedResource?.[0];
  return {
    id: item.PrivatePoolOptionsId ?? '',
    zoneId: allocated?.zoneId ?? '',
    status: item.Status ?? '',
    instanceType: allocated?.InstanceType ?? '',
    startTime: item.StartTime ?? '',
    endTime: item.EndTime ?? '',
    endTimeType: item.EndTimeType ?? '',
    matchCriteria: item.PrivatePoolOptionsMatchCriteria ?? '',
    platform: item.Platform ?? '',
    resourceGroupId: item.ResourceGroupId ?? '',
    tags: (item.Tags?.Tag ?? []).map(t => ({ Key: t.TagKey ?? '', Value: t.TagValue ?? '' })),
  };
}

async function describe(ecs: EcsCall, filter: Record<string, unknown>): Promise<Reservation[]> {
  const found: Reservation[] = [];
  let token: string | undefined;
  do {
    const body = (await ecs('DescribeCapacityReservations', { ...filter, Status: 'All', MaxResults: 100, NextToken: token })) as DescribeBody;
    found.push(...(body.CapacityReservationSet?.CapacityReservationItem ?? []).map(toReservation));
    token = body.NextToken || undefined;
  } while (token);
  return found;
}

export async function getReservation(ecs: EcsCall, id: string): Promise<Reservation | undefined> {
  try {
    return (await describe(ecs, { PrivatePoolOptions: { Ids: JSON.stringify([id]) } }))[0];
  } catch (error) {
    if (isGone(error)) return undefined;
    throw ecsFailure('DescribeCapacityReservations', id, error);
  }
}

/** Reservations carrying tag key=value that are not released. */
export async function liveReservationsTagged(ecs: EcsCall, key: string, value: string): Promise<Reservation[]> {
  try {
    return (await describe(ecs, { Tag: [{ Key: key, Value: value }] })).filter(r => r.status !== 'Released');
  } catch (error) {
    throw ecsFailure('DescribeCapacityReservations', `tag ${key}`, error);
  }
}

/**
 * Creates the reservation in the first zone with stock, or adopts the one an earlier delivery of
 * the same request created. Each zone gets its own ClientToken, so ECS deduplicates retries too.
 */
export async function createInFirstZoneWithStock(ecs: EcsCall, request: ReservationRequest, keys: ResourceKeys): Promise<{ id: string; zoneId: string; adopted: boolean }> {
  const earlier = (await liveReservationsTagged(ecs, REQUEST_TAG, keys.request))[0];
  if (earlier) {
    log('adopting the reservation an earlier delivery of this request created', { reservationId: earlier.id });
    return { id: earlier.id, zoneId: earlier.zoneId, adopted: true };
  }
  const soldOut: string[] = [];
  for (const zoneId of request.zoneIds) {
    try {
      const body = await ecs('CreateCapacityReservation', {
        ClientToken: clientToken(keys, zoneId),
        InstanceType: request.instanceType,
        InstanceAmount: request.instanceAmount,
        ZoneId: [zoneId],
        PrivatePoolOptions: { Name: request.name, MatchCriteria: request.matchCriteria },
        Description: request.description,
        EndTimeType: request.endTime ? 'Limited' : 'Unlimited',
        EndTime: request.endTime,
        Platform: request.platform,
        ResourceGroupId: request.resourceGroupId,
        Tag: [...request.tags, { Key: RESOURCE_TAG, Value: keys.resource }, { Key: REQUEST_TAG, Value: keys.request }],
      });
      const id = String(body.PrivatePoolOptionsId ?? '');
      if (!id) throw new UserError(`ECS CreateCapacityReservation in ${zoneId} returned no PrivatePoolOptionsId; check the ECS console for a reservation tagged ${REQUEST_TAG}=${keys.request}`);
      log('created capacity reservation', { reservationId: id, zoneId, triedBefore: soldOut });
      return { id, zoneId, adopted: false };
    } catch (error) {
      const code = asEcsError(error).code;
      if (!NO_STOCK_CODES.has(code)) throw ecsFailure('CreateCapacityReservation', `zone ${zoneId}`, error);
      log('the zone cannot take it; trying the next one', { zoneId, code });
      soldOut.push(`${zoneId} (${code})`);
    }
  }
  throw new UserError(`No stock of ${request.instanceAmount} x ${request.instanceType} in any of zoneIds: ${soldOut.join(', ')}; add zones, lower instanceAmount or try another instance type`);
}

/**
 * Concurrent deliveries of one Create can each make a reservation (the ClientToken is per zone, and
 * both may look for an earlier one before either has created it). Every delivery keeps the same one,
 * the reservation in the earliest of zoneIds (then the lowest id), and releases the others.
 */
export async function keepOnePerRequest(ecs: EcsCall, request: ReservationRequest, keys: ResourceKeys, mine?: string): Promise<string> {
  const made = await liveReservationsTagged(ecs, REQUEST_TAG, keys.request);
  const ids = new Map(made.map(r => [r.id, r.zoneId]));
  // Just created, its tags may not be listed yet: it counts too.
  if (mine && !ids.has(mine)) {
    const own = await getReservation(ecs, mine);
    if (own && own.status !== 'Released') ids.set(mine, own.zoneId);
  }
  const ordered = keepOrder(request, [...ids].map(([id, zoneId]) => ({ id, zoneId })));
  if (ordered.length === 0) throw new UserError(`The capacity reservation this request created${mine ? ` (${mine})` : ''} is no longer listed; deploy again`);
  for (const { id } of ordered.slice(1)) {
    log('releasing a duplicate another delivery of this request created', { reservationId: id, kept: ordered[0].id });
    await release(ecs, id);
  }
  return ordered[0].id;
}

/**
 * The one order every delivery of a request agrees on: the earliest of zoneIds (zones outside it
 * last), then the lowest id. The first is the one kept and answered; it never depends on who asks.
 */
export function keepOrder<T extends { id: string; zoneId: string }>(request: Pick<ReservationRequest, 'zoneIds'>, reservations: T[]): T[] {
  const rank = (zoneId: string) => (request.zoneIds.indexOf(zoneId) + request.zoneIds.length + 1) % (request.zoneIds.length + 1);
  return [...reservations].sort((a, b) => rank(a.zoneId) - rank(b.zoneId) || a.id.localeCompare(b.id));
}

/**
 * Polls until Active. At the deadline a new reservation is released (it bills by the hour) and the
 * deployment fails: nothing is left billing unseen; one the stack already holds (`held`) is kept
 * and returned with the status it has.
 * A reservation released meanwhile is returned as it is (status Released) for the caller to decide.
 */
export async function waitUntilActive(ecs: EcsCall, id: string, deadline: Date, held = false): Promise<Reservation> {
  for (;;) {
    const reservation = await getReservation(ecs, id);
    if (reservation?.status === 'Active' || reservation?.status === 'Released') return reservation;
    if (Date.now() >= deadline.getTime()) {
      // Read once more right before releasing: a concurrent delivery (its own deadline later) may
      // just have seen it Active and answered it; then it is kept and answered here too.
      const last = await getReservation(ecs, id);
      if (last?.status === 'Active' || last?.status === 'Released') return last;
      // The reservation the stack already holds (an in-place change): it is tracked and holds the
      // user's capacity, so it is kept and answered with its status. Failing instead would make
      // ROS roll back with another change that could time out too: ROLLBACK_FAILED.
      if (held && last) {
        log(`capacity reservation ${id} is still ${last.status} after waitTimeout following the change; it is kept (the stack holds it) and answered as ${last.status}`, { reservationId: id });
        return last;
      }
      await release(ecs, id);
      throw new UserError(`Capacity reservation ${id} was still ${last?.status ?? 'not listed'} after waitTimeout, so it was released (nothing keeps billing); deploy again or raise waitTimeout`);
    }
    await new Promise(resolve => setTimeout(resolve, waitPolicy.pollIntervalMs));
  }
}

/**
 * Releases, idempotently: a reservation already Released, or one ECS no longer knows, is done.
 * ReleaseCapacityReservation only takes manual-release (Unlimited) reservations, so a Limited one
 * is made Unlimited first; if the release then fails, its end time is put back (it must not bill
 * past the end the user chose).
 */
export async function release(ecs: EcsCall, id: string): Promise<void> {
  const reservation = await getReservation(ecs, id);
  if (!reservation || reservation.status === 'Released') {
    log('capacity reservation already released', { reservationId: id });
    return;
  }
  const limited = reservation.endTimeType === 'Limited' || (!reservation.endTimeType && reservation.endTime !== '');
  if (limited) {
    try {
      await ecs('ModifyCapacityReservation', { PrivatePoolOptions: { Id: id }, EndTimeType: 'Unlimited' });
    } catch (error) {
      if (isGone(error)) return;
      throw ecsFailure('ModifyCapacityReservation', `${id}, to make it Unlimited so it can be released`, error);
    }
  }
  try {
    await ecs('ReleaseCapacityReservation', { PrivatePoolOptions: { Id: id } });
    log('released capacity reservation', { reservationId: id });
  } catch (error) {
    if (isGone(error)) {
      log('capacity reservation already released', { reservationId: id });
      return;
    }
    if (limited && reservation.endTime) await restoreEndTime(ecs, id, reservation.endTime);
    throw ecsFailure('ReleaseCapacityReservation', id, error);
  }
}

async function restoreEndTime(ecs: EcsCall, id: string, endTime: string): Promise<void> {
  try {
    await ecs('ModifyCapacityReservation', { PrivatePoolOptions: { Id: id }, EndTimeType: 'Limited', EndTime: wireEndTime(endTime) });
  } catch (error) {
    log('could not put the end time back after a failed release; the reservation is Unlimited now', { reservationId: id, endTime, code: asEcsError(error).code });
  }
}

/** ECS answers times to the minute (yyyy-MM-ddTHH:mmZ); requests take seconds. */
function wireEndTime(time: string): string {
  return /T\d\d:\d\dZ$/.test(time) ? time.replace(/Z$/, ':00Z') : time;
}

/** Name, description, amount and end time change in place (ModifyCapacityReservation). */
export async function modifyInPlace(ecs: EcsCall, id: string, request: ReservationRequest, old: Partial<ReservationRequest>): Promise<boolean> {
  const changes: Record<string, unknown> = {};
  if (request.name !== old.name && request.name !== undefined) changes.PrivatePoolOptions = { Id: id, Name: request.name };
  if (request.description !== old.description && request.description !== undefined) changes.Description = request.description;
  if (request.instanceAmount !== old.instanceAmount) changes.InstanceAmount = request.instanceAmount;
  if (request.endTime !== old.endTime) {
    changes.EndTimeType = request.endTime ? 'Limited' : 'Unlimited';
    if (request.endTime) changes.EndTime = request.endTime;
  }
  for (const key of ['name', 'description'] as const) {
    // ModifyCapacityReservation cannot clear them: an empty value is not accepted.
    if (old[key] !== undefined && request[key] === undefined) log(`${key} was removed from the template; ECS cannot clear it, so the reservation keeps ${JSON.stringify(old[key])}`, { reservationId: id });
  }
  if (Object.keys(changes).length === 0) return false;
  try {
    await ecs('ModifyCapacityReservation', { PrivatePoolOptions: { Id: id }, ...changes });
  } catch (error) {
    throw ecsFailure('ModifyCapacityReservation', id, error);
  }
  log('modified capacity reservation in place', { reservationId: id, changed: Object.keys(changes) });
  return true;
}

/** Makes the user tags equal to the request's; the library's own tags are left alone. */
export async function syncTags(ecs: EcsCall, reservation: Reservation, request: ReservationRequest): Promise<void> {
  // Every key under the reserved prefix is the library's (resource, request, answer markers).
  const current = new Map(reservation.tags.filter(t => !t.Key.startsWith(ALI_RESERVED_TAG_PREFIX)).map(t => [t.Key, t.Value]));
  const wanted = new Set(request.tags.map(t => t.Key));
  const toSet = request.tags.filter(t => current.get(t.Key) !== t.Value);
  // The Create's answer markers matter only while its deliveries settle; by an update they are
  // stale, and they would take slots the user's tags may need (ECS allows 20).
  const markers = reservation.tags.filter(t => t.Key.startsWith(ANSWER_TAG_PREFIX)).map(t => t.Key);
  const toRemove = [...[...current.keys()].filter(k => !wanted.has(k)), ...markers];
  let action = 'UntagResources';
  try {
    // Untag first: it frees slots for the tags set next.
    if (toRemove.length > 0) await ecs('UntagResources', { ResourceType: RESOURCE_TYPE, ResourceId: [reservation.id], TagKey: toRemove });
    action = 'TagResources';
    if (toSet.length > 0) await ecs('TagResources', { ResourceType: RESOURCE_TYPE, ResourceId: [reservation.id], Tag: toSet });
  } catch (error) {
    throw ecsFailure(action, reservation.id, error);
  }
}

export function attributesOf(r: Reservation): AliReservationAttributes {
  return { ReservationId: r.id, ZoneId: r.zoneId, Status: r.status, StartTime: r.startTime, EndTime: r.endTime };
}
