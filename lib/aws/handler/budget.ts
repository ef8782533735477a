import { AsyncLocalStorage } from 'async_hooks';
import { IS_COMPLETE_TIMEOUT_SECONDS, ON_EVENT_TIMEOUT_SECONDS, PROVIDER_TOTAL_TIMEOUT_SECONDS, QUERY_INTERVAL_SECONDS, SERVICE_TIMEOUT_SECONDS } from '../wire';

/** What Lambda passes as the second argument; only the clock of the invocation is used. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

/**
 * Time budgets, exported so the local rehearsal can shrink them together with its simulated Lambda
 * timeouts. A handler that outlives its Lambda timeout makes the Provider framework report FAILED,
 * which after a purchase would orphan a paid block, so every wait here is bounded.
 */
export const timeouts = {
  /** One EC2 request, connection included: a hung answer fails after this. */
  ec2RequestMs: 20_000,
  /**
   * onEvent aborts whatever is still in flight this long before its Lambda timeout, and answers. (A
   * purchase is not even started unless there is time to learn its outcome: see assertTimeToBuy.)
   */
  onEventMarginMs: 3_000,
  /** isComplete answers "not yet" this long before its Lambda timeout rather than hang. */
  isCompleteMarginMs: 10_000,
};

/** The simulated clock of the local rehearsal replaces this; Lambda uses the real one. */
export const clock = { now: (): Date => new Date() };

/**
 * Seams around every AWS call, for the local rehearsal; Lambda never sets them. Lambda freezes an
 * invocation that timed out or crashed, so it makes no further calls: the rehearsal models that by
 * throwing in `beforeCall`. `afterCall` lets a test see what the handler reads of each answer.
 */
export const hooks = {
  beforeCall: (_command: string): void => undefined,
  afterCall: (_command: string, output: unknown): unknown => output,
};

/** Registers `hooks` on an SDK client. */
export function guardCalls<C extends { middlewareStack: { add: (...args: any[]) => void } }>(client: C): C {
  client.middlewareStack.add((next: (args: unknown) => Promise<{ output: unknown }>, context: { commandName?: string }) => async (args: unknown) => {
    const command = context.commandName ?? 'unknown';
    hooks.beforeCall(command);
    const result = await next(args);
    return { ...result, output: hooks.afterCall(command, result.output) };
  }, { step: 'initialize', name: 'invocationGuard' });
  return client;
}

/** Outside Lambda (a direct call in a test or script): the longest Lambda timeout, counted from now. */
export function contextOrDefault(context: LambdaContextLike | undefined): LambdaContextLike {
  if (context) return context;
  const end = Date.now() + 15 * 60_000;
  return { getRemainingTimeInMillis: () => end - Date.now() };
}

interface Budget {
  readonly deadlineMs: number;
  readonly controller: AbortController;
}

// Per invocation, not per module: the local rehearsal runs concurrent deliveries in one process.
const invocation = new AsyncLocalStorage<Budget>();

/**
 * Runs `work` with a deadline `marginMs` before the Lambda timeout. When it passes, every EC2 call
 * still in flight is aborted (see `ec2CallOptions`), so the handler answers instead of hanging.
 */
export async function withBudget<T>(context: LambdaContextLike, marginMs: number, work: () => Promise<T>): Promise<T> {
  const remaining = context.getRemainingTimeInMillis();
  const budget: Budget = { deadlineMs: Date.now() + Math.max(0, remaining - marginMs), controller: new AbortController() };
  const timer = setTimeout(() => budget.controller.abort(new Error('the handler reached its time budget')), Math.max(0, budget.deadlineMs - Date.now()));
  try {
    return await invocation.run(budget, work);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds left before the current invocation's deadline (Infinity outside one). */
export function remainingMs(): number {
  const budget = invocation.getStore();
  return budget ? budget.deadlineMs - Date.now() : Infinity;
}

/** The abort signal of the current invocation's deadline. */
export function deadlineSignal(): AbortSignal | undefined {
  return invocation.getStore()?.controller.signal;
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** The providers' clock settings (lib/aws/provider-parts.ts), for rehearsals of templates that lack the provider. */
export const providerTimings = {
  onEventTimeoutSeconds: ON_EVENT_TIMEOUT_SECONDS,
  isCompleteTimeoutSeconds: IS_COMPLETE_TIMEOUT_SECONDS,
  queryIntervalSeconds: QUERY_INTERVAL_SECONDS,
  maxAttempts: Math.ceil(PROVIDER_TOTAL_TIMEOUT_SECONDS / QUERY_INTERVAL_SECONDS),
  serviceTimeoutSeconds: SERVICE_TIMEOUT_SECONDS,
};
