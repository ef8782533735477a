import { createHash } from 'crypto';
import { ownerTagValue } from '../wire';

/** The two keys every purchase is tagged with. */
export interface ResourceKeys {
  /** One CloudFormation request: its redeliveries share it (claim and idempotency tag). */
  readonly request: string;
  /** The resource across requests: stack name + logical id (see OWNER_TAG); its ledger's key. */
  readonly owner: string;
}

export function resourceKeys(ids: { StackId: string; LogicalResourceId: string; RequestId: string }): ResourceKeys {
  const request = createHash('sha256').update(`${ids.StackId}\n${ids.LogicalResourceId}\n${ids.RequestId}`).digest('hex').slice(0, 40);
  // arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID. The name, not the id: a stack whose first
  // creation failed after a purchase must be deleted and created again, with a new id, and must
  // still find the block it paid for.
  const stackName = /^arn:[^:]+:cloudformation:[^:]*:[^:]*:stack\/([^/]+)\//.exec(ids.StackId)?.[1] ?? ids.StackId;
  return { request, owner: ownerTagValue(stackName, ids.LogicalResourceId) };
}
