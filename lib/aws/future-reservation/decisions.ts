/**
 * What a future-dated Capacity Reservation's handler does on Delete and on Update, decided from EC2's
 * documented rules and the stack's own status, never from a guess. Pure: the handler reads the state,
 * the stack status and (when it must) a cancellation quote, and carries out what these say.
 *
 * Money rules:
 * - cancelling is free while EC2 assesses the request, while it is delayed (commitment waived), and
 *   after the commitment; it is free, so a Delete does it;
 * - while scheduled or inside the commitment, cancelling costs what a quote says (hours × committed
 *   count × the On-Demand rate): only a forward delete (stack deletion, replacement cleanup) pays it,
 *   and only within `maxCancellationCharge`; a rollback never pays, and neither does a Delete whose
 *   stack status could not be read;
 * - what is kept is said in one line: its id, why, what it costs to keep, how to cancel it by hand.
 */

/**
 * What CloudFormation is doing when it sends a Delete, from the stack's status (DescribeStacks on the
 * event's own stack): deleting the stack or cleaning up after a forward update ('forward'), undoing a
 * create or an update ('rollback'), or unknown (the read failed or shows neither). The names follow the
 * lifecycle core's StackOperation.
 */
export type StackOperationKind = 'forward' | 'rollback' | 'unknown';

export function deleteOperationOf(stackStatus: string): StackOperationKind {
  if (['DELETE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'].includes(stackStatus)) return 'forward';
  if (['ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'].includes(stackStatus)) return 'rollback';
  return 'unknown';
}

/** States EC2 gives a future-dated reservation (the model's CapacityReservationState, those that apply). */
export type FutureReservationState =
  | 'assessing' | 'scheduled' | 'active' | 'delayed' | 'unsupported' | 'failed' | 'cancelling' | 'cancelled' | 'expired';

/** Over, or never going to bill: nothing to cancel. */
const ENDED: readonly string[] = ['unsupported', 'failed', 'cancelling', 'cancelled', 'expired'];

export interface DeleteFacts {
  readonly reservationId: string;
  readonly state: string;
  /** Scheduled, or active before the commitment ends: cancelling costs a quoted charge. */
  readonly insideCommitment: boolean;
  /** What the stack is doing, from DescribeStacks on the event's own stack. */
  readonly operation: StackOperationKind;
  /** The user's ceiling for a cancellation charge, as plain decimal text; undefined: never pay one. */
  readonly maxCancellationCharge?: string;
  readonly commitmentEnd?: Date;
}

export type DeleteDecision =
  /** Nothing to cancel: it is over, or never billed. */
  | { readonly action: 'none'; readonly note: string }
  /** Cancel now, free of charge. */
  | { readonly action: 'cancel-free' }
  /** Ask EC2 for a cancellation quote, then `decideOnQuote`. */
  | { readonly action: 'quote' }
  /** Keep it: cancelling would cost a charge this Delete may not pay. */
  | { readonly action: 'keep'; readonly note: string };

export function decideDelete(f: DeleteFacts): DeleteDecision {
  if (ENDED.includes(f.state)) return { action: 'none', note: `${f.reservationId} is ${f.state}: nothing to cancel` };
  if (!f.insideCommitment) return { action: 'cancel-free' };
  const until = f.commitmentEnd ? ` until ${f.commitmentEnd.toISOString()}` : '';
  const byHand = handCancellation(f.reservationId);
  if (f.operation === 'rollback') {
    return { action: 'keep', note: `Kept ${f.reservationId} (${f.state}, inside its commitment${until}): a rollback never pays a cancellation charge. ${byHand}` };
  }
  if (f.operation === 'unknown') {
    return { action: 'keep', note: `Kept ${f.reservationId} (${f.state}, inside its commitment${until}): the stack's status could not be read, so this Delete cannot be told from a rollback's and pays no cancellation charge. ${byHand}` };
  }
  if (f.maxCancellationCharge === undefined) {
    return { action: 'keep', note: `Kept ${f.reservationId} (${f.state}, inside its commitment${until}): cancelling costs a charge and maxCancellationCharge is not set. ${byHand}` };
  }
  return { action: 'quote' };
}

/** After a quote: cancel within the ceiling (equal is within), keep above it, naming both amounts. */
export function decideOnQuote(reservationId: string, quoteId: string, charge: { readonly text: string; readonly withinCeiling: boolean }, ceiling: string, currency: string):
  { readonly action: 'cancel-with-quote'; readonly quoteId: string } | { readonly action: 'keep'; readonly note: string } {
  if (charge.withinCeiling) return { action: 'cancel-with-quote', quoteId };
  return {
    action: 'keep',
    note: `Kept ${reservationId}: cancelling costs ${charge.text} ${currency} (quote ${quoteId}, valid 24 hours), above maxCancellationCharge ${ceiling} ${currency}. ${handCancellation(reservationId)}`,
  };
}

export interface UpdateFacts {
  /** The properties that changed, by wire name. */
  readonly changed: readonly string[];
  readonly state: string;
  readonly allowRepurchase: boolean;
}

/** Properties an Update may change in place: ceilings and tags never touch the reservation; a start may move later. */
const IN_PLACE = ['Tags', 'MaxCommittedCost', 'MaxCancellationCharge', 'MaxDateChangeCharge', 'CurrencyCode'];

export type UpdateDecision =
  | { readonly action: 'in-place'; readonly retag: boolean; readonly moveStart: boolean }
  | { readonly action: 'replace' }
  | { readonly action: 'refuse'; readonly message: string };

/**
 * In place: tags, ceilings and a later start (before delivery, checked against the 30-day rule by the
 * caller). Anything else (type, count, zone, platform, tenancy, commitment, end) needs a new request,
 * only with allowRepurchase, and never on a reservation EC2 is still assessing for this one's rollback.
 */
export function decideUpdate(f: UpdateFacts): UpdateDecision {
  const other = f.changed.filter(k => !IN_PLACE.includes(k) && k !== 'StartDate');
  const moveStart = f.changed.includes('StartDate');
  if (other.length === 0) {
    if (moveStart && !['assessing', 'scheduled'].includes(f.state)) {
      return { action: 'refuse', message: `startDate cannot change once the reservation is ${f.state} (EC2 moves a start only before delivery); revert startDate, or set allowRepurchase to request a new reservation` };
    }
    return { action: 'in-place', retag: f.changed.includes('Tags'), moveStart };
  }
  if (f.allowRepurchase) return { action: 'replace' };
  return {
    action: 'refuse',
    message: `${other.map(wireToProp).join(', ')} cannot change on a requested future-dated Capacity Reservation (EC2 changes only tags, and the start before delivery); revert ${other.length > 1 ? 'them' : 'it'}, or set allowRepurchase to request a new one (the current one is then cancelled if free, or kept within maxCancellationCharge's rules)`,
  };
}

function handCancellation(id: string): string {
  return `To cancel it by hand: aws ec2 create-capacity-reservation-cancellation-quote --capacity-reservation-id ${id}, then aws ec2 cancel-capacity-reservation --capacity-reservation-id ${id} --quote-id <quote id> --apply-cancellation-charges commitment-wind-down`;
}

function wireToProp(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}
