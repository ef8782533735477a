import { createHash } from 'crypto';
import { AliWireTag, LEDGER_TAG } from '../wire';
import { parametersOf, ResourceKeys } from './request';

/**
 * The resource's ledger, written in one tag (ECS: value ≤ 128 characters) on each reservation it
 * makes and read by id, which does not lag:
 * `g<generation>:<request>.<request>…[;l=<lifetime>][;p=<replaced id>][;f=<fingerprint>][;s=<fingerprint>][;a=<amount>]`.
 *
 * - generation: 0 for the Create's reservation, +1 per replacement; the newest live one is the one held.
 * - requests: the ROS requests that acted on it, newest last, each written BEFORE it acts (an intent).
 *   A delivery whose request is listed but not last is a late duplicate of an older request
 *   (FC retries async events for up to about an hour): it changes nothing.
 * - l: on a replacement, the lifetime: the id of its generation 0, which is the PhysicalResourceId
 *   of every request of the lifetime (generation 0 is named by its own id). A logical id can leave
 *   the template and come back; every request acts only on reservations of its own lifetime.
 * - p: the reservation this one replaced, held until the stack no longer needs it; f: the
 *   properties this one was made for. ROS's rollback of the update that made it (OldResourceProperties = f) goes back to p.
 * - s: the properties of the newest request (its ResourceProperties): a request that is not listed
 *   and whose OldResourceProperties differ is late, however many requests came since.
 * - a: the instanceAmount the newest request wants: a late request that acted anyway puts it back.
 */
export interface Ledger {
  readonly generation: number;
  readonly requests: string[];
  readonly lifetime?: string;
  readonly replaced?: string;
  readonly fingerprint?: string;
  readonly state?: string;
  readonly amount?: number;
}

/**
 * Requests kept: 4 of 9 characters each, with room for the other fields (two reservation ids among
 * them) within 128. An older request is still told late by `s` and by ROS GetStack.
 */
const KEPT_REQUESTS = 4;

export function requestMark(keys: ResourceKeys): string {
  return keys.request.slice(0, 8);
}

/** The properties a reservation was made for, as ROS delivers them (new ones of an update are old ones of its rollback). */
export function fingerprint(properties: unknown): string {
  const canonical = (v: unknown): unknown => (Array.isArray(v) ? v.map(canonical)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canonical(x)])) : String(v));
  return createHash('sha256').update(JSON.stringify(canonical(parametersOf(properties)))).digest('hex').slice(0, 8);
}

export function readLedger(tags: readonly AliWireTag[]): Ledger | undefined {
  const value = tags.find(t => t.Key === LEDGER_TAG)?.Value;
  const match = value && /^g(\d+):([0-9a-f.]*)((?:;[lpfsa]=[^;]+)*)$/.exec(value);
  if (!match) return undefined;
  const field = (name: string) => new RegExp(`;${name}=([^;]+)`).exec(match[3])?.[1];
  const amount = field('a');
  return {
    generation: Number(match[1]), requests: match[2].split('.').filter(Boolean), lifetime: field('l'), replaced: field('p'), fingerprint: field('f'),
    state: field('s'), amount: amount === undefined ? undefined : Number(amount),
  };
}

export function ledgerTag(ledger: Ledger): AliWireTag {
  const requests = ledger.requests.slice(-KEPT_REQUESTS).join('.');
  const fields: Array<[string, string | number | undefined]> = [['l', ledger.lifetime], ['p', ledger.replaced], ['f', ledger.fingerprint], ['s', ledger.state], ['a', ledger.amount]];
  const extra = fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `;${k}=${v}`).join('');
  return { Key: LEDGER_TAG, Value: `g${ledger.generation}:${requests}${extra}` };
}


/** The ledger with this request written last (unchanged if it is last already), and what it wants. */
export function withRequest(ledger: Ledger, mark: string, wants: { state?: string; amount?: number } = {}): Ledger {
  const requests = ledger.requests.at(-1) === mark ? ledger.requests : [...ledger.requests, mark];
  return { ...ledger, requests, state: wants.state ?? ledger.state, amount: wants.amount ?? ledger.amount };
}

/** A request the ledger lists before a newer one: a late duplicate, which must change nothing. */
export function isStale(ledger: Ledger | undefined, mark: string): boolean {
  return !!ledger && ledger.requests.includes(mark) && ledger.requests.at(-1) !== mark;
}
