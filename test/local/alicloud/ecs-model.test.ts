import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { GpuPoolStack } from '../../../examples/alicloud/stack';
import { readStackStatus } from '../../../lib/alicloud/handler';
import { createEcsCall, createRosCall, EcsCall } from '../../../lib/alicloud/handler/ecs';
import { clientToken, resourceKeys } from '../../../lib/alicloud/handler/request';
import {
  createInFirstZoneWithStock, getReservation, liveReservationsTagged, modifyInPlace, release, syncTags, waitPolicy, waitUntilActive,
} from '../../../lib/alicloud/handler/reservations';
import { RESOURCE_TAG } from '../../../lib/alicloud/wire';
import { EcsEmulator, rehearseAlicloud } from '../../../lib/local';
import { rehearseRosSequences, withAliHandler } from '../../../lib/local/alicloud/rehearsal';
import { answerKeysNotInModel, queryNotInModel, readsNotInModel, recordReads, requestParameterNotInModel } from './ecs-model';

/**
 * The official @alicloud/ecs20140526 models decide every key: what the emulator answers, what the
 * handler sends, and what the handler reads from an answer (recorded as it reads).
 */
describe('the ECS emulator and the handler follow the official ECS model', () => {
  let emulator: EcsEmulator;
  let ecs: EcsCall;
  const reads = new Map<string, string[][]>();

  beforeAll(async () => {
    emulator = new EcsEmulator({ stock: { 'cn-hangzhou-h': 0, 'cn-hangzhou-i': 16 } });
    await emulator.start();
    Object.assign(process.env, { ALIBABA_CLOUD_ECS_ENDPOINT: emulator.endpoint, ALIBABA_CLOUD_ECS_PROTOCOL: 'http' });
    const real = createEcsCall({ accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret }, 'cn-hangzhou');
    // Every answer the handler gets records the keys it reads.
    ecs = async (action, query) => {
      const list = reads.get(action) ?? [];
      reads.set(action, list);
      return recordReads(await real(action, query), list);
    };
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    waitPolicy.pollIntervalMs = 0;

    // Every call the handler makes, through its own functions: create with zone fallback, wait,
    // look up by tag, modify, tag, untag, release (a Limited one: Modify then Release).
    const keys = resourceKeys({ StackId: 'stack', LogicalResourceId: 'Pool', RequestId: 'r1' });
    const request = {
      instanceType: 'ecs.gn7i-c8g1.2xlarge', instanceAmount: 2, zoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'], name: 'pool-a',
      description: 'first', matchCriteria: 'Open' as const, endTime: '2030-01-01T00:00:00Z', platform: 'Linux', tags: [{ Key: 'team', Value: 'ml' }],
      removalPolicy: 'release' as const, waitTimeoutSeconds: 600,
    };
    const { id } = await createInFirstZoneWithStock(ecs, request, clientToken(keys, 'g0:r1'), [{ Key: RESOURCE_TAG, Value: keys.resource }]);
    const active = await waitUntilActive(ecs, id, new Date(Date.now() + 60_000));
    await liveReservationsTagged(ecs, RESOURCE_TAG, keys.resource);
    await modifyInPlace(ecs, id, { ...request, name: 'pool-b', description: 'second', instanceAmount: 3 }, request);
    await syncTags(ecs, active, { ...request, tags: [{ Key: 'owner', Value: 'me' }] });
    await getReservation(ecs, id);
    await release(ecs, id);
  });

  afterAll(async () => {
    delete process.env.ALIBABA_CLOUD_ECS_ENDPOINT;
    delete process.env.ALIBABA_CLOUD_ECS_PROTOCOL;
    jest.restoreAllMocks();
    await emulator.stop();
  });

  test('the handler made every call it uses, and each succeeded', () => {
    const actions = new Set(emulator.calls.filter(c => c.answer).map(c => c.action));
    expect([...actions].sort()).toEqual([
      'CreateCapacityReservation', 'DescribeCapacityReservations', 'ModifyCapacityReservation', 'ReleaseCapacityReservation', 'TagResources', 'UntagResources',
    ]);
  });

  test('every parameter the handler sent is in the request model of its action', () => {
    const problems = emulator.calls.flatMap(c => Object.keys(c.query).map(p => requestParameterNotInModel(c.action, p)));
    expect(problems.filter(Boolean)).toEqual([]);
    expect(requestParameterNotInModel('ReleaseCapacityReservation', 'PrivatePoolOptions.Ids')).toMatch(/no member 'Ids'/);
  });

  test('every key the emulator answered is in the response model of its action', () => {
    const answered = emulator.calls.filter(c => c.answer);
    expect(answered.flatMap(c => answerKeysNotInModel(c.action, c.answer))).toEqual([]);
    // The checker itself sees a wrong key: the capitalized zone id that went unnoticed before.
    expect(answerKeysNotInModel('DescribeCapacityReservations', {
      CapacityReservationSet: { CapacityReservationItem: [{ AllocatedResources: { AllocatedResource: [{ ZoneId: 'cn-hangzhou-i' }] } }] },
    })).toEqual([expect.stringMatching(/AllocatedResource\[\]\.ZoneId is not in DescribeCapacityReservationsResponseBody/)]);
  });

  test('every key the handler read from an answer is in the response model of its action', () => {
    expect([...reads].flatMap(([action, paths]) => readsNotInModel(action, paths))).toEqual([]);
    const describeReads = reads.get('DescribeCapacityReservations')!.map(p => p.join('.'));
    expect(describeReads).toContain('CapacityReservationSet.CapacityReservationItem.AllocatedResources.AllocatedResource.zoneId');
    expect(reads.get('CreateCapacityReservation')!.map(p => p.join('.'))).toContain('PrivatePoolOptionsId');
  });

  test('the zone the handler reports is the zone ECS answered (zoneId)', async () => {
    const created = emulator.calls.find(c => c.action === 'CreateCapacityReservation' && c.answer)!;
    const id = String(created.answer!.PrivatePoolOptionsId);
    expect((await getReservation(ecs, id))?.zoneId).toBe('cn-hangzhou-i');
  });
});

/** Every call of a whole rehearsal, ROS's sequences included, through the bundled handler. */
test('every request and answer of the example\'s rehearsal and ROS sequences follows the ECS model', async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'ros-'));
  const app = new ros.App({ outdir });
  new GpuPoolStack(app, 'GpuPool');
  app.synth();
  const template = join(outdir, 'GpuPool.template.json');
  const seen: Array<{ action: string; query: Record<string, string>; answer?: Record<string, unknown> }> = [];
  const { emulator } = await rehearseAlicloud(template);
  seen.push(...emulator.calls);
  // rehearseRosSequences makes its own emulators: collect their calls through the options hook.
  const invariants = await rehearseRosSequences(template, { ecs: { onCall: call => seen.push(call) } });
  expect(invariants.rollbackFailed).toBe(0);

  expect([...new Set(seen.filter(c => c.answer).map(c => c.action))]).toEqual(expect.arrayContaining([
    'CreateCapacityReservation', 'DescribeCapacityReservations', 'ModifyCapacityReservation', 'ReleaseCapacityReservation',
  ]));
  expect(seen.flatMap(c => Object.keys(c.query).map(p => requestParameterNotInModel(c.action, p))).filter(Boolean)).toEqual([]);
  expect(seen.filter(c => c.answer).flatMap(c => answerKeysNotInModel(c.action, c.answer))).toEqual([]);
});

/** ROS GetStack, which removalPolicy retain-on-update-or-delete reads on Delete: the local ROS answers as @alicloud/ros20190910 has it. */
test('GetStack: what the handler sends and reads, and what the local ROS answers, are in the ROS model', async () => {
  const reads: string[][] = [];
  const stackId = 'stack-1';
  await withAliHandler({}, async (_invoke, _emulator, _url, rosEngine) => {
    rosEngine.setStatus(stackId, 'CREATE_ROLLBACK_IN_PROGRESS');
    const call = createRosCall({ accessKeyId: 'k', accessKeySecret: 's' }, 'cn-hangzhou');
    const answers: Array<Record<string, unknown>> = [];
    const recording = async (action: string, query: Record<string, unknown>) => {
      expect(queryNotInModel(action, { RegionId: 'cn-hangzhou', ...query })).toEqual([]);
      const answer = await call(action, query);
      answers.push(answer);
      return recordReads(answer, reads);
    };
    expect(await readStackStatus(recording, stackId)).toBe('CREATE_ROLLBACK_IN_PROGRESS');
    expect(answers.flatMap(a => answerKeysNotInModel('GetStack', a))).toEqual([]);
  });
  expect(readsNotInModel('GetStack', reads)).toEqual([]);
  expect(reads.map(p => p.join('.'))).toEqual(['Status']);
});
