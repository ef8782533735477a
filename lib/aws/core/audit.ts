import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { guardCalls } from '../handler/budget';
import { AUDIT_EVENT_SOURCE } from '../wire';
import { log, oneLine } from '../handler/errors';
import { callOptions, requestHandler, Retries, retryPolicy } from '../handler/retries';

/**
 * The audit trail of money: one EventBridge event on the account's default bus each time a purchase
 * moves money (a Capacity Block, an extension, a training plan, a future-dated reservation's
 * commitment), so that finance or a chat channel can subscribe with a rule on `source`.
 *
 * Sent once the purchase is known to be bought (the cloud's 200, or a read that found a purchase
 * whose answer was lost), after its ledger entry: a purchase is never made to wait or fail for its
 * audit event. A PutEvents that fails is logged with everything the event would have said (CloudTrail
 * keeps the authoritative record of the purchase call itself).
 */
export { AUDIT_EVENT_SOURCE };

/** What moved money, as the event's detail-type. */
export type MoneyMove =
  | 'Capacity Block Purchased'
  | 'Capacity Block Extended'
  | 'Training Plan Purchased'
  | 'Training Plan Extended'
  | 'Future Capacity Reservation Requested';

export const MONEY_MOVES: readonly MoneyMove[] = [
  'Capacity Block Purchased', 'Capacity Block Extended', 'Training Plan Purchased', 'Training Plan Extended', 'Future Capacity Reservation Requested',
];

/** The event's detail: what a finance team needs to match it with the bill. */
export interface MoneyMoveDetail {
  /** 'capacity-block' | 'training-plan' | 'future-capacity-reservation' */
  readonly product: string;
  /** Capacity Reservation ids, a Capacity Block id, a training plan ARN: whatever names what was bought. */
  readonly ids: readonly string[];
  readonly offeringId?: string;
  /** Exact decimal text, as the cloud wrote it (an up-front fee, or a commitment's cost). */
  readonly fee: string;
  readonly currency: string;
  /** ISO 8601 instants, where known. */
  readonly start?: string;
  readonly end?: string;
  /** The stack's name and the resource's logical id: whose purchase it is. */
  readonly stack: string;
  readonly logicalId: string;
  /** How the purchase became known: its own answer, or a read after a lost answer. */
  readonly learnedFrom: 'answer' | 'read-after-lost-answer';
}

let client: EventBridgeClient | undefined;
const defaultClient = () => new EventBridgeClient({ maxAttempts: retryPolicy.maxAttempts });

/** The stack and logical id of a ledger owner ("<stack name>/<logical id>": a stack name has no '/'). */
export function ownerOf(owner: string): { stack: string; logicalId: string } {
  const slash = owner.indexOf('/');
  return { stack: owner.slice(0, slash), logicalId: owner.slice(slash + 1) };
}

/** Publishes one money event on the default bus; never throws. */
export async function announceMoneyMove(detailType: MoneyMove, detail: MoneyMoveDetail): Promise<void> {
  client ??= guardCalls(new EventBridgeClient({ retryStrategy: new Retries(() => true, defaultClient), requestHandler }));
  try {
    const answer = await client.send(new PutEventsCommand({
      Entries: [{ Source: AUDIT_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), Resources: detail.ids.filter(id => id.startsWith('arn:')) }],
    }), callOptions());
    if ((answer.FailedEntryCount ?? 0) > 0) throw new Error(`${answer.Entries?.[0]?.ErrorCode ?? 'PutEvents'}: ${answer.Entries?.[0]?.ErrorMessage ?? 'entry refused'}`);
    log(`announced: ${detailType}`, { ids: detail.ids });
  } catch (error) {
    log(`could not publish the audit event ${detailType}; the purchase stands`, { error: oneLine(error), detail });
  }
}
