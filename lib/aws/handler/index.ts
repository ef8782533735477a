/**
 * Lambda entry points behind the Provider framework: `onEvent` decides and buys, `isComplete` waits
 * for the payment. Both must never log the event as it arrives: it carries the ResponseURL.
 */
import { CapacityBlockAttributes, CapacityBlockWireProperties, PREVIEW_ID_PREFIX, ULTRASERVER_TAG } from '../wire';
import { clock, contextOrDefault, LambdaContextLike, timeouts, withBudget } from './budget';
import { underClaim } from './claims';
import { failure, log, oneLine, UserError } from './errors';
import { confirmDelivered, decideUpdate, needsOther } from '../core/lifecycle';
import { buyingAllowed, StackRead, underStackStatus } from '../core/stack';
import { deleteReleases, Ledger, LedgerPurchase, LedgerRecord, physicalIdOf, propertiesDigest, purchaseHolding, unsettledError } from './ledger';
import {
  alsoOwnedNote, blockAdapter, describeOwned, holds, idOf, isLiveOwned, openLedger, otherLiveBlocks, OwnedBlock, ownedBlocks,
  pickAdoptable, refuseRepurchase, resourceKeys, ResourceKeys, trackPhysicalId,
} from './ownership';
import { preview } from './preview';
import { adoptOrBuy, purchaseOnce, resolveIntents } from './purchase';
import { CapacityBlockRequest, parseRequest } from './request';
import {
  attributesFrom, attributesOf, blockIdsOf, combinedInterconnect, decideWait, describeBlock, describeCapacityBlocks, describeInterconnect,
  describeReservations, membersOf, PurchaseView, readReservations, reservationIdsOfBlocks, stateNote, tagValue,
} from './reservation';
import { changesTheBlock, extendIfLonger, syncTags } from './update';

export interface ProviderEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: CapacityBlockWireProperties;
  readonly OldResourceProperties?: CapacityBlockWireProperties;
  /** On isComplete: what onEvent returned. */
  readonly Data?: OnEventData;
}

/**
 * onEvent's Data, merged under isComplete's by the framework. WaitDeadline: when waiting for the
 * payment ends. Settled: 'true' when there is nothing to wait for (the attributes are final).
 */
export type OnEventData = Partial<CapacityBlockAttributes> & { readonly WaitDeadline?: string; readonly Settled?: string };

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: OnEventData;
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: CapacityBlockAttributes;
}

export async function onEvent(event: ProviderEvent, lambdaContext?: LambdaContextLike): Promise<OnEventResult> {
  log(`${event.RequestType} ${event.LogicalResourceId}`, { physicalResourceId: event.PhysicalResourceId });
  const context = contextOrDefault(lambdaContext);
  try {
    if (event.RequestType === 'Delete') {
      return await withBudget(context, timeouts.onEventMarginMs, () => remove(event));
    }
    const now = clock.now();
    // Bad input fails here, before any EC2 call or DynamoDB write.
    const request = parse(event.ResourceProperties, event, now);
    const keys = resourceKeys(event);
    return await underClaim(keys.request, context, async () => {
      const tracked = isBoughtId(event.PhysicalResourceId) ? event.PhysicalResourceId : undefined;
      const ledger = await openLedger(keys, tracked, tracked ? propertiesDigest(event.OldResourceProperties) : undefined);
      const answer = event.RequestType === 'Create'
        ? await create(request, keys, ledger, now, { mayBuy: true })
        : await update(event, request, keys, ledger, now);
      await recordTracked(ledger, answer.PhysicalResourceId);
      return answer;
    });
  } catch (error) {
    throw failure(error);
  }
}

export async function isComplete(event: ProviderEvent, lambdaContext?: LambdaContextLike): Promise<IsCompleteResult> {
  const id = event.PhysicalResourceId ?? '';
  if (event.RequestType === 'Delete' || !isBoughtId(id) || event.Data?.Settled === 'true') {
    return { IsComplete: true };
  }
  const deadline = new Date(event.Data?.WaitDeadline ?? 0);
  // Answer "not yet" before the Lambda timeout rather than hang on EC2: a timed-out isComplete is a FAILED.
  return withBudget(contextOrDefault(lambdaContext), timeouts.isCompleteMarginMs, async () => {
    const now = clock.now();
    try {
      // Every reservation of the purchase (an UltraServer block has several) must be paid before the wait ends.
      let ids = (event.Data?.CapacityReservationIds ?? '').split(',').filter(Boolean);
      if (ids.length === 0 && id.startsWith('cr-')) ids = [id];
      if (ids.length === 0) {
        // EC2 answered the purchase before it named the reservations: follow the block until it does.
        const blockIds = (event.Data?.CapacityBlockIds ?? id).split(',').filter(Boolean);
        ids = [...(await reservationIdsOfBlocks(blockIds)).values()].flat().sort();
        if (ids.length === 0) {
          if (now < deadline) return { IsComplete: false };
          const note = join(event.Data?.Note ?? '', `Capacity Block ${blockIds.join(', ')} is bought, but EC2 named none of its reservations before waitTimeout; the next deployment of this resource reads them`);
          return { IsComplete: true, Data: fallbackAttributes(id, event.Data, note) };
        }
      }
      const reservation = await describeReservations(ids);
      const decision = decideWait(reservation, id, deadline, now);
      if (!decision.complete) return { IsComplete: false };
      const ultraserver = reservation ? await ultraserverHealth(reservation) : { note: '', interconnect: '' };
      log('Capacity Block ready', { capacityReservationId: reservation?.CapacityReservationId ?? id, state: reservation?.State, ...(ultraserver.interconnect ? { interconnectStatus: ultraserver.interconnect } : {}) });
      const note = [event.Data?.Note, decision.note, ultraserver.note].filter(Boolean).join('. ');
      if (!reservation) return { IsComplete: true, Data: fallbackAttributes(id, event.Data, note) };
      // A block tracked by its block id is tracked by its lowest reservation once EC2 names it.
      const attributes = attributesOf(reservation, note, ultraserver.interconnect);
      return { IsComplete: true, ...(id.startsWith('cb-') ? { PhysicalResourceId: attributes.CapacityReservationId } : {}), Data: attributes };
    } catch (error) {
      if (error instanceof UserError) throw failure(error);
      // A transient read failure must not fail a paid block (rule 4): poll again, or finish honestly.
      log('could not read the Capacity Block; will poll again', { capacityReservationId: id, error: oneLine(error) });
      if (clock.now() < deadline) return { IsComplete: false };
      const note = `Capacity Block ${id} is bought, but its state could not be read before waitTimeout (${oneLine(error)})`;
      return { IsComplete: true, Data: fallbackAttributes(id, event.Data, note) };
    }
  });
}

/**
 * An UltraServer block, once paid: DescribeCapacityBlocks says whether EC2 holds the whole block
 * available (each reservation alone cannot say), and DescribeCapacityBlockStatus how its accelerator
 * interconnect is once active. Neither can fail the deployment of a paid block (rule 4).
 */
async function ultraserverHealth(view: PurchaseView): Promise<{ note: string; interconnect: string }> {
  const blockIds = blockIdsOf(view);
  if (membersOf(view).length === 1 && !tagValue(view, ULTRASERVER_TAG)) return { note: '', interconnect: '' };
  try {
    const blocks = await describeCapacityBlocks(blockIds);
    // A block in no state the model names (its reservations delayed, say) adds nothing to their own note.
    const off = blocks.filter(b => b.State !== undefined && b.State !== 'scheduled' && b.State !== 'active' && b.State !== 'payment-pending');
    const notes = off.map(b => stateNote(b.CapacityBlockId ?? '', b.State ?? 'unknown'));
    const interconnect = view.State === 'active' ? combinedInterconnect(await describeInterconnect(blockIds)) : '';
    if (interconnect === 'impaired') notes.push(`the accelerator interconnect of ${blockIds.join(', ')} is impaired; contact AWS Support`);
    return { note: notes.join('. '), interconnect };
  } catch (error) {
    log('could not read the UltraServer block status; the block is bought either way', { error: oneLine(error) });
    return { note: '', interconnect: '' };
  }
}

/**
 * Lifecycle rules 1-3: adopt what this resource already owns, else buy exactly once. A resource that
 * owns live blocks none of which fits (an earlier deployment bought one and then failed, or the stack
 * was deleted and created again with other properties) buys another only with allowRepurchase.
 */
async function create(request: CapacityBlockRequest, keys: ResourceKeys, ledger: Ledger, now: Date, allowed: { mayBuy: boolean; why?: string; rollback?: boolean }, read?: { open: LedgerPurchase[]; owned: OwnedBlock[] }): Promise<OnEventResult> {
  // An update that decided to buy has read the intents and blocks already.
  const open = read?.open ?? await resolveIntents(ledger);
  const owned = read?.owned ?? await ownedBlocks(ledger);
  const adoptable = pickAdoptable(owned, request, { requestKey: keys.request });
  if (request.previewOnly) {
    const hint = adoptable ? `; without previewOnly this resource would adopt ${idOf(adoptable)}, which it already owns, and buy nothing` : '';
    return previewResult(await preview(request, keys, now, hint));
  }
  // A rollback lands as it is: it never waits in isComplete for a payment that may still fail.
  if (adoptable) return allowed.rollback ? rollBack(adoptable, owned, request) : adopt(adoptable, owned, request, keys, now);
  if (open.length > 0) throw unsettledError(`An earlier purchase of this resource (${open[0].offeringId}, ${open[0].intentAt})`, open[0].intentAt, adoptOrBuy(open[0].requestKey));
  const live = otherLiveBlocks(owned, undefined);
  if (live.length > 0 && !request.allowRepurchase) throw refuseRepurchase(live[0], needsOther(blockAdapter, live[0], request, now), live.length - 1);
  if (!allowed.mayBuy) throw new UserError(`This would buy a new Capacity Block, which ${allowed.why}; nothing was bought`);
  const purchased = await purchaseOnce(request, keys, ledger, now);
  const note = join(
    purchased.source === 'found-after-lost-answer' ? "EC2's answer to the purchase was lost; the block was found by its idempotency tag and not bought again" : '',
    purchased.partial ? `${purchased.partial}; CapacityReservationIds may miss some, and the next deployment reads them all` : '',
    purchased.reservationIds.length === 0 ? `EC2 answered the purchase of ${purchased.blockIds.join(', ')} before naming its reservations; the block is tracked by its id until it does` : '',
    alsoOwnedNote(owned, undefined),
  );
  return toWaitFor(purchased.reservationIds[0] ?? purchased.blockIds[0], purchased, request, now, note);
}

async function update(event: ProviderEvent, request: CapacityBlockRequest, keys: ResourceKeys, ledger: Ledger, now: Date): Promise<OnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  return underStackStatus(event.StackId, id, stack => updateForward(event, request, keys, ledger, now, stack), async why => {
    const owned = isBoughtId(id) ? (await ownedBlocks(ledger).catch(() => [])).find(b => holds(b, id)) : undefined;
    const note = `Rolled back to ${owned ? describeOwned(owned) : id} as it is: ${why}`;
    return owned ? settled(owned, note) : { PhysicalResourceId: id, Data: { ...fallbackAttributes(isBoughtId(id) ? id : '', undefined, note, 'unknown'), Settled: 'true' } };
  });
}

async function updateForward(event: ProviderEvent, request: CapacityBlockRequest, keys: ResourceKeys, ledger: Ledger, now: Date, stack: StackRead): Promise<OnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  if (request.previewOnly) {
    // Allowed even over a bought block, because it is what the rollback of "remove previewOnly" sends.
    const hint = isBoughtId(id) ? `; Capacity Block ${id} stays bought and runs until its end date, but this resource no longer tracks it` : '';
    try {
      return previewResult(await preview(request, keys, now, hint));
    } catch (error) {
      // An update of a preview buys nothing, so it never fails: failing would wedge CloudFormation's
      // rollback of it. What a purchase would meet is in State and Note.
      const previewId = id.startsWith(PREVIEW_ID_PREFIX) ? id : `${PREVIEW_ID_PREFIX}failed`;
      const note = `previewOnly: nothing was bought, and a purchase now would fail: ${oneLine(error)}${hint}`;
      return { PhysicalResourceId: previewId, Data: { ...fallbackAttributes('', undefined, note, 'preview-failed'), Settled: 'true' } };
    }
  }
  const defining = changesTheBlock(safeParse(event.OldResourceProperties, event, now), request);
  const oldDigest = propertiesDigest(event.OldResourceProperties);
  if (isBoughtId(id)) {
    // What CloudFormation tracks comes first: a ledger that lacks it reads it by id.
    await trackPhysicalId(ledger, id, stack.operation === 'forward' ? oldDigest : undefined);
    // A forward Update says what CloudFormation received: this id, for its OldResourceProperties.
    if (stack.operation === 'forward') await ledger.change(record => { confirmDelivered(purchaseHolding(record, id), oldDigest); });
  }
  const held = purchaseHolding(ledger.record, id);
  if (!held) {
    // A preview (or a Create that never bought): nothing is tracked yet, so this is a Create; only a forward update may buy.
    return create(request, keys, ledger, now, { ...buyingAllowed(stack), rollback: stack.operation === 'rollback' });
  }
  const open = await resolveIntents(ledger);
  const owned = await ownedBlocks(ledger);
  const current = owned.find(b => holds(b, id))!;
  const plan = decideUpdate(blockAdapter, { current, owned, request, digest: propertiesDigest(event.ResourceProperties), defining, operation: stack.operation, status: stack.status, now });
  switch (plan.kind) {
    case 'in-place': {
      if (!plan.owned.view) {
        return toWaitFor(id, plan.owned.purchase, request, now, `Capacity Block ${id} is bought and EC2 does not list it yet; its tags follow on the next deployment`);
      }
      await syncTags(plan.owned.view, request);
      const note = await extendIfLonger(plan.owned.view, request, keys.request, ledger, plan.mayBuy, defining && stack.operation === 'unknown' ? buyingAllowed(stack).why : undefined);
      // Tracked by its block id until EC2 named the reservations; by the lowest of them from then on.
      const tracked = id.startsWith('cb-') ? idOf(plan.owned) : id;
      return toWaitFor(tracked, plan.owned.purchase, request, now, join(note, alsoOwnedNote(owned, tracked)));
    }
    case 'roll-back':
      return rollBack(plan.owned, owned, request);
    case 'adopt':
      return adopt(plan.owned, owned, request, keys, now);
    case 'buy': {
      log('buying a new block (allowRepurchase); the old one runs on', { old: describeOwned(current) });
      return create(request, keys, ledger, now, { mayBuy: true }, { open, owned });
    }
    case 'over':
      return settled(plan.owned, plan.note, 'expired');
  }
}

async function adopt(block: OwnedBlock, owned: OwnedBlock[], request: CapacityBlockRequest, keys: ResourceKeys, now: Date): Promise<OnEventResult> {
  const id = idOf(block);
  log('adopting an owned block; nothing is bought', { capacityReservationId: id });
  if (block.view) await syncTags(block.view, request);
  const note = block.purchase.requestKey === keys.request
    ? 'Adopted the block an earlier delivery of this request bought'
    : `Adopted ${id}, which this resource (${keys.owner}) already owns and which fits these properties; nothing was bought`;
  return toWaitFor(id, block.purchase, request, now, join(note, alsoOwnedNote(owned, id)));
}

/**
 * CloudFormation rolls back to a block it still tracks, answered for these very properties: back to
 * it as it is (live or over), tags included, buying nothing, even with allowRepurchase.
 */
async function rollBack(block: OwnedBlock, owned: OwnedBlock[], request: CapacityBlockRequest): Promise<OnEventResult> {
  log('rolling back; nothing is bought', { capacityReservationId: idOf(block) });
  const live = isLiveOwned(block);
  if (block.view && live) await syncTags(block.view, request).catch(error => log('tags not set back', { error: oneLine(error) }));
  const dead = live ? '' : `it is no longer live (${block.view?.State ?? 'not listed'}) and serves nothing`;
  return settled(block, join(`Back to ${describeOwned(block)}, which these properties were deployed with; nothing was bought`, dead, alsoOwnedNote(owned, physicalIdOf(block.purchase))));
}

/**
 * Remembers which id the answer names (Delete of an earlier id of the same purchase releases it). That
 * CloudFormation RECEIVED it for these properties is recorded only once it says so: the next forward
 * Update's event (its PhysicalResourceId and OldResourceProperties), or a new ledger started from it.
 */
async function recordTracked(ledger: Ledger, physicalId: string): Promise<void> {
  if (!purchaseHolding(ledger.record, physicalId)) return;
  await ledger.remember(record => {
    Object.assign(purchaseHolding(record, physicalId)!, { trackedAs: physicalId });
  });
}

function join(...notes: string[]): string {
  return notes.filter(Boolean).join('. ');
}

function previewResult(result: { physicalResourceId: string; data: CapacityBlockAttributes }): OnEventResult {
  return { PhysicalResourceId: result.physicalResourceId, Data: { ...result.data, Settled: 'true' } };
}

/**
 * Lifecycle rule 6: a block cannot be cancelled; deleting the resource leaves it to expire. The ledger
 * notes that CloudFormation let go of it, so that no later update takes it for a rollback target.
 */
async function remove(event: ProviderEvent): Promise<OnEventResult> {
  const id = event.PhysicalResourceId ?? '';
  if (!isBoughtId(id)) {
    log('no purchase is tracked under this id; nothing to delete', { physicalResourceId: id });
    return { PhysicalResourceId: id };
  }
  let summary = id;
  try {
    const ledger = await Ledger.read<LedgerRecord>(resourceKeys(event).owner);
    const purchase = ledger && purchaseHolding(ledger.record, id);
    if (ledger && purchase && deleteReleases(purchase, id)) {
      await ledger.change(record => {
        purchaseHolding(record, id)!.released = true;
      });
    }
    const [block] = await readReservations([id]);
    summary = block ? describeBlock(block) : `${id} (not listed by EC2)`;
  } catch (error) {
    log('delete: block or ledger unread; deleting anyway', { error: oneLine(error) });
  }
  log(`Capacity Block ${summary} cannot be cancelled: CloudFormation no longer tracks it, and it expires by itself at its end date`);
  return { PhysicalResourceId: id };
}

function parse(props: CapacityBlockWireProperties, event: ProviderEvent, now: Date): CapacityBlockRequest {
  return parseRequest(props, regionOf(event.StackId), now);
}

function safeParse(props: CapacityBlockWireProperties | undefined, event: ProviderEvent, now: Date): Partial<CapacityBlockRequest> {
  try {
    return props ? parse(props, event, now) : {};
  } catch {
    return {};
  }
}

/** arn:aws:cloudformation:REGION:ACCOUNT:stack/... */
function regionOf(stackId: string): string | undefined {
  return stackId.split(':')[3] || undefined;
}

/** A physical id of something bought: its lowest reservation, or its Capacity Block until EC2 names the reservations. */
function isBoughtId(id: string | undefined): id is string {
  return id !== undefined && (id.startsWith('cr-') || id.startsWith('cb-'));
}

/** The answer for a block the resource tracks: isComplete waits for every one of its reservations until the deadline. */
function toWaitFor(id: string, ids: { reservationIds: string[]; blockIds: string[] }, request: CapacityBlockRequest, now: Date, note: string): OnEventResult {
  const WaitDeadline = new Date(now.getTime() + request.waitTimeoutSeconds * 1000).toISOString();
  return { PhysicalResourceId: id, Data: { WaitDeadline, Note: note, CapacityReservationIds: ids.reservationIds.join(','), CapacityBlockIds: ids.blockIds.join(',') } };
}

/** The answer for a block that needs no waiting (a rollback, a block that is over): its attributes as they are. */
function settled(block: OwnedBlock, note: string, state?: string): OnEventResult {
  const id = physicalIdOf(block.purchase);
  return { PhysicalResourceId: id, Data: { ...(block.view ? attributesOf(block.view, note) : fallbackAttributes(id, undefined, note, state)), Settled: 'true' } };
}



function fallbackAttributes(id: string, data: OnEventData | undefined, note: string, state = 'payment-pending'): CapacityBlockAttributes {
  return attributesFrom({ ...data, CapacityReservationId: id, CapacityReservationIds: data?.CapacityReservationIds ?? id, InterconnectStatus: '', State: state, Note: note });
}

/**
 * Seams for the local rehearsal, which runs this bundle on simulated time and with shrunk budgets:
 * the clock, the time budgets, the waits between lookups and claim polls, and the SDK's backoff.
 */
export { clock, hooks, providerTimings, timeouts } from './budget';
export { claimPolicy } from './claims';
export { retryPolicy } from './ec2';
export { resourceKeys } from './ownership';
export { purchasePolicy } from './purchase';
