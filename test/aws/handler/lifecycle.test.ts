import {
  CancelCapacityReservationCommand, CreateTagsCommand, DeleteTagsCommand, DescribeCapacityBlockExtensionHistoryCommand, DescribeCapacityBlockExtensionOfferingsCommand,
  DescribeCapacityBlockOfferingsCommand, DescribeCapacityReservationsCommand, EC2Client, PurchaseCapacityBlockCommand,
  PurchaseCapacityBlockExtensionCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { isComplete, onEvent, ProviderEvent } from '../../../lib/aws/handler';
import { useClaimsTable } from './claims-table';
import { createEvent, daysAhead, deleteEvent, ec2Error, lostAnswer, offering, reservation, updateEvent } from './fixtures';

const ec2 = mockClient(EC2Client);
useClaimsTable();
const logged: string[] = [];

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeCapacityBlockExtensionHistoryCommand).resolves({ CapacityBlockExtensions: [] });
  logged.length = 0;
  jest.spyOn(console, 'log').mockImplementation((...args) => { logged.push(args.join(' ')); });
});
afterEach(() => jest.restoreAllMocks());

/** The event isComplete receives: the Create plus what onEvent returned. */
function pollEvent(id: string, deadline: Date, overrides: Partial<ProviderEvent> = {}): ProviderEvent {
  return { ...createEvent(), PhysicalResourceId: id, Data: { WaitDeadline: deadline.toISOString(), Note: '' }, ...overrides };
}
const later = () => new Date(Date.now() + 600_000);
const earlier = () => new Date(Date.now() - 1_000);
const listing = (...reservations: ReturnType<typeof reservation>[]) => ({ CapacityReservations: reservations });

describe('isComplete waits for the payment', () => {
  test('keeps waiting while the payment is pending and the deadline is ahead', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(reservation('cr-0a', { State: 'payment-pending' })));
    expect(await isComplete(pollEvent('cr-0a', later()))).toEqual({ IsComplete: false });
  });

  test.each(['scheduled', 'active'] as const)('finishes at %s with every attribute, the fee read from the purchase tags', async state => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(reservation('cr-0a', { State: state })));
    const result = await isComplete(pollEvent('cr-0a', later()));
    expect(result.IsComplete).toBe(true);
    expect(result.Data).toMatchObject({
      CapacityReservationId: 'cr-0a',
      CapacityReservationArn: 'arn:aws:ec2:us-east-2:123456789012:capacity-reservation/cr-0a',
      AvailabilityZone: 'us-east-2a',
      UpfrontFee: '50000.00',
      CurrencyCode: 'USD',
      OfferingId: 'cb-0aaa',
      State: state,
      Note: '',
    });
    expect(result.Data?.StartDate).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  test('payment-failed fails the resource, saying nothing is owed', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(reservation('cr-0a', { State: 'payment-failed' })));
    await expect(isComplete(pollEvent('cr-0a', later()))).rejects.toThrow(/Payment for Capacity Block cr-0a failed .*nothing is owed/);
  });

  test('payment still pending at waitTimeout succeeds with state payment-pending and says so', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(reservation('cr-0a', { State: 'payment-pending' })));
    const result = await isComplete(pollEvent('cr-0a', earlier()));
    expect(result.IsComplete).toBe(true);
    expect(result.Data?.State).toBe('payment-pending');
    expect(result.Data?.Note).toMatch(/payment was still pending at waitTimeout/);
  });

  test('a failing read never fails a bought block: it polls again, then finishes at the deadline', async () => {
    ec2.on(DescribeCapacityReservationsCommand).rejects(ec2Error('InternalError', 500));
    expect(await isComplete(pollEvent('cr-0a', later()))).toEqual({ IsComplete: false });
    const last = await isComplete(pollEvent('cr-0a', earlier()));
    expect(last.IsComplete).toBe(true);
    expect(last.Data).toMatchObject({ CapacityReservationId: 'cr-0a', State: 'payment-pending' });
  });

  test('previews and deletes complete at once without calling EC2', async () => {
    expect(await isComplete(pollEvent('preview-cb-0a', later()))).toEqual({ IsComplete: true });
    expect(await isComplete({ ...deleteEvent('cr-0a') })).toEqual({ IsComplete: true });
    expect(ec2.calls()).toHaveLength(0);
  });

  test('onEvent sets the wait deadline from waitTimeout', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing());
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0a', 1000)] });
    ec2.on(PurchaseCapacityBlockCommand).resolves({ CapacityReservation: { CapacityReservationId: 'cr-0a' } });
    const before = Date.now();
    const result = await onEvent(createEvent({ WaitTimeoutSeconds: '600' }));
    const deadline = new Date(result.Data!.WaitDeadline!).getTime();
    expect(deadline - before).toBeGreaterThanOrEqual(600_000);
    expect(deadline - before).toBeLessThan(610_000);
  });
});

describe('Update', () => {
  const block = (overrides = {}) => reservation('cr-0a', { Tags: [...reservation('cr-0a').Tags!, { Key: 'team', Value: 'ml' }, { Key: 'old', Value: '1' }], ...overrides });

  test('tags change in place: set what changed, delete what was removed, buy nothing', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block()));
    const result = await onEvent(updateEvent('cr-0a', { Tags: [{ Key: 'team', Value: 'research' }, { Key: 'new', Value: '2' }] }));
    expect(result.PhysicalResourceId).toBe('cr-0a');
    expect(ec2).toHaveReceivedCommandWith(CreateTagsCommand, { Resources: ['cr-0a'], Tags: [{ Key: 'team', Value: 'research' }, { Key: 'new', Value: '2' }] });
    expect(ec2).toHaveReceivedCommandWith(DeleteTagsCommand, { Resources: ['cr-0a'], Tags: [{ Key: 'old' }] });
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });

  test('a change that needs a new block is refused, naming the block and its end date', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block()));
    const update = onEvent(updateEvent('cr-0a', { InstanceCount: '8' }));
    await expect(update).rejects.toThrow(/needs a new Capacity Block: instanceCount 8 \(the block has 4\).*cr-0a \(4 x p5.48xlarge in us-east-2a, scheduled, ends \d{4}-.*allowRepurchase: true/);
    expect(ec2).not.toHaveReceivedCommand(DescribeCapacityBlockOfferingsCommand);
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });

  test('with allowRepurchase the same change buys a new block under a new physical id', async () => {
    ec2.on(DescribeCapacityReservationsCommand).callsFake(input => (input.CapacityReservationIds ? listing(block()) : listing()));
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0eight', 50000, { InstanceCount: 8 })] });
    ec2.on(PurchaseCapacityBlockCommand).resolves({ CapacityReservation: { CapacityReservationId: 'cr-0new' } });
    const result = await onEvent(updateEvent('cr-0a', { InstanceCount: '8', AllowRepurchase: 'true' }));
    expect(result.PhysicalResourceId).toBe('cr-0new');
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockCommand, 1);
  });

  test('a rollback to properties the block already satisfies is in place, whatever the old properties were', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block()));
    const result = await onEvent(updateEvent('cr-0a', { Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'old', Value: '1' }] }, { InstanceCount: '8' }));
    expect(result.PhysicalResourceId).toBe('cr-0a');
    // Reads only: what the resource owns (its ledger starts from them) and the block, by id.
    expect(ec2.calls().map(c => (c.args[0] as object).constructor.name).every(name => /^Describe/.test(name))).toBe(true);
  });

  test('a longer duration buys the cheapest extension for the difference within the ceiling', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block({ State: 'active' })));
    ec2.on(DescribeCapacityBlockExtensionOfferingsCommand).resolves({
      CapacityBlockExtensionOfferings: [
        { CapacityBlockExtensionOfferingId: 'cbe-0pricey', UpfrontFee: '70000.00', CurrencyCode: 'USD' },
        { CapacityBlockExtensionOfferingId: 'cbe-0ok', UpfrontFee: '24000.00', CurrencyCode: 'USD' },
      ],
    });
    ec2.on(PurchaseCapacityBlockExtensionCommand).resolves({ CapacityBlockExtensions: [{ CapacityBlockExtensionStatus: 'payment-pending' }] });
    const event = updateEvent('cr-0a', { DurationHours: '72', Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'old', Value: '1' }] });

    const result = await onEvent(event);

    expect(ec2).toHaveReceivedCommandWith(DescribeCapacityBlockExtensionOfferingsCommand, { CapacityReservationId: 'cr-0a', CapacityBlockExtensionDurationHours: 24 });
    expect(ec2).toHaveReceivedCommandWith(PurchaseCapacityBlockExtensionCommand, { CapacityBlockExtensionOfferingId: 'cbe-0ok', CapacityReservationId: 'cr-0a' });
    expect(result.Data?.Note).toMatch(/Extended cr-0a by 1 day \(24 h\) for 24000.00 USD/);
  });

  test('an extension above the ceiling is refused and not bought', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block({ State: 'active' })));
    ec2.on(DescribeCapacityBlockExtensionOfferingsCommand).resolves({
      CapacityBlockExtensionOfferings: [{ CapacityBlockExtensionOfferingId: 'cbe-0pricey', UpfrontFee: '70000.00', CurrencyCode: 'USD' }],
    });
    await expect(onEvent(updateEvent('cr-0a', { DurationHours: '72' }))).rejects.toThrow(/No extension .* within maxUpfrontFee 60000.00 USD \(seen: cbe-0pricey 70000.00 USD\); nothing was bought/);
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockExtensionCommand);
  });

  test('after an extension whose answer was lost, an update asking for no more succeeds buying nothing, and one asking for more buys nothing until EC2 shows what became of it', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block({ State: 'active' })));
    ec2.on(DescribeCapacityBlockExtensionOfferingsCommand).resolves({
      CapacityBlockExtensionOfferings: [{ CapacityBlockExtensionOfferingId: 'cbe-0ok', UpfrontFee: '24000.00', CurrencyCode: 'USD' }],
    });
    ec2.on(PurchaseCapacityBlockExtensionCommand).rejects(lostAnswer());
    expect((await onEvent(updateEvent('cr-0a', { DurationHours: '72' }, {}, 'req-update-1'))).Data?.Note).toMatch(/may or may not have been bought/);
    // EC2's history does not show the extension (yet): the ledger still holds its intent. An update
    // that asks for no more (here: a tag; or the rollback of any later change) succeeds, buying nothing.
    const tagged = await onEvent(updateEvent('cr-0a', { DurationHours: '72', Tags: [{ Key: 'team', Value: 'x' }] }, { DurationHours: '72' }, 'req-update-tags'));
    expect(tagged.Data?.Note).toMatch(/An extension of cr-0a by 1 day \(24 h\) \(cbe-0ok\) was requested and its outcome is not known yet; not bought again/);
    await expect(onEvent(updateEvent('cr-0a', { DurationHours: '96' }, { DurationHours: '72' }, 'req-update-2'))).rejects.toThrow(/An earlier extension of Capacity Block cr-0a by 1 day \(24 h\) \(cbe-0ok\) may have gone through: its answer never came .*so nothing more was bought/);
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockExtensionCommand, 1);
  });

  test('a lost extension answer is not retried and does not fail the update', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block({ State: 'active' })));
    ec2.on(DescribeCapacityBlockExtensionOfferingsCommand).resolves({
      CapacityBlockExtensionOfferings: [{ CapacityBlockExtensionOfferingId: 'cbe-0ok', UpfrontFee: '24000.00', CurrencyCode: 'USD' }],
    });
    ec2.on(PurchaseCapacityBlockExtensionCommand).rejects(lostAnswer());
    const result = await onEvent(updateEvent('cr-0a', { DurationHours: '72' }));
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockExtensionCommand, 1);
    expect(result.Data?.Note).toMatch(/may or may not have been bought/);
  });

  test('a shorter duration changes nothing and says a block cannot be shortened', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block()));
    const result = await onEvent(updateEvent('cr-0a', { DurationHours: '24', Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'old', Value: '1' }] }));
    expect(result.PhysicalResourceId).toBe('cr-0a');
    expect(result.Data?.Note).toMatch(/cannot be shortened/);
    expect(ec2.calls().every(c => /^Describe/.test((c.args[0] as object).constructor.name))).toBe(true);
  });

  test('turning on previewOnly over a bought block previews, buys nothing, and says the block stays bought (it is the rollback of removing previewOnly)', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(block()));
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0a', 1000)] });
    ec2.on(PurchaseCapacityBlockCommand).rejects(ec2Error('DryRunOperation', 412));
    const result = await onEvent(updateEvent('cr-0a', { PreviewOnly: 'true' }));
    expect(result.PhysicalResourceId).toBe('preview-cb-0a');
    expect(result.Data?.Note).toMatch(/Capacity Block cr-0a stays bought and runs until its end date, but this resource no longer tracks it/);
    expect(ec2.commandCalls(PurchaseCapacityBlockCommand).every(c => c.args[0].input.DryRun === true)).toBe(true);
  });

  test('turning off previewOnly buys the block', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing());
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0a', 1000)] });
    ec2.on(PurchaseCapacityBlockCommand).resolves({ CapacityReservation: { CapacityReservationId: 'cr-0bought' } });
    const result = await onEvent(updateEvent('preview-cb-0a', {}, { PreviewOnly: 'true' }));
    expect(result.PhysicalResourceId).toBe('cr-0bought');
  });
});

describe('Delete', () => {
  test('leaves a bought block to expire: succeeds, never cancels, and says so in the log', async () => {
    ec2.on(DescribeCapacityReservationsCommand).resolves(listing(reservation('cr-0a', { EndDate: daysAhead(9) })));
    expect(await onEvent(deleteEvent('cr-0a'))).toEqual({ PhysicalResourceId: 'cr-0a' });
    expect(ec2).not.toHaveReceivedCommand(CancelCapacityReservationCommand);
    expect(logged.join('\n')).toMatch(/cr-0a .* cannot be cancelled.*expires by itself/);
  });

  test.each(['req-create-1', 'preview-cb-0a', ''])('is a no-op without EC2 calls for %j, which was never bought', async id => {
    expect(await onEvent(deleteEvent(id))).toEqual({ PhysicalResourceId: id });
    expect(ec2.calls()).toHaveLength(0);
  });

  test('succeeds even when EC2 cannot be read', async () => {
    ec2.on(DescribeCapacityReservationsCommand).rejects(ec2Error('InternalError', 500));
    expect(await onEvent(deleteEvent('cr-0a'))).toEqual({ PhysicalResourceId: 'cr-0a' });
  });

  test('succeeds for a block EC2 no longer lists', async () => {
    ec2.on(DescribeCapacityReservationsCommand).rejects(ec2Error('InvalidCapacityReservationId.NotFound'));
    expect(await onEvent(deleteEvent('cr-0a'))).toEqual({ PhysicalResourceId: 'cr-0a' });
  });
});
