import { XMLParser } from 'fast-xml-parser';
import { CloudFormationStack, quietly, withAwsHandler, withProviderFramework } from '../../../lib/local';
import { answerElementsNotInModel, enumValuesNotInModel, outputPathInModel, requestParameterInModel } from './ec2-model';

/**
 * The emulator encodes our reading of EC2, so it is checked against EC2's own model: every request
 * parameter it reads, every element of every answer it sends, and every field the handler reads from
 * an answer must exist in @aws-sdk/client-ec2's schema of that operation. A misspelled name would
 * otherwise parse as undefined on both sides and agree with itself.
 */
const SERVED = [
  'DescribeCapacityBlockOfferings', 'PurchaseCapacityBlock', 'DescribeCapacityReservations', 'CreateTags', 'DeleteTags',
  'DescribeCapacityBlockExtensionOfferings', 'PurchaseCapacityBlockExtension', 'DescribeCapacityBlocks', 'DescribeCapacityBlockStatus',
];
const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };
/** Two P6e-GB200 NVL72 UltraServers, listed in the Dallas Local Zone only with AllAvailabilityZones. */
const ULTRA = { UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '2', DurationHours: '24', MaxUpfrontFee: '60000', AllAvailabilityZones: 'true' };

/**
 * Runs an instance block through buy, tag, untag, extension, preview and delete, and an UltraServer
 * block (same-day offerings, short of whole days) through buy, tag once active and delete, recording
 * what the handler read.
 */
async function exercise() {
  const reads = new Map<string, Set<string>>();
  const record = (action: string, path: string[]) => {
    const paths = reads.get(action) ?? new Set<string>();
    reads.set(action, paths);
    paths.add(path.join('.'));
  };
  const recording = (action: string, value: unknown, path: string[]): unknown => {
    if (value === null || typeof value !== 'object' || value instanceof Date) return value;
    return new Proxy(value as object, {
      get: (target, key, receiver) => {
        const child = Reflect.get(target, key, receiver);
        if (typeof key !== 'string' || key === '$metadata' || key === 'length' || key === 'then' || typeof child === 'function' || (Array.isArray(target) && /^\d+$/.test(key))) {
          return Array.isArray(target) && /^\d+$/.test(String(key)) ? recording(action, child, path) : child;
        }
        record(action, [...path, key]);
        return recording(action, child, [...path, key]);
      },
    });
  };
  return withAwsHandler({ sameDayOfferings: true }, (handler, emulator) => quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, async framework => {
    const saved = handler.hooks;
    const statuses: string[] = [];
    const afterCall = (command: string, output: unknown) => recording(command.replace(/Command$/, ''), output, []);
    Object.assign(handler.hooks, { afterCall });
    try {
      const stack = new CloudFormationStack(framework, { stackName: 'Model', logicalId: 'Block', region: 'us-east-1' });
      await stack.deploy({ ...BLOCK, Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'cost', Value: 'a' }] });
      await stack.deploy({ ...BLOCK, Tags: [{ Key: 'team', Value: 'research' }] });
      emulator.clock.advance(3_600_000);
      await stack.deploy({ ...BLOCK, DurationHours: '72', Tags: [{ Key: 'team', Value: 'research' }] });
      await stack.deploy({ ...BLOCK, PreviewOnly: 'true' });
      await stack.destroy();
      const ultra = new CloudFormationStack(framework, { stackName: 'ModelUltra', logicalId: 'Ultra', region: 'us-east-1' });
      statuses.push(await ultra.deploy(ULTRA));
      emulator.clock.advance(2 * 3_600_000); // active: the interconnect status is read
      statuses.push(await ultra.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'ml' }] }));
      // EC2 delivers the block late: its reservations go delayed, a state only reservations have.
      const ultraPurchase = emulator.purchases.find(r => r.offering.ultraserverType)!;
      for (const r of emulator.reservationsOfPurchase(ultraPurchase.id)) emulator.setState(r.id, 'delayed');
      await ultra.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'frontier' }] });
      statuses.push(await ultra.destroy());
    } finally {
      Object.assign(handler.hooks, saved, { afterCall: (_c: string, output: unknown) => output });
    }
    return { reads, parametersRead: emulator.parametersRead, answers: emulator.answers, statuses };
  })));
}

let seen: Awaited<ReturnType<typeof exercise>>;
beforeAll(async () => { seen = await exercise(); });

test('the flows exercise every action the emulator serves', () => {
  expect([...seen.parametersRead.keys()]).toEqual(expect.arrayContaining(SERVED));
  expect([...new Set(seen.answers.map(a => a.action))]).toEqual(expect.arrayContaining(SERVED));
});

test('the UltraServer block deploys, updates and deletes', () => {
  expect(seen.statuses).toEqual(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'DELETE_COMPLETE']);
});

test('the UltraServer flow sends the UltraServer search parameters, and they are in the model', () => {
  expect([...seen.parametersRead.get('DescribeCapacityBlockOfferings')!]).toEqual(expect.arrayContaining(['UltraserverType', 'UltraserverCount', 'AllAvailabilityZones']));
  expect([...seen.parametersRead.get('DescribeCapacityBlocks')!]).toEqual(expect.arrayContaining(['CapacityBlockId.1']));
});

test('every request parameter the emulator reads is in the EC2 model of its operation', () => {
  const problems = [...seen.parametersRead].flatMap(([action, params]) => [...params].map(p => requestParameterInModel(action, p)).filter(Boolean));
  expect(problems).toEqual([]);
});

test('every element of every answer the emulator sends is in the EC2 model of its operation', () => {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' });
  const problems = seen.answers.flatMap(({ action, body }) => answerElementsNotInModel(action, parser.parse(body)[`${action}Response`]));
  expect([...new Set(problems)]).toEqual([]);
});

test('every state and status the emulator answers is a value the EC2 model lists for that member', () => {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' });
  expect(seen.answers.filter(a => a.action === 'DescribeCapacityBlocks').length).toBeGreaterThan(0);
  const problems = seen.answers.flatMap(({ action, body }) => enumValuesNotInModel(action, parser.parse(body)[`${action}Response`]));
  expect([...new Set(problems)]).toEqual([]);
});

test('every field the handler reads from an EC2 answer is in the EC2 model of its operation', () => {
  const ec2Reads = [...seen.reads].filter(([action]) => SERVED.includes(action));
  expect(ec2Reads.map(([action]) => action)).toEqual(expect.arrayContaining([
    'DescribeCapacityBlockOfferings', 'PurchaseCapacityBlock', 'DescribeCapacityReservations', 'DescribeCapacityBlocks', 'DescribeCapacityBlockStatus',
  ]));
  // The UltraServer answers are read where they differ: several blocks, several reservations each, hours plus minutes.
  expect([...seen.reads.get('PurchaseCapacityBlock')!]).toEqual(expect.arrayContaining(['CapacityBlocks.CapacityReservationIds']));
  expect([...seen.reads.get('DescribeCapacityBlockOfferings')!]).toEqual(expect.arrayContaining([
    'CapacityBlockOfferings.CapacityBlockDurationMinutes', 'CapacityBlockOfferings.UltraserverType', 'CapacityBlockOfferings.UltraserverCount', 'CapacityBlockOfferings.ZoneType',
  ]));
  expect([...seen.reads.get('DescribeCapacityBlockStatus')!]).toEqual(expect.arrayContaining(['CapacityBlockStatuses.InterconnectStatus']));
  const problems = ec2Reads.flatMap(([action, paths]) => [...paths].map(p => outputPathInModel(action, p.split('.'))).filter(Boolean));
  expect(problems).toEqual([]);
});

describe('the model checks can fail', () => {
  test('a misspelled answer element is caught, however the rest is spelled', () => {
    expect(answerElementsNotInModel('DescribeCapacityReservations', {
      capacityReservationSet: { item: [{ capacityReservationId: 'cr-1', availabilityZoneId: 'use1-az1', zoneid: 'use1-az1' }] },
    })).toEqual(['DescribeCapacityReservations.capacityReservationSet.item.zoneid is not in DescribeCapacityReservationsResult']);
  });

  test('a request parameter named after the SDK member instead of the wire name is caught', () => {
    expect(requestParameterInModel('DescribeCapacityReservations', 'Filter.1.Name')).toBeUndefined();
    expect(requestParameterInModel('DescribeCapacityReservations', 'Filters.1.Name')).toMatch(/no member 'Filters'/);
  });

  test('a block state that only reservations have is caught', () => {
    expect(enumValuesNotInModel('DescribeCapacityBlocks', { capacityBlockSet: { item: [{ capacityBlockId: 'cb-1', state: 'delayed' }] } }))
      .toEqual(["DescribeCapacityBlocks: capacityBlockSet.state 'delayed' is not a CapacityBlockResourceState"]);
    expect(enumValuesNotInModel('DescribeCapacityReservations', { capacityReservationSet: { item: [{ state: 'delayed' }] } })).toEqual([]);
  });

  test('a handler read of a field the answer does not have is caught', () => {
    expect(outputPathInModel('DescribeCapacityReservations', ['CapacityReservations', 'ZoneId'])).toMatch(/ZoneId is not a member/);
  });
});
