import type { DescribeCapacityReservationsResponseBody } from '@alicloud/ecs20140526';
import { log, UserError } from '../../shared/handler-log';
import { ALI_RESERVED_TAG_PREFIX, AliReservationAttributes, AliWireTag, ANSWER_TAG_PREFIX, RESOURCE_TAG, RETAINED_PREFIX } from '../wire';
import { asEcsError, EcsCall, outcomeUnknown } from './ecs';
import { ecsFailure, isGone, NO_STOCK_CODES } from './errors';
import { ReservationRequest, ResourceKeys } from './request';

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
  readonly resourceGroupId: string;
  readonly tags: AliWireTag[];
  /** TotalAmount: the instances reserved. */
  readonly amount: number;
  /** UsedAmount: instances using it now; ModifyCapacityReservation cannot go below it. */
  readonly usedAmount: number;
}

/**
 * Tunables and the clock, exported so tests and the local rehearsal can shorten the waits or run
 * them on simulated time.
 */
export const waitPolicy = {
  pollIntervalMs: 5_000,
  /** After waitTimeout, how long a reservation ECS does not release yet (Pending/Preparing) is waited for so it can be released. */
  releaseGraceMs: 240_000,
  /** How long a replacement waits for ECS's tag index to list it before answering. */
  listingWaitMs: 120_000,
  /** After answering a replacement, how long GetStack is watched for the update's end before the replaced reservation is left to the next request. */
  settleAfterUpdateMs: 600_000,
  /** How long a throttled (or 5xx) ROS GetStack is asked again before the step gives up. */
  stackStatusRetryMs: 120_000,
  now: (): number => Date.now(),
  sleep: (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms)),
};

/** The reservation carries this resource's tag: held now, or kept by removalPolicy retain when replaced. */
export function heldBy(r: Reservation, keys: ResourceKeys): boolean {
  return r.tags.some(t => t.Key === RESOURCE_TAG && t.Value === keys.resource);
}

export function retainedFrom(r: Reservation, keys: ResourceKeys): boolean {
  return r.tags.some(t => t.Key === RESOURCE_TAG && t.Value === RETAINED_PREFIX + keys.resource);
}

/** ECS refuses to release (or may refuse to change) a reservation in these states. */
const NOT_RELEASABLE = new Set(['Pending', 'Preparing']);

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
    amount: Number(allocated?.TotalAmount ?? 0),
    usedAmount: Number(allocated?.UsedAmount ?? 0),
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

/** Reservations carrying tag key=value, whatever their status (released ones keep their ledger). */
export async function reservationsTagged(ecs: EcsCall, key: string, value: string): Promise<Reservation[]> {
  try {
    return await describe(ecs, { Tag: [{ Key: key, Value: value }] });
  } catch (error) {
    throw ecsFailure('DescribeCapacityReservations', `tag ${key}`, error);
  }
}

/** Reservations carrying tag key=value that are not released. */
export async function liveReservationsTagged(ecs: EcsCall, key: string, value: string): Promise<Reservation[]> {
  return (await reservationsTagged(ecs, key, value)).filter(r => r.status !== 'Released');
}

/**
 * Creates the reservation of one generation in the first zone with stock. Every zone gets the same
 * ClientToken, so ECS answers a repeat (a duplicate delivery, however late) with the reservation the
 * first made; a duplicate that tries another zone than the first did gets IdempotentParameterMismatch
 * and then asks each zone with the token until ECS names the reservation made with it.
 */
export async function createInFirstZoneWithStock(ecs: EcsCall, request: ReservationRequest, token: string, libraryTags: AliWireTag[], until?: Date): Promise<{ id: string; zoneId: string }> {
  const create = async (zoneId: string) => {
    const body = await askUntilAnswered(until, () => ecs('CreateCapacityReservation', {
      ClientToken: token,
      InstanceType: request.instanceType,
      InstanceAmount: request.instanceAmount,
      ZoneId: [zoneId],
      PrivatePoolOptions: { Name: request.name, MatchCriteria: request.matchCriteria },
      Description: request.description,
      EndTimeType: request.endTime ? 'Limited' : 'Unlimited',
      EndTime: request.endTime,
      // Not sent: ECS documents Platform as "not available for use" (it does not apply it).
      ResourceGroupId: request.resourceGroupId,
      Tag: [...request.tags, ...libraryTags],
    }));
    const id = String(body.PrivatePoolOptionsId ?? '');
    if (!id) throw new UserError(`ECS CreateCapacityReservation in ${zoneId} returned no PrivatePoolOptionsId; check the ECS console for a reservation tagged ${RESOURCE_TAG}`);
    return { id, zoneId };
  };
  const soldOut: string[] = [];
  for (const zoneId of request.zoneIds) {
    try {
      const made = await create(zoneId);
      log('created capacity reservation', { reservationId: made.id, zoneId, triedBefore: soldOut, note: 'or ECS answered the one this ClientToken made' });
      return made;
    } catch (error) {
      const code = asEcsError(error).code;
      if (code === IDEMPOTENT_MISMATCH) return madeInAnotherZone(request, create, zoneId);
      if (!NO_STOCK_CODES.has(code)) throw ecsFailure('CreateCapacityReservation', `zone ${zoneId}`, error);
      log('the zone cannot take it; trying the next one', { zoneId, code });
      soldOut.push(`${zoneId} (${code})`);
    }
  }
  throw new UserError(`No stock of ${request.instanceAmount} x ${request.instanceType} in any of zoneIds: ${soldOut.join(', ')}; add zones, lower instanceAmount or try another instance type`);
}

/**
 * A create whose outcome is unknown (throttled, 5xx, no answer after the client's retries) may have
 * made the reservation: asked again with the same ClientToken until `until`, ECS answers its id
 * (or makes it). Giving up early would leave a reservation no later request knows the id of.
 */
async function askUntilAnswered<T>(until: Date | undefined, call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!until || !outcomeUnknown(error) || waitPolicy.now() >= until.getTime()) throw error;
      log('ECS did not answer the create; asking again with the same ClientToken', { code: asEcsError(error).code });
      await waitPolicy.sleep(waitPolicy.pollIntervalMs);
    }
  }
}

/** ECS's answer to a ClientToken used before with other parameters (the ECS idempotence reference). */
const IDEMPOTENT_MISMATCH = 'IdempotentParameterMismatch';

async function madeInAnotherZone(request: ReservationRequest, create: (zoneId: string) => Promise<{ id: string; zoneId: string }>, tried: string): Promise<{ id: string; zoneId: string }> {
  for (const zoneId of request.zoneIds.filter(z => z !== tried)) {
    try {
      const made = await create(zoneId);
      log('another delivery of this request made the reservation; answering it', { reservationId: made.id, zoneId });
      return made;
    } catch (error) {
      if (asEcsError(error).code !== IDEMPOTENT_MISMATCH) throw ecsFailure('CreateCapacityReservation', `zone ${zoneId}`, error);
    }
  }
  throw new UserError(`ECS says this request's ClientToken made a reservation with other parameters than these in every zone of zoneIds; check the ECS console for reservations tagged ${RESOURCE_TAG}, release any this stack does not show, and deploy again`);
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
    if (waitPolicy.now() >= deadline.getTime()) {
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
      // ECS releases it only once it is Active: wait for that a while longer (answering before ROS's timeout).
      await release(ecs, id, new Date(waitPolicy.now() + waitPolicy.releaseGraceMs));
      throw new UserError(`Capacity reservation ${id} was still ${last?.status ?? 'not listed'} after waitTimeout, so it was released (nothing keeps billing); deploy again or raise waitTimeout`);
    }
    await waitPolicy.sleep(waitPolicy.pollIntervalMs);
  }
}

/**
 * Releases, idempotently: a reservation already Released, or one ECS no longer knows, is done.
 * ECS refuses to release one that is not Active yet (Pending, Preparing): that is waited for until
 * `until`, then reported. ReleaseCapacityReservation only takes manual-release (Unlimited)
 * reservations, so a Limited one is made Unlimited first; if the release then fails, its end time is
 * put back (it must not bill past the end the user chose).
 */
export async function release(ecs: EcsCall, id: string, until: Date = new Date(waitPolicy.now())): Promise<void> {
  for (;;) {
    const reservation = await getReservation(ecs, id);
    if (!reservation || reservation.status === 'Released') {
      log('capacity reservation already released', { reservationId: id });
      return;
    }
    if (NOT_RELEASABLE.has(reservation.status) || !(await releaseNow(ecs, reservation))) {
      if (waitPolicy.now() >= until.getTime()) {
        throw new UserError(`Capacity reservation ${id} is still ${reservation.status} and ECS releases a reservation only once it is Active; it bills meanwhile: continue the rollback or delete the stack again once it is Active, or release it in the ECS console`);
      }
      log('ECS does not release the reservation in its current state yet; waiting', { reservationId: id, status: reservation.status });
      await waitPolicy.sleep(waitPolicy.pollIntervalMs);
      continue;
    }
    return;
  }
}

/** One release attempt: true when done, false when ECS refused it for the reservation's state. */
async function releaseNow(ecs: EcsCall, reservation: Reservation): Promise<boolean> {
  const id = reservation.id;
  const limited = reservation.endTimeType === 'Limited' || (!reservation.endTimeType && reservation.endTime !== '');
  if (limited) {
    try {
      await ecs('ModifyCapacityReservation', { PrivatePoolOptions: { Id: id }, EndTimeType: 'Unlimited' });
    } catch (error) {
      if (isGone(error)) return true;
      throw ecsFailure('ModifyCapacityReservation', `${id}, to make it Unlimited so it can be released`, error);
    }
  }
  try {
    await ecs('ReleaseCapacityReservation', { PrivatePoolOptions: { Id: id } });
    log('released capacity reservation', { reservationId: id });
    return true;
  } catch (error) {
    if (isGone(error)) {
      log('capacity reservation already released', { reservationId: id });
      return true;
    }
    if (limited && reservation.endTime) await restoreEndTime(ecs, id, reservation.endTime);
    if (asEcsError(error).code === NOT_RELEASABLE_CODE) return false;
    throw ecsFailure('ReleaseCapacityReservation', id, error);
  }
}

/** What ECS answers a release of a reservation that is not Active yet (the handler's error table). */
const NOT_RELEASABLE_CODE = 'Invalid.PrivatePoolOptions.status';

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

/** Makes the user tags equal to the request's; the library's own tags are left alone (answer markers are dropped). */
export async function syncTags(ecs: EcsCall, reservation: Reservation, request: ReservationRequest): Promise<void> {
  // Every key under the reserved prefix is the library's (resource, ledger, answer markers).
  const current = new Map(reservation.tags.filter(t => !t.Key.startsWith(ALI_RESERVED_TAG_PREFIX)).map(t => [t.Key, t.Value]));
  const wanted = new Set(request.tags.map(t => t.Key));
  const toSet = request.tags.filter(t => current.get(t.Key) !== t.Value);
  // The Create's answer markers matter only while its deliveries settle; by an update they are
  // stale (the ledger tells a late Create from the one the stack holds), and they would take slots
  // the user's tags may need (ECS allows 20).
  const markers = reservation.tags.filter(t => t.Key.startsWith(ANSWER_TAG_PREFIX)).map(t => t.Key);
  const toRemove = [...[...current.keys()].filter(k => !wanted.has(k)), ...markers];
  // Untag first: it frees slots for the tags set next.
  if (toRemove.length > 0) await untag(ecs, reservation.id, toRemove);
  await tag(ecs, reservation.id, toSet);
}

export async function tag(ecs: EcsCall, id: string, tags: AliWireTag[]): Promise<void> {
  if (tags.length === 0) return;
  try {
    await ecs('TagResources', { ResourceType: RESOURCE_TYPE, ResourceId: [id], Tag: tags });
  } catch (error) {
    throw ecsFailure('TagResources', id, error);
  }
}

async function untag(ecs: EcsCall, id: string, keys: string[]): Promise<void> {
  try {
    await ecs('UntagResources', { ResourceType: RESOURCE_TYPE, ResourceId: [id], TagKey: keys });
  } catch (error) {
    throw ecsFailure('UntagResources', id, error);
  }
}

export function attributesOf(r: Reservation): AliReservationAttributes {
  return { ReservationId: r.id, ZoneId: r.zoneId, Status: r.status, StartTime: r.startTime, EndTime: r.endTime };
}
