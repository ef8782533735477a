import { EC2Client } from '@aws-sdk/client-ec2';
import type { HttpHandlerOptions, RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import { deadlineSignal, guardCalls, timeouts } from './budget';

/**
 * The SDK's own retries, with one seam: the local rehearsal runs on a simulated clock, so it turns
 * the backoff waits off (the retry decisions stay the SDK's).
 */
export const retryPolicy = { waitBackoff: true, maxAttempts: 4 };

/** The backoff of the SDK's standard retry strategy, which it exposes to its ConfiguredRetryStrategy. */
type StandardStrategy = RetryStrategyV2 & { retryBackoffStrategy?: { computeNextBackoffDelay(attempt: number): number } };

/**
 * The SDK's own standard strategy (from a default client, so it is the Lambda runtime's SDK), with
 * the waits of its backoff switchable: the local rehearsal runs on a simulated clock.
 */
async function standardStrategy(): Promise<StandardStrategy> {
  const strategy = (await new EC2Client({ maxAttempts: retryPolicy.maxAttempts }).config.retryStrategy()) as StandardStrategy;
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
class Retries implements RetryStrategyV2 {
  private standard?: Promise<StandardStrategy>;

  constructor(private readonly retryable: (info: RetryErrorInfo) => boolean) {}

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
    return (this.standard ??= standardStrategy());
  }
}

/** Hung answers fail (the SDK only warns about a request timeout unless told to throw). */
const requestHandler = { connectionTimeout: 3_000, requestTimeout: timeouts.ec2RequestMs, throwOnRequestTimeout: true };

/**
 * Reads, tags and searches: the SDK's standard retries (throttling, 5xx, network) are safe, as a
 * repeated read or tag changes nothing. The endpoint comes from the SDK's own resolution, so
 * AWS_ENDPOINT_URL_EC2 points it at an emulator.
 */
export const ec2 = guardCalls(new EC2Client({ retryStrategy: new Retries(() => true), requestHandler }));

/**
 * Purchases have no client token: if a purchase reaches EC2 and the answer is lost, a retry buys a
 * second block. So the purchase client retries only throttling (EC2 refused the call before doing
 * anything), and leaves every ambiguous failure to our caller, which looks for the block before
 * trying again.
 */
export const ec2Purchases = guardCalls(new EC2Client({ retryStrategy: new Retries(info => info.errorType === 'THROTTLING'), requestHandler }));

/**
 * Options for every EC2 call: a request timeout (a hung answer fails instead of holding the Lambda
 * until its timeout) and the invocation's deadline, which aborts whatever is still in flight.
 */
export function ec2CallOptions(): HttpHandlerOptions {
  return { requestTimeout: timeouts.ec2RequestMs, abortSignal: deadlineSignal() as HttpHandlerOptions['abortSignal'] };
}
