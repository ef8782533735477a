import { EC2Client } from '@aws-sdk/client-ec2';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';

/**
 * Reads, tags and searches: the SDK's standard retries (throttling, 5xx, network) are safe, as a
 * repeated read or tag changes nothing. The endpoint comes from the SDK's own resolution, so
 * AWS_ENDPOINT_URL_EC2 points it at an emulator.
 */
export const ec2 = new EC2Client({});

/**
 * Purchases have no client token: if a purchase reaches EC2 and the answer is lost, a retry buys a
 * second block. So the purchase client retries only throttling (EC2 refused the call before doing
 * anything), with the SDK's own backoff, and leaves every ambiguous failure to our caller, which
 * looks for the block before trying again.
 */
export class RetryOnlyThrottling implements RetryStrategyV2 {
  private inner?: RetryStrategyV2;

  constructor(private readonly standard: () => Promise<RetryStrategyV2>) {}

  public async acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    this.inner ??= await this.standard();
    return this.inner.acquireInitialRetryToken(scope);
  }

  public async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    if (info.errorType !== 'THROTTLING' || !this.inner) {
      // The SDK's retry middleware rethrows the original error when the strategy refuses.
      throw new Error('not retried: the purchase may have happened');
    }
    return this.inner.refreshRetryTokenForRetry(token as StandardRetryToken, info);
  }

  public recordSuccess(token: RetryToken): void {
    this.inner?.recordSuccess(token as StandardRetryToken);
  }
}

export const ec2Purchases = new EC2Client({
  retryStrategy: new RetryOnlyThrottling(async () => (await ec2.config.retryStrategy()) as RetryStrategyV2),
});
