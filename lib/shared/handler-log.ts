/** Logging and failure reasons shared by both cloud handlers. */

/**
 * A failure the user can act on. Its message is the whole reason shown by CloudFormation or ROS:
 * one line, what failed, the value, how to fix it.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * One line, no URLs (a ResponseURL is presigned: a credential), bounded in length. Stack traces
 * never reach it: callers pass a message, not an error object.
 */
export function oneLineText(text: string): string {
  return text.replace(/https?:\/\/\S+/g, '<url>').replace(/\s+/g, ' ').trim().slice(0, 900);
}

/** Structured log line; callers pass only fields that are safe to keep in the function's logs. */
export function log(message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ message, ...fields }));
}
