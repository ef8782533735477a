import { Ledger as ResourceLedger, Outcome } from '../core/ledger';

export { INTENT_SETTLE_MS, Outcome, propertiesDigest, unsettledError } from '../core/ledger';

/** A Capacity Block resource's ledger (the core's Ledger with its record). */
export type Ledger = ResourceLedger<LedgerRecord>;
export const Ledger = ResourceLedger;

/**
 * The ledger of one resource (stack + logical id): every purchase and extension it ever made, written
 * before EC2 is asked (intent) and after it answered (outcome), with the properties CloudFormation was
 * answered for and whether CloudFormation has let go of it. Decisions (adopt, extend, roll back, buy)
 * read it first; EC2 is read by id to refresh states, and its tag listings only recover what a lost
 * answer or an earlier stack of the same name bought, never prove that nothing was bought.
 *
 * It lives in the stack's claims table, beside Powertools' per-request claims, as one item per
 * resource, written with optimistic locking. The table goes with the stack: a stack created again
 * under the same name starts a new ledger from the blocks EC2 lists with the resource's owner tag.
 */

export interface LedgerPurchase {
  /** The request that bought it: its idempotency tag on the block ('' when imported without one). */
  readonly requestKey: string;
  readonly offeringId: string;
  /** The fee as EC2 offered it, decimal text, and its currency. */
  readonly upfrontFee: string;
  readonly currencyCode: string;
  /** UltraServer purchases: "<type> x <count>". */
  readonly ultraserver?: string;
  /** Instances the offering held: a purchase whose listed reservations hold fewer is listed only in part yet. */
  readonly instanceCount?: number;
  outcome: Outcome;
  /** When the intent was written (ISO): how long EC2's lists may still lag behind the purchase. */
  readonly intentAt: string;
  /** The Capacity Block ids EC2 answered (or listed). */
  blockIds: string[];
  /** Its reservation ids, lowest first; empty while EC2 has not named them yet. */
  reservationIds: string[];
  /** Digests of the properties CloudFormation was answered with, with this purchase as physical id. */
  answeredFor: string[];
  /** CloudFormation sent Delete for it (cleanup, rollback, stack deletion): it no longer tracks it. */
  released: boolean;
  /** The physical id it was last answered as: its block id until EC2 named its reservations, then one of them. */
  trackedAs?: string;
}

export interface LedgerExtension {
  readonly requestKey: string;
  readonly reservationId: string;
  readonly offeringId: string;
  readonly upfrontFee: string;
  readonly currencyCode: string;
  readonly hours: number;
  outcome: Outcome;
  readonly intentAt: string;
}

export interface LedgerRecord {
  purchases: LedgerPurchase[];
  extensions: LedgerExtension[];
}

/** Whether `id` names the purchase: one of its reservations, or one of its blocks (a physical id is one of them). */
export function isIdOf(purchase: LedgerPurchase, id: string | undefined): boolean {
  return id !== undefined && (purchase.reservationIds.includes(id) || purchase.blockIds.includes(id));
}

/** The purchase whose reservations or blocks include `id`. */
export function purchaseHolding(record: Readonly<LedgerRecord>, id: string | undefined): LedgerPurchase | undefined {
  return record.purchases.find(p => isIdOf(p, id));
}

/** The physical id a purchase is tracked by: its lowest reservation, or its block until EC2 names them. */
export function physicalIdOf(purchase: LedgerPurchase): string {
  return purchase.reservationIds[0] ?? purchase.blockIds[0] ?? '';
}

/**
 * Whether CloudFormation's Delete of `id` lets go of `purchase`. A purchase is tracked by one id at a
 * time, but CloudFormation may delete an earlier one of the same purchase after moving on: the block
 * id it was tracked as until EC2 named the reservations.
 */
export function deleteReleases(purchase: LedgerPurchase, id: string): boolean {
  const tracked = purchase.trackedAs ?? id;
  return tracked === id || (tracked.startsWith('cb-') && id.startsWith('cr-'));
}

