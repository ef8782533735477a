/**
 * Function Compute 3 entry point behind ALIYUN::ROS::CustomResource. ROS delivers the event as a
 * Buffer and waits for our answer at ResponseURL; the event is never logged (the URL is presigned).
 */
import { log, oneLineText, UserError } from '../../shared/handler-log';
import { AliReservationAttributes, RESOURCE_TAG } from '../wire';
import { createEcsCall, EcsCall, FcCredentials } from './ecs';
import { parametersOf, parseReservationRequest, ReservationRequest, resourceKeys, ResourceKeys } from './request';
import {
  attributesOf, createInFirstZoneWithStock, getReservation, liveReservationsTagged, modifyInPlace, release, Reservation,
  syncTags, waitUntilActive,
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
    const physicalResourceId = progress.physicalResourceId ?? `not-created-${resourceKeys(event).request.slice(0, 16)}`;
    response = { ...echo(event), Status: 'FAILED', Reason: reason, PhysicalResourceId: physicalResourceId };
  }
  // If ROS cannot be answered, throw: FC retries the invocation, and every step above is idempotent.
  await seams.respond(event.ResponseURL, response);
  log('answered ROS', { status: response.Status, physicalResourceId: response.PhysicalResourceId });
  return response;
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

async function createAndWait(ecs: EcsCall, request: ReservationRequest, keys: ResourceKeys, until: Date, onCreated: (id: string) => void = () => undefined): Promise<Reservation> {
  const { id } = await createInFirstZoneWithStock(ecs, request, keys);
  onCreated(id);
  return waitUntilActive(ecs, id, until);
}

/**
 * ROS keeps the PhysicalResourceId of the first reservation for the resource's life, so the
 * reservation held now is found by the resource tag (Data.ReservationId tells the template).
 */
async function update(event: RosEvent, ecs: EcsCall, keys: ResourceKeys, now: Date): Promise<Outcome> {
  const request = parseReservationRequest(event.ResourceProperties, now);
  // Old properties parse as of the epoch: an endTime that has passed since is still the old value.
  const old = safeParse(event.OldResourceProperties, new Date(0));
  const physicalResourceId = event.PhysicalResourceId ?? '';
  const current = await currentReservation(ecs, keys, physicalResourceId);
  const until = deadline(request, now);

  const replacement = current ? replacementReasons(current, request, old) : ['the reservation no longer exists'];
  if (replacement.length > 0) {
    log('replacing the capacity reservation', { reasons: replacement, old: current?.id });
    const next = await createAndWait(ecs, request, keys, until);
    if (current) {
      if (request.removalPolicy === 'retain') log('removalPolicy retain: the replaced reservation is kept', { reservationId: current.id });
      else await release(ecs, current.id);
    }
    return { physicalResourceId, data: attributesOf(next) };
  }
  const reservation = current!;
  const modified = await modifyInPlace(ecs, reservation.id, request, old);
  await syncTags(ecs, reservation, request);
  const after = modified ? await waitUntilActive(ecs, reservation.id, until) : (await getReservation(ecs, reservation.id)) ?? reservation;
  return { physicalResourceId, data: attributesOf(after) };
}

/** Instance type, zone, match criteria, platform and resource group cannot change in place. */
function replacementReasons(current: Reservation, request: ReservationRequest, old: Partial<ReservationRequest>): string[] {
  const reasons: string[] = [];
  // Type and zone are read from the reservation itself; the rest only from old properties ECS does not echo.
  if (current.instanceType && current.instanceType !== request.instanceType) reasons.push(`instanceType ${current.instanceType} -> ${request.instanceType}`);
  if (current.zoneId && !request.zoneIds.includes(current.zoneId)) reasons.push(`zone ${current.zoneId} is no longer in zoneIds`);
  const oldKnown = old.matchCriteria !== undefined; // a parsed request always has matchCriteria
  for (const key of ['matchCriteria', 'platform', 'resourceGroupId'] as const) {
    if (oldKnown && old[key] !== request[key]) reasons.push(`${key} ${old[key] ?? 'default'} -> ${request[key] ?? 'default'}`);
  }
  return reasons;
}

/** Releases every reservation the resource holds (normally one); retain keeps them. */
async function remove(event: RosEvent, ecs: EcsCall, keys: ResourceKeys): Promise<Outcome> {
  const physicalResourceId = event.PhysicalResourceId ?? '';
  // Read directly, not through validation: properties that fail a check must never turn retain into release.
  if (parametersOf(event.ResourceProperties).RemovalPolicy === 'retain') {
    log('removalPolicy retain: the capacity reservation is kept; release it yourself when done', { physicalResourceId });
    return { physicalResourceId };
  }
  const ids = new Set((await liveReservationsTagged(ecs, RESOURCE_TAG, keys.resource)).map(r => r.id));
  if (physicalResourceId.startsWith('crp-')) ids.add(physicalResourceId);
  for (const id of ids) await release(ecs, id);
  if (ids.size === 0) log('nothing was created for this resource; nothing to release', { physicalResourceId });
  return { physicalResourceId };
}

async function currentReservation(ecs: EcsCall, keys: ResourceKeys, physicalResourceId: string): Promise<Reservation | undefined> {
  const tagged = await liveReservationsTagged(ecs, RESOURCE_TAG, keys.resource);
  if (tagged.length > 0) return tagged.sort((a, b) => b.startTime.localeCompare(a.startTime))[0];
  if (!physicalResourceId.startsWith('crp-')) return undefined;
  const byId = await getReservation(ecs, physicalResourceId);
  return byId && byId.status !== 'Released' ? byId : undefined;
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
  if (!result.ok) throw new Error(`ROS refused the response: HTTP ${result.status}`);
}

/** The poll interval and retry backoff, exported so the local rehearsal can run on simulated time. */
export { waitPolicy } from './reservations';
export { retryPolicy } from './ecs';
