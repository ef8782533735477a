import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CLAIMS_TABLE_ENV } from '../wire';
import { guardCalls, LambdaContextLike, sleep, timeouts, withBudget } from './budget';
import { log, oneLine, UserError } from './errors';

/** Tunables, exported so tests can shorten the waits. */
export const claimPolicy = {
  /** How often a duplicate delivery looks whether the first one has finished. */
  pollMs: 2_000,
  /**
   * How long the outcome of a request is kept. Lambda retries an asynchronous event for up to 6
   * hours; CloudFormation never sends a request id again after answering it.
   */
  keepSeconds: 24 * 3600,
};

/** Every outcome is stored, failures included: a duplicate of a failed request must fail the same way, never buy. */
type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

// Created on first use: the table name and the endpoint (AWS_ENDPOINT_URL_DYNAMODB) come from the environment.
let store: { table: string; client: DynamoDBClient; layer: DynamoDBPersistenceLayer } | undefined;

/**
 * The stack's claims table: Powertools' request claims, and the ledger of each resource (ledger.ts).
 * Nothing is bought without it.
 */
export function claimsTable(): { table: string; client: DynamoDBClient; layer: DynamoDBPersistenceLayer } {
  const table = process.env[CLAIMS_TABLE_ENV];
  if (!table) throw new UserError(`${CLAIMS_TABLE_ENV} is not set, so no purchase claim can be taken and nothing is bought; deploy the provider from this library`);
  if (store?.table !== table) {
    store?.client.destroy();
    const client = guardCalls(new DynamoDBClient({ maxAttempts: 4, requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true } }));
    store = { table, client, layer: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: client }) };
  }
  return store;
}

/**
 * Runs `work` under an atomic claim on `key` (Powertools idempotency, a conditional write in the
 * stack's DynamoDB table) and returns its outcome, which is stored:
 * - the first delivery of a request runs `work` within its time budget;
 * - a concurrent duplicate waits for that outcome (within its own Lambda time) and returns it: the
 *   same block, or the same failure; it never races the first one to CloudFormation with a FAILED;
 * - a delivery after the first finished returns the stored outcome without calling EC2;
 * - a claim left in progress by an invocation that crashed or timed out expires at that
 *   invocation's Lambda deadline; the next delivery takes it over and runs `work`, which looks for
 *   the block by its tags before it may buy.
 */
export async function underClaim<T>(key: string, context: LambdaContextLike, work: () => Promise<T>): Promise<T> {
  if (process.env.POWERTOOLS_IDEMPOTENCY_DISABLED) {
    throw new UserError('POWERTOOLS_IDEMPOTENCY_DISABLED is set, which would turn off the purchase claim; nothing is bought while it is set. Remove it from the function\'s environment');
  }
  const layer = claimsTable().layer;
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'key', throwOnNoIdempotencyKey: true, expiresAfterSeconds: claimPolicy.keepSeconds });
  config.registerLambdaContext(context as never);
  let finished: Outcome<T> | undefined;
  const claimed = makeIdempotent(async (_claim: { key: string }): Promise<Outcome<T>> => {
    finished = await settle(() => withBudget(context, timeouts.onEventMarginMs, work));
    return finished;
  }, { persistenceStore: layer, config, keyPrefix: 'capacity-block-request' });

  for (;;) {
    let outcome: Outcome<T>;
    try {
      outcome = await claimed({ key });
    } catch (error) {
      if (finished) {
        // The work ran; only storing its outcome failed. Its answer stands: a later delivery finds the
        // claim in progress until it expires, then takes it over and finds the block by its tags.
        log('could not store the outcome of this request; answering anyway', { error: oneLine(error) });
        outcome = finished;
      } else if ((error as Error)?.name === 'IdempotencyAlreadyInProgressError') {
        const left = context.getRemainingTimeInMillis() - timeouts.onEventMarginMs;
        if (left <= claimPolicy.pollMs) {
          throw new UserError('Another delivery of this CloudFormation request is still running and holds its purchase claim; this delivery bought nothing and leaves the answer to it');
        }
        log('another delivery holds the claim; waiting');
        await sleep(claimPolicy.pollMs);
        continue;
      } else {
        throw new UserError(`Could not take the purchase claim in DynamoDB table ${process.env[CLAIMS_TABLE_ENV]} (${oneLine(error)}); nothing was bought. Check that the provider's onEvent role may read and write that table, then deploy again`);
      }
    }
    return unwrap(outcome);
  }
}

async function settle<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, reason: oneLine(error) };
  }
}

function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new UserError(outcome.reason);
}
