import { createServer, IncomingHttpHeaders, Server } from 'http';
import { AddressInfo } from 'net';
import { handler, postResponse, RosEvent, RosRefusedError, RosResponse, seams } from '../../../lib/alicloud/handler';
import { fingerprint, ledgerTag, readLedger } from '../../../lib/alicloud/handler/ledger';
import { clientToken, resourceKeys } from '../../../lib/alicloud/handler/request';
import { waitPolicy } from '../../../lib/alicloud/handler/reservations';
import { AliReservationParameters, ANSWER_TAG_PREFIX, LEDGER_TAG, RESOURCE_TAG } from '../../../lib/alicloud/wire';
import { ecsError, FakeEcs } from './fake-ecs';

const RESPONSE_URL = 'https://ros-response.example/presigned?Signature=secret-signature';
const CREDENTIALS = { accessKeyId: 'STS.local-key', accessKeySecret: 'local-secret-value', securityToken: 'local-token' };
const STACK_ID = '4b6c9e2a-1111-2222-3333-444455556666';

let ecs: FakeEcs;
let answers: RosResponse[];
let logged: string[];
let stackSettled: boolean;

beforeEach(() => {
  ecs = new FakeEcs();
  Object.assign(ecs.stock, { 'cn-hangzhou-h': 8, 'cn-hangzhou-i': 8 });
  answers = [];
  logged = [];
  seams.ecs = () => ecs.call;
  // ROS GetStack as ROS answers it (no network in unit tests): an update runs until ROS has the answer.
  stackSettled = false;
  seams.respond = async (_url, response) => { answers.push(response); stackSettled = true; };
  seams.stackStatus = async () => (stackSettled ? 'UPDATE_COMPLETE' : 'UPDATE_IN_PROGRESS');
  waitPolicy.pollIntervalMs = 0;
  jest.spyOn(console, 'log').mockImplementation((...args) => { logged.push(args.join(' ')); });
});
afterEach(() => {
  jest.restoreAllMocks();
  jest.useRealTimers();
});

function params(overrides: Partial<AliReservationParameters> = {}): AliReservationParameters {
  return { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'], ...overrides };
}

function event(type: RosEvent['RequestType'], p: Partial<AliReservationParameters> = {}, extra: Partial<RosEvent> = {}): RosEvent {
  return {
    RequestType: type,
    ResponseURL: RESPONSE_URL,
    StackId: STACK_ID,
    RequestId: `req-${type}`,
    LogicalResourceId: 'GpuPool',
    ResourceProperties: params(p),
    RegionId: 'cn-hangzhou',
    ...extra,
  };
}

/** Invokes the handler as FC does: the event as a Buffer, credentials in the context. */
async function invoke(e: RosEvent): Promise<RosResponse> {
  stackSettled = false;
  await handler(Buffer.from(JSON.stringify(e)), { credentials: CREDENTIALS });
  return answers[answers.length - 1];
}

async function created(p: Partial<AliReservationParameters> = {}): Promise<RosResponse> {
  const answer = await invoke(event('Create', p));
  expect(answer.Status).toBe('SUCCESS');
  return answer;
}

describe('Create', () => {
  test('creates in the first zone, waits until Active and answers ROS with the reservation', async () => {
    ecs.pendingPolls = 3;
    const answer = await created();
    expect(answer).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'crp-fake1',
      StackId: STACK_ID,
      RequestId: 'req-Create',
      LogicalResourceId: 'GpuPool',
      Data: { ReservationId: 'crp-fake1', ZoneId: 'cn-hangzhou-h', Status: 'Active', StartTime: '2026-11-23T12:00Z', EndTime: '' },
    });
    expect(ecs.callsOf('DescribeCapacityReservations').filter(q => q.PrivatePoolOptions?.Ids)).toHaveLength(4);
    expect(ecs.callsOf('CreateCapacityReservation')[0]).toMatchObject({
      InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneId: ['cn-hangzhou-h'], EndTimeType: 'Unlimited',
      PrivatePoolOptions: { MatchCriteria: 'Open' },
    });
  });

  test('passes every optional parameter to ECS, with EndTime making it Limited', async () => {
    await created({
      Name: 'gpu-pool', Description: 'for inference', MatchCriteria: 'Target', EndTime: '2030-01-01T00:00:00Z',
      Platform: 'Linux', ResourceGroupId: 'rg-acfm2', Tags: [{ Key: 'team', Value: 'ml' }],
    });
    const call = ecs.callsOf('CreateCapacityReservation')[0];
    expect(call).toMatchObject({
      PrivatePoolOptions: { Name: 'gpu-pool', MatchCriteria: 'Target' }, Description: 'for inference',
      EndTime: '2030-01-01T00:00:00Z', EndTimeType: 'Limited', ResourceGroupId: 'rg-acfm2',
    });
    // ECS documents CreateCapacityReservation's Platform as "not available for use": never sent.
    expect(call).not.toHaveProperty('Platform');
    expect(call.Tag).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'ml' }, expect.objectContaining({ Key: RESOURCE_TAG }), { Key: LEDGER_TAG, Value: expect.stringMatching(/^g0:[0-9a-f]{8};s=[0-9a-f]{8};a=4$/) }]));
  });

  test.each(['NoStock', 'OperationDenied.NoStock', 'Zone.NotOnSale', 'Zone.NotOpen', 'InvalidResourceType.NotSupported'])('%s in the first zone creates the reservation in the second', async code => {
    ecs.failNext('CreateCapacityReservation', ecsError(code, code === 'NoStock' ? 400 : 403), { zone: 'cn-hangzhou-h' });
    const answer = await created();
    expect(answer.Data).toMatchObject({ ZoneId: 'cn-hangzhou-i', Status: 'Active' });
    expect(ecs.callsOf('CreateCapacityReservation').map(q => q.ZoneId[0])).toEqual(['cn-hangzhou-h', 'cn-hangzhou-i']);
  });

  test('fails naming every zone when none has stock, and creates nothing', async () => {
    Object.assign(ecs.stock, { 'cn-hangzhou-h': 0, 'cn-hangzhou-i': 1 });
    const answer = await invoke(event('Create'));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/No stock of 4 x ecs.gn7i-c8g1.2xlarge in any of zoneIds: cn-hangzhou-h \(NoStock\), cn-hangzhou-i \(NoStock\); add zones/);
    expect(answer.PhysicalResourceId).toMatch(/^not-created-/);
    expect(ecs.live()).toHaveLength(0);
  });

  test('a FAILED answer carries the mapped reason and a PhysicalResourceId, and other zones are not tried', async () => {
    ecs.failNext('CreateCapacityReservation', ecsError('InvalidResourceGroup.NotFound', 404));
    const answer = await invoke(event('Create', { ResourceGroupId: 'rg-gone' }));
    expect(answer).toMatchObject({ Status: 'FAILED', StackId: STACK_ID, RequestId: 'req-Create', LogicalResourceId: 'GpuPool' });
    expect(answer.Reason).toBe('ECS CreateCapacityReservation (zone cn-hangzhou-h) failed with InvalidResourceGroup.NotFound: the resource group does not exist; fix resourceGroupId or remove it');
    expect(answer.PhysicalResourceId).toBeTruthy();
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(1);
  });

  test('a redelivered Create makes one reservation, and the answer is the same', async () => {
    const first = await created();
    const second = await created();
    expect(ecs.live()).toHaveLength(1);
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
  });

  test('a redelivery after a zone fallback adopts the reservation, even when the first zone has stock again', async () => {
    ecs.failNext('CreateCapacityReservation', ecsError('NoStock'), { zone: 'cn-hangzhou-h' });
    const first = await created();
    const second = await created();
    expect(ecs.live()).toHaveLength(1);
    expect(second.Data?.ZoneId).toBe('cn-hangzhou-i');
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
  });

  test('the ClientToken alone deduplicates a retried create the tag lookup could not see', async () => {
    await created();
    ecs.reservations.get('crp-fake1')!.tags.clear(); // tags not visible yet
    await created();
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(2);
    expect(ecs.live()).toHaveLength(1);
  });

  test('the ClientToken is stable for a resource and generation, the same in every zone, ASCII within 64, and differs between resources and generations', () => {
    const keys = resourceKeys(event('Create'));
    const token = clientToken(keys, 'g0:0123abcd');
    expect(token).toMatch(/^[\x20-\x7e]{1,64}$/);
    expect(clientToken(resourceKeys(event('Create')), 'g0:0123abcd')).toBe(token);
    expect(clientToken(resourceKeys(event('Create', {}, { LogicalResourceId: 'OtherPool' })), 'g0:0123abcd')).not.toBe(token);
    expect(clientToken(keys, 'g1:0123abcd')).not.toBe(token);
  });

  test('fails naming the reservation, that it bills and what to do when it stays Pending past waitTimeout and the release grace (ECS releases only Active ones)', async () => {
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    ecs.pendingPolls = Number.POSITIVE_INFINITY;
    ecs.onPoll = () => jest.setSystemTime(Date.now() + 30_000);
    const answer = await invoke(event('Create', { WaitTimeoutSeconds: 120 }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^Capacity reservation crp-fake1 is still Pending and ECS releases a reservation only once it is Active; it bills meanwhile: continue the rollback/);
    expect(answer.PhysicalResourceId).toBe('crp-fake1');
  });

  test('a reservation that turns Active just as waitTimeout passes is kept and answered, not released (another delivery may have answered it)', async () => {
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    ecs.pendingPolls = Number.POSITIVE_INFINITY;
    let polls = 0;
    ecs.onPoll = () => {
      jest.setSystemTime(Date.now() + 30_000);
      // The 4th poll (at the deadline) still shows Pending; right after, it is Active.
      if (++polls === 5) ecs.reservations.get('crp-fake1')!.status = 'Active';
    };
    const answer = await invoke(event('Create', { WaitTimeoutSeconds: 120 }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'crp-fake1', Data: { Status: 'Active' } });
    expect(ecs.callsOf('ReleaseCapacityReservation')).toHaveLength(0);
  });

  test('invalid parameters fail before any ECS call, naming each', async () => {
    const answer = await invoke(event('Create', { InstanceAmount: 0, Name: 'http://x', Tags: [{ Key: 'acs:x', Value: 'v' }] }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/instanceAmount must be a whole number of at least 1, got 0.*name must not start with http.*tag key must not start with 'aliyun' or 'acs:'/);
    expect(ecs.calls).toHaveLength(0);
  });
});

describe('Update', () => {
  test('amount, name, description and end time change in place with ModifyCapacityReservation', async () => {
    const { PhysicalResourceId } = await created({ Name: 'pool-a' });
    const answer = await invoke(event('Update', { InstanceAmount: 6, Name: 'pool-b', Description: 'bigger', EndTime: '2030-01-01T00:00:00Z' }, {
      PhysicalResourceId, OldResourceProperties: params({ Name: 'pool-a' }),
    }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId, Data: { ReservationId: 'crp-fake1', EndTime: '2030-01-01T00:00:00Z' } });
    expect(ecs.callsOf('ModifyCapacityReservation')).toEqual([{
      PrivatePoolOptions: { Id: 'crp-fake1', Name: 'pool-b' }, Description: 'bigger', InstanceAmount: 6, EndTimeType: 'Limited', EndTime: '2030-01-01T00:00:00Z',
    }]);
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(1);
  });

  test('an in-place change still not Active at waitTimeout keeps the reservation the stack holds and answers its status (no rollback to time out too)', async () => {
    const { PhysicalResourceId } = await created();
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    ecs.onPoll = () => jest.setSystemTime(Date.now() + 30_000);
    ecs.beforeCall = (action) => {
      // ECS takes its time to add capacity: the reservation leaves Active for good here.
      if (action === 'ModifyCapacityReservation') {
        ecs.pendingPolls = Number.POSITIVE_INFINITY;
        Object.assign(ecs.reservations.get('crp-fake1')!, { status: 'Pending', polls: 0 });
      }
    };
    const answer = await invoke(event('Update', { InstanceAmount: 6, WaitTimeoutSeconds: 120 }, { PhysicalResourceId, OldResourceProperties: params() }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake1', Status: 'Pending' } });
    expect(logged.join('\n')).toMatch(/crp-fake1 is still Pending after waitTimeout following the change; it is kept/);
    expect(ecs.callsOf('ReleaseCapacityReservation')).toHaveLength(0);
    expect(ecs.live().map(r => r.id)).toEqual(['crp-fake1']);
  });

  test('removing endTime makes the reservation Unlimited', async () => {
    const { PhysicalResourceId } = await created({ EndTime: '2030-01-01T00:00:00Z' });
    await invoke(event('Update', {}, { PhysicalResourceId, OldResourceProperties: params({ EndTime: '2030-01-01T00:00:00Z' }) }));
    expect(ecs.callsOf('ModifyCapacityReservation')).toEqual([{ PrivatePoolOptions: { Id: 'crp-fake1' }, EndTimeType: 'Unlimited' }]);
  });

  test('removing name or description keeps them on the reservation (ECS cannot clear them) and says so in the log', async () => {
    const { PhysicalResourceId } = await created({ Name: 'pool-a', Description: 'the pool' });
    const answer = await invoke(event('Update', {}, { PhysicalResourceId, OldResourceProperties: params({ Name: 'pool-a', Description: 'the pool' }) }));
    expect(answer.Status).toBe('SUCCESS');
    expect(ecs.callsOf('ModifyCapacityReservation')).toHaveLength(0);
    expect(logged.join('\n')).toMatch(/name was removed from the template; ECS cannot clear it, so the reservation keeps \\"pool-a\\"/);
  });

  test('an update to 16 user tags succeeds after a Create left its answer marker (ECS takes 20 tags), and the marker is removed', async () => {
    const tags = Array.from({ length: 15 }, (_, i) => ({ Key: `team${i}`, Value: 'ml' }));
    const { PhysicalResourceId } = await created({ Tags: tags });
    expect([...ecs.reservations.get('crp-fake1')!.tags.keys()].filter(k => k.startsWith(ANSWER_TAG_PREFIX))).toHaveLength(1);
    const more = [...tags, { Key: 'owner', Value: 'me' }];
    const answer = await invoke(event('Update', { Tags: more }, { PhysicalResourceId, OldResourceProperties: params({ Tags: tags }) }));
    expect(answer.Status).toBe('SUCCESS');
    expect([...ecs.reservations.get('crp-fake1')!.tags.keys()].filter(k => k.startsWith(ANSWER_TAG_PREFIX))).toHaveLength(0);
    expect(ecs.reservations.get('crp-fake1')!.tags.get('owner')).toBe('me');
  });

  test('tags change in place: TagResources for new values, UntagResources for removed keys', async () => {
    const { PhysicalResourceId } = await created({ Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'old', Value: '1' }] });
    await invoke(event('Update', { Tags: [{ Key: 'team', Value: 'infra' }] }, { PhysicalResourceId, OldResourceProperties: params({ Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'old', Value: '1' }] }) }));
    // The Create's own answer marker aside, only the user's tag changes.
    expect(ecs.callsOf('TagResources').filter(q => !q.Tag[0].Key.startsWith(ANSWER_TAG_PREFIX) && q.Tag[0].Key !== LEDGER_TAG)).toEqual([{ ResourceType: 'capacityreservation', ResourceId: ['crp-fake1'], Tag: [{ Key: 'team', Value: 'infra' }] }]);
    expect(ecs.callsOf('UntagResources')).toEqual([{ ResourceType: 'capacityreservation', ResourceId: ['crp-fake1'], TagKey: ['old', expect.stringMatching(/^cdk-capacity-reservations:answer:[0-9a-f]{8}$/)] }]);
    expect(ecs.callsOf('ModifyCapacityReservation')).toHaveLength(0);
  });

  test.each([
    ['instanceType', { InstanceType: 'ecs.gn7i-c16g1.4xlarge' }],
    ['zone', { ZoneIds: ['cn-hangzhou-i'] }],
    ['matchCriteria', { MatchCriteria: 'Target' }],
    ['resourceGroupId', { ResourceGroupId: 'rg-other' }],
  ])('a %s change replaces: the new reservation becomes Active before the old one is released', async (_what, change) => {
    const { PhysicalResourceId } = await created();
    let newStatusAtRelease: string | undefined;
    ecs.beforeCall = (action, q) => {
      if (action === 'ReleaseCapacityReservation' && q.PrivatePoolOptions.Id === 'crp-fake1') newStatusAtRelease = ecs.reservations.get('crp-fake2')?.status;
    };
    const answer = await invoke(event('Update', change, { PhysicalResourceId, OldResourceProperties: params() }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'crp-fake1', Data: { ReservationId: 'crp-fake2', Status: 'Active' } });
    expect(ecs.reservations.get('crp-fake1')!.status).toBe('Released');
    expect(newStatusAtRelease).toBe('Active');
  });

  test('a platform change is a no-op at deploy time (ECS does not apply Platform), and so is its rollback', async () => {
    const { PhysicalResourceId } = await created({ Platform: 'Linux' });
    const answer = await invoke(event('Update', { Platform: 'Windows' }, { PhysicalResourceId, OldResourceProperties: params({ Platform: 'Linux' }) }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake1' } });
    const rollback = await invoke(event('Update', { Platform: 'Linux' }, { RequestId: 'req-rollback', PhysicalResourceId, OldResourceProperties: params({ Platform: 'Windows' }) }));
    expect(rollback.Status).toBe('SUCCESS');
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(1);
    expect(ecs.callsOf('ModifyCapacityReservation')).toHaveLength(0);
  });

  test('a failed replacement keeps the old reservation', async () => {
    const { PhysicalResourceId } = await created();
    ecs.stock['cn-hangzhou-i'] = 0;
    const answer = await invoke(event('Update', { ZoneIds: ['cn-hangzhou-i'] }, { PhysicalResourceId, OldResourceProperties: params() }));
    expect(answer.Status).toBe('FAILED');
    expect(ecs.live().map(r => r.id)).toEqual(['crp-fake1']);
  });

  test('with removalPolicy retain a replaced reservation is kept', async () => {
    const { PhysicalResourceId } = await created({ RemovalPolicy: 'retain' });
    await invoke(event('Update', { RemovalPolicy: 'retain', ZoneIds: ['cn-hangzhou-i'] }, { PhysicalResourceId, OldResourceProperties: params({ RemovalPolicy: 'retain' }) }));
    expect(ecs.live().map(r => r.id)).toEqual(['crp-fake1', 'crp-fake2']);
  });

  test('after a replacement, the next update and the delete act on the reservation held now', async () => {
    const { PhysicalResourceId } = await created();
    await invoke(event('Update', { ZoneIds: ['cn-hangzhou-i'] }, { PhysicalResourceId, OldResourceProperties: params() }));
    await invoke(event('Update', { ZoneIds: ['cn-hangzhou-i'], InstanceAmount: 2 }, { RequestId: 'req-u2', PhysicalResourceId, OldResourceProperties: params({ ZoneIds: ['cn-hangzhou-i'] }) }));
    expect(ecs.callsOf('ModifyCapacityReservation')[0].PrivatePoolOptions.Id).toBe('crp-fake2');
    await invoke(event('Delete', { ZoneIds: ['cn-hangzhou-i'], InstanceAmount: 2 }, { PhysicalResourceId }));
    expect(ecs.live()).toHaveLength(0);
  });
});

describe('Delete', () => {
  test('releases the reservation, and a repeated delete succeeds without error', async () => {
    const { PhysicalResourceId } = await created();
    expect(await invoke(event('Delete', {}, { PhysicalResourceId }))).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId });
    expect(ecs.reservations.get('crp-fake1')!.status).toBe('Released');
    expect(await invoke(event('Delete', {}, { PhysicalResourceId, RequestId: 'req-again' }))).toMatchObject({ Status: 'SUCCESS' });
  });

  test('a reservation already released elsewhere counts as done', async () => {
    const { PhysicalResourceId } = await created();
    ecs.reservations.get('crp-fake1')!.status = 'Released';
    expect((await invoke(event('Delete', {}, { PhysicalResourceId }))).Status).toBe('SUCCESS');
  });

  test('removalPolicy retain keeps the reservation', async () => {
    const { PhysicalResourceId } = await created({ RemovalPolicy: 'retain' });
    expect((await invoke(event('Delete', { RemovalPolicy: 'retain' }, { PhysicalResourceId }))).Status).toBe('SUCCESS');
    expect(ecs.callsOf('ReleaseCapacityReservation')).toHaveLength(0);
    expect(ecs.live()).toHaveLength(1);
  });

  test('deleting a resource whose Create failed releases nothing and succeeds', async () => {
    expect((await invoke(event('Delete', {}, { PhysicalResourceId: 'not-created-0123456789abcdef' }))).Status).toBe('SUCCESS');
    expect(ecs.callsOf('ReleaseCapacityReservation')).toHaveLength(0);
  });

  test('a release that fails for another reason fails the delete with a mapped reason', async () => {
    const { PhysicalResourceId } = await created();
    ecs.failNext('ReleaseCapacityReservation', ecsError('Forbidden.RAM', 403));
    const answer = await invoke(event('Delete', {}, { PhysicalResourceId }));
    expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId });
    expect(answer.Reason).toMatch(/ReleaseCapacityReservation \(crp-fake1\) failed with Forbidden.RAM: the function role lacks a permission/);
  });
});

describe('Release is idempotent and follows the Release reference', () => {
  test('a Limited reservation is made Unlimited first (Release takes only manual-release ones), then released', async () => {
    const { PhysicalResourceId } = await created({ EndTime: '2030-01-01T00:00:00Z' });
    const answer = await invoke(event('Delete', { EndTime: '2030-01-01T00:00:00Z' }, { PhysicalResourceId }));
    expect(answer.Status).toBe('SUCCESS');
    expect(ecs.callsOf('ModifyCapacityReservation')).toEqual([{ PrivatePoolOptions: { Id: 'crp-fake1' }, EndTimeType: 'Unlimited' }]);
    expect(ecs.live()).toHaveLength(0);
  });

  test('a Limited reservation still not Active at waitTimeout is made Unlimited and released once ECS allows it, so nothing bills', async () => {
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    ecs.pendingPolls = 8;
    ecs.onPoll = () => jest.setSystemTime(Date.now() + 30_000);
    const answer = await invoke(event('Create', { WaitTimeoutSeconds: 120, EndTime: '2030-01-01T00:00:00Z' }));
    expect(answer.Reason).toMatch(/crp-fake1 was still Pending after waitTimeout, so it was released/);
    expect(ecs.callsOf('ModifyCapacityReservation')).toEqual([{ PrivatePoolOptions: { Id: 'crp-fake1' }, EndTimeType: 'Unlimited' }]);
    expect(ecs.live()).toHaveLength(0);
  });

  test('a Release answered InvalidParameter.PrivatePoolOptions.Ids (released meanwhile) counts as done', async () => {
    const { PhysicalResourceId } = await created();
    ecs.failNext('ReleaseCapacityReservation', ecsError('InvalidParameter.PrivatePoolOptions.Ids'));
    expect((await invoke(event('Delete', {}, { PhysicalResourceId }))).Status).toBe('SUCCESS');
  });

  test('a reservation ECS already released (an expired Limited one) is not released again, and the delete succeeds', async () => {
    const { PhysicalResourceId } = await created({ EndTime: '2030-01-01T00:00:00Z' });
    ecs.reservations.get('crp-fake1')!.status = 'Released';
    expect((await invoke(event('Delete', { EndTime: '2030-01-01T00:00:00Z' }, { PhysicalResourceId }))).Status).toBe('SUCCESS');
    expect(ecs.callsOf('ReleaseCapacityReservation')).toHaveLength(0);
  });

  test('fails the delete on an error that does not mean "released", such as another NotFound code', async () => {
    const { PhysicalResourceId } = await created();
    ecs.failNext('ReleaseCapacityReservation', ecsError('InvalidRegionId.NotFound', 404));
    const answer = await invoke(event('Delete', {}, { PhysicalResourceId }));
    expect(answer.Status).toBe('FAILED');
    expect(ecs.live()).toHaveLength(1);
  });

  test('a Limited reservation whose release fails gets its end time back, so it does not bill past it', async () => {
    const { PhysicalResourceId } = await created({ EndTime: '2030-01-01T00:00:00Z' });
    ecs.failNext('ReleaseCapacityReservation', ecsError('Forbidden.RAM', 403), { times: 99 });
    const answer = await invoke(event('Delete', { EndTime: '2030-01-01T00:00:00Z' }, { PhysicalResourceId }));
    expect(answer.Status).toBe('FAILED');
    expect(ecs.callsOf('ModifyCapacityReservation').map(q => q.EndTimeType)).toEqual(['Unlimited', 'Limited']);
    expect(ecs.reservations.get('crp-fake1')!.endTime).toBe('2030-01-01T00:00:00Z');
  });
});

describe('a replacement never leaves two reservations billing', () => {
  test('the ledger fits ECS\'s 128-character tag value at its longest (4 requests, two 24-character ids, both fingerprints, amount 1000)', () => {
    const id = 'crp-bp1d4xv8ykyzabcdefgh';
    const value = ledgerTag({ generation: 99, requests: ['a', 'b', 'c', 'd', 'e', 'f'].map(c => c.repeat(8)), lifetime: id, replaced: id, fingerprint: 'f'.repeat(8), state: 'e'.repeat(8), amount: 1000 }).Value;
    expect(value.length).toBeLessThanOrEqual(128);
    expect(readLedger([{ Key: LEDGER_TAG, Value: value }])).toMatchObject({ generation: 99, requests: ['cccccccc', 'dddddddd', 'eeeeeeee', 'ffffffff'], lifetime: id, replaced: id, amount: 1000 });
  });

  test('GIVEN a completed replacement and an ECS that no longer lists the first reservation (the PhysicalResourceId), WHEN the next Update comes, THEN it changes the replacement in place and buys nothing', async () => {
    const { PhysicalResourceId } = await created();
    const newType = { InstanceType: 'ecs.gn7i-c16g1.4xlarge' };
    await invoke(event('Update', newType, { RequestId: 'req-u1', PhysicalResourceId, OldResourceProperties: params() }));
    ecs.reservations.delete('crp-fake1');
    const answer = await invoke(event('Update', { ...newType, InstanceAmount: 5 }, { RequestId: 'req-u2', PhysicalResourceId, OldResourceProperties: params(newType) }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'crp-fake1', Data: { ReservationId: 'crp-fake2' } });
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(2);
    expect(ecs.live().map(r => [r.id, r.amount])).toEqual([['crp-fake2', 5]]);
  });

  test('GIVEN the stack is still updating after a replacement, WHEN FC delivers the replacing Update again, THEN the old reservation stays held, and ROS\'s rollback returns to it', async () => {
    const { PhysicalResourceId } = await created();
    seams.stackStatus = async () => 'UPDATE_IN_PROGRESS';
    const settle = waitPolicy.settleAfterUpdateMs;
    waitPolicy.settleAfterUpdateMs = 0;
    try {
      const newType = { InstanceType: 'ecs.gn7i-c16g1.4xlarge' };
      const update = event('Update', newType, { RequestId: 'req-u1', PhysicalResourceId, OldResourceProperties: params() });
      expect((await invoke(update)).Data?.ReservationId).toBe('crp-fake2');
      expect((await invoke(update)).Data?.ReservationId).toBe('crp-fake2');
      expect(ecs.live().map(r => r.id).sort()).toEqual(['crp-fake1', 'crp-fake2']);
      seams.stackStatus = async () => 'ROLLBACK_IN_PROGRESS';
      const rollback = await invoke(event('Update', {}, { RequestId: 'req-rollback', PhysicalResourceId, OldResourceProperties: params(newType) }));
      expect(rollback).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake1' } });
      expect(ecs.live().map(r => r.id)).toEqual(['crp-fake1']);
      expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(2);
    } finally {
      waitPolicy.settleAfterUpdateMs = settle;
    }
  });

  test('if the old reservation cannot be released once the update completed, it stays held (logged) and the next request of the resource releases it', async () => {
    const { PhysicalResourceId } = await created();
    let refuse = true;
    ecs.beforeCall = (action, q) => {
      if (refuse && action === 'ReleaseCapacityReservation' && q.PrivatePoolOptions.Id === 'crp-fake1') throw ecsError('Forbidden.RAM', 403);
    };
    const newType = { InstanceType: 'ecs.gn7i-c16g1.4xlarge' };
    const answer = await invoke(event('Update', newType, { PhysicalResourceId, OldResourceProperties: params() }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake2' } });
    expect(ecs.live().map(r => r.id).sort()).toEqual(['crp-fake1', 'crp-fake2']);
    expect(logged.join('\n')).toMatch(/the replaced reservation crp-fake1 could not be released yet .*Forbidden.RAM.*it bills until the next deploy or the stack's deletion releases it/);

    refuse = false;
    const next = await invoke(event('Update', { ...newType, Name: 'pool-b' }, { RequestId: 'req-u2', PhysicalResourceId, OldResourceProperties: params(newType) }));
    expect(next).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake2' } });
    expect(ecs.live().map(r => r.id)).toEqual(['crp-fake2']);
  });

  test('of two live reservations of one lifetime (a replacement whose update was interrupted), ROS\'s rollback keeps the one it returns to, not the newest, and releases the other', async () => {
    const { PhysicalResourceId } = await created();
    const interrupted = params({ InstanceType: 'ecs.gn7i-c16g1.4xlarge' });
    const first = ecs.reservations.get('crp-fake1')!;
    const tags = new Map(first.tags).set(LEDGER_TAG, `g1:abcdef01;l=crp-fake1;p=crp-fake1;f=${fingerprint(interrupted)};s=${fingerprint(interrupted)};a=4`);
    ecs.reservations.set('crp-left', { ...first, id: 'crp-left', instanceType: 'ecs.gn7i-c16g1.4xlarge', status: 'Active', tags });
    const answer = await invoke(event('Update', { InstanceAmount: 4 }, { RequestId: 'req-rollback', PhysicalResourceId, OldResourceProperties: interrupted }));
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake1' } });
    expect(ecs.live().map(r => r.id)).toEqual(['crp-fake1']);
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(1);
  });

  test('with removalPolicy retain the replaced reservation is kept and no longer tied to the resource, so the delete keeps it too', async () => {
    const { PhysicalResourceId } = await created({ RemovalPolicy: 'retain' });
    await invoke(event('Update', { RemovalPolicy: 'retain', ZoneIds: ['cn-hangzhou-i'] }, { PhysicalResourceId, OldResourceProperties: params({ RemovalPolicy: 'retain' }) }));
    expect(ecs.reservations.get('crp-fake1')!.tags.get(RESOURCE_TAG)).toMatch(/^retained:/);
    await invoke(event('Update', { RemovalPolicy: 'release', ZoneIds: ['cn-hangzhou-i'] }, { RequestId: 'req-u2', PhysicalResourceId, OldResourceProperties: params({ RemovalPolicy: 'retain', ZoneIds: ['cn-hangzhou-i'] }) }));
    await invoke(event('Delete', { ZoneIds: ['cn-hangzhou-i'] }, { PhysicalResourceId }));
    expect(ecs.live().map(r => r.id)).toEqual(['crp-fake1']);
  });
});

describe('duplicate and late Creates', () => {
  test('two concurrent deliveries of one Create with zone fallback end with one reservation, and both answer it', async () => {
    ecs.stock['cn-hangzhou-h'] = 0;
    let second: Promise<RosResponse> | undefined;
    ecs.beforeCall = async (action, q) => {
      // The first delivery found no stock in h; before it creates in i, the same Create arrives
      // again, h has stock again, and that delivery creates there.
      if (action === 'CreateCapacityReservation' && q.ZoneId[0] === 'cn-hangzhou-i' && !second) {
        ecs.stock['cn-hangzhou-h'] = 8;
        second = invoke(event('Create'));
        await second;
      }
    };
    const first = await invoke(event('Create'));
    const again = await second!;
    // The second delivery's create in h used the same ClientToken: ECS answers delivery 1's create in i with a mismatch, then names it in h.
    expect(ecs.reservations.size).toBe(1);
    expect(ecs.live()).toHaveLength(1);
    expect(first).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ecs.live()[0].id });
    expect(again).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ecs.live()[0].id });
  });

  test('a Create answered after ROS gave up (ROS refuses the answer) releases what it created and says so', async () => {
    seams.respond = async (_url, response) => {
      answers.push(response);
      throw new RosRefusedError(404);
    };
    const returned = await handler(Buffer.from(JSON.stringify(event('Create'))), { credentials: CREDENTIALS });
    expect(ecs.reservations.size).toBe(1);
    expect(ecs.live()).toHaveLength(0);
    expect(returned.Reason).toMatch(/ROS refused the answer \(HTTP 404\): the stack operation was over, so the reservations this Create made were released: crp-fake1/);
    expect(logged.join('\n')).toMatch(/released what this request created/);
  });

  test('a redelivered Create whose answer ROS refuses because it holds the first answer keeps the live reservation the stack holds', async () => {
    const first = await created();
    seams.respond = async (_url, response) => {
      answers.push(response);
      throw new RosRefusedError(409);
    };
    const returned = await handler(Buffer.from(JSON.stringify(event('Create'))), { credentials: CREDENTIALS });
    expect(ecs.live().map(r => r.id)).toEqual([first.PhysicalResourceId]);
    expect(returned.Reason).toMatch(/another delivery of this Create answered crp-fake1 or a later request holds it, so it was kept/);
    expect(logged.join('\n')).toMatch(/if the stack does not show crp-fake1, release it in the ECS console/);
  });

  test('of concurrent deliveries whose answers ROS all refuses (it gave up), the last one refused releases the reservation', async () => {
    const returned: RosResponse[] = [];
    let inner: Promise<RosResponse> | undefined;
    seams.respond = async (_url, response) => {
      answers.push(response);
      // Delivery 1 is about to POST; delivery 2 runs in full first, and ROS refuses both.
      if (!inner) {
        inner = handler(Buffer.from(JSON.stringify(event('Create'))), { credentials: CREDENTIALS });
        returned.push(await inner);
      }
      throw new RosRefusedError(404);
    };
    returned.push(await handler(Buffer.from(JSON.stringify(event('Create'))), { credentials: CREDENTIALS }));
    expect(ecs.reservations.size).toBe(1);
    expect(ecs.live()).toHaveLength(0);
    expect(returned[0].Reason).toMatch(/another delivery of this Create answered crp-fake1 or a later request holds it, so it was kept/);
    expect(returned[1].Reason).toMatch(/the reservations this Create made were released: crp-fake1/);
  });

  test('with the most user tags, a refused delivery keeps the reservation while another delivery\'s answer marker says it may have been accepted', async () => {
    const tags = Array.from({ length: 16 }, (_, i) => ({ Key: `team${i}`, Value: 'ml' }));
    await created({ Tags: tags });
    seams.respond = async () => { throw new RosRefusedError(409); };
    await handler(Buffer.from(JSON.stringify(event('Create', { Tags: tags }))), { credentials: CREDENTIALS });
    expect(ecs.live()).toHaveLength(1);
  });

  test('a Create whose answer fails transiently (5xx) keeps the reservation and throws, so FC retries the same request', async () => {
    seams.respond = async () => { throw new RosRefusedError(503); };
    await expect(handler(Buffer.from(JSON.stringify(event('Create'))), { credentials: CREDENTIALS })).rejects.toThrow(/HTTP 503/);
    expect(ecs.live()).toHaveLength(1);
  });

  test('a Delete without a PhysicalResourceId (ROS gave up before any answer) answers a non-empty one', async () => {
    const answer = await invoke(event('Delete'));
    expect(answer.Status).toBe('SUCCESS');
    expect(answer.PhysicalResourceId).toMatch(/^not-created-[0-9a-f]{16}$/);
  });
});

describe('ROS rollbacks succeed', () => {
  test('after a Limited endTime has passed, an update with it unchanged and its rollback succeed, and nothing is created', async () => {
    const endTime = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const { PhysicalResourceId } = await created({ EndTime: endTime });
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    jest.setSystemTime(Date.now() + 2 * 3_600_000);
    ecs.reservations.get('crp-fake1')!.status = 'Released'; // ECS ended it at endTime
    const tagged = { EndTime: endTime, Tags: [{ Key: 'team', Value: 'ml' }] };
    const update = await invoke(event('Update', tagged, { PhysicalResourceId, OldResourceProperties: params({ EndTime: endTime }) }));
    expect(update).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake1', Status: 'Released' } });
    const rollback = await invoke(event('Update', { EndTime: endTime }, { RequestId: 'req-rollback', PhysicalResourceId, OldResourceProperties: params(tagged) }));
    expect(rollback.Status).toBe('SUCCESS');
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(1);
    expect((await invoke(event('Delete', { EndTime: endTime }, { PhysicalResourceId }))).Status).toBe('SUCCESS');
  });

  test.each<[string, Partial<AliReservationParameters>]>([
    ['instanceAmount', { InstanceAmount: 6 }],
    ['name', { Name: 'pool-b' }],
    ['description', { Description: 'bigger pool' }],
    ['endTime', { EndTime: '2031-01-01T00:00:00Z' }],
    ['tags', { Tags: [{ Key: 'team', Value: 'infra' }] }],
    ['waitTimeout', { WaitTimeoutSeconds: 900 }],
    ['instanceType', { InstanceType: 'ecs.gn7i-c16g1.4xlarge' }],
    ['zoneIds', { ZoneIds: ['cn-hangzhou-i'] }],
    ['matchCriteria', { MatchCriteria: 'Target' }],
    ['resourceGroupId', { ResourceGroupId: 'rg-other' }],
  ])('a %s update followed by ROS\'s rollback succeeds and leaves one reservation as the old properties ask', async (_kind, change) => {
    const before = { Name: 'pool-a', Description: 'the pool', EndTime: '2030-01-01T00:00:00Z', Tags: [{ Key: 'team', Value: 'ml' }], ResourceGroupId: 'rg-acfm2' };
    const { PhysicalResourceId } = await created(before);
    const update = await invoke(event('Update', { ...before, ...change }, { PhysicalResourceId, OldResourceProperties: params(before) }));
    expect(update.Status).toBe('SUCCESS');
    const rollback = await invoke(event('Update', before, { RequestId: 'req-rollback', PhysicalResourceId, OldResourceProperties: params({ ...before, ...change }) }));
    expect(rollback.Status).toBe('SUCCESS');
    expect(ecs.live()).toEqual([expect.objectContaining({
      instanceType: 'ecs.gn7i-c8g1.2xlarge', amount: 4, name: 'pool-a', description: 'the pool', endTime: '2030-01-01T00:00:00Z',
    })]);
    expect(Object.fromEntries([...ecs.live()[0].tags].filter(([k]) => !k.startsWith('cdk-capacity-reservations:')))).toEqual({ team: 'ml' });
    expect((await invoke(event('Delete', before, { PhysicalResourceId }))).Status).toBe('SUCCESS');
    expect(ecs.live()).toHaveLength(0);
  });
});

describe('error explanations are per call', () => {
  test('a refused Release says what to do about the release, not about zones', async () => {
    const { PhysicalResourceId } = await created();
    ecs.failNext('ReleaseCapacityReservation', ecsError('OperationDenied', 403));
    const answer = await invoke(event('Delete', {}, { PhysicalResourceId }));
    expect(answer.Reason).toMatch(/^ECS ReleaseCapacityReservation \(crp-fake1\) failed with OperationDenied: ECS refused to release it .*release it in the ECS console, then retry$/);
    expect(answer.Reason).not.toMatch(/zone/);
  });

  test('a Modify without stock for a larger amount says to lower instanceAmount, not to add zones', async () => {
    const { PhysicalResourceId } = await created();
    ecs.failNext('ModifyCapacityReservation', ecsError('OperationDenied.NoStock', 403));
    const answer = await invoke(event('Update', { InstanceAmount: 8 }, { PhysicalResourceId, OldResourceProperties: params() }));
    expect(answer.Reason).toMatch(/ModifyCapacityReservation \(crp-fake1\) failed with OperationDenied.NoStock: the zone has no stock for the larger instanceAmount; lower instanceAmount/);
  });

  test('a code with no explanation for that call carries ECS\'s own message', async () => {
    const { PhysicalResourceId } = await created();
    ecs.failNext('ReleaseCapacityReservation', ecsError('Invalid.InstanceType'));
    const answer = await invoke(event('Delete', {}, { PhysicalResourceId }));
    expect(answer.Reason).toBe('ECS ReleaseCapacityReservation (crp-fake1) failed with Invalid.InstanceType: Invalid.InstanceType happened');
  });
});

describe('every error code of the CreateCapacityReservation reference has an actionable reason', () => {
  const codes = [
    'InvalidParameter.RegionId', 'NoStock', 'MissingParameter', 'OperationDenied', 'MissingParameter.RegionId',
    'InvalidStartTime.NotSupported', 'InvalidStartTime.MalFormed', 'Invalid.PrivatePoolOptionsName.MalFormed', 'Invalid.ZoneId',
    'Invalid.InstanceType', 'DedicatedHostNotSupported', 'SpotNotSupported', 'ClassicNetworkNotSupported', 'Invalid.InstanceId',
    'Invalid.PrivatePoolOptions.MatchCriteria', 'MissingParameter.PrivatePoolOptions.Id', 'Invalid.PrivatePoolOptions.Id',
    'Invalid.InstanceChargeType', 'Invalid.PrivatePoolOptions.status', 'InvalidPlatform.ValueNotSupported', 'InvalidAliUid',
    'MissingParameter.PackageType', 'MissingParameter.PrivatePoolOptions.Ids', 'MissingParameter.InstanceCpuCoreCount',
    'MissingParameter.InstanceAmount', 'MissingParameter.InstanceCpuCoreCountOrInstanceAmount', 'Invalid.TooManyPrivatePoolOptions.Ids',
    'Invalid.TooManyZoneIds', 'Invalid.TooManyInstanceTypes', 'Invalid.TooManyUnpaidPrivatePool', 'Invalid.InstanceCpuCoreCountOrInstanceAmount',
    'Invalid.PrivatePoolOptions.Ids', 'Invalid.PackageType', 'Invalid.PrivatePool.Purchase', 'Invalid.AssuranceTimes.NotSupported',
    'RepeatStartPrivatePool', 'Invalid.TimeSlot', 'Invalid.EndTime', 'StartTime.NotNeed', 'AccountForbidden.ProductCreationLimited',
    'RegionUnauthorized', 'PriceNotFound', 'InternalError', 'Zone.NotOpen', 'InvalidResourceType.NotSupported',
    'OperationDenied.NoStock', 'InvalidInstanceType.NotSupported', 'Invalid.ZoneIds', 'Zone.NotOnSale', 'InvalidZoneId.NotFound',
    'InvalidResourceGroup.NotFound',
  ];
  const { ecsFailure } = jest.requireActual('../../../lib/alicloud/handler/errors');

  test.each(codes)('%s', code => {
    const message: string = ecsFailure('CreateCapacityReservation', 'zone cn-hangzhou-h', ecsError(code)).message;
    expect(message).toContain(`failed with ${code}: `);
    expect(message).not.toContain(`${code} happened`); // our reason, not the raw ECS message
    expect(message).not.toMatch(/\n/);
  });
});

test('logs never carry the ResponseURL or the credentials', async () => {
  ecs.failNext('CreateCapacityReservation', ecsError('NoStock'), { zone: 'cn-hangzhou-h' });
  await created();
  await invoke(event('Create', { InstanceAmount: 99 }, { RequestId: 'req-fails' }));
  expect(logged.length).toBeGreaterThan(3);
  const all = logged.join('\n');
  expect(all).not.toContain('secret-signature');
  expect(all).not.toContain(CREDENTIALS.accessKeySecret);
  expect(all).not.toContain(CREDENTIALS.securityToken);
});

describe('the ROS response protocol', () => {
  let server: Server;
  let received: { method?: string; headers: IncomingHttpHeaders; body: string }[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', chunk => { body += chunk; });
      req.on('end', () => { received.push({ method: req.method, headers: req.headers, body }); res.end(); });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise(resolve => server.close(resolve)));

  test('POSTs JSON with Content-Type and Date headers to the ResponseURL, within 4096 bytes', async () => {
    received = [];
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ros?Signature=x`;
    await postResponse(url, { Status: 'FAILED', Reason: 'x'.repeat(5000), PhysicalResourceId: 'crp-1', StackId: 's', RequestId: 'r', LogicalResourceId: 'l' });
    expect(received).toHaveLength(1);
    expect(received[0].method).toBe('POST');
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(new Date(String(received[0].headers.date)).getTime()).not.toBeNaN();
    expect(Buffer.byteLength(received[0].body)).toBeLessThanOrEqual(4096);
    expect(JSON.parse(received[0].body)).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'crp-1', StackId: 's', RequestId: 'r', LogicalResourceId: 'l' });
  });
});

/**
 * Issue 17: ECS's tag index lags a create, FC delivers an event again up to about an hour late, and
 * ROS rolls back. The handler decides from what cannot lag: the ids it created or was handed
 * (read by PrivatePoolOptions.Ids), a ClientToken per resource and generation (ECS answers a repeat
 * with the first reservation) and the ledger on the reservation; tag listings only recover.
 */
describe('decisions that survive tag lag, late duplicates and rollbacks', () => {
  const refusing = (status: number) => async (_url: string, response: RosResponse) => {
    answers.push(response);
    throw new RosRefusedError(status);
  };
  const delivered = (e: RosEvent) => handler(Buffer.from(JSON.stringify(e)), { credentials: CREDENTIALS });

  test('a late Create after the rollback Delete releases the reservation it answered although tag listings do not show it yet', async () => {
    ecs.tagIndexLag = 10;
    expect((await invoke(event('Delete'))).Status).toBe('SUCCESS');
    seams.respond = refusing(404);
    await delivered(event('Create'));
    expect(ecs.reservations.size).toBe(1);
    expect(ecs.live()).toEqual([]);
  });

  test('two concurrent deliveries of one Create that fall back to different zones end with one reservation, decided by the ClientToken, not by a lagging listing', async () => {
    ecs.tagIndexLag = 50;
    let second: Promise<RosResponse> | undefined;
    ecs.failNext('CreateCapacityReservation', ecsError('NoStock'), { zone: 'cn-hangzhou-h' });
    ecs.beforeCall = async (action, q) => {
      // Delivery 1 found no stock in h; before it creates in i, delivery 2 runs in full and creates in h.
      if (action === 'CreateCapacityReservation' && q.ZoneId[0] === 'cn-hangzhou-i' && !second) {
        second = invoke(event('Create'));
        await second;
      }
    };
    const first = await invoke(event('Create'));
    const again = await second!;
    expect(ecs.live()).toHaveLength(1);
    expect(first).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ecs.live()[0].id });
    expect(again).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ecs.live()[0].id });
  });

  test('a Delete right after a replacement releases the new reservation although the tag index lags (the update waited until it was listed)', async () => {
    const { PhysicalResourceId } = await created();
    ecs.tagIndexLag = 10;
    const update = await invoke(event('Update', { ZoneIds: ['cn-hangzhou-i'] }, { RequestId: 'req-u1', PhysicalResourceId, OldResourceProperties: params() }));
    expect(update).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake2' } });
    expect((await invoke(event('Delete', { ZoneIds: ['cn-hangzhou-i'] }, { PhysicalResourceId }))).Status).toBe('SUCCESS');
    expect(ecs.live()).toEqual([]);
  });

  test('a rollback right after a replacement goes back with one reservation billing, not a third beside the second', async () => {
    const { PhysicalResourceId } = await created();
    ecs.tagIndexLag = 10;
    await invoke(event('Update', { ZoneIds: ['cn-hangzhou-i'] }, { RequestId: 'req-u1', PhysicalResourceId, OldResourceProperties: params() }));
    const rollback = await invoke(event('Update', {}, { RequestId: 'req-rollback', PhysicalResourceId, OldResourceProperties: params({ ZoneIds: ['cn-hangzhou-i'] }) }));
    expect(rollback.Status).toBe('SUCCESS');
    expect(ecs.live()).toHaveLength(1);
  });

  test('removalPolicy retain: a zone replacement rolled back re-adopts the original and releases the replacement, leaving nothing tied to no stack', async () => {
    const retain = { RemovalPolicy: 'retain' };
    const { PhysicalResourceId } = await created(retain);
    // A later resource fails: GetStack shows the update rolling back, so the replaced one stays held for the rollback.
    seams.stackStatus = async () => 'ROLLBACK_IN_PROGRESS';
    await invoke(event('Update', { ...retain, ZoneIds: ['cn-hangzhou-i'] }, { RequestId: 'req-u1', PhysicalResourceId, OldResourceProperties: params(retain) }));
    const rollback = await invoke(event('Update', retain, { RequestId: 'req-rollback', PhysicalResourceId, OldResourceProperties: params({ ...retain, ZoneIds: ['cn-hangzhou-i'] }) }));
    expect(rollback).toMatchObject({ Status: 'SUCCESS', Data: { ReservationId: 'crp-fake1' } });
    expect(ecs.live().map(r => r.id)).toEqual(['crp-fake1']);
    expect(ecs.reservations.get('crp-fake1')!.tags.has(RESOURCE_TAG)).toBe(true);
  });

  test('a reservation still Pending at waitTimeout, which ECS refuses to release until it is Active, is released once it may be, so the rollback Delete succeeds', async () => {
    jest.useFakeTimers({ doNotFake: ['setTimeout', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    ecs.pendingPolls = 8; // 4 polls fit in waitTimeout (30 s each): still Pending then
    ecs.onPoll = () => jest.setSystemTime(Date.now() + 30_000);
    const answer = await invoke(event('Create', { WaitTimeoutSeconds: 120 }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/crp-fake1 was still Pending after waitTimeout, so it was released/);
    const rollback = await invoke(event('Delete', { WaitTimeoutSeconds: 120 }, { RequestId: 'req-rollback', PhysicalResourceId: answer.PhysicalResourceId }));
    expect(rollback.Status).toBe('SUCCESS');
    expect(ecs.live()).toEqual([]);
  });

  test('a late duplicate Create after an in-place Update keeps the reservation the stack holds, though ROS refuses its answer', async () => {
    const { PhysicalResourceId } = await created({ Tags: [{ Key: 'team', Value: 'ml' }] });
    await invoke(event('Update', { Tags: [{ Key: 'team', Value: 'infra' }] }, { RequestId: 'req-u1', PhysicalResourceId, OldResourceProperties: params({ Tags: [{ Key: 'team', Value: 'ml' }] }) }));
    seams.respond = refusing(404);
    await delivered(event('Create', { Tags: [{ Key: 'team', Value: 'ml' }] }));
    expect(ecs.live().map(r => r.id)).toEqual([PhysicalResourceId]);
    expect(ecs.live()[0].tags.get('team')).toBe('infra');
  });

  test('a late duplicate of an older Update changes nothing a newer Update set', async () => {
    const { PhysicalResourceId } = await created();
    const u1 = event('Update', { InstanceAmount: 5 }, { RequestId: 'req-u1', PhysicalResourceId, OldResourceProperties: params() });
    await invoke(u1);
    await invoke(event('Update', { InstanceAmount: 6 }, { RequestId: 'req-u2', PhysicalResourceId, OldResourceProperties: params({ InstanceAmount: 5 }) }));
    const modifies = ecs.callsOf('ModifyCapacityReservation').length;
    const late = await invoke(u1);
    expect(late.Status).toBe('SUCCESS');
    expect(ecs.callsOf('ModifyCapacityReservation')).toHaveLength(modifies);
    expect(ecs.reservations.get(PhysicalResourceId)!.amount).toBe(6);
  });

  test('a Delete or Update naming a reservation this resource did not create (no tag of it) never releases or modifies it', async () => {
    ecs.reservations.set('crp-foreign', {
      id: 'crp-foreign', zoneId: 'cn-hangzhou-h', instanceType: 'ecs.gn7i-c8g1.2xlarge', amount: 4, status: 'Active', tags: new Map([['team', 'other']]), polls: 0,
    });
    await invoke(event('Update', { InstanceAmount: 2 }, { PhysicalResourceId: 'crp-foreign', OldResourceProperties: params() }));
    await invoke(event('Delete', {}, { PhysicalResourceId: 'crp-foreign' }));
    expect(ecs.reservations.get('crp-foreign')).toMatchObject({ status: 'Active', amount: 4 });
    expect([...ecs.calls].filter(c => /^(Release|Modify|Tag|Untag)/.test(c.action) && JSON.stringify(c.query).includes('crp-foreign'))).toEqual([]);
  });
});

describe('removalPolicy retain-on-update-or-delete (CloudFormation\'s RetainExceptOnCreate)', () => {
  const policy = { RemovalPolicy: 'retain-on-update-or-delete' };
  afterEach(() => { delete (seams as any).stackStatus; });

  test('releases the reservation when ROS rolls back the stack\'s creation', async () => {
    (seams as any).stackStatus = async () => 'CREATE_ROLLBACK_IN_PROGRESS';
    const { PhysicalResourceId } = await created(policy);
    expect((await invoke(event('Delete', policy, { RequestId: 'req-rollback', PhysicalResourceId }))).Status).toBe('SUCCESS');
    expect(ecs.live()).toEqual([]);
  });

  test('keeps the reservation when the stack is deleted', async () => {
    (seams as any).stackStatus = async () => 'DELETE_IN_PROGRESS';
    const { PhysicalResourceId } = await created(policy);
    expect((await invoke(event('Delete', policy, { PhysicalResourceId }))).Status).toBe('SUCCESS');
    expect(ecs.live().map(r => r.id)).toEqual([PhysicalResourceId]);
    expect(ecs.callsOf('ReleaseCapacityReservation')).toEqual([]);
  });
});

describe('deploy-time parsing refuses what is not what the construct writes, before any ECS call', () => {
  test.each<[string, unknown]>([['"0x10"', '0x10'], ['"1e3"', '1e3'], ['true', true], ['4.0 as " 4"', ' 4'], ['[4]', [4]]])('fails for instanceAmount %s', async (_what, amount) => {
    const answer = await invoke(event('Create', { InstanceAmount: amount as number }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/instanceAmount must be a decimal whole number/);
    expect(ecs.calls).toEqual([]);
  });

  test('fails for Tags given as a map instead of a list of {Key, Value}', async () => {
    const answer = await invoke(event('Create', { Tags: { team: 'ml' } as never }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/tags must be a list of \{Key, Value\}/);
    expect(ecs.calls).toEqual([]);
  });

  test('fails on OperationDenied (the type or zone is not authorized for the account) instead of reading it as no stock', async () => {
    ecs.failNext('CreateCapacityReservation', ecsError('OperationDenied'), { zone: 'cn-hangzhou-h' });
    const answer = await invoke(event('Create'));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/failed with OperationDenied: the instance type or zone is not available or not authorized/);
    expect(ecs.callsOf('CreateCapacityReservation')).toHaveLength(1);
  });
});
