/**
 * Function Compute 3 entry point behind ALIYUN::ROS::CustomResource. ROS delivers the event as a
 * Buffer and waits for our answer at ResponseURL; the event is never logged (the URL is presigned).
 */
import { randomBytes } from 'crypto';
import { log, oneLineText, UserError } from '../../shared/handler-log';
import {
  ALI_MAX_TAGS, ANSWER_POSTING, ANSWER_REFUSED, ANSWER_TAG_PREFIX, AliReservationAttributes, REQUEST_TAG, RESOURCE_TAG,
} from '../wire';
import { asEcsError, createEcsCall, EcsCall, FcCredentials } from './ecs';
import { ecsFailure } from './errors';
import { parametersOf, parseReservationRequest, ReservationRequest, resourceKeys, ResourceKeys } from './request';
import {
  attributesOf, createInFirstZoneWithStock, getReservation, keepOnePerRequest, keepOrder, liveReservationsTagged, modifyInPlace, release,
  Reservation, syncTags, waitPolicy, waitUntilActive,
} from './reservations';

export interface RosEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: unknown;
  readonly OldResourceProperties?: unknown;
  readonly RegionId: string;
}

export interface FcContext {
  readonly credentials: FcCredentials;
}

export interface RosResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: AliReservationAttributes;
}

/** Seams for tests and the local rehearsal: how ECS is reached and how ROS is answered. */
export const seams = {
  ecs: createEcsCall,
  respond: postResponse,
};

export async function handler(raw: Buffer | string | RosEvent, context: FcContext): Promise<RosResponse> {
  const event: RosEvent = Buffer.isBuffer(raw) || typeof raw === 'string' ? JSON.parse(raw.toString()) : raw;
  log(`${event.RequestType} ${event.LogicalResourceId}`, { physicalResourceId: event.PhysicalResourceId, regionId: event.RegionId });
  const ecs = seams.ecs(context.credentials, event.RegionId);
  const progress: Progress = { physicalResourceId: event.PhysicalResourceId };
  let response: RosResponse;
  try {
    const { physicalResourceId, data } = await dispatch(event, ecs, progress);
    response = { ...echo(event), Status: 'SUCCESS', PhysicalResourceId: physicalResourceId, Data: data };
  } catch (error) {
    const reason = error instanceof UserError ? oneLineText(error.message) : oneLineText(`Unexpected error: ${(error as Error)?.message ?? String(error)}`);
    log('FAILED', { reason });
    // ROS wants a PhysicalResourceId on every answer; a failed Create that owns nothing gets a marker id.
    const physicalResourceId = progress.physicalResourceId || notCreatedId(resourceKeys(event));
    response = { ...echo(event), Status: 'FAILED', Reason: reason, PhysicalResourceId: physicalResourceId };
  }
  // One id per invocation (FC retries included): it names this delivery's answer marker.
  const delivery = randomBytes(4).toString('hex');
  const marked = event.RequestType === 'Create' && response.Status === 'SUCCESS' && await markAnswer(ecs, response.PhysicalResourceId, delivery, ANSWER_POSTING);
  try {
    await seams.respond(event.ResponseURL, response);
  } catch (error) {
    // ROS refusing the answer to a Create (4xx): either the stack operation is over (a late delivery
    // after the rollback: nobody would ever release what this request made) or ROS already holds
    // another delivery's answer. ROS does not document which, so settle safely under both.
    if (event.RequestType === 'Create' && error instanceof RosRefusedError && error.status < 500) {
      const { released, kept } = await settleRefusedCreate(ecs, event, delivery, marked);
      if (kept) {
        log(`ROS refused the answer to this Create; kept ${kept}, which another delivery of this request answered and the stack may hold; if the stack does not show ${kept}, release it in the ECS console`, { released, httpStatus: error.status });
        return { ...response, Status: 'FAILED', Reason: oneLineText(`ROS refused the answer (HTTP ${error.status}): another delivery of this Create answered ${kept}, so it was kept (the stack may hold it); duplicates released: ${released.join(', ') || 'none'}`) };
      }
      log('ROS refused the answer to this Create (the stack operation is over); released what this request created', { released, httpStatus: error.status });
      return { ...response, Status: 'FAILED', Reason: oneLineText(`ROS refused the answer (HTTP ${error.status}): the stack operation was over, so the reservations this Create made were released: ${released.join(', ') || 'none'}`) };
    }
    // Otherwise throw: FC retries the invocation, and every step above is idempotent.
    throw error;
  }
  log('answered ROS', { status: response.Status, physicalResourceId: response.PhysicalResourceId });
  return response;
}

/**
 * After ROS refused this delivery's answer to a Create: every reservation of the request except the
 * one all deliveries keep (and answer) is released. That one is released too unless another
 * delivery's answer may have named it and been accepted: its marker is still "posting" (it POSTed
 * and was not refused), or the reservation had no room left for a marker (one may be missing).
 * Under "ROS gave up" every delivery is refused, so the last refused one releases it.
 */
async function settleRefusedCreate(ecs: EcsCall, event: RosEvent, delivery: string, marked: boolean): Promise<{ released: string[]; kept?: string }> {
  const keys = resourceKeys(event);
  const made = await liveReservationsTagged(ecs, REQUEST_TAG, keys.request);
  const [first, ...others] = keepOrder({ zoneIds: safeParse(event.ResourceProperties, new Date(0)).zoneIds ?? [] }, made);
  for (const r of others) await release(ecs, r.id);
  const released = others.map(r => r.id);
  if (!first) return { released };
  if (marked) await markAnswer(ecs, first.id, delivery, ANSWER_REFUSED);
  const tags = (await getReservation(ecs, first.id))?.tags ?? first.tags;
  const othersAnswering = tags.some(t => t.Key.startsWith(ANSWER_TAG_PREFIX) && t.Key !== ANSWER_TAG_PREFIX + delivery && t.Value !== ANSWER_REFUSED);
  if (othersAnswering || tags.length >= ALI_MAX_TAGS) return { released, kept: first.id };
  await release(ecs, first.id);
  return { released: [...released, first.id] };
}

/** Best effort: a marker that cannot be written (e.g. ECS's 20-tag limit) only makes refused deliveries keep more. */
async function markAnswer(ecs: EcsCall, id: string, delivery: string, value: string): Promise<boolean> {
  if (!id.startsWith('crp-')) return false;
  try {
    await ecs('TagResources', { ResourceType: 'capacityreservation', ResourceId: [id], Tag: [{ Key: ANSWER_TAG_PREFIX + delivery, Value: value }] });
    return true;
  } catch (error) {
    log('could not mark the reservation this delivery answers', { reservationId: id, code: asEcsError(error).code });
    return false;
  }
}

/** ROS answered the response POST with an HTTP error. */
export class RosRefusedError extends Error {
  constructor(public readonly status: number) {
    super(`ROS refused the response: HTTP ${status}`);
  }
}

interface Progress {
  /** What a FAILED answer reports: the reservation this request created, once there is one. */
  physicalResourceId?: string;
}

interface Outcome {
  readonly physicalResourceId: string;
  readonly data?: AliReservationAttributes;
}

async function dispatch(event: RosEvent, ecs: EcsCall, progress: Progress): Promise<Outcome> {
  const now = new Date();
  const keys = resourceKeys(event);
  switch (event.RequestType) {
    case 'Create': {
      const request = parseReservationRequest(event.ResourceProperties, now);
      const reservation = await createAndWait(ecs, request, keys, deadline(request, now), id => { progress.physicalResourceId = id; });
      return { physicalResourceId: reservation.id, data: attributesOf(reservation) };
    }
    case 'Update':
      return update(event, ecs, keys, now);
    case 'Delete':
      return remove(event, ecs, keys);
  }
}

/**
 * Creates (or adopts what an earlier delivery made), keeps exactly one reservation per request and
 * waits for it. A concurrent delivery may release the one waited on in favour of its own choice;
 * then the one kept is waited on instead.
 */
async function createAndWait(ecs: EcsCall, request: ReservationRequest, keys: ResourceKeys, until: Date, onCreated: (id: string) => void = () => undefined): Promise<Reservation> {
  let id: string | undefined = (await createInFirstZoneWithStock(ecs, request, keys)).id;
  for (let round = 1; ; round++) {
    // Ours was released by another delivery, which keeps one: wait until the tag listing shows it
    // (it lags behind a create) rather than fail, or a rollback could miss the one it keeps.
    if (!id) await untilListed(ecs, keys, until);
    const kept = await keepOnePerRequest(ecs, request, keys, id);
    onCreated(kept);
    const reservation = await waitUntilActive(ecs, kept, until);
    if (reservation.status !== 'Released') {
      // Converge again before answering: a just-created reservation may be missing from tag listings
      // for a while, so two deliveries may each have kept their own. By now both are listed, and
      // every delivery answers the same one (the other's is released), never two live.
      const again = await keepOnePerRequest(ecs, request, keys, kept);
      if (again === kept) return reservation;
      log('another delivery of this request holds the reservation every delivery keeps; answering that one', { kept: again, released: kept });
      id = again;
    } else {
      id = undefined;
    }
    if (round >= 3) throw new UserError(`Capacity reservation ${kept} was released before it became Active; deploy again`);
  }
}

/** The tag index lags by seconds: two minutes at most (a rollback may have released them all). */
async function untilListed(ecs: EcsCall, keys: ResourceKeys, until: Date): Promise<void> {
  const end = Math.min(until.getTime(), Date.now() + 120_000);
  while ((await liveReservationsTagged(ecs, REQUEST_TAG, keys.request)).length === 0 && Date.now() < end) {
    await new Promise(resolve => setTimeout(resolve, waitPolicy.pollIntervalMs));
  }
}

/**
 * ROS keeps the PhysicalResourceId of the first reservation for the resource's life, so the
 * reservation held now is found by the resource tag (Data.ReservationId tells the template).
 */
async function update(event: RosEvent, ecs: EcsCall, keys: ResourceKeys, now: Date): Promise<Outcome> {
  // An endTime that has passed is checked below against the old one, not rejected as "not in the future".
  const request = parseReservationRequest(event.ResourceProperties, new Date(0));
  // Old properties parse as of the epoch too: an endTime that has passed since is still the old value.
  const old = safeParse(event.OldResourceProperties, new Date(0));
  const physicalResourceId = event.PhysicalResourceId ?? '';
  const live = await liveReservationsTagged(ecs, RESOURCE_TAG, keys.resource);
  const current = await currentReservation(ecs, live, request, physicalResourceId);
  const until = deadline(request, now);

  if (request.endTime && Date.parse(request.endTime) <= now.getTime()) {
    return ended(ecs, request, old, current, live, physicalResourceId);
  }
  const replacement = current ? replacementReasons(current, request, old) : ['the reservation no longer exists'];
  if (replacement.length > 0) {
    log('replacing the capacity reservation', { reasons: replacement, old: current?.id });
    const next = await createAndWait(ecs, request, keys, until);
    if (current) await giveUpReplaced(ecs, request, current, next);
    await releaseOthers(ecs, live.filter(r => r.id !== current?.id), next.id);
    return { physicalResourceId, data: attributesOf(next) };
  }
  const reservation = current!;
  const modified = await modifyInPlace(ecs, reservation.id, request, old);
  await syncTags(ecs, reservation, request);
  await releaseOthers(ecs, live, reservation.id);
  const after = modified ? await waitUntilActive(ecs, reservation.id, until, true) : (await getReservation(ecs, reservation.id)) ?? reservation;
  return { physicalResourceId, data: attributesOf(after) };
}

/**
 * Never two billing: if the replaced reservation cannot be released, the new one is released
 * instead and the update fails naming the old one (ROS's rollback then finds it still matching).
 */
async function giveUpReplaced(ecs: EcsCall, request: ReservationRequest, old: Reservation, next: Reservation): Promise<void> {
  if (request.removalPolicy === 'retain') {
    // Kept for the user, and no longer this resource's: later updates and the delete leave it alone.
    try {
      await ecs('UntagResources', { ResourceType: 'capacityreservation', ResourceId: [old.id], TagKey: [RESOURCE_TAG] });
    } catch (error) {
      throw ecsFailure('UntagResources', `${old.id}, kept by removalPolicy retain`, error);
    }
    log('removalPolicy retain: the replaced reservation is kept, no longer tied to the resource', { reservationId: old.id });
    return;
  }
  try {
    await release(ecs, old.id);
  } catch (error) {
    const why = error instanceof UserError ? error.message : String(error);
    try {
      await release(ecs, next.id);
    } catch (second) {
      throw new UserError(`Replacement incomplete: the old reservation ${old.id} could not be released (${why}) and neither could the new ${next.id} (${second instanceof UserError ? second.message : String(second)}); both bill now: release one in the ECS console`);
    }
    throw new UserError(`Replacement undone: the old reservation ${old.id} could not be released (${why}), so the new ${next.id} was released and ${old.id} is kept; fix the cause and deploy again`);
  }
}

/**
 * One reservation per resource: any other live one still tied to it was left by a failed or
 * interrupted run (a create whose answer was lost) and never handed over, so it is released, with
 * removalPolicy retain too: a replaced reservation retain keeps is untied from the resource first.
 */
async function releaseOthers(ecs: EcsCall, live: Reservation[], keep: string): Promise<void> {
  for (const r of live) {
    if (r.id === keep) continue;
    log('releasing another reservation this resource still held', { reservationId: r.id, kept: keep });
    await release(ecs, r.id);
  }
}

/**
 * A Limited reservation whose endTime has passed has ended: nothing is created or modified. An
 * unchanged endTime is the ordinary case (and its rollback); an endTime changed back to a past one
 * is ROS's rollback of an extension, so what the extension created is released.
 */
async function ended(ecs: EcsCall, request: ReservationRequest, old: Partial<ReservationRequest>, current: Reservation | undefined, live: Reservation[], physicalResourceId: string): Promise<Outcome> {
  const unchanged = request.endTime === old.endTime;
  log(`endTime ${request.endTime} has passed: the reservation has ended; nothing is created or changed`, { unchanged, reservationId: current?.id });
  if (!unchanged && request.removalPolicy !== 'retain') for (const r of live) await release(ecs, r.id);
  const reservation = current && (await getReservation(ecs, current.id));
  return {
    physicalResourceId,
    data: reservation ? attributesOf(reservation) : { ReservationId: current?.id ?? physicalResourceId, ZoneId: current?.zoneId ?? '', Status: 'Released', StartTime: current?.startTime ?? '', EndTime: request.endTime ?? '' },
  };
}

/** Instance type, zone, match criteria and resource group cannot change in place; platform cannot change at all. */
function replacementReasons(current: Reservation, request: ReservationRequest, old: Partial<ReservationRequest>): string[] {
  const reasons: string[] = [];
  // Read from the reservation itself where ECS reports it, so a rollback compares with what exists.
  if (current.instanceType && current.instanceType !== request.instanceType) reasons.push(`instanceType ${current.instanceType} -> ${request.instanceType}`);
  if (current.zoneId && !request.zoneIds.includes(current.zoneId)) reasons.push(`zone ${current.zoneId} is no longer in zoneIds`);
  if (current.matchCriteria && current.matchCriteria.toLowerCase() !== request.matchCriteria.toLowerCase()) reasons.push(`matchCriteria ${current.matchCriteria} -> ${request.matchCriteria}`);
  const oldKnown = old.matchCriteria !== undefined; // a parsed request always has matchCriteria
  if (current.resourceGroupId ? current.resourceGroupId !== (request.resourceGroupId ?? current.resourceGroupId) : oldKnown && old.resourceGroupId !== request.resourceGroupId) {
    reasons.push(`resourceGroupId ${current.resourceGroupId || old.resourceGroupId || 'default'} -> ${request.resourceGroupId ?? 'default'}`);
  }
  // Only what ECS reports: old properties would refuse ROS's rollback of a refused change.
  const platformNow = current.platform;
  if (request.platform && platformNow && platformNow.toLowerCase() !== request.platform.toLowerCase()) {
    // ECS does not open Platform for changes, and a new reservation for it would bill the same capacity twice over the switch.
    throw new UserError(`platform cannot change on an existing reservation (ECS does not allow it): ${current.id} is ${platformNow}, the template asks ${request.platform}; set platform back, or give the reservation a new construct id to create another`);
  }
  return reasons;
}

/** Releases every reservation the resource holds (normally one); retain keeps them. */
async function remove(event: RosEvent, ecs: EcsCall, keys: ResourceKeys): Promise<Outcome> {
  // ROS documents an empty PhysicalResourceId as invalid: a Delete without one answers the marker id.
  const physicalResourceId = event.PhysicalResourceId || notCreatedId(keys);
  // Read directly, not through validation: properties that fail a check must never turn retain into release.
  if (parametersOf(event.ResourceProperties).RemovalPolicy === 'retain') {
    log('removalPolicy retain: the capacity reservation is kept; release it yourself when done', { physicalResourceId });
    return { physicalResourceId };
  }
  const ids = new Set((await liveReservationsTagged(ecs, RESOURCE_TAG, keys.resource)).map(r => r.id));
  if (physicalResourceId.startsWith('crp-') && !ids.has(physicalResourceId) && !(await untiedFromResource(ecs, physicalResourceId))) ids.add(physicalResourceId);
  for (const id of ids) await release(ecs, id);
  if (ids.size === 0) log('nothing was created for this resource; nothing to release', { physicalResourceId });
  return { physicalResourceId };
}

/**
 * The reservation the resource holds: among its live ones, the one whose properties match the
 * request (type, a zone of zoneIds, match criteria), preferring the PhysicalResourceId, then the
 * earliest zone; never "the newest" (ECS gives start times to the minute, so they tie).
 */
async function currentReservation(ecs: EcsCall, live: Reservation[], request: ReservationRequest, physicalResourceId: string): Promise<Reservation | undefined> {
  if (live.length === 0) {
    if (!physicalResourceId.startsWith('crp-')) return undefined;
    const byId = await getReservation(ecs, physicalResourceId);
    return byId && byId.status !== 'Released' ? byId : undefined;
  }
  const matches = (r: Reservation) => r.instanceType === request.instanceType && request.zoneIds.includes(r.zoneId)
    && (!r.matchCriteria || r.matchCriteria.toLowerCase() === request.matchCriteria.toLowerCase());
  const candidates = live.some(matches) ? live.filter(matches) : live;
  const zoneRank = (r: Reservation) => (request.zoneIds.indexOf(r.zoneId) + request.zoneIds.length + 1) % (request.zoneIds.length + 1);
  return candidates.find(r => r.id === physicalResourceId)
    ?? [...candidates].sort((a, b) => zoneRank(a) - zoneRank(b) || a.id.localeCompare(b.id))[0];
}

/** A replaced reservation kept by removalPolicy retain loses the resource tag: it is the user's now. */
async function untiedFromResource(ecs: EcsCall, id: string): Promise<boolean> {
  const tags = (await getReservation(ecs, id))?.tags ?? [];
  return tags.some(t => t.Key === REQUEST_TAG) && !tags.some(t => t.Key === RESOURCE_TAG);
}

function notCreatedId(keys: ResourceKeys): string {
  return `not-created-${keys.request.slice(0, 16)}`;
}

function safeParse(properties: unknown, now: Date): Partial<ReservationRequest> {
  try {
    return properties ? parseReservationRequest(properties, now) : {};
  } catch {
    return {};
  }
}

function deadline(request: ReservationRequest, now: Date): Date {
  return new Date(now.getTime() + request.waitTimeoutSeconds * 1000);
}

function echo(event: RosEvent) {
  return { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
}

/** The ROS response protocol: JSON with Content-Type and Date headers, at most 4096 bytes. */
export async function postResponse(url: string, response: RosResponse): Promise<void> {
  let body = JSON.stringify(response);
  if (Buffer.byteLength(body) > 4096) body = JSON.stringify({ ...response, Reason: response.Reason?.slice(0, 1000), Data: undefined });
  const result = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Date': new Date().toUTCString() },
    body,
  });
  if (!result.ok) throw new RosRefusedError(result.status);
}

/** The poll interval and retry backoff, exported so the local rehearsal can run on simulated time. */
export { waitPolicy } from './reservations';
export { ramPropagationPolicy, retryPolicy } from './ecs';
