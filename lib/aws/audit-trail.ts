import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { AUDIT_EVENT_SOURCE } from './wire';

/**
 * The audit trail of money. Each time a purchase of this library moves money (a Capacity Block, an
 * extension, a training plan), its handler puts one event on the account's default event bus:
 * `source` `cdk-capacity-reservations`, `detail-type` one of `DETAIL_TYPES`, and a detail with the
 * product, the ids bought, the offering, the fee and its currency (exact decimal text), the start and
 * end, the stack and the logical id, and whether the purchase's own answer or a later read (after a
 * lost answer) told of it. A purchase never waits or fails for its event; in the rare case that the
 * ledger could not record the purchase, the next deployment's read announces it again, so subscribers
 * should treat `detail.ids` as the key.
 */
export class CapacityAuditTrail {
  /** The `source` of every event. */
  public static readonly EVENT_SOURCE = AUDIT_EVENT_SOURCE;

  /** The `detail-type`s the handlers send. */
  public static readonly DETAIL_TYPES: string[] = [
    'Capacity Block Purchased', 'Capacity Block Extended', 'Training Plan Purchased', 'Training Plan Extended',
  ];

  /**
   * An EventBridge rule on the default bus for every money event of this account and region (the
   * purchases of every stack), e.g. to an SNS topic for finance or a chat channel.
   */
  public static onMoneyMoved(scope: Construct, id: string, options: events.OnEventOptions = {}): events.Rule {
    const rule = new events.Rule(scope, id, {
      description: options.description ?? 'Purchases of cdk-capacity-reservations that moved money',
      ruleName: options.ruleName,
      crossStackScope: options.crossStackScope,
      eventPattern: { source: [CapacityAuditTrail.EVENT_SOURCE], detailType: CapacityAuditTrail.DETAIL_TYPES },
    });
    if (options.eventPattern) rule.addEventPattern(options.eventPattern);
    if (options.target) rule.addTarget(options.target);
    return rule;
  }

  private constructor() {}
}
