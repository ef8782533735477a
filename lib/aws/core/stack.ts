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
    log('could not read the stack\'s status; deciding from the ledger, and buying nothing', { error: oneLine(error) });
    return { operation: 'unknown', status: `DescribeStacks failed: ${oneLine(error)}` };
  }
}

export function operationOf(status: string): StackOperation {
  if (status === 'UPDATE_ROLLBACK_IN_PROGRESS' || status === 'ROLLBACK_IN_PROGRESS') return 'rollback';
  if (status === 'UPDATE_IN_PROGRESS' || status === 'CREATE_IN_PROGRESS') return 'forward';
  return 'unknown';
}
