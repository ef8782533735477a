import type { EcsCall } from '../../../lib/alicloud/handler/ecs';
import { answerKeysNotInModel, queryNotInModel } from '../../local/alicloud/ecs-model';

interface FakeReservation {
  id: string;
  zoneId: string;
  instanceType: string;
  amount: number;
  status: string;
  name?: string;
  description?: string;
  endTime?: string;
  matchCriteria?: string;
  platform?: string;
  tags: Map<string, string>;
  polls: number;
}

/** An error shaped like the OpenAPI client's ResponseError. */
export function ecsError(code: string, statusCode = 400): Error {
  return Object.assign(new Error(`code: ${statusCode}, ${code} happened`), { code, data: { statusCode, Message: `${code} happened` } });
}

/**
 * In-memory ECS for handler specs: per-zone stock, ClientToken idempotency, Pending -> Active after
 * `pendingPolls` describes, tags, and injected failures per action. Every query the handler sends and
 * every answer given is checked against the official @alicloud/ecs20140526 model (a mismatch throws).
 */
export class FakeEcs {
  public readonly stock: Record<string, number> = {};
  public readonly reservations = new Map<string, FakeReservation>();
  public readonly calls: Array<{ action: string; query: Record<string, any> }> = [];
  public pendingPolls = 1;
  /** Ids tag-filtered describes do not return yet (ECS's tag index lags behind a create). */
  public readonly unlisted = new Set<string>();
  /** When set, every reservation created is unlisted until a test lists it. */
  public tagIndexLags = false;
  /**
   * Tag-filtered listings a new reservation is missing from (ECS's tag index lags behind a create):
   * it shows from the (n+1)-th tag listing after its creation on.
   */
  public tagIndexLag = 0;
  /** ECS refuses to release a reservation that is not Active yet (Invalid.PrivatePoolOptions.status). */
  public releaseRefusedWhilePending = true;
  /** Called on every describe of one reservation, e.g. to move the clock. */
  public onPoll: () => void = () => undefined;
  /** ClientToken -> the reservation it made and the parameters it was made with (ECS: a repeat gets the first result, other parameters IdempotentParameterMismatch). */
  private readonly tokens = new Map<string, { id: string; params: string }>();
  private readonly listingsMissed = new Map<string, number>();
  private readonly failures: Array<{ action: string; error: Error; zone?: string; times: number }> = [];
  private next = 1;

  public failNext(action: string, error: Error, options: { zone?: string; times?: number } = {}): void {
    this.failures.push({ action, error, zone: options.zone, times: options.times ?? 1 });
  }

  public callsOf(action: string): Array<Record<string, any>> {
    return this.calls.filter(c => c.action === action).map(c => c.query);
  }

  public live(): FakeReservation[] {
    return [...this.reservations.values()].filter(r => r.status !== 'Released');
  }

  /** Runs before each call is answered, e.g. to act as a concurrent delivery. */
  public beforeCall: (action: string, query: Record<string, any>) => void | Promise<void> = () => undefined;

  public readonly call: EcsCall = async (action, rawQuery) => {
    const problems = queryNotInModel(action, rawQuery);
    if (problems.length > 0) throw new Error(`the handler sent parameters the ECS model does not have: ${problems.join('; ')}`);
    const answer = await this.answer(action, rawQuery);
    const wrong = answerKeysNotInModel(action, answer);
    if (wrong.length > 0) throw new Error(`FakeEcs answered keys the ECS model does not have: ${wrong.join('; ')}`);
    return answer;
  };

  private async answer(action: string, rawQuery: Record<string, unknown>): Promise<Record<string, any>> {
    const query = rawQuery as Record<string, any>;
    this.calls.push({ action, query });
    await this.beforeCall(action, query);
    const failure = this.failures.find(f => f.action === action && f.times > 0 && (!f.zone || f.zone === query.ZoneId?.[0]));
    if (failure) {
      failure.times--;
      throw failure.error;
    }
    switch (action) {
      case 'CreateCapacityReservation': return this.create(query);
      case 'DescribeCapacityReservations': return this.describe(query);
      case 'ModifyCapacityReservation': return this.modify(query);
      case 'ReleaseCapacityReservation': return this.release(query);
      case 'TagResources': {
        // ECS allows 20 tags per resource (the error code here is a stand-in: only the refusal matters).
        const r = this.get(query.ResourceId[0]);
        if (new Set([...r.tags.keys(), ...query.Tag.map((t: any) => t.Key)]).size > 20) throw ecsError('InvalidTagCount');
        query.Tag.forEach((t: any) => r.tags.set(t.Key, t.Value));
        return {};
      }
      case 'UntagResources':
        query.TagKey.forEach((k: string) => this.get(query.ResourceId[0]).tags.delete(k));
        return {};
      default: throw ecsError('InvalidAction.NotFound', 404);
    }
  }

  private create(q: Record<string, any>) {
    const { ClientToken: token, ...rest } = q;
    const params = JSON.stringify(rest);
    const existing = this.tokens.get(token);
    if (existing && existing.params !== params) throw ecsError('IdempotentParameterMismatch');
    if (existing) return { PrivatePoolOptionsId: existing.id };
    const zoneId = q.ZoneId[0];
    if ((this.stock[zoneId] ?? 0) < q.InstanceAmount) throw ecsError('NoStock');
    this.stock[zoneId] -= q.InstanceAmount;
    const id = `crp-fake${this.next++}`;
    this.tokens.set(token, { id, params });
    if (this.tagIndexLags) this.unlisted.add(id);
    if (this.tagIndexLag > 0) this.listingsMissed.set(id, this.tagIndexLag);
    this.reservations.set(id, {
      id, zoneId, instanceType: q.InstanceType, amount: q.InstanceAmount, status: 'Pending',
      name: q.PrivatePoolOptions?.Name, description: q.Description, endTime: q.EndTime,
      matchCriteria: q.PrivatePoolOptions?.MatchCriteria ?? 'Open', platform: q.Platform,
      tags: new Map((q.Tag ?? []).map((t: any) => [t.Key, t.Value])), polls: 0,
    });
    return { PrivatePoolOptionsId: id };
  }

  private describe(q: Record<string, any>) {
    // Newest first, and every StartTime the same minute: the order alone must never pick one.
    let found = [...this.reservations.values()].reverse();
    if (q.PrivatePoolOptions?.Ids) {
      const ids: string[] = JSON.parse(q.PrivatePoolOptions.Ids);
      found = found.filter(r => ids.includes(r.id));
      for (const r of found) {
        this.onPoll();
        if (r.status === 'Pending' && ++r.polls > this.pendingPolls) r.status = 'Active';
      }
    }
    for (const t of q.Tag ?? []) found = found.filter(r => r.tags.get(t.Key) === t.Value && !this.unlisted.has(r.id) && !this.missesListing(r.id));
    return {
      CapacityReservationSet: {
        CapacityReservationItem: found.map(r => ({
          PrivatePoolOptionsId: r.id,
          PrivatePoolOptionsName: r.name,
          Status: r.status,
          StartTime: '2026-11-23T12:00Z',
          EndTime: r.endTime ?? '',
          EndTimeType: r.endTime ? 'Limited' : 'Unlimited',
          PrivatePoolOptionsMatchCriteria: r.matchCriteria,
          Platform: (r.platform ?? 'Linux').toLowerCase(),
          AllocatedResources: { AllocatedResource: [{ zoneId: r.zoneId, InstanceType: r.instanceType, TotalAmount: r.amount }] },
          Tags: { Tag: [...r.tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })) },
        })),
      },
      NextToken: '',
    };
  }

  /** One tag listing: a reservation still inside its lag misses it. */
  private missesListing(id: string): boolean {
    const left = this.listingsMissed.get(id) ?? 0;
    if (left <= 0) return false;
    this.listingsMissed.set(id, left - 1);
    return true;
  }

  private modify(q: Record<string, any>) {
    const r = this.get(q.PrivatePoolOptions.Id);
    if (q.InstanceAmount !== undefined) r.amount = q.InstanceAmount;
    if (q.PrivatePoolOptions.Name !== undefined) r.name = q.PrivatePoolOptions.Name;
    if (q.Description !== undefined) r.description = q.Description;
    if (q.EndTimeType === 'Unlimited') r.endTime = undefined;
    if (q.EndTime !== undefined) r.endTime = q.EndTime;
    return {};
  }

  private release(q: Record<string, any>) {
    // The Release reference: released or unknown ids get InvalidParameter.PrivatePoolOptions.Ids;
    // only manual-release (Unlimited) reservations may be released.
    const r = this.reservations.get(q.PrivatePoolOptions.Id);
    if (!r || r.status === 'Released') throw ecsError('InvalidParameter.PrivatePoolOptions.Ids');
    if (r.endTime) throw ecsError('OperationDenied', 403);
    if (this.releaseRefusedWhilePending && r.status === 'Pending') throw ecsError('Invalid.PrivatePoolOptions.status');
    r.status = 'Released';
    return {};
  }

  private get(id: string): FakeReservation {
    const r = this.reservations.get(id);
    if (!r) throw ecsError('Invalid.PrivatePoolOptions.Id');
    return r;
  }
}
