import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { AliCapacityReservation } from '../../../lib/alicloud';
import { RESOURCE_TAG, RETAINED_PREFIX } from '../../../lib/alicloud/wire';
import { EcsEmulator, EcsEmulatorOptions } from '../../../lib/local/alicloud/ecs-emulator';
import { withAliHandler } from '../../../lib/local/alicloud/rehearsal';
import { newRosInvariants, RosInvariants, RosStack } from '../../../lib/local/alicloud/ros-engine';
import { RosResponder } from '../../../lib/local/alicloud/ros-protocol';
import { Json, quietly } from '../../../lib/local/resources';

/**
 * One reservation per lifetime of a resource, and rollbacks that always land (issue 25, rows 1-7
 * and 9): the bundled FC handler against the signed ECS emulator, driven by ROS's engine model.
 */

const TYPES = ['ecs.gn7i-c8g1.2xlarge', 'ecs.gn7i-c16g1.4xlarge'];
const BASE: Json = { InstanceType: TYPES[0], InstanceAmount: 4, ZoneIds: ['cn-hangzhou-h'] };

interface World {
  readonly stack: RosStack;
  readonly emulator: EcsEmulator;
  readonly ros: RosResponder;
  readonly counts: RosInvariants;
  /** Another stack resource under the same logical id in the same stack: a new lifetime. */
  invoke: (event: Json) => Promise<Json>;
}

async function inWorld(ecs: EcsEmulatorOptions, work: (w: World) => Promise<void>): Promise<void> {
  await withAliHandler(ecs, async (invoke, emulator, responseUrl, ros) => {
    const counts = newRosInvariants();
    const stack = new RosStack(invoke, emulator, ros, responseUrl, 'Pool', counts);
    await quietly(() => work({ stack, emulator, ros, counts, invoke }));
  }, 1);
}

/** Mutating ECS calls that name the reservation (from call number `from` on). */
function touched(emulator: EcsEmulator, id: string, from = 0): string[] {
  return emulator.calls.slice(from).filter(c => /^(Release|Modify|Tag|Untag)/.test(c.action) && !c.fault && JSON.stringify(c.query).includes(id)).map(c => c.action);
}

describe('row 1: a reservation kept by RETAIN belongs to nobody', () => {
  const readd = {
    'an in-place update of the re-added resource': async (w: World) => {
      expect(await w.stack.create({ ...BASE })).toBe(true);
      await w.stack.update({ ...BASE, InstanceAmount: 5 });
    },
    'the re-add rolled back (a later resource failed)': async (w: World) => {
      await w.stack.create({ ...BASE }, { laterFails: true });
    },
    'the re-add failing with NoStock (its rollback Delete)': async (w: World) => {
      expect(await w.stack.create({ ...BASE })).toBe(false);
    },
  };
  test.each(Object.keys(readd))('GIVEN removalPolicy retain kept a reservation when its resource left the template, WHEN the logical id comes back and then %s, THEN the kept reservation is tagged retained, live and never touched', async name => {
    for (const policy of ['retain', 'retain-on-update-or-delete']) {
      await inWorld({ stock: { 'cn-hangzhou-h': name.includes('NoStock') ? 4 : 16 } }, async w => {
        expect(await w.stack.create({ ...BASE, RemovalPolicy: policy })).toBe(true);
        const kept = w.stack.live()[0];
        await w.stack.removeFromTemplate();
        const callsBefore = w.emulator.calls.length;
        await readd[name as keyof typeof readd](w);
        expect(w.emulator.reservations.get(kept)!.status).toBe('Active');
        expect(touched(w.emulator, kept, callsBefore)).toEqual([]);
        expect(w.emulator.reservations.get(kept)!.tags.get(RESOURCE_TAG)).toMatch(new RegExp(`^${RETAINED_PREFIX}`));
        expect(w.stack.live()).not.toContain(kept);
        expect(w.counts.rollbackFailed).toBe(0);
      });
    }
  });
});

describe('row 2: a Delete for an earlier lifetime changes nothing', () => {
  test('GIVEN the resource was removed (Delete D) and added back, WHEN FC delivers D again late, THEN the reservation the stack holds now stays live and untouched', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      expect(await w.stack.create({ ...BASE })).toBe(true);
      await w.stack.removeFromTemplate();
      const d = w.stack.lastSent('Delete')!;
      expect(await w.stack.create({ ...BASE })).toBe(true);
      const now = w.stack.live();
      expect(now).toHaveLength(1);
      const from = w.emulator.calls.length;
      await w.stack.redeliverEvent(d);
      expect(w.stack.live()).toEqual(now);
      expect(touched(w.emulator, now[0], from)).toEqual([]);
    });
  });

  test('GIVEN the resource was removed and added back, WHEN the first lifetime\'s Update is delivered again late, THEN the new reservation is not modified', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      await w.stack.create({ ...BASE });
      await w.stack.update({ ...BASE, InstanceAmount: 6 });
      const u = w.stack.lastSent('Update')!;
      await w.stack.removeFromTemplate();
      await w.stack.create({ ...BASE });
      const now = w.stack.live()[0];
      const from = w.emulator.calls.length;
      await w.stack.redeliverEvent(u);
      expect(w.emulator.reservations.get(now)!.amount).toBe(4);
      expect(touched(w.emulator, now, from)).toEqual([]);
    });
  });
});

describe('row 3: a replacement keeps the old reservation until the stack no longer needs it', () => {
  test.each([['instanceType', { InstanceType: TYPES[1] }], ['zone', { ZoneIds: ['cn-hangzhou-i'] }]])(
    'GIVEN other tenants take released capacity at once, WHEN a %s replacement succeeds but a later resource fails, THEN ROS\'s rollback returns to the original reservation, buys nothing and lands',
    async (_name, change) => {
      await inWorld({ stock: { 'cn-hangzhou-h': 8, 'cn-hangzhou-i': 4 }, othersTakeReleased: true }, async w => {
        await w.stack.create({ ...BASE });
        const original = w.stack.live()[0];
        await w.stack.update({ ...BASE, ...change }, { laterFails: true });
        expect(w.counts.rollbackFailed).toBe(0);
        expect(w.stack.live()).toEqual([original]);
        expect(w.emulator.calls.filter(c => c.action === 'CreateCapacityReservation' && !c.fault)).toHaveLength(2);
      });
    });

  /**
   * ROS's Update reference (help.aliyun.com/document_detail/145912, "Update") documents the request
   * fields but, unlike CloudFormation's, says nothing about a Delete for the old PhysicalResourceId
   * when an Update answers a new one; the Delete reference speaks only of deleting a stack. It is
   * undocumented, so the handler never changes the PhysicalResourceId (no Delete is ever due) and
   * releases the replaced reservation itself once GetStack shows the update completed.
   */
  test('GIVEN a replacement, WHEN the update completes, THEN the answer keeps the PhysicalResourceId ROS holds and the replaced reservation is released once GetStack shows UPDATE_COMPLETE', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 8 } }, async w => {
      await w.stack.create({ ...BASE });
      const [original] = w.stack.live();
      const physicalId = w.stack.physicalResourceId;
      await w.stack.update({ ...BASE, InstanceType: TYPES[1] });
      expect(w.stack.physicalResourceId).toBe(physicalId);
      expect(w.ros.answerOf(w.stack.lastSent('Update')!.RequestId)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
      expect(w.emulator.reservations.get(original)!.status).toBe('Released');
      expect(w.stack.live()).toHaveLength(1);
      expect(w.stack.live()).not.toContain(original);
    });
  });
});

describe('row 4: a rollback that cannot lower the amount below what is used', () => {
  test('GIVEN instanceAmount raised 4 -> 8 and then 6 instances use it, WHEN a later resource fails, THEN the rollback lowers to 6, answers SUCCESS with a note, and no ROLLBACK_FAILED', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      await w.stack.create({ ...BASE });
      const [id] = w.stack.live();
      await w.stack.update({ ...BASE, InstanceAmount: 8 }, { laterFails: true, beforeRollback: () => w.emulator.useInstances(id, 6) });
      expect(w.counts.rollbackFailed).toBe(0);
      expect(w.emulator.reservations.get(id)!.amount).toBe(6);
      const rollback = w.stack.lastSent('Update')!;
      expect(rollback.ResourceProperties.Parameters.InstanceAmount).toBe(4);
    });
  });
});

describe('row 5: platform, which ECS does not apply', () => {
  test('GIVEN platform Windows (CreateCapacityReservation\'s Platform is "not available for use"), WHEN instanceAmount changes and a later resource fails, THEN the update and its rollback both land in place', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      await w.stack.create({ ...BASE, Platform: 'Windows' });
      const [id] = w.stack.live();
      await w.stack.update({ ...BASE, Platform: 'Windows', InstanceAmount: 5 });
      expect(w.stack.failures).toEqual([]);
      expect(w.emulator.reservations.get(id)!.amount).toBe(5);
      await w.stack.update({ ...BASE, Platform: 'Linux', InstanceAmount: 6 }, { laterFails: true });
      expect(w.counts.rollbackFailed).toBe(0);
      expect(w.stack.failures).toEqual([]);
      expect(w.stack.live()).toEqual([id]);
      expect(w.emulator.reservations.get(id)!.amount).toBe(5);
    });
  });
});

describe('row 6: a stale request never acts after a newer one started', () => {
  test('GIVEN U1 (2 -> 9) is delivered again late while U2 (9 -> 3) runs, at each of 16 start offsets, THEN ECS ends at the stack\'s 3', async () => {
    const wrong: string[] = [];
    for (let offset = 0; offset < 16; offset++) {
      await inWorld({ stock: { 'cn-hangzhou-h': 32 } }, async w => {
        await w.stack.create({ ...BASE, InstanceAmount: 2 });
        await w.stack.update({ ...BASE, InstanceAmount: 9 });
        const u1 = w.stack.lastSent('Update')!;
        const [id] = w.stack.live();
        await w.stack.update({ ...BASE, InstanceAmount: 3 }, {
          whileRunning: update => new Promise<unknown>(resolve => {
            let calls = 0;
            const start = () => { w.emulator.tap = undefined; resolve(w.stack.redeliverEvent(u1)); };
            w.emulator.tap = () => { if (calls++ === offset) start(); };
            void w.ros.answered(update.RequestId).then(() => { if (w.emulator.tap) start(); });
          }),
        });
        const amount = w.emulator.reservations.get(id)!.amount;
        if (amount !== 3) wrong.push(`offset ${offset}: ${amount}`);
      });
    }
    expect(wrong).toEqual([]);
  });
});

describe('row 7: impossible end times and duplicate or blank tag keys', () => {
  const BAD: Array<[string, Json]> = [
    ['endTime', { EndTime: '2031-02-30T00:00:00Z' }],
    ['endTime', { EndTime: '2031-04-31T12:00:00Z' }],
    ['endTime', { EndTime: '2031-05-01T24:00:00Z' }],
    ['tags', { Tags: [{ Key: 'team', Value: 'a' }, { Key: 'team', Value: 'b' }] }],
    ['tags', { Tags: [{ Key: ' ', Value: 'a' }] }],
    ['tags', { Tags: [{ Key: '', Value: 'a' }] }],
  ];
  test.each(BAD)('fails at deploy naming %s for %j, and calls no ECS create', async (field, bad) => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      expect(await w.stack.create({ ...BASE, ...bad })).toBe(false);
      expect(w.stack.failures[0]).toMatch(new RegExp(`\\b${field === 'tags' ? 'tag' : field}`));
      expect(w.emulator.calls.filter(c => c.action === 'CreateCapacityReservation')).toHaveLength(0);
    });
  });

  test.each(BAD.filter(([, bad]) => bad.Tags?.length !== 2))('fails at synth naming %s for %j (tags are a map there: no duplicate keys)', (field, bad) => {
    const stack = new ros.Stack(new ros.App({ outdir: mkdtempSync(join(tmpdir(), 'ros-')) }), 'Row7');
    const props = { instanceType: TYPES[0], instanceAmount: 4, zoneIds: ['cn-hangzhou-h'], endTime: bad.EndTime, tags: bad.Tags && { [bad.Tags[0].Key]: 'a' } };
    expect(() => new AliCapacityReservation(stack, 'Pool', props)).toThrow(field === 'tags' ? /tag key/ : new RegExp(`endTime.*${bad.EndTime}`));
  });
});

describe('row 9: the two documented limits', () => {
  test('GIVEN the template went A -> B -> ... -> A over more requests than the ledger keeps, WHEN FC delivers the A -> B Update again late, THEN it changes nothing (GetStack shows no operation running)', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 32 } }, async w => {
      await w.stack.create({ ...BASE });
      await w.stack.update({ ...BASE, InstanceAmount: 9 });
      const u1 = w.stack.lastSent('Update')!;
      for (let i = 0; i < 8; i++) await w.stack.update({ ...BASE, InstanceAmount: 9, Name: `pool-${'abcdefgh'[i]}` });
      await w.stack.update({ ...BASE });
      const [id] = w.stack.live();
      await w.stack.redeliverEvent(u1);
      expect(w.emulator.reservations.get(id)!.amount).toBe(4);
    });
  });

  test('GIVEN the most user tags the construct allows, WHEN a Create runs after ROS gave up (its answer refused), THEN nothing is left billing; one tag more is refused naming the bound', async () => {
    const { ALI_MAX_USER_TAGS } = await import('../../../lib/alicloud/wire') as Json;
    expect(ALI_MAX_USER_TAGS).toBeGreaterThanOrEqual(10);
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      await w.stack.create({ ...BASE, Tags: tags(ALI_MAX_USER_TAGS) }, { late: true });
      expect(w.emulator.live()).toHaveLength(0);
      expect(await w.stack.create({ ...BASE, Tags: tags(ALI_MAX_USER_TAGS + 1) })).toBe(false);
      expect(w.stack.failures.at(-1)).toMatch(new RegExp(`at most ${ALI_MAX_USER_TAGS} tags`));
    });
  });

  test('GIVEN an Update followed by more than eight requests, WHEN FC delivers that Update again late, THEN it changes nothing', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 32 } }, async w => {
      await w.stack.create({ ...BASE });
      await w.stack.update({ ...BASE, InstanceAmount: 9 });
      const u1 = w.stack.lastSent('Update')!;
      for (let i = 0; i < 10; i++) await w.stack.update({ ...BASE, InstanceAmount: 9, Name: `pool-${'abcdefghij'[i]}` });
      await w.stack.update({ ...BASE, InstanceAmount: 4, Name: 'pool-j' });
      const [id] = w.stack.live();
      await w.stack.redeliverEvent(u1);
      expect(w.emulator.reservations.get(id)!.amount).toBe(4);
    });
  });
});

describe('retain-on-update-or-delete and the stack\'s status', () => {
  test('GIVEN retain-on-update-or-delete, WHEN a Create is rolled back while ROS GetStack is throttled 40 times in a row, THEN the rollback Delete keeps asking (simulated minutes) and releases what the failed create added', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      w.ros.throttleGetStack(40);
      expect(await w.stack.create({ ...BASE, RemovalPolicy: 'retain-on-update-or-delete' }, { laterFails: true })).toBe(false);
      expect(w.counts.rollbacksContinued).toBe(0);
      expect(w.emulator.live()).toHaveLength(0);
    });
  });

  test('GIVEN retain-on-update-or-delete, WHEN the resource is added in an update that a later resource fails, THEN ROS\'s update rollback (ROLLBACK_IN_PROGRESS) Delete releases what that update added, and a removal keeps what existed before', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16 } }, async w => {
      const policy = { ...BASE, RemovalPolicy: 'retain-on-update-or-delete' };
      await w.stack.create(policy);
      const before = w.stack.live()[0];
      await w.stack.removeFromTemplate();
      await w.stack.create(policy, { laterFails: true });
      expect(w.emulator.live().map(r => r.id)).toEqual([before]);
      expect(w.emulator.reservations.get(before)!.tags.get(RESOURCE_TAG)).toMatch(new RegExp(`^${RETAINED_PREFIX}`));
    });
  });
});

describe('found by the ROS model', () => {
  test('GIVEN retain-on-update-or-delete, a zone replacement, an amount change and the removal of the resource, WHEN FC delivers the amount change again late, THEN nothing is created or changed', async () => {
    await inWorld({ stock: { 'cn-hangzhou-h': 16, 'cn-hangzhou-i': 16 } }, async w => {
      const p = { ...BASE, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'], RemovalPolicy: 'retain-on-update-or-delete' };
      await w.stack.create(p);
      await w.stack.update({ ...p, ZoneIds: ['cn-hangzhou-i'] });
      await w.stack.update({ ...p, ZoneIds: ['cn-hangzhou-i'], InstanceAmount: 5 });
      const late = w.stack.lastSent('Update')!;
      await w.stack.removeFromTemplate();
      const before = w.emulator.reservations.size;
      const from = w.emulator.calls.length;
      await w.stack.redeliverEvent(late);
      expect(w.emulator.reservations.size).toBe(before);
      expect(w.emulator.calls.slice(from).filter(c => /^(Create|Modify|Release)/.test(c.action))).toEqual([]);
    });
  });
});
