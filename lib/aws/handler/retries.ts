import type { HttpHandlerOptions, RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import { deadlineSignal, timeouts } from './budget';

/**
 * The SDK's own retries, with one seam: the local rehearsal runs on a simulated clock, so it turns
 * the backoff waits off (the retry decisions stay the SDK's). Shared by every client of a handler
 * bundle (EC2, SageMaker): each bundle has its own copy.
 */
export const retryPolicy = { waitBackoff: true, maxAttempts: 4 };

/** The backoff of the SDK's standard retry strategy, which it exposes to its ConfiguredRetryStrategy. */
type StandardStrategy = RetryStrategyV2 & { retryBackoffStrategy?: { computeNextBackoffDelay(attempt: number): number } };

/** A client of the service whose standard strategy the retries follow (the Lambda runtime's SDK). */
interface ClientWithRetries {
  readonly config: { retryStrategy(): Promise<unknown> };
}

/**
 * The SDK's own standard strategy (from a default client, so it is the Lambda runtime's SDK), with
 * the waits of its backoff switchable: the local rehearsal runs on a simulated clock.
 */
async function standardStrategy(defaultClient: () => ClientWithRetries): Promise<StandardStrategy> {
  const strategy = (await defaultClient().config.retryStrategy()) as StandardStrategy;
  const backoff = strategy.retryBackoffStrategy;
  if (backoff) {
    const computed = backoff.computeNextBackoffDelay.bind(backoff);
    backoff.computeNextBackoffDelay = (attempt: number) => (retryPolicy.waitBackoff ? computed(attempt) : 0);
  }
  return strategy;
}

/**
 * The SDK's standard retries, limited to the failures `retryable` accepts. Refusing a retry makes
 * the SDK's retry middleware rethrow the original error.
 */
export class Retries implements RetryStrategyV2 {
  private standard?: Promise<StandardStrategy>;

  /**
   * @param retryable which failures are retried at all
   * @param defaultClient a default client of the service (built with `maxAttempts: retryPolicy.maxAttempts`)
   */
  constructor(private readonly retryable: (info: RetryErrorInfo) => boolean, private readonly defaultClient: () => ClientWithRetries) {}

  public async acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    return (await this.strategy()).acquireInitialRetryToken(scope);
  }

  public async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    if (!this.retryable(info)) throw new Error('not retried');
    return (await this.strategy()).refreshRetryTokenForRetry(token as StandardRetryToken, info);
  }

  public recordSuccess(token: RetryToken): void {
    void this.strategy().then(s => s.recordSuccess(token as StandardRetryToken));
  }

  private strategy(): Promise<StandardStrategy> {
    return (this.standard ??= standardStrategy(this.defaultClient));
  }
}

/** Hung answers fail (the SDK only warns about a request timeout unless told to throw). */
export const requestHandler = { connectionTimeout: 3_000, requestTimeout: timeouts.ec2RequestMs, throwOnRequestTimeout: true };

/**
 * Options for every call: a request timeout (a hung answer fails instead of holding the Lambda until
 * its timeout) and the invocation's deadline, which aborts whatever is still in flight.
 */
export function callOptions(): HttpHandlerOptions {
  return { requestTimeout: timeouts.ec2RequestMs, abortSignal: deadlineSignal() as HttpHandlerOptions['abortSignal'] };
}
