import { createHash } from 'crypto';
import { AliWireTag, LEDGER_TAG } from '../wire';
import { parametersOf, ResourceKeys } from './request';

/**
 * The resource's ledger, written in one tag (ECS: value ≤ 128 characters) on each reservation it
 * makes and read by id, which does not lag: `g<generation>:<request>.<request>…[;p=<replaced id>][;f=<fingerprint>]`.
 *
 * - generation: 0 for the Create's reservation, +1 per replacement; the newest live one is the one held.
 * - requests: the ROS requests that acted on it, newest last, each written BEFORE it acts (an intent).
 *   A delivery whose request is listed but not last is a late duplicate of an older request
 *   (FC retries async events for up to about an hour): it changes nothing.
 * - p: the reservation this one replaced; f: the properties it was made for. ROS's rollback of the
 *   update that made it (OldResourceProperties = f) goes back to p if removalPolicy retain kept it.
 */
export interface Ledger {
  readonly generation: number;
  readonly requests: string[];
  readonly replaced?: string;
  readonly fingerprint?: string;
}

/** Requests kept: 8 of 9 characters each, with room for the id and fingerprint within 128. */
const KEPT_REQUESTS = 8;

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
  const match = value && /^g(\d+):([0-9a-f.]*)((?:;[pf]=[^;]+)*)$/.exec(value);
  if (!match) return undefined;
  const field = (name: string) => new RegExp(`;${name}=([^;]+)`).exec(match[3])?.[1];
  return { generation: Number(match[1]), requests: match[2].split('.').filter(Boolean), replaced: field('p'), fingerprint: field('f') };
}

export function ledgerTag(ledger: Ledger): AliWireTag {
  const requests = ledger.requests.slice(-KEPT_REQUESTS).join('.');
  const extra = `${ledger.replaced ? `;p=${ledger.replaced}` : ''}${ledger.fingerprint ? `;f=${ledger.fingerprint}` : ''}`;
  return { Key: LEDGER_TAG, Value: `g${ledger.generation}:${requests}${extra}` };
}

/** The ledger with this request written last (unchanged if it is last already). */
export function withRequest(ledger: Ledger, mark: string): Ledger {
  return ledger.requests.at(-1) === mark ? ledger : { ...ledger, requests: [...ledger.requests, mark] };
}

/** A request the ledger lists before a newer one: a late duplicate, which must change nothing. */
export function isStale(ledger: Ledger | undefined, mark: string): boolean {
  return !!ledger && ledger.requests.includes(mark) && ledger.requests.at(-1) !== mark;
}
