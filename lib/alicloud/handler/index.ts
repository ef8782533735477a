/**
 * Function Compute 3 entry point behind ALIYUN::ROS::CustomResource. ROS delivers the event as a
 * Buffer and waits for our answer at ResponseURL; the event is never logged (the URL is presigned).
 */
import { randomBytes } from 'crypto';
import { log, oneLineText, UserError } from '../../shared/handler-log';
import {
  ALI_MAX_TAGS, ANSWER_POSTING, ANSWER_REFUSED, ANSWER_TAG_PREFIX, AliReservationAttributes, AliWireTag, RESOURCE_TAG, RETAINED_PREFIX,
} from '../wire';
import { asEcsError, createEcsCall, createRosCall, EcsCall, FcCredentials } from './ecs';
import { fingerprint, isStale, Ledger, ledgerTag, readLedger, requestMark, withRequest } from './ledger';
import { clientToken, parametersOf, parseReservationRequest, ReservationRequest, resourceKeys, ResourceKeys } from './request';
import {
  attributesOf, createInFirstZoneWithStock, getReservation, heldBy, liveReservationsTagged, modifyInPlace, release, Reservation,
  reservationsTagged, retainedFrom, syncTags, tag, waitPolicy, waitUntilActive,
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
  stackStatus: getStackStatus,
};

/** The stack's status (ROS GetStack): only removalPolicy retain-on-update-or-delete asks it. */
function getStackStatus(credentials: FcCredentials, regionId: string, stackId: string): Promise<string> {
  return readStackStatus(createRosCall(credentials, regionId), stackId);
}

export async function readStackStatus(ros: EcsCall, stackId: string): Promise<string> {
  const body = await ros('GetStack', { StackId: stackId });
  return String(body.Status ?? '');
}

export async function handler(raw: Buffer | string | RosEvent, context: FcContext): Promise<RosResponse> {
  const event: RosEvent = Buffer.isBuffer(raw) || typeof raw === 'string' ? JSON.parse(raw.toString()) : raw;
  log(`${event.RequestType} ${event.LogicalResourceId}`, { physicalResourceId: event.PhysicalResourceId, regionId: event.RegionId });
  const ecs = seams.ecs(context.credentials, event.RegionId);
  const progress: Progress = { physicalResourceId: event.PhysicalResourceId };
  const keys = resourceKeys(event);
  const ctx: Context = { ecs, event, keys, mark: requestMark(keys), credentials: context.credentials, progress };
  let response: RosResponse;
  try {
    const { physicalResourceId, data } = await dispatch(ctx);
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
      const { released, kept } = await settleRefusedCreate(ctx, delivery, marked, response.PhysicalResourceId);
      if (kept) {
        log(`ROS refused the answer to this Create; kept ${kept}, which another delivery of this request answered or a later request holds; if the stack does not show ${kept}, release it in the ECS console`, { released, httpStatus: error.status });
        return { ...response, Status: 'FAILED', Reason: oneLineText(`ROS refused the answer (HTTP ${error.status}): another delivery of this Create answered ${kept} or a later request holds it, so it was kept (the stack may hold it); duplicates released: ${released.join(', ') || 'none'}`) };
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
 * After ROS refused this delivery's answer to a Create. The reservation it answered (known here, not
 * looked up in the lagging tag index) is released unless the stack may hold it: a later request
 * acted on it (its ledger says so: this delivery is a late duplicate), or another delivery's
 * answer naming it may have been accepted (that delivery's marker is still "posting", or the
 * reservation had no room left for a marker). Under "ROS gave up" every delivery is refused, so the
 * last refused one releases it. Anything else this request made (recovered from the listing) goes.
 */
async function settleRefusedCreate(ctx: Context, delivery: string, marked: boolean, answered: string): Promise<{ released: string[]; kept?: string }> {
  const { ecs, keys, mark } = ctx;
  // First, before anything that can fail: a delivery that dies after this must not look like one still answering.
  if (marked) await markAnswer(ecs, answered, delivery, ANSWER_REFUSED);
  // What this request made, recovered from the listing: with one ClientToken there is one, unless ECS forgot the token.
  const made = (await liveReservationsTagged(ecs, RESOURCE_TAG, keys.resource))
    .filter(r => readLedger(r.tags)?.generation === 0 && readLedger(r.tags)?.requests[0] === mark)
    .sort((a, b) => Number(b.id === answered) - Number(a.id === answered) || a.id.localeCompare(b.id));
  const first = answered.startsWith('crp-') ? answered : made[0]?.id;
  const strays = made.filter(r => r.id !== first);
  for (const r of strays) await release(ecs, r.id);
  const released = strays.map(r => r.id);
  const mine = first ? await getReservation(ecs, first) : undefined;
  if (!mine || mine.status === 'Released' || !heldBy(mine, keys)) return { released };
  if (readLedger(mine.tags)?.requests.at(-1) !== mark) return { released, kept: mine.id };
  const tags = (await getReservation(ecs, mine.id))?.tags ?? mine.tags;
  const othersAnswering = tags.some(t => t.Key.startsWith(ANSWER_TAG_PREFIX) && t.Key !== ANSWER_TAG_PREFIX + delivery && t.Value !== ANSWER_REFUSED);
  if (othersAnswering || tags.length >= ALI_MAX_TAGS) return { released, kept: mine.id };
  await release(ecs, mine.id, new Date(waitPolicy.now() + waitPolicy.releaseGraceMs));
  return { released: [...released, mine.id] };
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

/** One delivery: ECS, the event, the resource's keys and this request's mark in the ledger. */
interface Context {
  readonly ecs: EcsCall;
  readonly event: RosEvent;
  readonly keys: ResourceKeys;
  readonly mark: string;
  readonly credentials: FcCredentials;
  readonly progress: Progress;
}

interface Outcome {
  readonly physicalResourceId: string;
  readonly data?: AliReservationAttributes;
}

async function dispatch(ctx: Context): Promise<Outcome> {
  switch (ctx.event.RequestType) {
    case 'Create': return create(ctx);
    case 'Update': return update(ctx);
    case 'Delete': return remove(ctx);
  }
}

function resourceTag(keys: ResourceKeys): AliWireTag {
  return { Key: RESOURCE_TAG, Value: keys.resource };
}

/**
 * Generation 0. Every delivery of this Create sends the same ClientToken, so ECS answers each with
 * the reservation the first made (a late one after the stack deleted it: that released one; a late
 * one after an update: the one the stack holds, which it leaves alone).
 */
async function create(ctx: Context): Promise<Outcome> {
  const { ecs, keys, mark, event } = ctx;
  const now = new Date(waitPolicy.now());
  const request = parseReservationRequest(event.ResourceProperties, now);
  const ledger: Ledger = { generation: 0, requests: [mark] };
  const { id } = await createInFirstZoneWithStock(ecs, request, clientToken(keys, `g0:${mark}`), [resourceTag(keys), ledgerTag(ledger)], deadline(request, now));
  ctx.progress.physicalResourceId = id;
  const made = await getReservation(ecs, id);
  if (!made || made.status === 'Released') {
    throw new UserError(`The capacity reservation this Create made (${id}) has been released since (ROS deleted the resource, or it ended); nothing was created again`);
  }
  if (readLedger(made.tags)?.requests.at(-1) !== mark) {
    log('a late duplicate of the Create: a later request holds the reservation; it is answered as it is and left alone', { reservationId: id });
    return { physicalResourceId: id, data: attributesOf(made) };
  }
  const reservation = await waitUntilActive(ecs, id, deadline(request, now));
  if (reservation.status === 'Released') throw new UserError(`Capacity reservation ${id} was released before it became Active; deploy again`);
  return { physicalResourceId: id, data: attributesOf(reservation) };
}

/** What the resource holds, read by id where ROS handed it over and recovered from the tag listing. */
interface Held {
  /** The newest live reservation tied to the resource. */
  readonly head?: Reservation;
  /** Other live reservations tied to it: left by an interrupted run, never answered. */
  readonly others: Reservation[];
  /** The newest ledger known (the head's, else the newest generation's, released ones included). */
  readonly ledger?: Ledger;
  /** Every ledger known: a request one of them lists before a newer one is a late duplicate. */
  readonly ledgers: Ledger[];
  /** The PhysicalResourceId names a live reservation this resource did not make. */
  readonly foreign?: Reservation;
}

async function resolveHeld(ctx: Context): Promise<Held> {
  const { ecs, keys, event } = ctx;
  const physicalId = event.PhysicalResourceId ?? '';
  const byId = physicalId.startsWith('crp-') ? await getReservation(ecs, physicalId) : undefined;
  const ours = (r: Reservation) => heldBy(r, keys) || retainedFrom(r, keys);
  const known = new Map<string, Reservation>();
  if (byId && ours(byId)) known.set(byId.id, byId);
  for (const r of await reservationsTagged(ecs, RESOURCE_TAG, keys.resource)) if (!known.has(r.id)) known.set(r.id, r);
  const newestFirst = [...known.values()].sort((a, b) => (readLedger(b.tags)?.generation ?? 0) - (readLedger(a.tags)?.generation ?? 0)
    || Number(b.id === physicalId) - Number(a.id === physicalId) || a.id.localeCompare(b.id));
  const live = newestFirst.filter(r => r.status !== 'Released' && heldBy(r, keys));
  const head = live[0];
  const foreign = byId && !ours(byId) && byId.status !== 'Released' ? byId : undefined;
  const ledgers = newestFirst.map(r => readLedger(r.tags)).filter((l): l is Ledger => l !== undefined);
  return { head, others: live.slice(1), ledger: readLedger((head ?? newestFirst[0])?.tags ?? []), ledgers, foreign };
}

/** Writes this request into the ledger of the reservation it is about to act on (an intent, read by later deliveries). */
async function writeIntent(ctx: Context, r: Reservation): Promise<void> {
  const ledger = readLedger(r.tags) ?? { generation: 0, requests: [] };
  if (ledger.requests.at(-1) !== ctx.mark) await tag(ctx.ecs, r.id, [ledgerTag(withRequest(ledger, ctx.mark))]);
}

/**
 * ROS keeps the PhysicalResourceId of the first reservation for the resource's life; the
 * reservation held now is the newest live generation (Data.ReservationId tells the template).
 */
async function update(ctx: Context): Promise<Outcome> {
  const { ecs, keys, event } = ctx;
  const now = new Date(waitPolicy.now());
  // An endTime that has passed is checked below against the old one, not rejected as "not in the future".
  const request = parseReservationRequest(event.ResourceProperties, new Date(0));
  // Old properties parse as of the epoch too: an endTime that has passed since is still the old value.
  const old = safeParse(event.OldResourceProperties, new Date(0));
  const physicalResourceId = event.PhysicalResourceId ?? '';
  const held = await resolveHeld(ctx);
  if (held.foreign && !held.head) {
    throw new UserError(`The resource names capacity reservation ${held.foreign.id}, which it did not create (it lacks this resource's ${RESOURCE_TAG} tag), so it is left alone; nothing changed`);
  }
  const current = held.head;
  if (held.ledgers.some(l => isStale(l, ctx.mark))) {
    log('a late duplicate of an older request: a newer one has acted since; nothing is changed', { reservationId: current?.id });
    return { physicalResourceId, data: current ? attributesOf(current) : undefined };
  }
  const until = deadline(request, now);
  if (current) await writeIntent(ctx, current);

  if (request.endTime && Date.parse(request.endTime) <= now.getTime()) {
    return ended(ecs, request, old, current, held.others, physicalResourceId);
  }
  // A rollback goes back to what was answered before, not to "a live one fits": ROS rolling back
  // the update that made `current` takes back the original (kept by a retain policy, or still
  // held because that update failed before letting go of it) and releases the replacement.
  const back = current && await replacedOriginal(ctx, current, request, old);
  if (back) {
    log('rolling back a replacement: the reservation it replaced is held again; the replacement is released', { reservationId: back.id, released: current.id });
    await tag(ecs, back.id, [resourceTag(keys), ledgerTag(withRequest(readLedger(back.tags) ?? { generation: 0, requests: [] }, ctx.mark))]);
    for (const r of [current, ...held.others].filter(x => x.id !== back.id)) await release(ecs, r.id, until);
    return { physicalResourceId, data: attributesOf((await getReservation(ecs, back.id)) ?? back) };
  }
  const replacement = current ? replacementReasons(current, request, old) : ['the reservation no longer exists'];
  if (replacement.length > 0) {
    log('replacing the capacity reservation', { reasons: replacement, old: current?.id });
    const ledger: Ledger = {
      generation: (held.ledger?.generation ?? 0) + 1, requests: withRequest(held.ledger ?? { generation: 0, requests: [] }, ctx.mark).requests,
      replaced: current?.id, fingerprint: fingerprint(event.ResourceProperties),
    };
    const next = await createAndWait(ctx, request, ledger, until);
    if (current) await giveUpReplaced(ecs, request, current, next, keys);
    await releaseOthers(ecs, held.others, next.id);
    return { physicalResourceId, data: attributesOf(next) };
  }
  const reservation = current!;
  const modified = await modifyInPlace(ecs, reservation.id, request, old);
  await syncTags(ecs, reservation, request);
  await releaseOthers(ecs, held.others, reservation.id);
  const after = modified ? await waitUntilActive(ecs, reservation.id, until, true) : (await getReservation(ecs, reservation.id)) ?? reservation;
  return { physicalResourceId, data: attributesOf(after) };
}

/**
 * A replacement's new generation: created (ECS answers a duplicate delivery with the same one),
 * waited for until Active, then until ECS's tag index lists it. Later requests find a replacement
 * only through that index (ROS hands back the first id only), so it is never answered before it is
 * listed: if the index does not list it in time, it is released and the update fails.
 */
async function createAndWait(ctx: Context, request: ReservationRequest, ledger: Ledger, until: Date): Promise<Reservation> {
  const { ecs, keys } = ctx;
  const { id } = await createInFirstZoneWithStock(ecs, request, clientToken(keys, `g${ledger.generation}:${ctx.mark}`), [resourceTag(keys), ledgerTag(ledger)], until);
  const reservation = await waitUntilActive(ecs, id, until);
  if (reservation.status === 'Released') throw new UserError(`Capacity reservation ${id} was released before it became Active; deploy again`);
  const end = Math.min(until.getTime(), waitPolicy.now() + waitPolicy.listingWaitMs);
  while (!(await liveReservationsTagged(ecs, RESOURCE_TAG, keys.resource)).some(r => r.id === id)) {
    if (waitPolicy.now() >= end) {
      await release(ecs, id, new Date(waitPolicy.now() + waitPolicy.releaseGraceMs));
      throw new UserError(`ECS did not list the new capacity reservation ${id} by its tag within ${Math.round(waitPolicy.listingWaitMs / 1000)} s, so later requests could not find it: it was released and nothing changed; deploy again`);
    }
    await waitPolicy.sleep(waitPolicy.pollIntervalMs);
  }
  return reservation;
}

/**
 * When this update undoes the one that made `current` (its OldResourceProperties are what
 * `current` was made for), the reservation `current` replaced, if it is live, still this
 * resource's (held, or kept by a retain policy) and fits this request.
 */
async function replacedOriginal(ctx: Context, current: Reservation, request: ReservationRequest, old: Partial<ReservationRequest>): Promise<Reservation | undefined> {
  const ledger = readLedger(current.tags);
  if (!ledger?.replaced || ledger.fingerprint !== fingerprint(ctx.event.OldResourceProperties)) return undefined;
  const original = await getReservation(ctx.ecs, ledger.replaced);
  if (!original || original.status === 'Released' || !(heldBy(original, ctx.keys) || retainedFrom(original, ctx.keys))) return undefined;
  return replacementReasons(original, request, old).length === 0 ? original : undefined;
}

/**
 * Never two billing: if the replaced reservation cannot be released, the new one is released
 * instead and the update fails naming the old one (ROS's rollback then finds it still matching).
 */
async function giveUpReplaced(ecs: EcsCall, request: ReservationRequest, old: Reservation, next: Reservation, keys: ResourceKeys): Promise<void> {
  if (request.removalPolicy !== 'release') {
    // Kept for the user and no longer held: later updates and the delete leave it alone; ROS's
    // rollback of this update takes it back (the tag still says which resource it came from).
    await tag(ecs, old.id, [{ Key: RESOURCE_TAG, Value: RETAINED_PREFIX + keys.resource }]);
    log(`removalPolicy ${request.removalPolicy}: the replaced reservation is kept, no longer held by the resource`, { reservationId: old.id });
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
 * interrupted run (never answered), so it is released.
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
async function ended(ecs: EcsCall, request: ReservationRequest, old: Partial<ReservationRequest>, current: Reservation | undefined, others: Reservation[], physicalResourceId: string): Promise<Outcome> {
  const unchanged = request.endTime === old.endTime;
  log(`endTime ${request.endTime} has passed: the reservation has ended; nothing is created or changed`, { unchanged, reservationId: current?.id });
  if (!unchanged && request.removalPolicy === 'release') for (const r of [...(current ? [current] : []), ...others]) await release(ecs, r.id);
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

/** Stack statuses in which ROS deletes what the failed operation created (CloudFormation's RetainExceptOnCreate case). */
const CREATE_ROLLBACK = new Set(['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'CREATE_ROLLBACK_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS']);

/**
 * Releases every reservation the resource holds (normally one), never one it did not make;
 * retain keeps them, and retain-on-update-or-delete keeps them unless ROS is rolling back the
 * stack's creation (read from ROS GetStack).
 */
async function remove(ctx: Context): Promise<Outcome> {
  const { ecs, keys, event } = ctx;
  // ROS documents an empty PhysicalResourceId as invalid: a Delete without one answers the marker id.
  const physicalResourceId = event.PhysicalResourceId || notCreatedId(keys);
  const held = await resolveHeld(ctx);
  if (held.foreign) log(`the resource names ${held.foreign.id}, which it did not create; it is left alone`, { physicalResourceId });
  const live = [...(held.head ? [held.head] : []), ...held.others];
  // The ledger records the delete first: a late duplicate of an older request then changes nothing.
  if (held.head) await writeIntent(ctx, held.head);
  // Read directly, not through validation: properties that fail a check must never turn retain into release.
  const policy = String(parametersOf(event.ResourceProperties).RemovalPolicy ?? 'release');
  if (policy === 'retain' || (policy === 'retain-on-update-or-delete' && live.length > 0 && !(await createRolledBack(ctx)))) {
    log(`removalPolicy ${policy}: the capacity reservation is kept; release it yourself when done`, { physicalResourceId, kept: live.map(r => r.id) });
    return { physicalResourceId };
  }
  const until = new Date(waitPolicy.now() + (safeParse(event.ResourceProperties, new Date(0)).waitTimeoutSeconds ?? 600) * 1000);
  for (const r of live) await release(ecs, r.id, until);
  if (live.length === 0) log('nothing this resource created is live; nothing to release', { physicalResourceId });
  return { physicalResourceId };
}

async function createRolledBack(ctx: Context): Promise<boolean> {
  let status: string;
  try {
    status = await seams.stackStatus(ctx.credentials, ctx.event.RegionId, ctx.event.StackId);
  } catch (error) {
    const e = asEcsError(error);
    throw new UserError(`removalPolicy retain-on-update-or-delete needs the stack's status, and ROS GetStack failed with ${e.code}: ${oneLineText(e.message)}; grant the function role ros:GetStack, then continue the rollback or delete the stack again`);
  }
  log('the stack\'s status decides removalPolicy retain-on-update-or-delete', { status });
  return CREATE_ROLLBACK.has(status);
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
