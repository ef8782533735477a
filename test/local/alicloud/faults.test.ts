import { createEcsCall } from '../../../lib/alicloud/handler/ecs';
import { EcsEmulator, rehearseAlicloud } from '../../../lib/local';
import { rosTemplate } from '../templates';

/** Through the real FC bundle and @alicloud/openapi-client, against the ECS emulator with faults. */
describe('the Alibaba handler against a faulty ECS', () => {
  test('one reservation under redelivery and throttling, released on delete', async () => {
    const { reports, emulator } = await rehearseAlicloud(rosTemplate(), { ecs: { faults: { seed: 5, throttle: 0.3 } } });
    expect(emulator.faults.injected.throttle).toBeGreaterThan(0);
    expect(reports[0]).toMatchObject({ ok: true, reservationsCreated: 1, releasedOnDelete: true });
  });

  test('a create whose answer is lost is retried with the same ClientToken and makes one reservation', async () => {
    const { reports, emulator } = await rehearseAlicloud(rosTemplate(), { ecs: { stock: { 'cn-hangzhou-h': 8, 'cn-hangzhou-i': 8 }, faults: { seed: 2, lostAnswer: 0.5 } } });
    expect(emulator.faults.injected.lostAnswer).toBeGreaterThan(0);
    expect(reports[0]).toMatchObject({ ok: true, reservationsCreated: 1 });
  });

  test('Zone.NotOnSale in the first zone falls back to the second', async () => {
    const { reports } = await rehearseAlicloud(rosTemplate(), { ecs: { stock: { 'cn-hangzhou-h': 8, 'cn-hangzhou-i': 8 }, zoneErrors: { 'cn-hangzhou-h': 'Zone.NotOnSale' } } });
    expect(reports[0]).toMatchObject({ ok: true, zoneId: 'cn-hangzhou-i' });
  });

  test('a zone that does not exist fails with an actionable reason and creates nothing', async () => {
    const { reports, emulator } = await rehearseAlicloud(rosTemplate({ ZoneIds: ['cn-hangzhou-z'] }), { ecs: { stock: { 'cn-hangzhou-h': 8 } } });
    expect(reports[0].ok).toBe(false);
    expect(reports[0].error).toMatch(/InvalidZoneId.NotFound: the zone does not exist in this region/);
    expect(emulator.reservations.size).toBe(0);
  });

  test('16 user tags (ECS\'s 20 less the library\'s 2 and 2 answer-marker slots) deploy, update and release against the emulator\'s 20-tag limit, with no answer marker left', async () => {
    const Tags = Array.from({ length: 16 }, (_, i) => ({ Key: `team${i}`, Value: 'ml' }));
    const { reports, emulator } = await rehearseAlicloud(rosTemplate({ Tags }), { ecs: { stock: { 'cn-hangzhou-h': 8, 'cn-hangzhou-i': 8 } } });
    expect(reports[0]).toMatchObject({ ok: true, reservationsCreated: 1, releasedOnDelete: true });
    const [reservation] = [...emulator.reservations.values()];
    expect(reservation.tags.size).toBe(18);
    expect([...reservation.tags.keys()].filter(k => k.includes(':answer:'))).toEqual([]);
  });

  test('the emulator refuses a request signed with the wrong secret', async () => {
    const emulator = new EcsEmulator();
    await emulator.start();
    Object.assign(process.env, { ALIBABA_CLOUD_ECS_ENDPOINT: emulator.endpoint, ALIBABA_CLOUD_ECS_PROTOCOL: 'http' });
    try {
      const call = createEcsCall({ accessKeyId: emulator.accessKeyId, accessKeySecret: 'not-the-secret' }, 'cn-hangzhou');
      await expect(call('DescribeCapacityReservations', {})).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
      const good = createEcsCall({ accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret }, 'cn-hangzhou');
      await expect(good('DescribeCapacityReservations', {})).resolves.toMatchObject({ TotalCount: 0 });
    } finally {
      delete process.env.ALIBABA_CLOUD_ECS_ENDPOINT;
      delete process.env.ALIBABA_CLOUD_ECS_PROTOCOL;
      await emulator.stop();
    }
  });
});
