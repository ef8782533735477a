import { formatHours } from '../validation';
import { UserError } from '../handler/errors';
import { StackOperation } from './stack';

const HOUR_MS = 3_600_000;

/**
 * What a product tells the lifecycle core about the purchases of one resource. The core decides
 * (adopt, extend, roll back, buy, refuse); the adapter only says how the product's purchases look:
 * which one is live, what about one does not fit a request, how much time it has left. Future
 * products (a future-dated Capacity Reservation, say) plug in here; cancel and quote hooks stay theirs.
 */
export interface LifecycleAdapter<Owned, Request> {
  /** What one purchase is called in messages: 'Capacity Block', 'training plan'. */
  readonly noun: string;
  /** The service that shows purchases: 'EC2', 'SageMaker'. */
  readonly service: string;
  /** The ledger's entry of the purchase: the properties CloudFormation received it for, and whether it let go of it. */
  entry(owned: Owned): { readonly answeredFor: readonly string[]; readonly released: boolean };
  idOf(owned: Owned): string;
  describe(owned: Owned): string;
  /** The cloud shows it now (read by id or name); a purchase it does not show was bought moments ago, or is long over. */
  isListed(owned: Owned): boolean;
  /** Paid or being paid, and not over: it may never be bought again. */
  isLive(owned: Owned): boolean;
  /** What about it needs another purchase (shape, zone, window): duration is judged by the core, on time left. */
  mismatches(owned: Owned, request: Request): string[];
  /** The whole hours it was bought for (extensions included). */
  hoursBought(owned: Owned): number;
  /** The hours it still holds from `now` on: all of them before it starts. */
  hoursLeft(owned: Owned, now: Date): number;
  /** When it ends (epoch ms; 0 if unknown). */
  endsAt(owned: Owned): number;
  durationHours(request: Request): number;
  allowRepurchase(request: Request): boolean;
  /** The refusal of a change that needs another purchase, naming the one held. */
  refuse(current: Owned, reasons: string[], moreOwned: number): UserError;
}

/** Hours left of a purchase from `start` to `end` at `now`: every bought hour before it starts, the whole hours after. */
export function hoursLeftOf(bought: number, start: Date | undefined, end: Date | undefined, now: Date): number {
  if (!start || !end || now <= start) return bought;
  return Math.max(0, Math.floor((end.getTime() - now.getTime()) / HOUR_MS));
}

/**
 * Serves the request without buying anything: listed, live, fitting, and with at least the duration
 * asked LEFT (a 48 h purchase with 1 h left does not serve 48 h).
 */
export function serves<O, R>(a: LifecycleAdapter<O, R>, owned: O, request: R, now: Date): boolean {
  return a.isListed(owned) && a.isLive(owned) && a.mismatches(owned, request).length === 0 && a.hoursLeft(owned, now) >= a.durationHours(request);
}

/** Why a purchase does not serve a request, time left included. */
export function needsOther<O, R>(a: LifecycleAdapter<O, R>, owned: O, request: R, now: Date): string[] {
  if (!a.isListed(owned)) return [`${a.service} does not show ${a.idOf(owned)} yet`];
  const why = a.mismatches(owned, request);
  if (why.length > 0) return why;
  const left = a.hoursLeft(owned, now);
  const bought = a.hoursBought(owned);
  return [`duration ${formatHours(a.durationHours(request))} (${a.idOf(owned)} has ${formatHours(left)} left of ${formatHours(bought)})`];
}

/** The purchase of `owned` that serves the request, preferring `prefer` (a redelivery's own), then the one that ends last. */
export function pickServing<O, R>(a: LifecycleAdapter<O, R>, owned: O[], request: R, now: Date, rank: (o: O) => number = () => 0): O | undefined {
  return owned.filter(o => serves(a, o, request, now)).sort((x, y) => rank(y) - rank(x) || a.endsAt(y) - a.endsAt(x))[0];
}

/** What an Update does with the resource's purchase. */
export type UpdatePlan<O> =
  /** The current purchase serves the request: tags in place, and an extension if longer (only on a change that defines the purchase). */
  | { readonly kind: 'in-place'; readonly owned: O; readonly mayBuy: boolean }
  /** CloudFormation rolls back: back to what it tracked with these properties, as it is; nothing is bought. */
  | { readonly kind: 'roll-back'; readonly owned: O }
  /** Another live purchase of this resource serves it. */
  | { readonly kind: 'adopt'; readonly owned: O }
  /** The request needs a new purchase, allowRepurchase says to buy it, and CloudFormation says this is a forward update. */
  | { readonly kind: 'buy' }
  /** Nothing live serves it and nothing may be bought: report the purchase that is over, as it is. */
  | { readonly kind: 'over'; readonly owned: O; readonly note: string };

export interface UpdateContext<O, R> {
  readonly current: O;
  readonly owned: O[];
  readonly request: R;
  /** The digest of the properties this Update sends. */
  readonly digest: string;
  /** Whether the change touches a property that defines the purchase (not tags, ceiling, wait or name). */
  readonly defining: boolean;
  /** What CloudFormation says it is doing (DescribeStacks on the event's own stack). */
  readonly operation: StackOperation;
  /** The stack status as read, for messages. */
  readonly status: string;
  readonly now: Date;
}

/**
 * The update rules, the same for every product:
 * - a rollback (CloudFormation says so) goes back to the purchase CloudFormation received these
 *   properties' answer for (or stays on the current one), as it is, buying nothing;
 * - only when DescribeStacks could not be read is a rollback inferred from the ledger, and then
 *   nothing is bought either way;
 * - a change that does not define the purchase (tags, ceiling, wait) never buys;
 * - the current purchase, live and fitting, is kept (extended if longer); another live one that serves
 *   is adopted; allowRepurchase buys; otherwise the change is refused, naming what is held: a change
 *   that defines the purchase is never answered SUCCESS on one that is over.
 */
export function decideUpdate<O, R>(a: LifecycleAdapter<O, R>, ctx: UpdateContext<O, R>): UpdatePlan<O> {
  const { current, owned, request, digest, defining, operation, now } = ctx;
  const others = owned.filter(o => o !== current);
  if (operation === 'rollback') {
    return { kind: 'roll-back', owned: others.filter(o => a.entry(o).answeredFor.includes(digest)).pop() ?? current };
  }
  if (operation === 'unknown' && !a.entry(current).answeredFor.includes(digest)) {
    const inferred = others.filter(o => !a.entry(o).released && a.entry(o).answeredFor.includes(digest)).pop();
    if (inferred) return { kind: 'roll-back', owned: inferred };
  }
  const live = a.isLive(current);
  if (!a.isListed(current)) {
    if (live && !defining) return { kind: 'in-place', owned: current, mayBuy: false };
    if (live) {
      throw new UserError(`${capitalized(a.noun)} ${a.idOf(current)} was bought moments ago and ${a.service} does not show it yet; nothing was changed or bought. Deploy again in a minute`);
    }
    if (!defining) return { kind: 'over', owned: current, note: `${capitalized(a.noun)} ${a.idOf(current)} is no longer listed by ${a.service} (it is over); nothing was bought` };
  }
  const why = a.isListed(current) ? a.mismatches(current, request) : [];
  if (live && why.length === 0) return { kind: 'in-place', owned: current, mayBuy: defining && operation === 'forward' };
  if (!defining) {
    // Tags, ceiling or wait: whatever the ledger says of the purchase, such a change never buys.
    return live ? { kind: 'in-place', owned: current, mayBuy: false } : { kind: 'over', owned: current, note: `${a.describe(current)} is over; nothing was bought` };
  }
  const adoptable = pickServing(a, others, request, now);
  if (adoptable) return { kind: 'adopt', owned: adoptable };
  if (a.allowRepurchase(request)) {
    if (operation !== 'forward') {
      throw new UserError(`This update would buy a new ${a.noun}, but the stack's status could not be read (${ctx.status}), so it may be a rollback; nothing was bought. Deploy again`);
    }
    return { kind: 'buy' };
  }
  if (!live) {
    // A SUCCESS would tell CloudFormation that a purchase which is over serves these properties: it does not.
    const needs = why.length > 0 ? why.join(', ') : `duration ${formatHours(a.durationHours(request))}`;
    throw new UserError(`${a.describe(current)} is over, and this change needs a new ${a.noun} (${needs}); nothing was bought. Set allowRepurchase: true to buy one`);
  }
  throw a.refuse(current, needsOther(a, current, request, now), 0);
}

/**
 * What CloudFormation tracks is what it received. A forward Update's event says it: its
 * PhysicalResourceId was answered for its OldResourceProperties. The entry holding that id is marked
 * so (and as tracked); answers CloudFormation never received (a FAILED from isComplete) are never a
 * rollback target. Returns whether anything changed.
 */
export function confirmDelivered(entry: { answeredFor: string[]; released: boolean } | undefined, oldDigest: string): boolean {
  if (!entry || (entry.answeredFor.includes(oldDigest) && !entry.released)) return false;
  if (!entry.answeredFor.includes(oldDigest)) entry.answeredFor.push(oldDigest);
  entry.released = false;
  return true;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
