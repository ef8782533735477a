import { log, oneLineText, UserError } from '../../shared/handler-log';

export { log, UserError } from '../../shared/handler-log';

interface AwsErrorLike {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function errorCode(error: unknown): string {
  const e = error as AwsErrorLike;
  return e?.Code ?? e?.name ?? 'Error';
}

const THROTTLING_CODES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']);

/**
 * True when EC2 answered and refused the request, so nothing happened. Anything else (5xx, a reset
 * connection, a timeout) leaves the outcome of a purchase unknown.
 */
export function isDefiniteRejection(error: unknown): boolean {
  const status = (error as AwsErrorLike)?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500 && !THROTTLING_CODES.has(errorCode(error));
}

export function isNotFound(error: unknown): boolean {
  return /NotFound|\.Malformed$/.test(errorCode(error));
}

/** One line, no stack, no URLs (a ResponseURL is a presigned S3 URL: a credential). */
export function oneLine(error: unknown): string {
  const e = error as AwsErrorLike;
  const text = error instanceof UserError ? e.message ?? '' : `${errorCode(error)}: ${e?.message ?? String(error)}`;
  return oneLineText(text);
}

/**
 * The error a handler throws for the Provider framework to answer FAILED with: its reason is what
 * CloudFormation shows, one line; the stack trace stays out of the logs too.
 */
export function failure(error: unknown): Error {
  const reason = oneLine(error);
  log('FAILED', { reason });
  const result = new Error(reason);
  result.stack = reason;
  return result;
}
