import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { GpuPoolStack } from '../../examples/alicloud/stack';
import { createEcsCall } from '../../lib/alicloud/handler/ecs';
import { clientToken, parseReservationRequest, resourceKeys } from '../../lib/alicloud/handler/request';
import { createInFirstZoneWithStock } from '../../lib/alicloud/handler/reservations';
import { planAlicloud } from '../../lib/plan/alicloud';
import { main } from '../../lib/plan/cli';
import { EcsEmulator, writeRosTemplate } from '../../lib/local';
import { answerKeysNotInModel, queryNotInModel } from '../local/alicloud/ecs-model';

/**
 * `cdk-capacity-reservations plan` for Alibaba Cloud, through the official OpenAPI client over HTTP
 * against the ECS emulator: per zone of zoneIds, in order, whether the type has stock and what it
 * costs; the zone the handler would use; and the exit status a CI gate reads.
 */
let ecs: EcsEmulator;
const saved = { ...process.env };

async function startEcs(options: ConstructorParameters<typeof EcsEmulator>[0] = {}): Promise<void> {
  ecs = new EcsEmulator({ hourlyPrices: { 'ecs.gn7i-c8g1.2xlarge': 12.5 }, ...options });
  Object.assign(process.env, {
    ALIBABA_CLOUD_ECS_ENDPOINT: await ecs.start(), ALIBABA_CLOUD_ECS_PROTOCOL: 'http',
    ALIBABA_CLOUD_ACCESS_KEY_ID: ecs.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: ecs.accessKeySecret,
  });
}
afterEach(async () => {
  process.env = { ...saved };
  await ecs?.stop();
});

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['plan', ...args], { stdout: t => { out += t; }, stderr: t => { err += t; } });
  return { code, out, err };
}

const MUTATING = /^(Create|Modify|Release|Tag|Untag)/;

test('shows stock and price per zone in zoneIds order, the zone it would use and the cost, and exits 0', async () => {
  await startEcs();
  const { code, out, err } = await run(writeRosTemplate());
  expect(code).toBe(0);
  expect(out).toMatch(/Alibaba Cloud Rehearsal\/Pool \(cn-hangzhou\): 4 x ecs\.gn7i-c8g1\.2xlarge/);
  expect(out).toMatch(/\*\s+cn-hangzhou-h\s+available \(WithStock\)\s+50\.00 CNY/);
  expect(out).toMatch(/-> would reserve in cn-hangzhou-h: 50\.00 CNY per hour, 36,000\.00 CNY per 30 days, billed until released/);
  expect(out).toMatch(/Alibaba Cloud capacity reservations: 50\.00 CNY per hour/);
  expect(err).toMatch(/asking ECS about ecs\.gn7i-c8g1\.2xlarge in cn-hangzhou-h/);
  expect(ecs.calls.filter(c => MUTATING.test(c.action))).toEqual([]);
});

test('plans ros.out as ROS CDK writes it (a cloud assembly with ROS stacks)', async () => {
  await startEcs();
  const outdir = mkdtempSync(join(tmpdir(), 'ros-out-'));
  const app = new ros.App({ outdir });
  new GpuPoolStack(app, 'GpuPool');
  app.synth();
  const { code, out } = await run(outdir);
  expect(code).toBe(0);
  expect(out).toMatch(/Alibaba Cloud GpuPool\/GpuPool \(cn-hangzhou\): 4 x ecs\.gn7i-c8g1\.2xlarge/);
});

test('a zone without stock is passed over for the next zone, as the handler would', async () => {
  await startEcs({ stock: { 'cn-hangzhou-h': 0, 'cn-hangzhou-i': 16 } });
  const { code, out } = await run(writeRosTemplate());
  expect(code).toBe(0);
  expect(out).toMatch(/\s+cn-hangzhou-h\s+sold-out \(WithoutStock\)/);
  expect(out).toMatch(/\*\s+cn-hangzhou-i\s+available/);
  expect(out).toMatch(/-> would reserve in cn-hangzhou-i/);
});

test('a zone that does not exist stops the plan as it stops the handler (InvalidZoneId.NotFound), instead of passing to the next zone', async () => {
  await startEcs({ stock: { 'cn-hangzhou-i': 16 } });
  const { code, out } = await run(writeRosTemplate({ ZoneIds: ['cn-hangzhou-x', 'cn-hangzhou-i'] }));
  expect(code).toBe(2);
  expect(out).toMatch(/Rehearsal\/Pool: invalid: zone cn-hangzhou-x does not exist in cn-hangzhou: the handler would stop there \(InvalidZoneId\.NotFound\), not try the next zone; fix zoneIds/);
  expect(out).not.toMatch(/would reserve in cn-hangzhou-i/);
  // The handler against the same ECS: it stops at the first zone.
  const request = parseReservationRequest({ InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-x', 'cn-hangzhou-i'] }, new Date());
  const handlerEcs = createEcsCall({ accessKeyId: ecs.accessKeyId, accessKeySecret: ecs.accessKeySecret }, 'cn-hangzhou');
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  await expect(createInFirstZoneWithStock(handlerEcs, request, clientToken(resourceKeys({ StackId: 's', LogicalResourceId: 'Pool', RequestId: 'r' }), 'g0:r'), []))
    .rejects.toThrow(/zone cn-hangzhou-x\) failed with InvalidZoneId\.NotFound/);
  expect(ecs.calls.filter(c => c.action === 'CreateCapacityReservation').map(c => c.query['ZoneId.1'])).toEqual(['cn-hangzhou-x']);
  jest.restoreAllMocks();
});

test('a zone that exists but does not list the type is passed over, as the handler passes over InvalidResourceType.NotSupported', async () => {
  await startEcs({ stock: { 'cn-hangzhou-h': 16, 'cn-hangzhou-i': 16 } });
  const options = { parameters: {}, progress: () => undefined, credentials: { accessKeyId: ecs.accessKeyId, accessKeySecret: ecs.accessKeySecret } };
  const real = createEcsCall;
  // ECS omits the zone when asked for the type there, and lists it when asked for zones.
  const found = [{ cloud: 'alicloud' as const, stack: 'S', logicalId: 'Pool', properties: { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'] } }];
  const [plan] = await planAlicloud(found, {
    ...options,
    ecs: (c, r) => {
      const call = real(c, r);
      return async (action, q) => (action === 'DescribeAvailableResource' && q.ZoneId === 'cn-hangzhou-h' && q.DestinationResource === 'InstanceType')
        ? { AvailableZones: { AvailableZone: [] } } : call(action, q);
    },
  });
  expect(plan).toMatchObject({ verdict: 'would-reserve', chosenZone: 'cn-hangzhou-i' });
});

test('no stock in any zone is exit 2, naming the reservation and each zone\'s answer', async () => {
  await startEcs({ stock: { 'cn-hangzhou-h': 0, 'cn-hangzhou-i': 0 } });
  const { code, out } = await run(writeRosTemplate());
  expect(code).toBe(2);
  expect(out).toMatch(/1 reservation would fail now:\n  Rehearsal\/Pool: no-stock: no stock of ecs\.gn7i-c8g1\.2xlarge in any of zoneIds \(cn-hangzhou-h: WithoutStock; cn-hangzhou-i: WithoutStock\)/);
});

test('parameters the handler would refuse are exit 2 with its own message, before any ECS call', async () => {
  await startEcs();
  const { code, out } = await run(writeRosTemplate({ InstanceAmount: 0 }));
  expect(code).toBe(2);
  expect(out).toMatch(/invalid: Invalid AliCapacityReservation parameters: instanceAmount must be a whole number of at least 1, got 0/);
  expect(ecs.calls).toEqual([]);
});

test('missing credentials fail with exit 1 and the environment variables to set', async () => {
  await startEcs();
  delete process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const { code, out, err } = await run(writeRosTemplate());
  expect(code).toBe(1);
  expect(out).toBe('');
  expect(err).toMatch(/^cdk-capacity-reservations plan: Alibaba Cloud: no credentials; set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/m);
});

test('credentials ECS rejects fail with exit 1, naming the variables to check', async () => {
  await startEcs();
  process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'not-the-secret';
  const { code, err } = await run(writeRosTemplate());
  expect(code).toBe(1);
  expect(err).toMatch(/Alibaba Cloud: SignatureDoesNotMatch: check ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
});

test('--json gives machines the zones, the chosen zone and the hourly cost', async () => {
  await startEcs({ stock: { 'cn-hangzhou-h': 0, 'cn-hangzhou-i': 16 } });
  const { code, out } = await run(writeRosTemplate(), '--json');
  expect(code).toBe(0);
  const report = JSON.parse(out);
  expect(report.reservations[0]).toMatchObject({ cloud: 'alicloud', verdict: 'would-reserve', chosenZone: 'cn-hangzhou-i', hourlyCost: 50, thirtyDayCost: 36000, currency: 'CNY' });
  expect(report.hourlyTotals).toEqual({ CNY: 50 });
});

test('two reservations asking the same zone and type share one question per zone', async () => {
  await startEcs();
  const file = writeRosTemplate();
  const template = JSON.parse(readFileSync(file, 'utf8'));
  template.Resources.Pool2 = template.Resources.Pool;
  writeFileSync(file, JSON.stringify(template));
  const { code } = await run(file);
  expect(code).toBe(0);
  expect(ecs.calls.filter(c => c.action === 'DescribeAvailableResource')).toHaveLength(2);
  expect(ecs.calls.filter(c => c.action === 'DescribePrice')).toHaveLength(2);
});

/**
 * The plan's questions and the emulator's answers, checked against the official
 * @alicloud/ecs20140526 models: every query key the plan sends is a request member, and every key
 * the emulator answers is a member at that place of the response body.
 */
describe('DescribeAvailableResource and DescribePrice follow the official ECS models', () => {
  test.each(['DescribeAvailableResource', 'DescribePrice'])('%s', async action => {
    await startEcs({ stock: { 'cn-hangzhou-h': 0, 'cn-hangzhou-i': 16 } });
    const call = createEcsCall({ accessKeyId: ecs.accessKeyId, accessKeySecret: ecs.accessKeySecret }, 'cn-hangzhou');
    expect((await run(writeRosTemplate())).code).toBe(0);
    const sent = ecs.calls.filter(c => c.action === action);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.flatMap(c => queryNotInModel(action, c.query))).toEqual([]);
    for (const c of sent) expect(answerKeysNotInModel(action, await call(action, c.query))).toEqual([]);
  });
});

test('a caller without permission fails with exit 1, naming the RAM actions to grant', async () => {
  const denied = async () => { throw Object.assign(new Error('User not authorized to operate on the specified resource.'), { code: 'Forbidden.RAM' }); };
  const found = [{ cloud: 'alicloud' as const, stack: 'S', logicalId: 'Pool', properties: { InstanceType: 'ecs.g7.large', InstanceAmount: 1, ZoneIds: ['cn-hangzhou-h'] } }];
  await expect(planAlicloud(found, { parameters: {}, progress: () => undefined, credentials: { accessKeyId: 'a', accessKeySecret: 'b' }, ecs: () => denied }))
    .rejects.toThrow(/^Alibaba Cloud: Forbidden\.RAM on DescribeAvailableResource: grant the caller ecs:DescribeAvailableResource and ecs:DescribePrice \(read-only; the plan calls nothing else\)$/);
});

/** Issue 17 item 8: priced as ECS prices a capacity reservation, to its end when Limited, never silently unpriced. */
describe('the price is the capacity reservation\'s', () => {
  test('asks DescribePrice for ResourceType CapacityReservation with InstanceAmount and Platform, and shows what ECS answers for them', async () => {
    await startEcs({ windowsHourlyPrices: { 'ecs.gn7i-c8g1.2xlarge': 15 } } as never);
    const { code, out } = await run(writeRosTemplate({ Platform: 'Windows' }));
    expect(code).toBe(0);
    const priced = ecs.calls.filter(c => c.action === 'DescribePrice').map(c => c.query);
    expect(priced[0]).toMatchObject({ ResourceType: 'CapacityReservation', InstanceAmount: '4', Platform: 'Windows' });
    expect(priced[0]).not.toHaveProperty('Amount');
    expect(out).toMatch(/-> would reserve in cn-hangzhou-h: 60\.00 CNY per hour/);
  });

  test('a Limited reservation is costed to its endTime, not for 30 days', async () => {
    await startEcs();
    const now = new Date('2030-01-01T00:00:00Z');
    const found = [{ cloud: 'alicloud' as const, stack: 'S', logicalId: 'Pool', properties: { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h'], EndTime: '2030-01-03T00:00:00Z' } }];
    const [plan] = await planAlicloud(found, { parameters: {}, progress: () => undefined, now, credentials: { accessKeyId: ecs.accessKeyId, accessKeySecret: ecs.accessKeySecret } });
    expect(plan).toMatchObject({ verdict: 'would-reserve', hourlyCost: 50, hours: 48, totalCost: 2400 });
  });

  test('fails (the CLI exits 1) when ECS cannot price the zone it would use, instead of planning it without a price', async () => {
    await startEcs();
    const real = createEcsCall;
    const found = [{ cloud: 'alicloud' as const, stack: 'S', logicalId: 'Pool', properties: { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h'] } }];
    const noPrice = Object.assign(new Error('The price of your queried resource is not available now.'), { code: 'PriceNotFound' });
    const planned = planAlicloud(found, {
      parameters: {}, progress: () => undefined, credentials: { accessKeyId: ecs.accessKeyId, accessKeySecret: ecs.accessKeySecret },
      ecs: (c, r) => {
        const call = real(c, r);
        return async (action, q) => { if (action === 'DescribePrice') throw noPrice; return call(action, q); };
      },
    });
    await expect(planned).rejects.toThrow(/^Alibaba Cloud: DescribePrice for 4 x ecs\.gn7i-c8g1\.2xlarge in cn-hangzhou-h failed with PriceNotFound/);
  });
});

/** Issue 25 row 8: ECS's figures as ECS gives them, exact decimals; the period's cost in exact decimal arithmetic (DescribePrice takes Period 1 for Hour). */
describe('ECS\'s price figures, exact', () => {
  test('GIVEN ECS prices 7 instances at 70.86 CNY an hour, THEN the plan shows 70.86 per hour and 51,019.20 per 30 days (not 70.861 and 51,019.92 from dividing, rounding and multiplying back)', async () => {
    await startEcs({ hourlyPrices: { 'ecs.gn7i-c8g1.2xlarge': 70.86 / 7 } });
    const { code, out } = await run(writeRosTemplate({ InstanceAmount: 7 }), '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out).reservations[0]).toMatchObject({ hourlyCost: 70.86, thirtyDayCost: 51019.2, hourlyCostText: '70.86', periodCostText: '51019.20' });
    const text = await run(writeRosTemplate({ InstanceAmount: 7 }));
    expect(text.out).toMatch(/-> would reserve in cn-hangzhou-h: 70\.86 CNY per hour, 51,019\.20 CNY per 30 days, billed until released/);
  });

  test('GIVEN a Limited reservation ending in 47.5 h, THEN it is costed for the 48 started hours ECS bills, in exact decimals', async () => {
    await startEcs({ hourlyPrices: { 'ecs.gn7i-c8g1.2xlarge': 0.1 } });
    const now = new Date('2030-01-01T00:30:00Z');
    const found = [{ cloud: 'alicloud' as const, stack: 'S', logicalId: 'Pool', properties: { InstanceType: 'ecs.gn7i-c8g1.2xlarge', InstanceAmount: 3, ZoneIds: ['cn-hangzhou-h'], EndTime: '2030-01-03T00:00:00Z' } }];
    const [plan] = await planAlicloud(found, { parameters: {}, progress: () => undefined, now, credentials: { accessKeyId: ecs.accessKeyId, accessKeySecret: ecs.accessKeySecret } });
    expect(plan).toMatchObject({ hourlyCostText: '0.3', hours: 48, periodCostText: '14.4', totalCost: 14.4 });
  });
});
