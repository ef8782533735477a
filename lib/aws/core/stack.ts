import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { guardCalls } from '../handler/budget';
import { log, oneLine } from '../handler/errors';
import { callOptions, requestHandler, Retries, retryPolicy } from '../handler/retries';

/**
 * What CloudFormation is doing to the stack an Update came from: rolling back, or going forward.
 * 'unknown' when DescribeStacks could not be read or shows neither: the caller falls back to what the
 * ledger infers, and then never buys.
 */
export type StackOperation = 'rollback' | 'forward' | 'unknown';

const defaultClient = () => new CloudFormationClient({ maxAttempts: retryPolicy.maxAttempts });
let client: CloudFormationClient | undefined;

/** Asks CloudFormation for the event's OWN stack (its StackId: the role may describe that stack only). */
export async function stackOperation(stackId: string): Promise<{ operation: StackOperation; status: string }> {
  client ??= guardCalls(new CloudFormationClient({ retryStrategy: new Retries(() => true, defaultClient), requestHandler }));
  try {
    const stack = (await client.send(new DescribeStacksCommand({ StackName: stackId }), callOptions())).Stacks?.[0];
    const status = stack?.StackStatus ?? 'unknown';
    return { operation: operationOf(status), status };
  } catch (error) {
    log('DescribeStacks failed; buying nothing', { error: oneLine(error) });
    return { operation: 'unknown', status: `DescribeStacks failed: ${oneLine(error)}` };
  }
}

export function operationOf(status: string): StackOperation {
  if (status === 'UPDATE_ROLLBACK_IN_PROGRESS' || status === 'ROLLBACK_IN_PROGRESS') return 'rollback';
  if (status === 'UPDATE_IN_PROGRESS' || status === 'CREATE_IN_PROGRESS') return 'forward';
  return 'unknown';
}

/** What CloudFormation said, as the update rules need it. */
export interface StackRead {
  readonly operation: StackOperation;
  readonly status: string;
}

/**
 * Runs an Update under the stack's own status. Rollbacks always land: whatever goes wrong in a
 * rollback, `landed` answers SUCCESS on what CloudFormation tracks, with a note naming why.
 */
export async function underStackStatus<T>(stackId: string, physicalId: string, decide: (stack: StackRead) => Promise<T>, landed: (error: string) => Promise<T>): Promise<T> {
  const stack = await stackOperation(stackId);
  if (stack.operation === 'forward') return decide(stack);
  try {
    return await decide(stack);
  } catch (error) {
    // Unreadable before deciding: ask again before failing, as a FAILED rollback wedges the stack (throttling comes in bursts).
    if (stack.operation === 'unknown' && (await stackOperation(stackId)).operation !== 'rollback') throw error;
    log('rollback lands as it is', { physicalResourceId: physicalId, error: oneLine(error) });
    return landed(oneLine(error));
  }
}

/** Only a forward update, as CloudFormation tells it, may buy. */
export function buyingAllowed(stack: StackRead): { mayBuy: boolean; why?: string } {
  if (stack.operation === 'forward') return { mayBuy: true };
  return { mayBuy: false, why: stack.operation === 'rollback' ? 'a rollback never does' : `needs the stack's status, which could not be read (${stack.status})` };
}
