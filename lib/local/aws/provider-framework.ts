import { AsyncLocalStorage } from 'async_hooks';
import * as path from 'path';
import { SimulatedClock } from '../faults';
import { requireAwsRehearsalModules } from '../modules';
import { Json } from '../resources';

/**
 * The aws-cdk-lib Provider framework's own Lambda code (framework.js, cfn-response.js, outbound.js),
 * run for real in this process. Only its outbound calls are stubbed, at the lowest level that keeps
 * outbound.js's own logic (re-invoking after an Invoke error) in play: the Lambda and Step Functions
 * clients' `send`, and the HTTPS PUT of the CloudFormation response.
 */
/** aws-cdk-lib's Provider framework runtime, resolved when a framework is made (aws-cdk-lib is the user's). */
const runtime = (file: string) => path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'custom-resources', 'lib', 'provider-framework', 'runtime', file);
const ON_EVENT_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rehearsal-onEvent';
const IS_COMPLETE_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rehearsal-isComplete';
const WAITER_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:rehearsal-waiter';

/** The user functions the framework invokes: the bundled handler. */
export interface UserFunctions {
  onEvent(event: Json, context: LambdaContext): Promise<Json>;
  isComplete(event: Json, context: LambdaContext): Promise<Json>;
  /** Called before each AWS call the handler makes; throwing models a frozen invocation. */
  hooks: { beforeCall: (command: string) => void };
}

export interface LambdaContext {
  getRemainingTimeInMillis(): number;
  readonly functionName: string;
  readonly awsRequestId: string;
}

/** The provider's clock settings, as the synthesized template holds them. */
export interface FrameworkTimings {
  readonly onEventTimeoutSeconds: number;
  readonly isCompleteTimeoutSeconds: number;
  readonly queryIntervalSeconds: number;
  /** Retries of the waiter's isComplete task (the state machine's MaxAttempts). */
  readonly maxAttempts: number;
  /** CloudFormation's ServiceTimeout for the custom resource. */
  readonly serviceTimeoutSeconds: number;
}

/** Engine-level faults, drawn per call from `random`. */
export interface EngineFaults {
  /** Probability each StartExecution attempt is throttled, after onEvent returned. */
  readonly startExecutionThrottle?: number;
  /** The Lambda Invoke API call of onEvent fails after the function started: outbound.js invokes it again. */
  readonly invokeLost?: number;
  /** Probability a user-function invocation is killed (runtime crash) before one of its first AWS calls. */
  readonly crash?: number;
}

export interface FrameworkOptions {
  readonly timings: FrameworkTimings;
  readonly clock: SimulatedClock;
  /** Real milliseconds per simulated millisecond for Lambda time: the handler's budgets are scaled alike. @default 0.01 */
  readonly timeScale?: number;
  readonly faults?: EngineFaults;
  readonly random?: () => number;
}

/** What CloudFormation recorded for one request: the first response wins. */
export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Json;
  /** When CloudFormation received it (simulated epoch ms). */
  readonly at?: number;
}

/** One invocation of a user function, for reports and invariants. */
export interface InvocationRecord {
  readonly fn: 'onEvent' | 'isComplete';
  readonly requestId: string;
  readonly outcome: 'ok' | 'error' | 'timeout' | 'crash';
}

interface PendingRequest {
  readonly sentAt: number;
  readonly responses: Array<CfnResponse & { at: number }>;
  readonly work: Array<Promise<unknown>>;
}

interface Invocation {
  readonly fn: 'onEvent' | 'isComplete';
  frozen: boolean;
  /** AWS calls made so far, and the one before which a crash stops it (Infinity: none). */
  calls: number;
  crashAt: number;
}

/**
 * How CloudFormation's asynchronous invocation of framework-onEvent arrives: once, or twice (Lambda's
 * async queue delivers at least once): at the same time, one after the other, or the second only
 * after the first copy's Lambda time is over.
 */
export type Delivery = 'once' | 'twice-sequential' | 'twice-concurrent' | 'twice-late';

/** Faults a spec asks for exactly, instead of drawing them. */
export type ScriptedFault = 'invokeLost' | 'startExecutionThrottled';

const current = new AsyncLocalStorage<Invocation>();

/**
 * Runs CloudFormation requests through the real Provider framework runtime into the bundled handler,
 * with Lambda's and Step Functions' behaviour modelled around it: invocation timeouts (the frozen
 * invocation makes no further calls), the waiter's retries every query interval on the simulated
 * clock, onTimeout, duplicate deliveries, and CloudFormation's ServiceTimeout.
 */
export class ProviderFramework {
  public readonly invocations: InvocationRecord[] = [];
  /** Every AWS command each user function called (e.g. PurchaseCapacityBlockCommand), to check against its role's policy. */
  public readonly commandsBy: Record<'onEvent' | 'isComplete', Set<string>> = { onEvent: new Set(), isComplete: new Set() };
  /** Engine faults injected and duplicate deliveries made, by kind. */
  public readonly injected: Record<string, number> = {};
  private readonly pending = new Map<string, PendingRequest>();
  private readonly framework: { onEvent: (e: Json) => Promise<void>; isComplete: (e: Json) => Promise<void>; onTimeout: (e: Json) => Promise<void> };
  private readonly restore: Array<() => void> = [];
  private readonly random: () => number;

  private faults?: EngineFaults;
  private readonly scripted: Record<string, number> = {};
  /** Crash the first invocation that makes an AWS call after this command (once). */
  private crashAfterCommand?: string;

  constructor(private readonly user: UserFunctions, private readonly options: FrameworkOptions) {
    this.random = options.random ?? Math.random;
    this.faults = options.faults;
    requireAwsRehearsalModules('the Provider framework runtime');
    /* eslint-disable @typescript-eslint/no-require-imports -- the framework's own modules, loaded as its Lambda loads them */
    const outbound = require(runtime('outbound.js'));
    const lambda = require('@aws-sdk/client-lambda');
    const sfn = require('@aws-sdk/client-sfn');
    this.framework = require(runtime('framework.js'));
    /* eslint-enable @typescript-eslint/no-require-imports */
    this.patch(lambda.Lambda.prototype, 'send', (command: { constructor: { name: string }; input: Json }) => this.lambda(command));
    this.patch(sfn.SFN.prototype, 'send', (command: { constructor: { name: string }; input: Json }) => this.stepFunctions(command));
    this.patch(outbound, 'httpRequest', (options: Json, body: string) => this.respond(options, body));
    this.patch(user.hooks, 'beforeCall', (command: string) => this.beforeCall(command));
    const env = { USER_ON_EVENT_FUNCTION_ARN: ON_EVENT_ARN, USER_IS_COMPLETE_FUNCTION_ARN: IS_COMPLETE_ARN, WAITER_STATE_MACHINE_ARN: WAITER_ARN };
    const saved = Object.fromEntries(Object.keys(env).map(k => [k, process.env[k]]));
    Object.assign(process.env, env);
    this.restore.push(() => Object.assign(process.env, saved));
  }

  /**
   * CloudFormation sends `event` (to framework-onEvent, asynchronously: `deliveries` copies, as
   * Lambda's async queue may deliver twice) and waits for the first response, at most ServiceTimeout.
   */
  public async request(event: Json, deliveries: Delivery = 'once'): Promise<CfnResponse> {
    const pending: PendingRequest = { sentAt: this.options.clock.now().getTime(), responses: [], work: [] };
    this.pending.set(event.RequestId, pending);
    const deliver = () => this.framework.onEvent(JSON.parse(JSON.stringify(event))).catch(() => undefined);
    if (deliveries !== 'once') this.count(deliveries === 'twice-concurrent' ? 'concurrentDuplicate' : 'sequentialDuplicate');
    if (deliveries === 'twice-concurrent') {
      pending.work.push(deliver(), deliver());
    } else {
      pending.work.push(deliver());
      if (deliveries === 'twice-sequential') {
        await Promise.all(pending.work);
        pending.work.push(deliver());
      } else if (deliveries === 'twice-late') {
        // Redelivered once the first copy's Lambda time is over, whatever became of it.
        await new Promise(resolve => setTimeout(resolve, this.options.timings.onEventTimeoutSeconds * 1000 * (this.options.timeScale ?? 0.01)));
        pending.work.push(deliver());
      }
    }
    // Everything the request set off (waiters too) runs to its end, as it would in AWS.
    for (let awaited = 0; awaited < pending.work.length;) {
      const batch = pending.work.slice(awaited);
      awaited = pending.work.length;
      await Promise.all(batch);
    }
    this.pending.delete(event.RequestId);
    const first = pending.responses[0];
    const limit = this.options.timings.serviceTimeoutSeconds * 1000;
    if (!first || first.at - pending.sentAt > limit) {
      return { Status: 'FAILED', Reason: `CloudFormation did not receive a response for ${this.options.timings.serviceTimeoutSeconds} s (ServiceTimeout)`, PhysicalResourceId: event.PhysicalResourceId ?? '' };
    }
    return first;
  }

  /** From now on: no engine faults. */
  public quiet(): void {
    this.faults = undefined;
  }

  /** The next `count` opportunities for `fault` take it, whatever the drawn faults say. */
  public failNext(fault: ScriptedFault, count = 1): void {
    this.scripted[fault] = (this.scripted[fault] ?? 0) + count;
  }

  /** The invocation that calls `command` (e.g. PurchaseCapacityBlockCommand) crashes right after that call. */
  public crashAfter(command: string): void {
    this.crashAfterCommand = command;
  }

  public dispose(): void {
    for (const undo of this.restore.reverse()) undo();
  }

  private patch<T extends object>(target: T, key: string, replacement: unknown): void {
    const had = Object.prototype.hasOwnProperty.call(target, key);
    const original = (target as Json)[key];
    (target as Json)[key] = replacement;
    this.restore.push(() => {
      if (had) (target as Json)[key] = original;
      else delete (target as Json)[key];
    });
  }

  private async lambda(command: { constructor: { name: string }; input: Json }): Promise<Json> {
    if (command.constructor.name === 'GetFunctionCommand') return { Configuration: { State: 'Active', LastUpdateStatus: 'Successful' } };
    if (command.constructor.name !== 'InvokeCommand') throw new Error(`the rehearsal's Lambda has no ${command.constructor.name}`);
    const { FunctionName, Payload } = command.input;
    const event = JSON.parse(Buffer.from(Payload).toString());
    const fn = FunctionName === ON_EVENT_ARN ? 'onEvent' : 'isComplete';
    const invocation = this.invoke(fn, event);
    if (fn === 'onEvent' && (this.take('invokeLost') || this.chance(this.faults?.invokeLost))) {
      this.count('invokeLost');
      // The function runs, but the Invoke API call fails: outbound.js waits for the function and invokes again.
      this.pending.get(event.RequestId)?.work.push(invocation);
      throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    }
    return invocation;
  }

  /** One invocation of a user function, as Lambda runs it: a context, a timeout, errors as FunctionError. */
  private async invoke(fn: 'onEvent' | 'isComplete', event: Json): Promise<Json> {
    const scale = this.options.timeScale ?? 0.01;
    const timeoutSeconds = fn === 'onEvent' ? this.options.timings.onEventTimeoutSeconds : this.options.timings.isCompleteTimeoutSeconds;
    const budgetMs = timeoutSeconds * 1000 * scale;
    const started = Date.now();
    // Lambda's clock: simulated time passes at the rate the handler's budgets were scaled by, while it runs.
    const slowDown = this.options.clock.runFast(1 / scale);
    const context: LambdaContext = { getRemainingTimeInMillis: () => started + budgetMs - Date.now(), functionName: fn, awsRequestId: `${fn}-${this.invocations.length}` };
    const crashes = this.chance(this.faults?.crash);
    if (crashes) this.count('crash');
    const invocation: Invocation = { fn, frozen: false, calls: 0, crashAt: crashes ? Math.floor(this.random() * 6) : Infinity };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), budgetMs); });
    const run = current.run(invocation, () => this.user[fn](event, context));
    const record = (outcome: InvocationRecord['outcome']) => this.invocations.push({ fn, requestId: event.RequestId, outcome });
    try {
      const result = await Promise.race([run, timedOut]);
      if (invocation.frozen && result !== 'timeout') {
        // Crashed: whatever the code did after it could no longer call AWS never reaches Lambda.
        record('crash');
        return lambdaError('Runtime.ExitError', 'RequestId: crashed Error: Runtime exited');
      }
      if (result === 'timeout') {
        invocation.frozen = true;
        run.catch(() => undefined);
        record('timeout');
        return lambdaError('Sandbox.Timedout', `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
      }
      record('ok');
      return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(result)) };
    } catch (error) {
      record(invocation.frozen ? 'crash' : 'error');
      const e = error as Error;
      return lambdaError(invocation.frozen ? 'Runtime.ExitError' : e.name, invocation.frozen ? 'RequestId: crashed Error: Runtime exited' : e.message);
    } finally {
      clearTimeout(timer);
      slowDown();
    }
  }

  private beforeCall(command: string): void {
    const invocation = current.getStore();
    if (!invocation) return;
    this.commandsBy[invocation.fn].add(command);
    if (invocation.calls++ >= invocation.crashAt) invocation.frozen = true;
    if (command === this.crashAfterCommand) {
      this.crashAfterCommand = undefined;
      invocation.crashAt = invocation.calls;
    }
    if (invocation.frozen) throw new Error('the Lambda runtime stopped this invocation');
  }

  private async stepFunctions(command: { constructor: { name: string }; input: Json }): Promise<Json> {
    if (command.constructor.name !== 'StartExecutionCommand') throw new Error(`the rehearsal's Step Functions has no ${command.constructor.name}`);
    // outbound.js's SFN client keeps the SDK's default of 3 attempts: only a third throttle in a row fails the call.
    if (this.take('startExecutionThrottled') || [1, 2, 3].every(() => this.chance(this.faults?.startExecutionThrottle))) {
      this.count('startExecutionThrottled');
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    const input = JSON.parse(command.input.input);
    this.pending.get(input.RequestId)?.work.push(this.waiter(input).catch(() => undefined));
    return { executionArn: `${WAITER_ARN}:execution-${input.RequestId}`, startDate: this.options.clock.now() };
  }

  /** The waiter state machine: isComplete, retried on any error every query interval, then onTimeout. */
  private async waiter(input: Json): Promise<void> {
    const { queryIntervalSeconds, maxAttempts } = this.options.timings;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= maxAttempts; attempt++) {
      if (attempt > 0) this.options.clock.advance(queryIntervalSeconds * 1000);
      try {
        await this.framework.isComplete(JSON.parse(JSON.stringify(input)));
        return;
      } catch (error) {
        lastError = error as Error;
      }
    }
    await this.framework.onTimeout({ Error: 'Retry', Cause: JSON.stringify({ errorMessage: lastError?.message ?? '' }) });
  }

  /** The HTTPS PUT to the ResponseURL: CloudFormation keeps the first response of a request. */
  private async respond(_options: Json, body: string): Promise<void> {
    const response = JSON.parse(body) as CfnResponse & { RequestId: string };
    this.pending.get(response.RequestId)?.responses.push({ ...response, at: this.options.clock.now().getTime() });
  }

  private take(fault: ScriptedFault): boolean {
    if (!this.scripted[fault]) return false;
    this.scripted[fault]--;
    return true;
  }

  private chance(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.random() < p;
  }

  private count(kind: string): void {
    this.injected[kind] = (this.injected[kind] ?? 0) + 1;
  }
}

function lambdaError(errorType: string, errorMessage: string): Json {
  return { StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode(JSON.stringify({ errorType, errorMessage, trace: [] })) };
}

/** Reads the provider's timings from a synthesized template; falls back to `defaults` for what it lacks. */
export function timingsFromTemplate(template: Json, logicalId: string, defaults: FrameworkTimings): FrameworkTimings {
  const resources: Record<string, Json> = template.Resources ?? {};
  const serviceTimeout = Number(resources[logicalId]?.Properties?.ServiceTimeout ?? defaults.serviceTimeoutSeconds);
  // The entry file differs between providers (index.isComplete, is-complete.isComplete): the export decides.
  const fnTimeout = (handler: string) => {
    const fn = Object.values(resources).find(r => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Handler ?? '').endsWith(`.${handler.split('.').pop()}`));
    return fn ? Number(fn.Properties.Timeout) : undefined;
  };
  const machine = Object.values(resources).find(r => r.Type === 'AWS::StepFunctions::StateMachine');
  const definition = machine ? flatten(machine.Properties?.DefinitionString) : '';
  const retry = /"IntervalSeconds":(\d+),"MaxAttempts":(\d+)/.exec(definition);
  return {
    serviceTimeoutSeconds: serviceTimeout,
    onEventTimeoutSeconds: fnTimeout('index.onEvent') ?? defaults.onEventTimeoutSeconds,
    isCompleteTimeoutSeconds: fnTimeout('index.isComplete') ?? defaults.isCompleteTimeoutSeconds,
    queryIntervalSeconds: retry ? Number(retry[1]) : defaults.queryIntervalSeconds,
    maxAttempts: retry ? Number(retry[2]) : defaults.maxAttempts,
  };
}

/** The literal text of a CloudFormation string value, with the tokens inside it left out. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })?.['Fn::Join'];
  return join ? join[1].map(flatten).join(join[0]) : '';
}
