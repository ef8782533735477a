import { randomUUID } from 'crypto';
import { resourceKeys } from '../../alicloud/resource-keys';
import { RESOURCE_TAG, RETAINED_PREFIX } from '../../alicloud/wire';
import { Json } from '../resources';
import { EcsEmulator } from './ecs-emulator';
import { RosInvoke, RosResponder } from './ros-protocol';

/** What ROS's sequences did to one or more stacks, and the three invariants (each must be 0). */
export interface RosInvariants {
  /** Stack operations run (create, update, delete). */
  operations: number;
  /** Custom-resource requests ROS sent, duplicates included. */
  requests: number;
  /** Settled stack states with more than one live reservation for the resource. */
  duplicateLive: number;
  /** Resources gone from the stack (deleted, rolled back, never answered) with a reservation still live; RETAIN excepted. */
  liveAfterDeletion: number;
  /** Settled stack states holding the resource with no live reservation behind it (capacity silently lost). */
  lostWhileHeld: number;
  /** Rollbacks that still failed after the operator continued them three times: ROLLBACK_FAILED. */
  rollbackFailed: number;
  /** Rollback steps that failed once and succeeded when continued (transient ECS faults). */
  rollbacksContinued: number;
  /** How often each ROS sequence ran. */
  scenarios: Record<string, number>;
}

export function newRosInvariants(): RosInvariants {
  return { operations: 0, requests: 0, duplicateLive: 0, liveAfterDeletion: 0, lostWhileHeld: 0, rollbackFailed: 0, rollbacksContinued: 0, scenarios: {} };
}

export function rosInvariantsLine(i: RosInvariants): string {
  return `ROS engine: ${i.operations} stack operations, ${i.requests} requests; duplicate live reservations ${i.duplicateLive}, `
    + `live after deletion ${i.liveAfterDeletion}, held but released ${i.lostWhileHeld}, ROLLBACK_FAILED ${i.rollbackFailed} (${i.rollbacksContinued} rollback steps continued); `
    + `scenarios ${JSON.stringify(i.scenarios)}`;
}

export interface RosCreateOptions {
  /** The same Create delivered twice: at the same time, or one after the other. */
  readonly duplicate?: 'concurrent' | 'sequential';
  /** A later resource of the stack fails: ROS rolls back with a Delete. */
  readonly laterFails?: boolean;
  /** ROS gives up before the function runs (FC retried it late): rollback Delete first, then the Create. */
  readonly late?: boolean;
}

export interface RosUpdateOptions {
  /** A later resource of the stack fails: ROS rolls back with an Update to the old properties. */
  readonly laterFails?: boolean;
  /** The next ReleaseCapacityReservation is refused (e.g. the old reservation of a replacement). */
  readonly releaseFails?: boolean;
  /** Runs beside the Update's delivery (e.g. a late duplicate of an earlier request, timed by a test). */
  readonly whileRunning?: (update: Json) => Promise<unknown>;
  /** Runs between the failure and ROS's rollback Update (e.g. instances start using the reservation). */
  readonly beforeRollback?: () => void;
}

/**
 * One ROS stack holding one AliCapacityReservation, driven through ROS's event sequences against
 * the FC handler: rollback Delete after a failed Create, concurrent and repeated deliveries, a late
 * Create after ROS gave up (its answer refused), Update rollback after a failed replacement, and the
 * stack's deletion. Each settled state is checked against the invariants.
 */
export class RosStack {
  /** Reasons of operations that failed (not rollbacks), in order. */
  public readonly failures: string[] = [];
  /** Every request ROS sent, in order: FC may deliver any of them again, late. */
  public readonly sent: Json[] = [];
  public readonly stackId = randomUUID();
  private physicalId?: string;
  private props?: Json;
  /** The stack exists (created, not deleted): adding the resource again is part of an update. */
  private exists = false;
  /** Requests of the stack operation under way: once it is over, ROS refuses answers to them. */
  private operation: string[] = [];

  constructor(
    private readonly invoke: RosInvoke,
    private readonly emulator: EcsEmulator,
    private readonly ros: RosResponder,
    private readonly responseUrl: string,
    private readonly logicalId: string,
    private readonly counts: RosInvariants,
  ) {}

  public get deployed(): boolean {
    return this.props !== undefined;
  }

  /** The PhysicalResourceId ROS tracks for the resource (undefined when the template does not hold it). */
  public get physicalResourceId(): string | undefined {
    return this.physicalId;
  }

  public get parameters(): Json | undefined {
    return this.props;
  }

  public async create(parameters: Json, options: RosCreateOptions = {}): Promise<boolean> {
    this.counts.operations++;
    // Added to a stack that exists (a logical id that left the template and came back): an update.
    const inUpdate = this.exists;
    this.status(inUpdate ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS');
    let result = false;
    try {
      result = await this.createOperation(parameters, options, inUpdate);
      return result;
    } finally {
      // GetStack's documented statuses: a create rollback ends CREATE_ROLLBACK_COMPLETE, an update rollback ROLLBACK_COMPLETE.
      await this.over(result ? (inUpdate ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE') : (inUpdate ? 'ROLLBACK_COMPLETE' : 'CREATE_ROLLBACK_COMPLETE'));
      this.exists = this.exists || result;
      this.settled(result, !result && parameters.RemovalPolicy === 'retain');
    }
  }

  private async createOperation(parameters: Json, options: RosCreateOptions, inUpdate: boolean): Promise<boolean> {
    const create = this.event('Create', { ResourceProperties: { Parameters: parameters } });
    const rollbackStatus = inUpdate ? 'ROLLBACK_IN_PROGRESS' : 'CREATE_ROLLBACK_IN_PROGRESS';
    if (options.late) {
      this.scenario('late Create after the rollback Delete (no PhysicalResourceId)');
      this.ros.giveUp(create.RequestId);
      this.status(rollbackStatus);
      await this.rollback(() => this.send(this.event('Delete', { ResourceProperties: { Parameters: parameters } })));
      await this.send(create);
      return false;
    }
    let answer: Json;
    if (options.duplicate === 'concurrent') {
      this.scenario('concurrent duplicate Creates');
      // ROS keeps the first answer it accepts (a refused delivery may return first).
      answer = await Promise.race([this.send(create), this.send(create)]);
      await this.quiesce();
      answer = this.ros.answerOf(create.RequestId) ?? answer;
    } else if (options.duplicate === 'sequential') {
      this.scenario('Create delivered again');
      answer = await this.send(create);
      await this.send(create);
      answer = this.ros.answerOf(create.RequestId) ?? answer;
    } else {
      answer = await this.send(create);
    }
    if (answer.Status !== 'SUCCESS' || options.laterFails) {
      if (answer.Status !== 'SUCCESS') this.failures.push(String(answer.Reason));
      this.scenario(answer.Status !== 'SUCCESS' ? 'rollback Delete after a failed Create' : 'rollback Delete after a later resource failed');
      this.status(rollbackStatus);
      await this.rollback(() => this.send(this.event('Delete', { PhysicalResourceId: answer.PhysicalResourceId, ResourceProperties: { Parameters: parameters } })));
      return false;
    }
    this.physicalId = answer.PhysicalResourceId;
    this.props = parameters;
    return true;
  }

  public async update(parameters: Json, options: RosUpdateOptions = {}): Promise<void> {
    this.counts.operations++;
    this.status('UPDATE_IN_PROGRESS');
    let rolledBack = false;
    try {
      rolledBack = await this.updateOperation(parameters, options);
    } finally {
      await this.over(rolledBack ? 'ROLLBACK_COMPLETE' : 'UPDATE_COMPLETE');
      this.settled(true, retains(this.props));
    }
  }

  private async updateOperation(parameters: Json, options: RosUpdateOptions): Promise<boolean> {
    const old = this.props!;
    if (options.releaseFails) this.emulator.failNextRelease.push('OperationDenied');
    const update = this.event('Update', {
      PhysicalResourceId: this.physicalId, ResourceProperties: { Parameters: parameters }, OldResourceProperties: { Parameters: old },
    });
    const answer = await this.send(update, options.whileRunning && (() => options.whileRunning!(update)));
    const releaseRefused = options.releaseFails && this.emulator.failNextRelease.length === 0;
    this.emulator.failNextRelease.length = 0;
    if (answer.Status !== 'SUCCESS' || options.laterFails) {
      if (answer.Status !== 'SUCCESS') this.failures.push(String(answer.Reason));
      this.scenario(releaseRefused && answer.Status !== 'SUCCESS' ? 'rollback Update after a replacement whose old release failed'
        : answer.Status !== 'SUCCESS' ? 'rollback Update after a failed Update' : 'rollback Update after a later resource failed');
      options.beforeRollback?.();
      this.status('ROLLBACK_IN_PROGRESS');
      await this.rollback(() => this.send(this.event('Update', {
        PhysicalResourceId: this.physicalId, ResourceProperties: { Parameters: old }, OldResourceProperties: { Parameters: parameters },
      })));
      return true;
    }
    this.props = parameters;
    return false;
  }

  /**
   * The resource leaves the template (the stack stays): ROS sends Delete in an update. The same
   * logical id may come back later with create(): a new lifetime.
   */
  public async removeFromTemplate(): Promise<void> {
    this.counts.operations++;
    this.status('UPDATE_IN_PROGRESS');
    const retained = retains(this.props);
    try {
      const answer = await this.send(this.event('Delete', { PhysicalResourceId: this.physicalId, ResourceProperties: { Parameters: this.props } }));
      if (answer.Status !== 'SUCCESS') this.failures.push(`UPDATE_FAILED (removing the resource): ${answer.Reason}`);
    } finally {
      this.props = undefined;
      this.physicalId = undefined;
      await this.over('UPDATE_COMPLETE');
      this.settled(false, retained);
    }
  }

  /** Deletes the stack; the operator retries a DELETE_FAILED up to three times. */
  public async delete(): Promise<void> {
    this.counts.operations++;
    this.status('DELETE_IN_PROGRESS');
    const request = () => this.send(this.event('Delete', { PhysicalResourceId: this.physicalId, ResourceProperties: { Parameters: this.props } }));
    let answer = await request();
    for (let retry = 0; answer.Status !== 'SUCCESS' && retry < 3; retry++) answer = await request();
    if (answer.Status !== 'SUCCESS') this.failures.push(`DELETE_FAILED: ${answer.Reason}`);
    const retained = retains(this.props);
    this.props = undefined;
    this.physicalId = undefined;
    this.exists = false;
    await this.over('DELETE_COMPLETE');
    this.settled(false, retained);
  }

  /**
   * FC delivers an earlier request again, late (it retries async events for up to about an hour):
   * its stack operation is over, so ROS refuses the answer.
   */
  public async redeliver(index: number): Promise<Json> {
    return this.redeliverEvent(this.sent[index % this.sent.length]);
  }

  /** FC delivers this earlier request again, late (see redeliver). */
  public async redeliverEvent(event: Json): Promise<Json> {
    this.scenario(`late ${event.RequestType} delivered again`);
    this.counts.requests++;
    return this.invokeWithRetries(event);
  }

  /** The request ROS sent last of the type (the one a late delivery repeats). */
  public lastSent(type: 'Create' | 'Update' | 'Delete'): Json | undefined {
    return [...this.sent].reverse().find(e => e.RequestType === type);
  }

  /** Live reservations the resource holds now (a replaced one kept by RETAIN is untied: retained:<key>). */
  public live(): string[] {
    return this.emulator.live().filter(r => r.tags.get(RESOURCE_TAG) === this.resourceKey).map(r => r.id);
  }

  /** Live reservations this resource made that it holds no longer (kept by a retain policy). */
  public untied(): string[] {
    return this.emulator.live().filter(r => r.tags.get(RESOURCE_TAG) === RETAINED_PREFIX + this.resourceKey).map(r => r.id);
  }

  public get resourceKey(): string {
    return resourceKeys({ StackId: this.stackId, LogicalResourceId: this.logicalId, RequestId: '' }).resource;
  }

  private status(status: string): void {
    this.ros.setStatus(this.stackId, status);
  }

  /**
   * The operation is over: ROS refuses answers to its requests from now on. What the function
   * still does after its answer (ROS has moved on) runs to its end before the next operation.
   */
  private async over(status: string): Promise<void> {
    this.status(status);
    for (const id of this.operation) this.ros.giveUp(id);
    this.operation = [];
    await this.quiesce();
  }

  private settled(holds: boolean, retained: boolean): void {
    const live = this.live().length;
    if (holds && live > 1) this.counts.duplicateLive++;
    if (holds && live === 0) this.counts.lostWhileHeld++;
    if (!holds && !retained && live > 0) this.counts.liveAfterDeletion++;
  }

  /** ROS's rollback; the operator continues a failed one up to three times before it counts as ROLLBACK_FAILED. */
  private async rollback(step: () => Promise<Json>): Promise<void> {
    let answer = await step();
    for (let continued = 0; answer.Status !== 'SUCCESS' && continued < 3; continued++) {
      this.counts.rollbacksContinued++;
      answer = await step();
    }
    if (answer.Status !== 'SUCCESS') {
      this.counts.rollbackFailed++;
      this.failures.push(`ROLLBACK_FAILED: ${answer.Reason}`);
    }
  }

  private readonly inFlight = new Set<Promise<unknown>>();

  /**
   * One ROS request, invoked as FC invokes asynchronously: an invocation that throws (e.g. its
   * answer could not be delivered) is retried, three attempts in all; then ROS hears nothing.
   */
  private send(event: Json, alongside?: () => Promise<unknown>): Promise<Json> {
    this.counts.requests++;
    if (!this.sent.includes(event)) this.sent.push(event);
    this.operation.push(event.RequestId);
    const sent = this.invokeWithRetries(event);
    this.track(sent);
    if (alongside) this.track(alongside());
    // ROS moves on once it has the answer, while the function may still work after posting it.
    return Promise.race([this.ros.answered(event.RequestId), sent]);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
  }

  private async invokeWithRetries(event: Json): Promise<Json> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.invoke(event);
      } catch (error) {
        if (attempt >= 3) return { Status: 'NO_ANSWER', Reason: `the function failed ${attempt} times: ${(error as Error).message}`, PhysicalResourceId: event.PhysicalResourceId };
      }
    }
  }

  /** Waits for every delivery still running (the slower duplicate of a Create). */
  private async quiesce(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private event(type: 'Create' | 'Update' | 'Delete', extra: Json): Json {
    return {
      RequestType: type, RequestId: randomUUID(), ResponseURL: this.responseUrl, StackId: this.stackId,
      LogicalResourceId: this.logicalId, RegionId: 'cn-hangzhou', ResourceType: 'ALIYUN::ROS::CustomResource', ...extra,
    };
  }

  private scenario(name: string): void {
    this.counts.scenarios[name] = (this.counts.scenarios[name] ?? 0) + 1;
  }
}

/** Whether the policy keeps the reservation when the stack is deleted or a replacement succeeds. */
function retains(parameters: Json | undefined): boolean {
  return parameters?.RemovalPolicy === 'retain' || parameters?.RemovalPolicy === 'retain-on-update-or-delete';
}
