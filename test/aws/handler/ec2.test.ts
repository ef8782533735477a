import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { RetryOnlyThrottling } from '../../../lib/aws/handler/ec2';

/** A standard strategy stand-in that would retry anything. */
function standard(): RetryStrategyV2 {
  const token = { getRetryCount: () => 1, getRetryDelay: () => 0 } as RetryToken;
  return {
    acquireInitialRetryToken: async () => token,
    refreshRetryTokenForRetry: async () => token,
    recordSuccess: () => undefined,
  };
}

describe('the purchase client retries only what EC2 refused before acting', () => {
  const info = (errorType: RetryErrorInfo['errorType']) => ({ errorType }) as RetryErrorInfo;

  test('throttling is retried with the standard backoff', async () => {
    const strategy = new RetryOnlyThrottling(async () => standard());
    const token = await strategy.acquireInitialRetryToken('');
    await expect(strategy.refreshRetryTokenForRetry(token, info('THROTTLING'))).resolves.toBe(token);
  });

  test.each(['SERVER_ERROR', 'TRANSIENT', 'CLIENT_ERROR'] as const)('%s is not retried: the purchase may have happened', async type => {
    const strategy = new RetryOnlyThrottling(async () => standard());
    const token = await strategy.acquireInitialRetryToken('');
    await expect(strategy.refreshRetryTokenForRetry(token, info(type))).rejects.toThrow(/not retried/);
  });
});
