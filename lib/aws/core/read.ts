import { clock } from '../handler/budget';
import { oneLine, UserError } from '../handler/errors';
import { INTENT_SETTLE_MS } from './ledger';

/**
 * What a read of the cloud told: three answers, never two. `absent` is a successful read that shows
 * nothing; `could-not-read` (throttled, 5xx, timed out) proves nothing either way. Throttling comes in
 * bursts that outlast the SDK's retries, so a failed read must never pass for an empty one.
 */
export type ReadResult<T> =
  | { readonly kind: 'found'; readonly value: T }
  | { readonly kind: 'absent' }
  | { readonly kind: 'could-not-read'; readonly error: string };

/** Runs a read: a value is `found`, undefined (or an empty list) `absent`, a thrown error `could-not-read`. */
export async function read<T>(work: () => Promise<T | undefined>): Promise<ReadResult<T>> {
  try {
    const value = await work();
    return value === undefined || (Array.isArray(value) && value.length === 0) ? { kind: 'absent' } : { kind: 'found', value };
  } catch (error) {
    return { kind: 'could-not-read', error: oneLine(error) };
  }
}

/** What became of an intent whose answer never came, as one read tells it. */
export type IntentFate<T> = { readonly kind: 'bought'; readonly found: T } | { readonly kind: 'not-bought' } | { readonly kind: 'open' };

/**
 * The settle rule: found is bought; only `absent` after the settle time is not bought (the cloud's
 * lists may lag a new purchase until then); `could-not-read` fails the step, naming the intent, and
 * buys nothing.
 */
export function settleIntent<T>(result: ReadResult<T>, intent: { readonly intentAt: string; readonly what: string }): IntentFate<T> {
  if (result.kind === 'found') return { kind: 'bought', found: result.value };
  if (result.kind === 'could-not-read') throw couldNotRead(intent.what, intent.intentAt, result.error);
  return Date.parse(intent.intentAt) + INTENT_SETTLE_MS <= clock.now().getTime() ? { kind: 'not-bought' } : { kind: 'open' };
}

/** The failure of a step whose read could not tell whether an intent was bought: it names the intent, and buys nothing. */
export function couldNotRead(what: string, intentAt: string, error: string): UserError {
  return new UserError(`${what} (intended ${intentAt}) could not be read (${error}), so whether it was bought cannot be told; nothing more was bought. Deploy again: the next deployment reads it again before anything is bought`);
}
