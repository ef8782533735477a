import { EC2Client } from '@aws-sdk/client-ec2';
import { guardCalls } from './budget';
import { requestHandler, Retries, retryPolicy } from './retries';

/** Options for every EC2 call: a request timeout and the invocation's deadline (retries.ts). */
export { callOptions as ec2CallOptions, retryPolicy } from './retries';

const defaultClient = () => new EC2Client({ maxAttempts: retryPolicy.maxAttempts });

/**
 * Reads, tags and searches: the SDK's standard retries (throttling, 5xx, network) are safe, as a
 * repeated read or tag changes nothing. The endpoint comes from the SDK's own resolution, so
 * AWS_ENDPOINT_URL_EC2 points it at an emulator.
 */
export const ec2 = guardCalls(new EC2Client({ retryStrategy: new Retries(() => true, defaultClient), requestHandler }));

/**
 * Purchases have no client token: if a purchase reaches EC2 and the answer is lost, a retry buys a
 * second block. So the purchase client retries only throttling (EC2 refused the call before doing
 * anything), and leaves every ambiguous failure to our caller, which looks for the block before
 * trying again.
 */
export const ec2Purchases = guardCalls(new EC2Client({ retryStrategy: new Retries(info => info.errorType === 'THROTTLING', defaultClient), requestHandler }));

