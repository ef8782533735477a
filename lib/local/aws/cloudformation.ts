import { randomUUID } from 'crypto';
import { LoopbackApi, RawRequest, RawResponse } from '../http-server';
import { Json } from '../resources';
import { CfnResponse, Delivery, ProviderFramework } from './provider-framework';

/** The statuses DescribeStacks shows while CloudFormation works on a stack. */
export type InProgressStatus =
  | 'CREATE_IN_PROGRESS' | 'ROLLBACK_IN_PROGRESS' | 'UPDATE_IN_PROGRESS' | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_IN_PROGRESS' | 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' | 'DELETE_IN_PROGRESS';

/**
 * CloudFormation's DescribeStacks (Query protocol, XML in the 2010-05-15 namespace), for the stacks
 * of a rehearsal: a handler asks it whether an Update is a rollback. Every CloudFormationStack made
 * while it serves (`CloudFormationApi.serving`) reports its status to it. Loopback only.
 */
export class CloudFormationApi extends LoopbackApi {
  /** The API the stacks of the running rehearsal report to (one rehearsal runs at a time in a process). */
  public static serving?: CloudFormationApi;
  /** Every DescribeStacks call: the StackName it asked for, and the fault it met. */
  public readonly calls: Array<{ action: string; stackName: string; fault?: string }> = [];
  private readonly stacks = new Map<string, { name: string; status: string }>();
  private readonly scripted: Array<'throttle' | 'serverError'> = [];

  public report(stackId: string, name: string, status: string): void {
    this.stacks.set(stackId, { name, status });
  }

  /** The next `count` DescribeStacks calls fail ('throttle': Throttling; 'serverError': 500). */
  public failNext(fault: 'throttle' | 'serverError', count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push(fault);
  }

  protected async handle(request: RawRequest): Promise<RawResponse> {
    const p = Object.fromEntries(new URLSearchParams(request.body));
    const fault = p.Action === 'DescribeStacks' ? this.scripted.shift() : undefined;
    this.calls.push({ action: p.Action ?? '', stackName: p.StackName ?? '', fault });
    if (fault === 'throttle') return errorXml(400, 'Throttling', 'Rate exceeded');
    if (fault === 'serverError') return errorXml(500, 'InternalFailure', 'An internal error occurred');
    if (p.Action !== 'DescribeStacks') return errorXml(400, 'InvalidAction', `Could not find operation ${p.Action}`);
    // By id, or by name for a stack that exists: as CloudFormation answers.
    const [id, stack] = [...this.stacks.entries()].find(([stackId, s]) => stackId === p.StackName || (s.name === p.StackName && !s.status.startsWith('DELETE_COMPLETE'))) ?? [];
    if (!id || !stack) return errorXml(400, 'ValidationError', `Stack with id ${p.StackName} does not exist`);
    const body = `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>`
      + `<StackId>${id}</StackId><StackName>${stack.name}</StackName><CreationTime>2026-01-01T00:00:00.000Z</CreationTime><StackStatus>${stack.status}</StackStatus>`
      + `</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`;
    return { status: 200, contentType: 'text/xml', body };
  }
}

function errorXml(status: number, code: string, message: string): RawResponse {
  return {
    status, contentType: 'text/xml',
    body: `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

export type StackStatus =
  | 'CREATE_COMPLETE' | 'ROLLBACK_COMPLETE'
  | 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_COMPLETE' | 'DELETE_FAILED';

/** One request CloudFormation sent to the custom resource, and what it recorded. */
export interface CfnExchange {
  /** The event as CloudFormation sent it (without its ResponseURL), so that it can be delivered again. */
  readonly event: Json;
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly requestId: string;
  readonly stackId: string;
  readonly physicalResourceId?: string;
  readonly properties: Json;
  readonly response: CfnResponse;
  /** Part of a rollback (or its continuation by an operator) or of the cleanup after an update. */
  readonly phase: 'deploy' | 'rollback' | 'continue-rollback' | 'cleanup';
}

export interface DeployOptions {
  /** Another resource of the stack fails after this one succeeded, so the operation rolls back. */
  readonly laterResourceFails?: boolean;
}

/**
 * CloudFormation's event sequences for ONE custom resource of a stack, as its documentation and the
 * Provider framework describe them:
 * - Create; on FAILED, or when a later resource fails, rollback Delete (of the marker id or the id).
 * - Update only when the properties changed; a new PhysicalResourceId means the old one is deleted in
 *   cleanup after success. On FAILED, or a later failure: rollback Update with the OLD properties
 *   (OldResourceProperties = the new ones) to the current id, then cleanup Delete of the id the
 *   failed update created if the rollback left it. A rollback Update that fails: UPDATE_ROLLBACK_FAILED.
 * - Delete when the stack is deleted.
 * A stack whose creation rolled back must be deleted and created again: same name, new stack id.
 * A rollback that failed for a reason of the engine's (a crashed Lambda, Step Functions throttling)
 * is continued by the operator (`continue-update-rollback`): the rollback Update is sent again.
 */
export class CloudFormationStack {
  public readonly exchanges: CfnExchange[] = [];
  public status?: StackStatus;
  /** What the stack tracks: the physical id and the properties it was last deployed with. */
  public resource?: { physicalResourceId: string; properties: Json };
  public stackId: string;

  /** Rollbacks that failed and were continued by the operator. */
  public continuedRollbacks = 0;

  constructor(
    private readonly framework: ProviderFramework,
    private readonly names: { stackName: string; logicalId: string; region: string; resourceType?: string },
    /** How each Create and Update reaches framework-onEvent. */
    public delivery: () => Delivery = () => 'once',
    /** How many times the operator runs continue-update-rollback before giving up. */
    private readonly continueRollbackAttempts = 2,
    /**
     * Called whenever the stack is created (again): its own resources are new then, the provider's
     * claims table (and so every resource's ledger) included.
     */
    private readonly onNewStack: () => Promise<void> = async () => undefined,
  ) {
    this.stackId = newStackId(names);
  }

  /**
   * Delivers an earlier request again, as Lambda's asynchronous queue may (at least once, up to hours
   * later): CloudFormation has its answer already and ignores this one, whatever it says.
   */
  public async redeliver(exchange: CfnExchange): Promise<CfnResponse> {
    return this.framework.request(exchange.event, 'once');
  }

  /** Deploys `properties` (create or update), with CloudFormation's rollback on failure. */
  public async deploy(properties: Json, options: DeployOptions = {}): Promise<StackStatus> {
    if (this.status === 'UPDATE_ROLLBACK_FAILED') throw new Error('the stack is in UPDATE_ROLLBACK_FAILED; nothing can be deployed');
    return this.resource ? this.update(properties, options) : this.create(properties, options);
  }

  public async destroy(): Promise<StackStatus> {
    if (!this.resource) return (this.status = 'DELETE_COMPLETE');
    const deleted = await this.send('Delete', this.resource.properties, 'deploy', this.resource.physicalResourceId);
    if (deleted.Status === 'FAILED') return (this.status = 'DELETE_FAILED');
    this.resource = undefined;
    return (this.status = 'DELETE_COMPLETE');
  }

  private async create(properties: Json, options: DeployOptions): Promise<StackStatus> {
    // A stack that rolled back or was deleted is created again: same name, new id, new resources.
    if (this.status === 'ROLLBACK_COMPLETE' || this.status === 'DELETE_COMPLETE') this.stackId = newStackId(this.names);
    if (this.status === undefined || this.status === 'ROLLBACK_COMPLETE' || this.status === 'DELETE_COMPLETE') await this.onNewStack();
    const created = await this.send('Create', properties, 'deploy');
    if (created.Status === 'SUCCESS' && !options.laterResourceFails) {
      this.resource = { physicalResourceId: created.PhysicalResourceId, properties };
      return (this.status = 'CREATE_COMPLETE');
    }
    await this.send('Delete', properties, 'rollback', created.PhysicalResourceId);
    return (this.status = 'ROLLBACK_COMPLETE');
  }

  private async update(properties: Json, options: DeployOptions): Promise<StackStatus> {
    const before = this.resource!;
    if (JSON.stringify(before.properties) === JSON.stringify(properties)) {
      return (this.status = options.laterResourceFails ? 'UPDATE_ROLLBACK_COMPLETE' : 'UPDATE_COMPLETE');
    }
    const updated = await this.send('Update', properties, 'deploy', before.physicalResourceId, before.properties);
    if (updated.Status === 'SUCCESS' && !options.laterResourceFails) {
      this.resource = { physicalResourceId: updated.PhysicalResourceId, properties };
      if (updated.PhysicalResourceId !== before.physicalResourceId) {
        await this.send('Delete', before.properties, 'cleanup', before.physicalResourceId);
      }
      return (this.status = 'UPDATE_COMPLETE');
    }
    const current = updated.Status === 'SUCCESS' ? updated.PhysicalResourceId : before.physicalResourceId;
    let rolledBack = await this.send('Update', before.properties, 'rollback', current, properties);
    for (let attempt = 0; rolledBack.Status === 'FAILED' && attempt < this.continueRollbackAttempts; attempt++) {
      this.continuedRollbacks++;
      rolledBack = await this.send('Update', before.properties, 'continue-rollback', current, properties);
    }
    if (rolledBack.Status === 'FAILED') {
      this.resource = { physicalResourceId: current, properties };
      return (this.status = 'UPDATE_ROLLBACK_FAILED');
    }
    this.resource = { physicalResourceId: rolledBack.PhysicalResourceId, properties: before.properties };
    if (rolledBack.PhysicalResourceId !== current) {
      await this.send('Delete', properties, 'cleanup', current, undefined, true);
    }
    return (this.status = 'UPDATE_ROLLBACK_COMPLETE');
  }

  private async send(requestType: CfnExchange['requestType'], properties: Json, phase: CfnExchange['phase'], physicalResourceId?: string, oldProperties?: Json, rolledBack = false): Promise<CfnResponse> {
    const requestId = randomUUID();
    CloudFormationApi.serving?.report(this.stackId, this.names.stackName, inProgress(requestType, phase, rolledBack));
    const event = {
      RequestType: requestType,
      ServiceToken: 'arn:aws:lambda:rehearsal:framework-onEvent',
      ResponseURL: 'https://cloudformation-custom-resource-response-rehearsal.invalid/presigned?X-Amz-Signature=local',
      StackId: this.stackId,
      RequestId: requestId,
      LogicalResourceId: this.names.logicalId,
      ResourceType: this.names.resourceType ?? 'Custom::CapacityBlockPurchase',
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:rehearsal:framework-onEvent', ...properties },
      ...(physicalResourceId !== undefined ? { PhysicalResourceId: physicalResourceId } : {}),
      ...(oldProperties ? { OldResourceProperties: { ServiceToken: 'arn:aws:lambda:rehearsal:framework-onEvent', ...oldProperties } } : {}),
    };
    const response = await this.framework.request(event, requestType === 'Delete' ? 'once' : this.delivery());
    this.exchanges.push({ event, requestType, requestId, stackId: this.stackId, physicalResourceId, properties, response, phase });
    return response;
  }
}

/** What DescribeStacks shows while CloudFormation sends a request of this kind. */
function inProgress(requestType: CfnExchange['requestType'], phase: CfnExchange['phase'], rolledBack: boolean): InProgressStatus {
  if (phase === 'rollback' || phase === 'continue-rollback') return requestType === 'Update' ? 'UPDATE_ROLLBACK_IN_PROGRESS' : 'ROLLBACK_IN_PROGRESS';
  if (phase === 'cleanup') return rolledBack ? 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' : 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
  return requestType === 'Create' ? 'CREATE_IN_PROGRESS' : requestType === 'Update' ? 'UPDATE_IN_PROGRESS' : 'DELETE_IN_PROGRESS';
}

function newStackId(names: { stackName: string; region: string }): string {
  return `arn:aws:cloudformation:${names.region}:123456789012:stack/${names.stackName}/${randomUUID()}`;
}
