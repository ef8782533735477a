/**
 * Function Compute 3 entry point behind ALIYUN::ROS::CustomResource. ROS delivers the event as a
 * Buffer and waits for our answer at ResponseURL; the event is never logged (the URL is presigned).
 */
import { randomBytes } from 'crypto';
import { log, oneLineText, UserError } from '../../shared/handler-log';
import { RemovalPolicyValue } from '../validation';
import {
  ALI_MAX_TAGS, ANSWER_POSTING, ANSWER_TAG_PREFIX, AliReservationAttributes, AliWireTag, FUNCTION_TIMEOUT_SECONDS, RESOURCE_TAG, RETAINED_PREFIX,
} from '../wire';
import { asEcsError, createEcsCall, createRosCall, EcsCall, FcCredentials, outcomeUnknown } from './ecs';
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

/** The stack's status (ROS GetStack): a rollback, a late Update, a completed replacement, retain-on-update-or-delete. */
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
  const ctx: Context = { ecs, event, keys, mark: requestMark(keys), credentials: context.credentials, progress, startedAt: waitPolicy.now() };
  let response: RosResponse;
  let afterAnswer: (() => Promise<void>) | undefined;
  try {
    const { physicalResourceId, data, afterAnswer: after } = await dispatch(ctx);
    afterAnswer = after;
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
  // ROS has the answer and moves on; what is left (retiring a replaced reservation) needs the stack's progress.
  if (afterAnswer) {
    try {
      await afterAnswer();
    } catch (error) {
      log('after the answer: could not finish; the next request of the resource does', { reason: oneLineText(error instanceof Error ? error.message : String(error)) });
    }
  }
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
  // First, before anything that can fail: a delivery that dies after this must not look like one
  // still answering; its marker is removed, which also frees the slot (ALI_MAX_USER_TAGS keeps them).
  if (marked) await unmarkAnswer(ecs, answered, delivery);
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
  const othersAnswering = tags.some(t => t.Key.startsWith(ANSWER_TAG_PREFIX) && t.Key !== ANSWER_TAG_PREFIX + delivery);
  if (othersAnswering || tags.length >= ALI_MAX_TAGS) return { released, kept: mine.id };
  await release(ecs, mine.id, new Date(waitPolicy.now() + waitPolicy.releaseGraceMs));
  return { released: [...released, mine.id] };
}

/** Best effort: a marker that cannot be written (e.g. ECS's 20-tag limit) only makes refused deliveries keep more. */
async function markAnswer(ecs: EcsCall, id: string, delivery: string, value = ANSWER_POSTING): Promise<boolean> {
  if (!id.startsWith('crp-')) return false;
  try {
    await ecs('TagResources', { ResourceType: 'capacityreservation', ResourceId: [id], Tag: [{ Key: ANSWER_TAG_PREFIX + delivery, Value: value }] });
    return true;
  } catch (error) {
    log('could not mark the reservation this delivery answers', { reservationId: id, code: asEcsError(error).code });
    return false;
  }
}

async function unmarkAnswer(ecs: EcsCall, id: string, delivery: string): Promise<void> {
  try {
    await ecs('UntagResources', { ResourceType: 'capacityreservation', ResourceId: [id], TagKey: [ANSWER_TAG_PREFIX + delivery] });
  } catch (error) {
    log('could not remove this delivery\'s answer marker', { reservationId: id, code: asEcsError(error).code });
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
  /** When this invocation started (waitPolicy's clock). */
  readonly startedAt: number;
}

interface Outcome {
  readonly physicalResourceId: string;
  readonly data?: AliReservationAttributes;
  /** Work after ROS has the (SUCCESS) answer: it never changes the answer. */
  readonly afterAnswer?: () => Promise<void>;
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
  // Generation 0's own id names the lifetime (it is the PhysicalResourceId of every later request of it).
  const ledger: Ledger = { generation: 0, requests: [mark], state: fingerprint(event.ResourceProperties), amount: request.instanceAmount };
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

/** What the resource holds in this request's lifetime, read by id where ROS handed it over and recovered from the tag listing. */
interface Held {
  /** The newest live reservation of the lifetime. */
  readonly head?: Reservation;
  /** The reservation the head replaced, still held until the stack no longer needs it (ROS's rollback returns to it). */
  readonly pending?: Reservation;
  /** Other live reservations of the lifetime: left by an interrupted run, never answered. */
  readonly others: Reservation[];
  /** The newest ledger known (the head's, else the newest generation's, released ones included). */
  readonly ledger?: Ledger;
  /** Every ledger known: a request one of them lists before a newer one is a late duplicate. */
  readonly ledgers: Ledger[];
  /** The PhysicalResourceId names a live reservation this resource did not make. */
  readonly foreign?: Reservation;
  /** The PhysicalResourceId names a reservation a retain policy kept: the lifetime let go of it. */
  readonly kept?: Reservation;
}

async function resolveHeld(ctx: Context): Promise<Held> {
  const { ecs, keys, event } = ctx;
  const physicalId = event.PhysicalResourceId ?? '';
  const byId = physicalId.startsWith('crp-') ? await getReservation(ecs, physicalId) : undefined;
  const foreign = byId && !heldBy(byId, keys) && !retainedFrom(byId, keys) && byId.status !== 'Released' ? byId : undefined;
  // The lifetime is the PhysicalResourceId itself (no read needed, so a generation 0 that ECS no
  // longer lists still names it). A Delete without one (ROS gave up on the Create) knows no
  // lifetime and touches nothing; the late Create releases what it made when ROS refuses its answer.
  const lifetime = physicalId.startsWith('crp-') || physicalId.startsWith(NOT_CREATED_PREFIX) ? physicalId : undefined;
  if (lifetime === undefined) return { others: [], ledgers: [], foreign };
  const known = new Map<string, Reservation>();
  // A kept (retained) reservation is nobody's and never live here, but its ledger still tells a late request of its lifetime.
  if (byId && (heldBy(byId, keys) || retainedFrom(byId, keys))) known.set(byId.id, byId);
  for (const r of await reservationsTagged(ecs, RESOURCE_TAG, keys.resource)) {
    if (!known.has(r.id) && ofLifetime(r, lifetime)) known.set(r.id, r);
  }
  const newestFirst = [...known.values()].sort((a, b) => (readLedger(b.tags)?.generation ?? 0) - (readLedger(a.tags)?.generation ?? 0)
    || Number(b.id === physicalId) - Number(a.id === physicalId) || a.id.localeCompare(b.id));
  const live = newestFirst.filter(r => r.status !== 'Released' && heldBy(r, keys));
  const head = live[0];
  const pending = live.find(r => r.id === readLedger(head?.tags ?? [])?.replaced);
  const ledgers = newestFirst.map(r => readLedger(r.tags)).filter((l): l is Ledger => l !== undefined);
  const kept = byId && retainedFrom(byId, keys) && byId.status !== 'Released' ? byId : undefined;
  return { head, pending, others: live.slice(1).filter(r => r !== pending), ledger: readLedger((head ?? newestFirst[0])?.tags ?? []), ledgers, foreign, kept };
}

/** Writes this request into the ledger of the reservation it is about to act on (an intent, read by later deliveries). */
async function writeIntent(ctx: Context, r: Reservation, wants: { state?: string; amount?: number } = {}): Promise<void> {
  const ledger = readLedger(r.tags) ?? { generation: 0, requests: [] };
  const next = withRequest(ledger, ctx.mark, wants);
  if (ledgerTag(next).Value !== ledgerTag(ledger).Value) await tag(ctx.ecs, r.id, [ledgerTag(next)]);
}

/**
 * A late request: its mark is listed before a newer one, or it is not listed and its
 * OldResourceProperties are not the properties of the newest request (ROS sends every Update with
 * the properties it holds as old ones, a rollback included), however many requests came since.
 */
function staleRequest(held: Held, mark: string, oldProperties: unknown): boolean {
  if (held.ledgers.some(l => isStale(l, mark))) return true;
  const newest = held.ledger;
  if (!newest || newest.requests.includes(mark) || newest.state === undefined) return false;
  return newest.state !== fingerprint(oldProperties);
}

/**
 * ROS keeps the PhysicalResourceId of the first reservation for the lifetime; the reservation held
 * now is the newest live generation (Data.ReservationId tells the template).
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
  // The lifetime holds nothing live and its reservation was kept by a retain policy (removed from
  // the template, deleted or replaced): it belongs to nobody, and a late Update buys nothing.
  if (!current && held.kept) {
    log('a late request of a lifetime whose reservation a retain policy kept: it belongs to nobody now; nothing is changed or created', { kept: held.kept.id });
    return { physicalResourceId, data: attributesOf(held.kept) };
  }
  if (staleRequest(held, ctx.mark, event.OldResourceProperties)) {
    log('a late duplicate of an older request (or of an earlier lifetime): a newer one has acted since; nothing is changed', { reservationId: current?.id });
    return { physicalResourceId, data: current ? attributesOf(current) : undefined };
  }
  // A request no ledger lists arrives when ROS runs no stack operation: a late delivery (however
  // old, even when the template went A -> B -> A since); ask the engine rather than guess.
  if (!held.ledger?.requests.includes(ctx.mark) && await noStackOperationRunning(ctx)) {
    log('ROS GetStack shows no stack operation running, so this Update is a late delivery; nothing is changed', { reservationId: current?.id });
    return { physicalResourceId, data: current ? attributesOf(current) : undefined };
  }
  const until = deadline(request, now);
  const wants = { state: fingerprint(event.ResourceProperties), amount: request.instanceAmount };
  // Another delivery of the newest request (FC retries, duplicates) is not a later request: it must not retire what that request replaced.
  const repeatOfNewest = readLedger(current?.tags ?? [])?.requests.at(-1) === ctx.mark;
  if (current) await writeIntent(ctx, current, wants);

  if (request.endTime && Date.parse(request.endTime) <= now.getTime()) {
    return ended(ecs, request, old, current, [...(held.pending ? [held.pending] : []), ...held.others], physicalResourceId);
  }
  // A rollback goes back to what was answered before, not to "a live one fits": ROS rolling back
  // the update that made `current` takes back the original (still held: a replacement keeps it
  // until the stack no longer needs it) and releases the replacement.
  const back = current && await replacedOriginal(ctx, current, request, old);
  if (back) {
    log('rolling back a replacement: the reservation it replaced is held again; the replacement is released', { reservationId: back.id, released: current.id });
    await tag(ecs, back.id, [resourceTag(keys), ledgerTag(withRequest(readLedger(back.tags) ?? { generation: 0, requests: [] }, ctx.mark, wants))]);
    for (const r of [current, ...held.others].filter(x => x.id !== back.id)) await release(ecs, r.id, until);
    return { physicalResourceId, data: attributesOf((await getReservation(ecs, back.id)) ?? back) };
  }
  // Any other request of the lifetime comes after the replacing update completed: the stack no longer needs what it replaced.
  if (held.pending && !repeatOfNewest) await retireReplaced(ecs, request.removalPolicy, held.pending, keys);
  const replacement = current ? replacementReasons(current, request, old) : ['the reservation no longer exists'];
  if (replacement.length > 0) {
    log('replacing the capacity reservation; the old one is kept until the stack no longer needs it', { reasons: replacement, old: current?.id });
    const ledger: Ledger = {
      generation: (held.ledger?.generation ?? 0) + 1, requests: withRequest(held.ledger ?? { generation: 0, requests: [] }, ctx.mark).requests,
      lifetime: physicalResourceId, replaced: current?.id, fingerprint: fingerprint(event.ResourceProperties), ...wants,
    };
    const next = await createAndWait(ctx, request, ledger, until);
    await releaseOthers(ecs, held.others, next.id);
    return {
      physicalResourceId, data: attributesOf(next),
      afterAnswer: current ? () => retireOnceUpdated(ctx, request.removalPolicy, current.id, next.id) : undefined,
    };
  }
  const reservation = current!;
  const { modified, note } = await modifyOrKeepUsed(ctx, reservation, request, old);
  await syncTags(ecs, reservation, request);
  await releaseOthers(ecs, held.others, reservation.id);
  if (modified) await putBackNewestAmount(ctx, reservation.id);
  const after = modified ? await waitUntilActive(ecs, reservation.id, until, true) : (await getReservation(ecs, reservation.id)) ?? reservation;
  return { physicalResourceId, data: { ...attributesOf(after), ...(note ? { Note: note } : {}) } };
}

/**
 * The in-place change. When ECS refuses to lower instanceAmount below what instances use now
 * (ModifyCapacityReservation: "from the number of used instances to 1000"), ROS's rollback lowers
 * it as far as ECS allows and succeeds with a note (rollbacks always land); a forward update fails
 * naming the count in use.
 */
async function modifyOrKeepUsed(ctx: Context, r: Reservation, request: ReservationRequest, old: Partial<ReservationRequest>): Promise<{ modified: boolean; note?: string }> {
  try {
    return { modified: await modifyInPlace(ctx.ecs, r.id, request, old) };
  } catch (error) {
    const now = await getReservation(ctx.ecs, r.id);
    const used = now?.usedAmount ?? 0;
    if (!now || request.instanceAmount >= used || request.instanceAmount >= now.amount) throw error;
    if (!(await updateRollingBack(ctx))) {
      throw new UserError(`instanceAmount ${request.instanceAmount} is below the ${used} instances using capacity reservation ${r.id} now, and ECS does not lower a reservation below what is in use; stop instances first or set instanceAmount to at least ${used}`);
    }
    const note = `kept instanceAmount ${used}, not ${request.instanceAmount}: ${used} instances use ${r.id} and ECS does not lower a reservation below what is in use; lower it once they stop`;
    log(`rollback: ${note}`, { reservationId: r.id });
    const modified = await modifyInPlace(ctx.ecs, r.id, { ...request, instanceAmount: used }, { ...old, instanceAmount: now.amount });
    return { modified, note };
  }
}

/** ROS GetStack shows a settled stack (no *_IN_PROGRESS status). Not read: false (the ledger's rules decide). */
async function noStackOperationRunning(ctx: Context): Promise<boolean> {
  try {
    const status = await seams.stackStatus(ctx.credentials, ctx.event.RegionId, ctx.event.StackId);
    return status !== '' && !status.endsWith('_IN_PROGRESS');
  } catch (error) {
    log('could not read the stack\'s status; the ledger decides whether this Update is late', { code: asEcsError(error).code });
    return false;
  }
}

/** ROS GetStack says an update is being rolled back; when it cannot say, a rollback is assumed (lowering never buys). */
async function updateRollingBack(ctx: Context): Promise<boolean> {
  try {
    return UPDATE_ROLLBACK.has(await readStackStatusPatiently(ctx));
  } catch (error) {
    log('could not read the stack\'s status; treating the refused change as a rollback step', { code: asEcsError(error).code });
    return true;
  }
}

/**
 * Compare-and-set by re-reading after the write: a late delivery of an older request may pass its
 * checks just before a newer request writes its intent, and its Modify may land after the newer
 * one's. Whoever modified re-reads the ledger afterwards; if a newer request has written since, the
 * amount it wants (the ledger's `a`) is put back, so ECS ends at what the stack asked last.
 */
async function putBackNewestAmount(ctx: Context, id: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const r = await getReservation(ctx.ecs, id);
    const ledger = readLedger(r?.tags ?? []);
    if (!r || r.status === 'Released' || !ledger || ledger.requests.at(-1) === ctx.mark) return;
    if (ledger.amount === undefined || r.amount === ledger.amount || ledger.amount < (r.usedAmount ?? 0)) return;
    log('a newer request started while this one modified; putting back the amount it wants', { reservationId: id, amount: ledger.amount });
    try {
      await ctx.ecs('ModifyCapacityReservation', { PrivatePoolOptions: { Id: id }, InstanceAmount: ledger.amount });
    } catch (error) {
      log('could not put back the newer request\'s amount; it sets it itself', { reservationId: id, code: asEcsError(error).code });
      return;
    }
  }
}

/**
 * After ROS took the answer to a replacement: waits (bounded) for GetStack to show the update's
 * end. UPDATE_COMPLETE: the stack no longer needs the replaced reservation, so it is released (or
 * kept for the user under a retain policy). A rollback: ROS's rollback Update returns to it. Not
 * known in time: the next request of the lifetime (an Update or the Delete) retires it.
 *
 * Why not on a Delete of the old id: ROS's custom-resource reference (Update, Delete) does not say
 * that ROS sends a Delete for the old PhysicalResourceId after an Update answers a new one
 * (CloudFormation's does). Undocumented, so the handler never changes the PhysicalResourceId and
 * never relies on such a Delete.
 */
async function retireOnceUpdated(ctx: Context, policy: RemovalPolicyValue, oldId: string, nextId: string): Promise<void> {
  // Within the function's own timeout (with a minute to spare): FC would otherwise run the event again.
  const end = Math.min(waitPolicy.now() + waitPolicy.settleAfterUpdateMs, ctx.startedAt + (FUNCTION_TIMEOUT_SECONDS - 60) * 1000);
  for (;;) {
    let status = '';
    try {
      status = await seams.stackStatus(ctx.credentials, ctx.event.RegionId, ctx.event.StackId);
    } catch (error) {
      log('could not read the stack\'s status after the replacement; will retry', { code: asEcsError(error).code });
    }
    if (status === 'UPDATE_COMPLETE' || status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS') break;
    if ((status && !status.endsWith('_IN_PROGRESS')) || status.startsWith('ROLLBACK') || waitPolicy.now() >= end) {
      log('the update that replaced the reservation has not completed (or is rolling back); the replaced one stays held until it has', { reservationId: oldId, status });
      return;
    }
    await waitPolicy.sleep(waitPolicy.pollIntervalMs);
  }
  const next = await getReservation(ctx.ecs, nextId);
  const old = await getReservation(ctx.ecs, oldId);
  if (!next || next.status === 'Released' || readLedger(next.tags)?.replaced !== oldId || !old || !heldBy(old, ctx.keys)) return;
  await retireReplaced(ctx.ecs, policy, old, ctx.keys);
}

/**
 * The stack no longer needs a replaced reservation: released, or under a retain policy kept for
 * the user and retagged as retained, so that no request of any lifetime touches it again.
 */
async function retireReplaced(ecs: EcsCall, policy: RemovalPolicyValue, old: Reservation, keys: ResourceKeys): Promise<void> {
  if (policy !== 'release') {
    await retain(ecs, [old], keys);
    log(`removalPolicy ${policy}: the replaced reservation is kept for you, no longer held by the resource`, { reservationId: old.id });
    return;
  }
  // Throttling and 5xx come in bursts (the client's own retries may not outlast one): a few more tries, spaced out.
  for (let attempt = 1; ; attempt++) {
    try {
      await release(ecs, old.id);
      return;
    } catch (error) {
      if (attempt < RETIRE_ATTEMPTS) {
        await waitPolicy.sleep(waitPolicy.pollIntervalMs * attempt);
        continue;
      }
      // Still held: the next request of the lifetime tries again, and the Delete releases it.
      log(`the replaced reservation ${old.id} could not be released yet (${error instanceof UserError ? error.message : String(error)}); it bills until the next deploy or the stack's deletion releases it`, { reservationId: old.id });
      return;
    }
  }
}

const RETIRE_ATTEMPTS = 5;

/** Kept reservations belong to nobody: their resource tag becomes retained:<resource>. */
async function retain(ecs: EcsCall, kept: Reservation[], keys: ResourceKeys): Promise<void> {
  for (const r of kept) await tag(ecs, r.id, [{ Key: RESOURCE_TAG, Value: RETAINED_PREFIX + keys.resource }]);
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
 * `current` was made for), the reservation `current` replaced, if it is live, still held by the
 * resource and fits this request.
 */
async function replacedOriginal(ctx: Context, current: Reservation, request: ReservationRequest, old: Partial<ReservationRequest>): Promise<Reservation | undefined> {
  const ledger = readLedger(current.tags);
  if (!ledger?.replaced || ledger.fingerprint !== fingerprint(ctx.event.OldResourceProperties)) return undefined;
  const original = await getReservation(ctx.ecs, ledger.replaced);
  if (!original || original.status === 'Released' || !heldBy(original, ctx.keys)) return undefined;
  return replacementReasons(original, request, old).length === 0 ? original : undefined;
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

/**
 * Instance type, zone, match criteria and resource group cannot change in place. Platform is not
 * compared: ECS documents CreateCapacityReservation's Platform as "not available for use" (it does
 * not apply it and reports its default), so a change of it changes nothing and never fails.
 */
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
  return reasons;
}

/**
 * GetStack statuses in which a Delete means "the failed operation added this resource, take it
 * back": a create rollback (CREATE_ROLLBACK_*; also CREATE_IN_PROGRESS/CREATE_FAILED, which ROS
 * may still show when it starts) and an update rollback (ROS spells it ROLLBACK_*, there is no
 * UPDATE_ROLLBACK_*), in which ROS deletes only what the failed update added: what existed before
 * gets an Update back to its old properties, never a Delete.
 */
const CREATE_ROLLBACK = new Set(['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'CREATE_ROLLBACK_IN_PROGRESS']);
const UPDATE_ROLLBACK = new Set(['ROLLBACK_IN_PROGRESS']);

/**
 * Releases every reservation the resource holds in this lifetime (normally one), never one it did
 * not make nor one of another lifetime; retain keeps them (retagged as retained: nobody's from then
 * on), and retain-on-update-or-delete keeps them unless the failed operation added the resource.
 */
async function remove(ctx: Context): Promise<Outcome> {
  const { ecs, keys, event } = ctx;
  // ROS documents an empty PhysicalResourceId as invalid: a Delete without one answers the marker id.
  const physicalResourceId = event.PhysicalResourceId || notCreatedId(keys);
  const held = await resolveHeld(ctx);
  if (held.foreign) log(`the resource names ${held.foreign.id}, which it did not create; it is left alone`, { physicalResourceId });
  const live = [...(held.head ? [held.head] : []), ...(held.pending ? [held.pending] : []), ...held.others];
  // The ledger records the delete first: a late duplicate of an older request then changes nothing.
  if (held.head) await writeIntent(ctx, held.head);
  // Read directly, not through validation: properties that fail a check must never turn retain into release.
  const policy = String(parametersOf(event.ResourceProperties).RemovalPolicy ?? 'release');
  if (policy === 'retain' || (policy === 'retain-on-update-or-delete' && live.length > 0 && !(await addedByFailedOperation(ctx)))) {
    await retain(ecs, live, keys);
    log(`removalPolicy ${policy}: the capacity reservation is kept and belongs to nobody now; release it yourself when done`, { physicalResourceId, kept: live.map(r => r.id) });
    return { physicalResourceId };
  }
  const until = new Date(waitPolicy.now() + (safeParse(event.ResourceProperties, new Date(0)).waitTimeoutSeconds ?? 600) * 1000);
  for (const r of live) await release(ecs, r.id, until);
  if (live.length === 0) log('nothing this lifetime of the resource holds is live; nothing to release', { physicalResourceId });
  return { physicalResourceId };
}

async function addedByFailedOperation(ctx: Context): Promise<boolean> {
  let status: string;
  try {
    status = await readStackStatusPatiently(ctx);
  } catch (error) {
    const e = asEcsError(error);
    throw new UserError(`removalPolicy retain-on-update-or-delete needs the stack's status, and ROS GetStack failed with ${e.code}: ${oneLineText(e.message)}; grant the function role ros:GetStack, then continue the rollback or delete the stack again`);
  }
  log('the stack\'s status decides removalPolicy retain-on-update-or-delete', { status });
  return CREATE_ROLLBACK.has(status) || UPDATE_ROLLBACK.has(status);
}

/** GetStack, asked again through throttling and 5xx bursts for up to waitPolicy.stackStatusRetryMs; other errors at once. */
async function readStackStatusPatiently(ctx: Context): Promise<string> {
  const end = waitPolicy.now() + waitPolicy.stackStatusRetryMs;
  for (;;) {
    try {
      return await seams.stackStatus(ctx.credentials, ctx.event.RegionId, ctx.event.StackId);
    } catch (error) {
      if (!outcomeUnknown(error) || waitPolicy.now() >= end) throw error;
      log('ROS GetStack did not answer; asking again', { code: asEcsError(error).code });
      await waitPolicy.sleep(waitPolicy.pollIntervalMs);
    }
  }
}

/** The PhysicalResourceId of a Create that made nothing: it carries the Create's mark. */
const NOT_CREATED_PREFIX = 'not-created-';

/**
 * Whether a reservation belongs to the lifetime a PhysicalResourceId names: generation 0 is named
 * by its own id; a replacement writes the lifetime (l=) into its ledger; a `not-created-` id names
 * what its Create made (generation 0 first listing that Create) in case ECS made one after all. A
 * ledger of a replacement written before lifetimes existed counts as the resource's one lifetime.
 */
function ofLifetime(r: Reservation, lifetime: string): boolean {
  const ledger = readLedger(r.tags);
  if (!ledger) return false;
  if (lifetime.startsWith(NOT_CREATED_PREFIX)) return ledger.generation === 0 && ledger.requests[0] === lifetime.slice(NOT_CREATED_PREFIX.length, NOT_CREATED_PREFIX.length + 8);
  const key = ledger.lifetime ?? (ledger.generation === 0 ? r.id : undefined);
  return key === undefined || key === lifetime;
}

function notCreatedId(keys: ResourceKeys): string {
  return `${NOT_CREATED_PREFIX}${keys.request.slice(0, 16)}`;
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
