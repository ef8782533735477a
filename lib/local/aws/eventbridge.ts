import { randomUUID } from 'crypto';
import { LoopbackApi, RawRequest, RawResponse } from '../http-server';

/** One event a handler put on the default bus, as EventBridge would deliver it to a rule. */
export interface PutEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
  readonly resources: string[];
  readonly eventBusName: string;
}

/**
 * EventBridge's PutEvents (AWS JSON 1.1: POST /, `X-Amz-Target: AWSEvents.PutEvents`) for the audit
 * events of a rehearsal, faithful enough for @aws-sdk/client-eventbridge (a spec checks the keys
 * against its model). Records what was put; `failNext` answers throttling or 500 as bursts come.
 * Loopback only; the SDK finds it through AWS_ENDPOINT_URL_EVENTBRIDGE.
 */
export class EventBridgeApi extends LoopbackApi {
  public readonly events: PutEvent[] = [];
  /** Every request body, and every answer, for the model check. */
  public readonly requests: Array<Record<string, unknown>> = [];
  public readonly answers: Array<Record<string, unknown>> = [];
  private readonly scripted: Array<'throttle' | 'serverError'> = [];

  /** The next `count` PutEvents calls fail ('throttle': ThrottlingException; 'serverError': 500). */
  public failNext(fault: 'throttle' | 'serverError', count = 1): void {
    for (let i = 0; i < count; i++) this.scripted.push(fault);
  }

  protected async handle(request: RawRequest): Promise<RawResponse> {
    const action = String(request.headers['x-amz-target'] ?? '').replace(/^AWSEvents\./, '');
    const body = request.body ? JSON.parse(request.body) as Record<string, any> : {};
    this.requests.push(body);
    const fault = action === 'PutEvents' ? this.scripted.shift() : undefined;
    if (fault === 'throttle') return error(400, 'ThrottlingException', 'Rate exceeded');
    if (fault === 'serverError') return error(500, 'InternalException', 'An internal error occurred');
    if (action !== 'PutEvents') return error(400, 'UnknownOperationException', `Unknown operation ${action}`);
    const entries = (body.Entries ?? []) as Array<Record<string, any>>;
    const answer = {
      FailedEntryCount: 0,
      Entries: entries.map(entry => {
        this.events.push({
          source: entry.Source, detailType: entry.DetailType, detail: JSON.parse(entry.Detail ?? '{}'),
          resources: entry.Resources ?? [], eventBusName: entry.EventBusName ?? 'default',
        });
        return { EventId: randomUUID() };
      }),
    };
    this.answers.push(answer);
    return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(answer) };
  }
}

function error(status: number, type: string, message: string): RawResponse {
  return { status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ __type: type, message }) };
}
