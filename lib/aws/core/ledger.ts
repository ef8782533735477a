import { createHash } from 'crypto';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { claimsTable } from '../handler/claims';
import { log, oneLine, UserError } from '../handler/errors';

/**
 * The ledger of one resource (stack + logical id), for every product: what it intended to buy
 * (written before the cloud is asked), what became of it (written after), the properties
 * CloudFormation *received* each answer for, and whether CloudFormation let go of it. It lives in the
 * stack's claims table, beside Powertools' per-request claims, as one item per resource, written with
 * optimistic locking. A product keeps its own record shape in it (Capacity Blocks: purchases and
 * extensions by reservation id; training plans: plans by name).
 */

/** intent: the cloud may have been asked and its answer is not known; bought: the cloud answered 200 or a read found it; not-bought: the cloud refused, or a successful read showed nothing after the settle time. */
export type Outcome = 'intent' | 'bought' | 'not-bought';

/**
 * How long after its intent a purchase whose answer was lost may still be missing from EC2's tag
 * listings. EC2 shows tags given at purchase within seconds and lists new reservations within about a
 * minute; an intent older than this that no listing shows was not bought. Until then nothing is
 * bought again for the resource.
 */
export const INTENT_SETTLE_MS = 10 * 60_000;

/** How often a write that lost a race with another delivery is read and tried again. */
const MAX_WRITE_ATTEMPTS = 5;

/** The ledger of one resource, as last read or written; `change` writes through. */
export class Ledger<R extends object> {
  /** The resource's ledger, or undefined if it has none in this stack's table yet. */
  public static async read<R extends object>(owner: string): Promise<Ledger<R> | undefined> {
    const { table, client } = claimsTable();
    const item = (await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: keyOf(owner) } }, ConsistentRead: true }))).Item;
    if (!item) return undefined;
    return new Ledger<R>(owner, JSON.parse(item.record.S ?? '{}') as R, Number(item.version.N));
  }

  /** Starts the resource's ledger with `record`; if another delivery started it first, that one is returned. */
  public static async start<R extends object>(owner: string, record: R): Promise<Ledger<R>> {
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
