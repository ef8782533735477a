import { Json } from '../../../lib/local/resources';
import { FutureEngine, withFutureEngine } from './future-reservation-harness';

/**
 * FutureCapacityReservation's bundled handler under the real Provider framework runtime, against the
 * EC2 and Price List emulators, on simulated days. m7i.8xlarge is priced 1.536 USD per instance-hour
 * (32 vCPUs × 0.048): 2 instances × 14 days (336 h) commit 1032.192 USD.
 */
const DAY = 86_400_000;

const props = (e: FutureEngine, over: Json = {}): Json => ({
  InstanceType: 'm7i.8xlarge', InstanceCount: '2', AvailabilityZone: 'us-east-1a',
  StartDate: new Date(Math.floor(e.ec2.clock.now().getTime() / DAY) * DAY + 60 * DAY).toISOString(),
  CommitmentSeconds: String(14 * 86_400), MaxCommittedCost: '1100', ...over,
});
const creates = (e: FutureEngine) => e.ec2.calls.filter(c => c.action === 'CreateCapacityReservation');
const stateOf = (e: FutureEngine, id: string) => e.ec2.future.stateOf(e.ec2.future.reservations.get(id)!);

describe('requested once', () => {
  test('GIVEN a Create delivered twice at the same time THEN one reservation is requested, answered while assessing, with the exact committed cost', () => withFutureEngine(async e => {
    const stack = e.stack('twice-concurrent');
    expect(await stack.deploy(props(e))).toBe('CREATE_COMPLETE');
    expect(e.ec2.future.requests).toHaveLength(1);
    const id = stack.resource!.physicalResourceId;
    expect(id).toBe(e.ec2.future.requests[0].id);
    expect(stack.exchanges[0].response.Data).toMatchObject({ State: 'assessing', CommittedCost: '1032.192', CurrencyCode: 'USD', InstanceCount: '2', InstanceType: 'm7i.8xlarge' });
    expect(e.ec2.future.requests[0].tags.get('cdk-capacity-reservations:owner')).toBe('Plans/Reservation');
  }));

  test('GIVEN EC2 accepts the request but its answer is lost THEN the repeat carries the same ClientToken and one reservation exists', () => withFutureEngine(async e => {
    e.ec2.failNext('CreateCapacityReservation', 'lostAnswer', 1);
    const stack = e.stack();
    expect(await stack.deploy(props(e))).toBe('CREATE_COMPLETE');
    const tokens = new Set(creates(e).map(c => c.params.ClientToken));
    expect(creates(e).length).toBeGreaterThanOrEqual(2);
    expect(tokens.size).toBe(1);
    expect(e.ec2.future.requests).toHaveLength(1);
    expect(stack.resource!.physicalResourceId).toBe(e.ec2.future.requests[0].id);
  }));

  test('GIVEN a Create delivered again after it answered THEN nothing more is requested', () => withFutureEngine(async e => {
    const stack = e.stack('twice-late');
    expect(await stack.deploy(props(e))).toBe('CREATE_COMPLETE');
    await stack.redeliver(stack.exchanges[0]);
    expect(e.ec2.future.requests).toHaveLength(1);
  }));
});

describe('never above maxCommittedCost (exact decimal)', () => {
  test('GIVEN a ceiling a hair below the cost (1032.19199999999999, which a float reads as 1032.192) THEN nothing is requested', () => withFutureEngine(async e => {
    const stack = e.stack();
    expect(await stack.deploy(props(e, { MaxCommittedCost: '1032.19199999999999' }))).toBe('ROLLBACK_COMPLETE');
    expect(creates(e)).toHaveLength(0);
    expect(e.ec2.future.requests).toHaveLength(0);
    expect(stack.exchanges[0].response.Reason).toMatch(/commitment costs 1032\.192 USD .* above maxCommittedCost 1032\.19199999999999 USD; nothing was requested/);
  }));

  test('GIVEN a ceiling exactly the cost (3 × 0.1 × 336 = 100.8, a float says 100.80000000000001) THEN it is requested', () => withFutureEngine(async e => {
    const stack = e.stack();
    expect(await stack.deploy(props(e, { InstanceCount: '3', MaxCommittedCost: '100.8' }))).toBe('CREATE_COMPLETE');
    expect(e.ec2.future.requests).toHaveLength(1);
    expect(stack.exchanges[0].response.Data).toMatchObject({ CommittedCost: '100.8' });
  }, {}, { rates: { 'm7i.8xlarge': '0.1000000000' } }));
});

test('GIVEN EC2 accepted the request and the outcome cannot be recorded THEN it is cancelled free before FAILED', () => withFutureEngine(async e => {
  e.seams.claims.failNextWrites(20, 'ledger#', '"outcome":"bought"');
  const stack = e.stack();
  expect(await stack.deploy(props(e))).toBe('ROLLBACK_COMPLETE');
  expect(e.ec2.future.requests).toHaveLength(1);
  const id = e.ec2.future.requests[0].id;
  expect(stateOf(e, id)).toBe('cancelled');
  expect(stack.exchanges[0].response.Reason).toMatch(new RegExp(`EC2 had accepted ${id}, which was cancelled free of charge`));
}));

describe('Delete in each state', () => {
  test('GIVEN it is assessing WHEN the stack is deleted THEN it is cancelled free', () => withFutureEngine(async e => {
    const stack = e.stack();
    await stack.deploy(props(e));
    const id = stack.resource!.physicalResourceId;
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(stateOf(e, id)).toBe('cancelled');
    expect(e.ec2.calls.filter(c => c.action === 'CreateCapacityReservationCancellationQuote')).toHaveLength(0);
  }));

  test('GIVEN it is scheduled and maxCancellationCharge is not set WHEN the stack is deleted THEN it is kept and the answer says how to cancel it', () => withFutureEngine(async e => {
    const stack = e.stack();
    await stack.deploy(props(e));
    const id = stack.resource!.physicalResourceId;
    e.ec2.clock.advance(3 * DAY);
    expect(stateOf(e, id)).toBe('scheduled');
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(stateOf(e, id)).toBe('scheduled');
    expect(String(stack.exchanges[stack.exchanges.length - 1].response.Data?.Note)).toMatch(/Kept .*maxCancellationCharge is not set.*cancel-capacity-reservation/);
  }));

  test('GIVEN it is scheduled and the quoted charge is within maxCancellationCharge WHEN deleted THEN it is cancelled on the quote', () => withFutureEngine(async e => {
    const stack = e.stack();
    await stack.deploy(props(e, { MaxCancellationCharge: '1100' }));
    const id = stack.resource!.physicalResourceId;
    e.ec2.clock.advance(3 * DAY);
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(stateOf(e, id)).toBe('cancelling');
  }));

  test('GIVEN it is scheduled and the quoted charge (1032.192) is above maxCancellationCharge (1032.19) WHEN deleted THEN it is kept', () => withFutureEngine(async e => {
    const stack = e.stack();
    await stack.deploy(props(e, { MaxCancellationCharge: '1032.19' }));
    const id = stack.resource!.physicalResourceId;
    e.ec2.clock.advance(3 * DAY);
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(stateOf(e, id)).toBe('scheduled');
    expect(String(stack.exchanges[stack.exchanges.length - 1].response.Data?.Note)).toMatch(/cancelling costs 1032\.20 USD .* above maxCancellationCharge 1032\.19 USD/);
  }));

  test('GIVEN it is scheduled WHEN a rollback deletes it THEN it is kept, whatever maxCancellationCharge allows', () => withFutureEngine(async e => {
    const stack = e.stack();
    expect(await stack.deploy(props(e, { MaxCancellationCharge: '5000' }), { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    const id = e.ec2.future.requests[0].id;
    expect(stateOf(e, id)).toBe('scheduled');
    expect(e.ec2.calls.filter(c => c.action === 'CancelCapacityReservation')).toHaveLength(0);
    const rollbackDelete = stack.exchanges[stack.exchanges.length - 1];
    expect(rollbackDelete).toMatchObject({ requestType: 'Delete', phase: 'rollback', response: { Status: 'SUCCESS' } });
    expect(String(rollbackDelete.response.Data?.Note)).toMatch(/Kept .*a rollback never pays a cancellation charge/);
  }, { futureReservations: { assessmentMs: 0 } }));

  test('GIVEN a rollback Delete whose free cancellation is throttled beyond the SDK\'s retries THEN the rollback lands, naming the reservation it kept', () => withFutureEngine(async e => {
    e.ec2.failNext('CancelCapacityReservation', 'throttle', 4);
    const stack = e.stack();
    expect(await stack.deploy(props(e), { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    const id = e.ec2.future.requests[0].id;
    const rollbackDelete = stack.exchanges[stack.exchanges.length - 1];
    expect(rollbackDelete).toMatchObject({ requestType: 'Delete', phase: 'rollback', response: { Status: 'SUCCESS' } });
    expect(String(rollbackDelete.response.Data?.Note)).toMatch(new RegExp(`Kept ${id} \\(assessing\\): cancelling it failed .*aws ec2 cancel-capacity-reservation --capacity-reservation-id ${id}`));
  }));

  test('GIVEN it is active past its commitment WHEN deleted THEN it is cancelled free', () => withFutureEngine(async e => {
    const stack = e.stack();
    await stack.deploy(props(e));
    const id = stack.resource!.physicalResourceId;
    e.ec2.clock.advance(75 * DAY);
    expect(stateOf(e, id)).toBe('active');
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(stateOf(e, id)).toBe('cancelled');
    expect(e.ec2.calls.filter(c => c.action === 'CreateCapacityReservationCancellationQuote')).toHaveLength(0);
  }));
});

describe('Update', () => {
  test('GIVEN a scheduled reservation WHEN startDate moves 10 days later THEN the start is pushed out in place through a quote', () => withFutureEngine(async e => {
    const stack = e.stack();
    const first = props(e);
    await stack.deploy(first);
    const id = stack.resource!.physicalResourceId;
    e.ec2.clock.advance(3 * DAY);
    const later = new Date(Date.parse(String(first.StartDate)) + 10 * DAY);
    expect(await stack.deploy({ ...first, StartDate: later.toISOString() })).toBe('UPDATE_COMPLETE');
    expect(stack.resource!.physicalResourceId).toBe(id);
    const r = e.ec2.future.reservations.get(id)!;
    expect(r.startDate).toEqual(later);
    expect(r.originalStartDate).toEqual(new Date(String(first.StartDate)));
    expect(e.ec2.future.requests).toHaveLength(1);
  }));

  test('GIVEN a reservation WHEN instanceCount changes without allowRepurchase THEN refused, nothing requested, and the rollback lands', () => withFutureEngine(async e => {
    const stack = e.stack();
    const first = props(e);
    await stack.deploy(first);
    expect(await stack.deploy({ ...first, InstanceCount: '4' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(e.ec2.future.requests).toHaveLength(1);
    expect(stack.exchanges.find(x => x.requestType === 'Update')!.response.Reason).toMatch(/instanceCount cannot change .* set allowRepurchase/);
  }));

  test('GIVEN allowRepurchase WHEN the count changes THEN a new reservation is requested and the old one is cancelled in cleanup (free while assessing)', () => withFutureEngine(async e => {
    const stack = e.stack();
    const first = props(e, { AllowRepurchase: 'true' });
    await stack.deploy(first);
    const old = stack.resource!.physicalResourceId;
    expect(await stack.deploy({ ...first, InstanceCount: '4', MaxCommittedCost: '2100' })).toBe('UPDATE_COMPLETE');
    expect(stack.resource!.physicalResourceId).not.toBe(old);
    expect(e.ec2.future.requests).toHaveLength(2);
    expect(stateOf(e, old)).toBe('cancelled');
  }));

  test('GIVEN a replacing update WHEN a later resource fails THEN the rollback returns to the reservation CloudFormation tracked, and the new one is cancelled free', () => withFutureEngine(async e => {
    const stack = e.stack();
    const first = props(e, { AllowRepurchase: 'true' });
    await stack.deploy(first);
    const old = stack.resource!.physicalResourceId;
    expect(await stack.deploy({ ...first, InstanceCount: '4', MaxCommittedCost: '2100' }, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(stack.resource!.physicalResourceId).toBe(old);
    const replacement = e.ec2.future.requests.find(r => r.id !== old)!;
    expect(stateOf(e, old)).toBe('assessing');
    expect(stateOf(e, replacement.id)).toBe('cancelled');
  }));

  test('GIVEN a replacing update whose request EC2 took, with its answer and the read after it lost WHEN deployed again THEN that request is withdrawn free before a new one', () => withFutureEngine(async e => {
    const stack = e.stack();
    const first = props(e, { AllowRepurchase: 'true' });
    await stack.deploy(first);
    const old = stack.resource!.physicalResourceId;
    e.ec2.failNext('CreateCapacityReservation', 'lostAnswer', 4);
    e.ec2.failNext('DescribeCapacityReservations', 'throttle', 4, p => p['Filter.1.Name'] !== undefined);
    const bigger = { ...first, InstanceCount: '4', MaxCommittedCost: '2100' };
    expect(await stack.deploy(bigger)).toBe('UPDATE_ROLLBACK_COMPLETE');
    const lost = e.ec2.future.requests.find(r => r.id !== old)!;
    expect(stateOf(e, lost.id)).toBe('assessing');
    expect(await stack.deploy(bigger)).toBe('UPDATE_COMPLETE');
    expect(stateOf(e, lost.id)).toBe('cancelled');
    const live = e.ec2.future.requests.filter(r => ['assessing', 'scheduled'].includes(stateOf(e, r.id)));
    expect(live.map(r => r.id)).toEqual([stack.resource!.physicalResourceId]);
    expect(String(stack.exchanges.filter(x => x.requestType === 'Update' && x.phase === 'deploy').pop()!.response.Data?.Note)).toMatch(new RegExp(`Withdrew ${lost.id}`));
  }));

  test('GIVEN tags change THEN they change in place and nothing is requested', () => withFutureEngine(async e => {
    const stack = e.stack();
    const first = props(e, { Tags: [{ Key: 'team', Value: 'ml' }] });
    await stack.deploy(first);
    const id = stack.resource!.physicalResourceId;
    expect(await stack.deploy({ ...first, Tags: [{ Key: 'team', Value: 'research' }] })).toBe('UPDATE_COMPLETE');
    expect(e.ec2.future.reservations.get(id)!.tags.get('team')).toBe('research');
    expect(e.ec2.future.requests).toHaveLength(1);
  }));
});
