import {
  CapacityReservation, DescribeCapacityBlockOfferingsCommand, DescribeCapacityBlocksCommand, DescribeCapacityBlockStatusCommand,
  DescribeCapacityReservationsCommand, EC2Client, PurchaseCapacityBlockCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { isComplete, onEvent, ProviderEvent } from '../../../lib/aws/handler';
import { judgeOfferings, toOffering } from '../../../lib/aws/handler/offerings';
import { LedgerPurchase } from '../../../lib/aws/handler/ledger';
import { mismatches, pickAdoptable } from '../../../lib/aws/handler/ownership';
import { parseRequest } from '../../../lib/aws/handler/request';
import { ULTRASERVER_TAG } from '../../../lib/aws/wire';
import { useClaimsTable } from './claims-table';
import { createEvent, daysAhead, deleteEvent, offering, reservation } from './fixtures';

const ec2 = mockClient(EC2Client);
useClaimsTable();

beforeEach(() => {
  ec2.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

const ULTRA = { InstanceType: undefined, InstanceCount: undefined, UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '2', DurationHours: '24', MaxUpfrontFee: '70000' };
const START = daysAhead(7);
const ultraOffering = (id: string, fee: number, overrides = {}) => offering(id, fee, {
  InstanceType: 'p6e-gb200.36xlarge', InstanceCount: 36, UltraserverType: 'u-p6e-gb200x72', UltraserverCount: 2,
  AvailabilityZone: 'us-east-2-dfw-2a', ZoneType: 'local-zone', StartDate: START, EndDate: new Date(START.getTime() + 86_400_000), CapacityBlockDurationHours: 24, ...overrides,
});
const member = (id: string, state: CapacityReservation['State'], block = 'cb-block1') => reservation(id, {
  State: state, CapacityBlockId: block, Tags: [...reservation(id).Tags!, { Key: ULTRASERVER_TAG, Value: 'u-p6e-gb200x72 x 2' }],
});
function pollEvent(id: string, ids: string[], deadline: Date): ProviderEvent {
  const event = createEvent(ULTRA as never);
  return { ...event, PhysicalResourceId: id, Data: { WaitDeadline: deadline.toISOString(), Note: '', CapacityReservationIds: ids.join(',') } };
}
const later = () => new Date(Date.now() + 600_000);

describe('Create of an UltraServer block', () => {
  test('searches for UltraServers, not instances, in every zone when asked, and answers every reservation of every block EC2 returns', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [ultraOffering('cb-0ultra', 61000)] });
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [] });
    ec2.on(PurchaseCapacityBlockCommand).resolves({
      // No CapacityReservation: an UltraServer purchase answers its blocks, each with several reservations.
      CapacityBlocks: [
        { CapacityBlockId: 'cb-block2', CapacityReservationIds: ['cr-0d', 'cr-0c'] },
        { CapacityBlockId: 'cb-block1', CapacityReservationIds: ['cr-0b', 'cr-0a'] },
      ],
    });

    const result = await onEvent(createEvent({ ...ULTRA, AllAvailabilityZones: 'true' } as never));

    expect(ec2).toHaveReceivedCommandWith(DescribeCapacityBlockOfferingsCommand, { UltraserverType: 'u-p6e-gb200x72', UltraserverCount: 2, AllAvailabilityZones: true, CapacityDurationHours: 24 });
    expect(ec2.commandCalls(DescribeCapacityBlockOfferingsCommand)[0].args[0].input.InstanceType).toBeUndefined();
    expect(result.PhysicalResourceId).toBe('cr-0a');
    expect(result.Data?.CapacityReservationIds).toBe('cr-0a,cr-0b,cr-0c,cr-0d');
    const tags = ec2.commandCalls(PurchaseCapacityBlockCommand)[0].args[0].input.TagSpecifications![0].Tags!;
    expect(tags).toContainEqual({ Key: ULTRASERVER_TAG, Value: 'u-p6e-gb200x72 x 2' });
  });

  test('fails before any EC2 call when instance and UltraServer properties are mixed', async () => {
    await expect(onEvent(createEvent({ ...ULTRA, InstanceType: 'p5.48xlarge' } as never)))
      .rejects.toThrow(/instanceType\/instanceCount and ultraserverType\/ultraserverCount cannot be combined/);
    expect(ec2.calls()).toHaveLength(0);
  });

  test('fails at deploy time on an ultraserverCount of 0 or an UltraServer type without its count', async () => {
    await expect(onEvent(createEvent({ ...ULTRA, UltraserverCount: '0' } as never))).rejects.toThrow(/ultraserverCount must be a whole number of UltraServers, 1 or more, got 0/);
    await expect(onEvent(createEvent({ ...ULTRA, UltraserverCount: undefined } as never))).rejects.toThrow(/an UltraServer block needs both ultraserverType and ultraserverCount; set ultraserverCount/);
    expect(ec2.calls()).toHaveLength(0);
  });
});

describe('the judge on UltraServer and partial-day offerings', () => {
  const request = parseRequest(ULTRA as never, 'us-east-2', new Date());

  test('refuses an offering of another UltraServer type or count, or of instances, and one above the ceiling', () => {
    const judged = judgeOfferings([
      ultraOffering('cb-0x36', 30000, { UltraserverType: 'u-p6e-gb200x36' }),
      ultraOffering('cb-0three', 60000, { UltraserverCount: 3 }),
      offering('cb-0instances', 20000, { CapacityBlockDurationHours: 24 }),
      ultraOffering('cb-0dear', 90000),
      ultraOffering('cb-0good', 61000),
    ].map(toOffering), request);
    expect(judged.acceptable.map(o => o.id)).toEqual(['cb-0good']);
    expect(Object.fromEntries(judged.refused.map(r => [r.offering.id, r.reason]))).toEqual({
      'cb-0x36': 'UltraServer type u-p6e-gb200x36',
      'cb-0three': '3 UltraServers',
      'cb-0instances': 'instances of p5.48xlarge, not UltraServers',
      'cb-0dear': '90000.00 USD > maxUpfrontFee 70000.00 USD',
    });
  });

  test('accepts a block short of whole days (it starts off 11:30 UTC and ends at 11:30), refuses one of another length', () => {
    const judged = judgeOfferings([
      ultraOffering('cb-0sameday', 40000, { CapacityBlockDurationHours: 6, CapacityBlockDurationMinutes: 35 }),
      ultraOffering('cb-0twodays', 40000, { CapacityBlockDurationHours: 47, CapacityBlockDurationMinutes: 35 }),
    ].map(toOffering), request);
    expect(judged.acceptable.map(o => o.id)).toEqual(['cb-0sameday']);
    expect(judged.refused.map(r => r.reason)).toEqual(['47 h 35 min long']);
  });
});

describe('isComplete waits for every reservation of an UltraServer block', () => {
  test('keeps waiting while any reservation of the block is still payment-pending, even when the tracked one is paid', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves({
      CapacityReservations: [member('cr-0a', 'scheduled'), member('cr-0b', 'scheduled'), member('cr-0c', 'payment-pending', 'cb-block2'), member('cr-0d', 'scheduled', 'cb-block2')],
    });
    expect(await isComplete(pollEvent('cr-0a', ['cr-0a', 'cr-0b', 'cr-0c', 'cr-0d'], later()))).toEqual({ IsComplete: false });
    expect(ec2).toHaveReceivedCommandWith(DescribeCapacityReservationsCommand, { CapacityReservationIds: ['cr-0a', 'cr-0b', 'cr-0c', 'cr-0d'] });
  });

  test('keeps waiting while EC2 does not list every reservation yet', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [member('cr-0a', 'scheduled'), member('cr-0b', 'scheduled')] });
    expect(await isComplete(pollEvent('cr-0a', ['cr-0a', 'cr-0b', 'cr-0c'], later()))).toEqual({ IsComplete: false });
  });

  test('finishes when all are paid, with every reservation, both blocks, and the interconnect once active', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves({
      CapacityReservations: [member('cr-0b', 'active'), member('cr-0a', 'active'), member('cr-0c', 'active', 'cb-block2'), member('cr-0d', 'active', 'cb-block2')],
    });
    ec2.on(DescribeCapacityBlocksCommand).resolves({ CapacityBlocks: [{ CapacityBlockId: 'cb-block1', State: 'active' }, { CapacityBlockId: 'cb-block2', State: 'active' }] });
    ec2.on(DescribeCapacityBlockStatusCommand).resolves({ CapacityBlockStatuses: [{ CapacityBlockId: 'cb-block1', InterconnectStatus: 'ok' }, { CapacityBlockId: 'cb-block2', InterconnectStatus: 'ok' }] });

    const result = await isComplete(pollEvent('cr-0a', ['cr-0a', 'cr-0b', 'cr-0c', 'cr-0d'], later()));

    expect(result.IsComplete).toBe(true);
    expect(result.Data).toMatchObject({
      CapacityReservationId: 'cr-0a', CapacityReservationIds: 'cr-0a,cr-0b,cr-0c,cr-0d', CapacityBlockId: 'cb-block1', CapacityBlockIds: 'cb-block1,cb-block2',
      State: 'active', InterconnectStatus: 'ok', Note: '',
    });
  });

  test('a block EC2 marks unavailable ends the wait as bought, with what to do, never as FAILED', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [member('cr-0a', 'scheduled'), member('cr-0b', 'scheduled')] });
    ec2.on(DescribeCapacityBlocksCommand).resolves({ CapacityBlocks: [{ CapacityBlockId: 'cb-block1', State: 'unavailable' }] });
    const result = await isComplete(pollEvent('cr-0a', ['cr-0a', 'cr-0b'], later()));
    expect(result.IsComplete).toBe(true);
    expect(result.Data?.Note).toMatch(/Capacity Block cb-block1 is bought, but EC2 reports it unavailable .*contact AWS Support/);
  });

  test('a failing DescribeCapacityBlocks never fails a paid block', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [member('cr-0a', 'scheduled'), member('cr-0b', 'scheduled')] });
    ec2.on(DescribeCapacityBlocksCommand).rejects(new Error('AccessDenied'));
    const result = await isComplete(pollEvent('cr-0a', ['cr-0a', 'cr-0b'], later()));
    expect(result).toMatchObject({ IsComplete: true, Data: { State: 'scheduled' } });
  });
});

describe('the new reservation states', () => {
  test.each([
    ['delayed', /is bought, but EC2 is delivering it late/],
    ['unavailable', /is bought, but EC2 reports it unavailable/],
    ['failed', /is failed by EC2 after it was bought; check its billing with AWS Support before buying again/],
  ] as const)('%s ends the wait of an instance block as bought, with what it means', async (state, note) => {
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [reservation('cr-0a', { State: state })] });
    const result = await isComplete({ ...createEvent(), PhysicalResourceId: 'cr-0a', Data: { WaitDeadline: later().toISOString(), Note: '' } });
    expect(result.IsComplete).toBe(true);
    expect(result.Data?.State).toBe(state);
    expect(result.Data?.Note).toMatch(note);
  });

  test.each(['delayed', 'unavailable', 'failed', 'cancelled'] as const)('Delete of a %s block succeeds, cancels nothing and says the block runs to its end', async state => {
    const logged: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((...args) => { logged.push(args.join(' ')); });
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [reservation('cr-0a', { State: state })] });
    expect(await onEvent(deleteEvent('cr-0a'))).toEqual({ PhysicalResourceId: 'cr-0a' });
    expect(ec2.calls().every(c => /^Describe/.test((c.args[0] as object).constructor.name))).toBe(true);
    expect(logged.join('\n')).toMatch(new RegExp(`Capacity Block cr-0a \\(4 x p5.48xlarge in us-east-2a, ${state}, ends [^)]+\\) cannot be cancelled`));
  });

  test.each(['pending', 'assessing'] as const)('%s keeps waiting like payment-pending', async state => {
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [reservation('cr-0a', { State: state })] });
    expect(await isComplete({ ...createEvent(), PhysicalResourceId: 'cr-0a', Data: { WaitDeadline: later().toISOString(), Note: '' } })).toEqual({ IsComplete: false });
  });

  test.each(['delayed', 'unavailable'] as const)('a %s block this resource owns is adopted by a Create, never bought again (even with allowRepurchase)', async state => {
    const event = createEvent({ AllowRepurchase: 'true' });
    ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [reservation('cr-0owned', { State: state, Tags: [...reservation('x').Tags!, { Key: 'cdk-capacity-reservations:owner', Value: 'Training/TrainingBlock' }] })] });
    const result = await onEvent(event);
    expect(result.PhysicalResourceId).toBe('cr-0owned');
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });
});

describe('updates of an UltraServer block', () => {
  test('a tag-only update of a block EC2 no longer lists buys nothing, even with allowRepurchase (NaN instance counts are no change)', async () => {
    const props = { ...ULTRA, AllowRepurchase: 'true' };
    ec2.on(DescribeCapacityReservationsCommand).callsFake(input => {
      if (input.CapacityReservationIds) throw Object.assign(new Error('gone'), { name: 'InvalidCapacityReservationId.NotFound' });
      return { CapacityReservations: [] };
    });
    const event: ProviderEvent = {
      ...createEvent({ ...props, Tags: [{ Key: 'team', Value: 'ml' }] } as never, 'req-update-1'),
      RequestType: 'Update', PhysicalResourceId: 'cr-0gone', OldResourceProperties: { ...props } as never,
    };
    const result = await onEvent(event);
    expect(result.PhysicalResourceId).toBe('cr-0gone');
    expect(result.Data?.Note).toMatch(/is no longer listed by EC2 \(it is over\); nothing was bought/);
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
    expect(ec2).not.toHaveReceivedCommand(DescribeCapacityBlockOfferingsCommand);
  });
});

describe('blocks short of whole days are adopted like the rest', () => {
  test('a 2-day block that started at 14:40 and ends at 11:30 two days on fits a latestEnd at that 11:30, so a redeploy adopts it instead of buying (allowRepurchase)', () => {
    const start = new Date(Date.UTC(2030, 0, 1, 14, 40));
    const end = new Date(Date.UTC(2030, 0, 3, 11, 30));
    const request = parseRequest({ InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '9000', LatestEnd: end.toISOString(), AllowRepurchase: 'true' }, 'us-east-2', new Date(Date.UTC(2030, 0, 1)));
    const block = reservation('cr-0short', { StartDate: start, EndDate: end, TotalInstanceCount: 4, InstanceType: 'p5.48xlarge', State: 'scheduled' });
    expect(mismatches(block, request)).toEqual([]);
    const owned = { purchase: { reservationIds: ['cr-0short'], blockIds: [], requestKey: 'k', intentAt: start.toISOString() } as unknown as LedgerPurchase, view: block };
    expect(pickAdoptable([owned], request, { requestKey: 'other' })?.view?.CapacityReservationId).toBe('cr-0short');
  });
});
