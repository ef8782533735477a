import { randomUUID } from 'crypto';
import { resourceKeys } from '../../alicloud/resource-keys';
import { RESOURCE_TAG, RETAINED_PREFIX } from '../../alicloud/wire';
import { Json } from '../resources';
import { EcsEmulator } from './ecs-emulator';
import type { RosInvoke, RosResponder } from './rehearsal';

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

  public get parameters(): Json | undefined {
    return this.props;
  }

  public async create(parameters: Json, options: RosCreateOptions = {}): Promise<boolean> {
    this.counts.operations++;
    this.status('CREATE_IN_PROGRESS');
    try {
      return await this.createOperation(parameters, options);
    } finally {
      this.over(this.deployed ? 'CREATE_COMPLETE' : 'CREATE_ROLLBACK_COMPLETE');
    }
  }

  private async createOperation(parameters: Json, options: RosCreateOptions): Promise<boolean> {
    const create = this.event('Create', { ResourceProperties: { Parameters: parameters } });
    // retain-on-update-or-delete releases on a create rollback: only retain keeps the reservation then.
    const retained = parameters.RemovalPolicy === 'retain';
    if (options.late) {
      this.scenario('late Create after the rollback Delete (no PhysicalResourceId)');
      this.ros.giveUp(create.RequestId);
      this.status('CREATE_ROLLBACK_IN_PROGRESS');
      await this.rollback(() => this.send(this.event('Delete', { ResourceProperties: { Parameters: parameters } })));
      await this.send(create);
      this.settled(false, false);
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
      this.status('CREATE_ROLLBACK_IN_PROGRESS');
      await this.rollback(() => this.send(this.event('Delete', { PhysicalResourceId: answer.PhysicalResourceId, ResourceProperties: { Parameters: parameters } })));
      this.settled(false, retained);
      return false;
    }
    this.physicalId = answer.PhysicalResourceId;
    this.props = parameters;
    this.settled(true, retained);
    return true;
  }

  public async update(parameters: Json, options: RosUpdateOptions = {}): Promise<void> {
    this.counts.operations++;
    this.status('UPDATE_IN_PROGRESS');
    try {
      await this.updateOperation(parameters, options);
    } finally {
      this.over('UPDATE_COMPLETE');
    }
  }

  private async updateOperation(parameters: Json, options: RosUpdateOptions): Promise<void> {
    const old = this.props!;
    if (options.releaseFails) this.emulator.failNextRelease.push('OperationDenied');
    const answer = await this.send(this.event('Update', {
      PhysicalResourceId: this.physicalId, ResourceProperties: { Parameters: parameters }, OldResourceProperties: { Parameters: old },
    }));
    const releaseRefused = options.releaseFails && this.emulator.failNextRelease.length === 0;
    this.emulator.failNextRelease.length = 0;
    if (answer.Status !== 'SUCCESS' || options.laterFails) {
      if (answer.Status !== 'SUCCESS') this.failures.push(String(answer.Reason));
      this.scenario(releaseRefused && answer.Status !== 'SUCCESS' ? 'rollback Update after a replacement whose old release failed'
        : answer.Status !== 'SUCCESS' ? 'rollback Update after a failed Update' : 'rollback Update after a later resource failed');
      this.status('ROLLBACK_IN_PROGRESS');
      await this.rollback(() => this.send(this.event('Update', {
        PhysicalResourceId: this.physicalId, ResourceProperties: { Parameters: old }, OldResourceProperties: { Parameters: parameters },
      })));
      this.settled(true, retains(old));
      return;
    }
    this.props = parameters;
    this.settled(true, retains(parameters));
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
    this.settled(false, retained);
    this.over('DELETE_COMPLETE');
  }

  /**
   * FC delivers an earlier request again, late (it retries async events for up to about an hour):
   * its stack operation is over, so ROS refuses the answer.
   */
  public async redeliver(index: number): Promise<Json> {
    const event = this.sent[index % this.sent.length];
    this.scenario(`late ${event.RequestType} delivered again`);
    this.counts.requests++;
    return this.invokeWithRetries(event);
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

  /** The operation is over: ROS refuses answers to its requests from now on. */
  private over(status: string): void {
    this.status(status);
    for (const id of this.operation) this.ros.giveUp(id);
    this.operation = [];
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

  private readonly inFlight = new Set<Promise<Json>>();

  /**
   * One ROS request, invoked as FC invokes asynchronously: an invocation that throws (e.g. its
   * answer could not be delivered) is retried, three attempts in all; then ROS hears nothing.
   */
  private send(event: Json): Promise<Json> {
    this.counts.requests++;
    if (!this.sent.includes(event)) this.sent.push(event);
    this.operation.push(event.RequestId);
    const sent = this.invokeWithRetries(event);
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent)).catch(() => undefined);
    return sent;
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
