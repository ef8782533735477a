import { createHash } from 'crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { claimsTable } from './claims';
import { log, oneLine, UserError } from './errors';

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

/** intent: EC2 may have been asked and its answer is not known; bought: EC2 answered 200 or the purchase was found; not-bought: EC2 refused. */
export type Outcome = 'intent' | 'bought' | 'not-bought';

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

/**
 * How long after its intent a purchase whose answer was lost may still be missing from EC2's tag
 * listings. EC2 shows tags given at purchase within seconds and lists new reservations within about a
 * minute; an intent older than this that no listing shows was not bought. Until then nothing is
 * bought again for the resource.
 */
export const INTENT_SETTLE_MS = 10 * 60_000;

/** How often a write that lost a race with another delivery is read and tried again. */
const MAX_WRITE_ATTEMPTS = 5;

/**
 * The ledger of one resource, as last read or written; `change` writes through. The record is a
 * Capacity Block resource's by default; another purchase type (training plans) keeps its own record
 * shape in the same kind of item.
 */
export class Ledger<R extends object = LedgerRecord> {
  /** The resource's ledger, or undefined if it has none in this stack's table yet. */
  public static async read<R extends object = LedgerRecord>(owner: string): Promise<Ledger<R> | undefined> {
    const { table, client } = claimsTable();
    const item = (await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: keyOf(owner) } }, ConsistentRead: true }))).Item;
    if (!item) return undefined;
    return new Ledger<R>(owner, JSON.parse(item.record.S ?? '{}') as R, Number(item.version.N));
  }

  /** Starts the resource's ledger with `record`; if another delivery started it first, that one is returned. */
  public static async start<R extends object = LedgerRecord>(owner: string, record: R): Promise<Ledger<R>> {
    const ledger = new Ledger<R>(owner, record, 0);
    try {
      await ledger.write();
      return ledger;
    } catch (error) {
      if (!isConflict(error)) throw ledgerError(error);
      return (await Ledger.read<R>(owner))!;
    }
  }

  private constructor(public readonly owner: string, private current: R, private version: number) {}

  public get record(): Readonly<R> {
    return this.current;
  }

  /**
   * Applies `edit` and writes the ledger. If another delivery wrote it meanwhile, reads it again and
   * applies `edit` to that: edits must say what to set, not how to get there from what was read.
   */
  public async change(edit: (record: R) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const next = clone(this.current);
      edit(next);
      const previous = { record: this.current, version: this.version };
      this.current = next;
      try {
        await this.write();
        return;
      } catch (error) {
        Object.assign(this, { current: previous.record, version: previous.version });
        if (!isConflict(error) || attempt >= MAX_WRITE_ATTEMPTS) throw ledgerError(error);
        const fresh = await Ledger.read<R>(this.owner);
        if (fresh) Object.assign(this, { current: fresh.current, version: fresh.version });
      }
    }
  }

  /**
   * `change` for what EC2 has already done (a purchase answered, an answer given): the answer must not
   * fail for the ledger, so a failed write is logged, and the next event reads EC2 again.
   */
  public async remember(edit: (record: R) => void): Promise<void> {
    await this.change(edit).catch(error => log('could not write the ledger; the next event reads EC2 again', { error: oneLine(error) }));
  }

  private async write(): Promise<void> {
    const { table, client } = claimsTable();
    await client.send(new PutItemCommand({
      TableName: table,
      Item: { id: { S: keyOf(this.owner) }, record: { S: JSON.stringify(this.current) }, version: { N: String(this.version + 1) } },
      ...(this.version === 0
        ? { ConditionExpression: 'attribute_not_exists(id)' }
        : { ConditionExpression: 'version = :seen', ExpressionAttributeValues: { ':seen': { N: String(this.version) } } }),
    }));
    this.version++;
  }
}

/**
 * An intent whose answer never came blocks what it was about until it settles: `what` may have gone
 * through, and `service` (EC2 unless named) does not show it yet. The message says when deploying
 * again decides it, and how.
 */
export function unsettledError(what: string, intentAt: string, then: string, service = 'EC2'): UserError {
  const settles = new Date(Date.parse(intentAt) + INTENT_SETTLE_MS).toISOString();
  return new UserError(`${what} may have gone through: its answer never came and ${service} does not show it yet, so nothing more was bought. Deploy again after ${settles}: ${then}`);
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

/** The properties CloudFormation sent, as the ledger remembers them (the ServiceToken is not the resource's). */
export function propertiesDigest(properties: object | undefined): string {
  const { ServiceToken: _token, ...rest } = (properties ?? {}) as Record<string, unknown>;
  return createHash('sha256').update(canonical(rest)).digest('hex').slice(0, 32);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map(k => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function keyOf(owner: string): string {
  return `ledger#${owner}`;
}

function clone<R>(record: R): R {
  return JSON.parse(JSON.stringify(record)) as R;
}

function isConflict(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}

function ledgerError(error: unknown): UserError {
  log('could not write the resource\'s ledger', { error: oneLine(error) });
  return new UserError(`Could not write this resource's ledger in DynamoDB table ${claimsTable().table} (${oneLine(error)}); check that the provider's onEvent role may read and write that table, then deploy again`);
}
