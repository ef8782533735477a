import { createHash } from 'crypto';

/**
 * Keys that tie reservations to the resource (stable) and to one request (redeliveries share it).
 * Outside handler/ (which the package leaves out) because the local ROS engine model needs them too.
 */
export interface ResourceKeys {
  readonly resource: string;
  readonly request: string;
}

export function resourceKeys(e: { StackId: string; LogicalResourceId: string; RequestId: string }): ResourceKeys {
  const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
  return {
    resource: hash(`${e.StackId}\n${e.LogicalResourceId}`),
    request: hash(`${e.StackId}\n${e.LogicalResourceId}\n${e.RequestId}`),
  };
}

