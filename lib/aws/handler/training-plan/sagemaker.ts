import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { guardCalls } from '../budget';
import { requestHandler, Retries, retryPolicy } from '../retries';

/** Options for every SageMaker call: a request timeout and the invocation's deadline (retries.ts). */
export { callOptions as sageMakerCallOptions, retryPolicy } from '../retries';

const defaultClient = () => new SageMakerClient({ maxAttempts: retryPolicy.maxAttempts });

/**
 * Searches, reads and tags: the SDK's standard retries are safe, as a repeated read or tag changes
 * nothing. The endpoint comes from the SDK's own resolution: AWS_ENDPOINT_URL_SAGEMAKER points it at
 * an emulator. The Lambda Node.js runtime ships @aws-sdk/client-sagemaker, so the bundle leaves it out.
 */
export const sageMaker = guardCalls(new SageMakerClient({ retryStrategy: new Retries(() => true, defaultClient), requestHandler }));

/**
 * CreateTrainingPlan and ExtendTrainingPlan take no client token (the model has none). A create is
 * keyed by the plan's name, which SageMaker never sells twice, but an extension is not keyed at all:
 * so the purchase client retries only throttling (SageMaker refused the call before doing anything)
 * and leaves every ambiguous failure to the handler, which reads what happened before it tries again.
 */
export const sageMakerPurchases = guardCalls(new SageMakerClient({ retryStrategy: new Retries(info => info.errorType === 'THROTTLING', defaultClient), requestHandler }));
