import {
  CapacityBlockOffering, DescribeCapacityBlockOfferingsCommand, DescribeCapacityBlocksCommand, DescribeCapacityReservationsCommand, EC2Client, PurchaseCapacityBlockCommand,
  PurchaseCapacityBlockCommandInput,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { onEvent } from '../../../lib/aws/handler';
import { resourceKeys } from '../../../lib/aws/handler/ownership';
import { purchasePolicy } from '../../../lib/aws/handler/purchase';
import { IDEMPOTENCY_TAG, OFFERING_TAG, OWNER_TAG, UPFRONT_FEE_TAG } from '../../../lib/aws/wire';
import { useClaimsTable } from './claims-table';
import { createEvent, daysAhead, ec2Error, lostAnswer, offering, reservation, RESPONSE_URL } from './fixtures';

const ec2 = mockClient(EC2Client);
const claims = useClaimsTable();
const purchases = () => ec2.commandCalls(PurchaseCapacityBlockCommand).map(c => c.args[0].input as PurchaseCapacityBlockCommandInput);
const mutatingCalls = () => ec2.calls().filter(c => !/^Describe/.test((c.args[0] as object).constructor.name));

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeCapacityReservationsCommand).resolves({ CapacityReservations: [] });
  ec2.on(PurchaseCapacityBlockCommand).callsFake((input: PurchaseCapacityBlockCommandInput) => ({
    CapacityReservation: { CapacityReservationId: `cr-for-${input.CapacityBlockOfferingId}` },
  }));
  Object.assign(purchasePolicy, { lookupDelayMs: 0 });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterEach(() => jest.restoreAllMocks());

describe('Create buys the best acceptable offering', () => {
  test('buys the cheapest offering and tags it with the idempotency key, owner, offering and fee in the same call', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [offering('cb-0pricey', 58000), offering('cb-0cheap', 41000), offering('cb-0mid', 50000)],
    });
    const event = createEvent({ Tags: [{ Key: 'team', Value: 'ml' }] });

    const result = await onEvent(event);

    expect(result.PhysicalResourceId).toBe('cr-for-cb-0cheap');
    expect(purchases()).toHaveLength(1);
    expect(purchases()[0]).toMatchObject({ CapacityBlockOfferingId: 'cb-0cheap', InstancePlatform: 'Linux/UNIX' });
    expect(purchases()[0].TagSpecifications).toEqual([{
      ResourceType: 'capacity-reservation',
      Tags: [
        { Key: 'team', Value: 'ml' },
        { Key: IDEMPOTENCY_TAG, Value: resourceKeys(event).request },
        { Key: OWNER_TAG, Value: 'Training/TrainingBlock' },
        { Key: OFFERING_TAG, Value: 'cb-0cheap' },
        { Key: UPFRONT_FEE_TAG, Value: '41000.00 USD' },
      ],
    }]);
  });

  test('searches every page of offerings and asks EC2 for exactly the requested shape', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand)
      .resolvesOnce({ CapacityBlockOfferings: [offering('cb-0page1', 45000)], NextToken: 'page-2' })
      .resolvesOnce({ CapacityBlockOfferings: [offering('cb-0page2', 30000)] });

    await onEvent(createEvent({ AvailabilityZone: 'us-east-2a' }));

    expect(ec2).toHaveReceivedCommandTimes(DescribeCapacityBlockOfferingsCommand, 2);
    expect(ec2.commandCalls(DescribeCapacityBlockOfferingsCommand)[1].args[0].input.NextToken).toBe('page-2');
    expect(ec2).toHaveReceivedCommandWith(DescribeCapacityBlockOfferingsCommand, { InstanceType: 'p5.48xlarge', InstanceCount: 4, CapacityDurationHours: 48 });
    expect(purchases()[0].CapacityBlockOfferingId).toBe('cb-0page2');
  });

  test('EARLIEST_START picks the earliest offering even when a later one is cheaper', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [offering('cb-0later', 30000, { StartDate: daysAhead(10) }), offering('cb-0sooner', 55000, { StartDate: daysAhead(2) })],
    });
    await onEvent(createEvent({ Selection: 'EARLIEST_START' }));
    expect(purchases()[0].CapacityBlockOfferingId).toBe('cb-0sooner');
  });

  test('only offerings in the requested zone and window are bought, whatever EC2 returns', async () => {
    const earliest = daysAhead(5);
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [
        offering('cb-0otherzone', 20000, { AvailabilityZone: 'us-east-2b', StartDate: daysAhead(6) }),
        offering('cb-0tooearly', 21000, { StartDate: daysAhead(3) }),
        offering('cb-0fits', 40000, { StartDate: daysAhead(6) }),
      ],
    });
    await onEvent(createEvent({ AvailabilityZone: 'us-east-2a', EarliestStart: earliest.toISOString() }));
    expect(purchases().map(p => p.CapacityBlockOfferingId)).toEqual(['cb-0fits']);
  });

  test('a pinned offeringId buys that offering and no other', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [offering('cb-0cheaper', 20000), offering('cb-0pinned', 45000)],
    });
    await onEvent(createEvent({ OfferingId: 'cb-0pinned' }));
    expect(purchases().map(p => p.CapacityBlockOfferingId)).toEqual(['cb-0pinned']);
  });
});

describe('never above the ceiling', () => {
  test('fails listing what it saw, and buys nothing, when every offering costs more than maxUpfrontFee', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [offering('cb-0over', 60000.01), offering('cb-0wayover', 90000)],
    });
    const failure = onEvent(createEvent());
    await expect(failure).rejects.toThrow(/No acceptable Capacity Block offering for 4 x p5.48xlarge for 2 days.*cb-0over .*60000\.01 USD > maxUpfrontFee 60000\.00 USD.*raise maxUpfrontFee/);
    await failure.catch(e => expect(e.message).not.toContain('\n'));
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });

  test('never buys an offering priced in another currency or with an unreadable fee', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [offering('cb-0eur', 100, { CurrencyCode: 'EUR' }), offering('cb-0garbled', 0, { UpfrontFee: 'n/a' })],
    });
    await expect(onEvent(createEvent())).rejects.toThrow(/cb-0eur.*priced in EUR, not USD|cb-0garbled.*not a plain decimal/);
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });

  test.each(['', ' ', '0x10', '-1', '1e3', '1,000', 'Infinity', ' 12'])('never buys an offering whose fee reads %j: only plain decimals are money', async fee => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0odd', 0, { UpfrontFee: fee })] });
    await expect(onEvent(createEvent())).rejects.toThrow(`upfront fee '${fee}' is not a plain decimal number`);
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });

  test('a pinned offering above the ceiling is not bought', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0pinned', 75000)] });
    await expect(onEvent(createEvent({ OfferingId: 'cb-0pinned' }))).rejects.toThrow(/cb-0pinned.*> maxUpfrontFee/);
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });

  test('compares fees with the ceiling exactly, in decimal: a fee a trillionth above it is refused, a fee equal to it is bought', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [{ ...offering('cb-0above', 0), UpfrontFee: '40000.000000000001' }, { ...offering('cb-0equal', 0, { StartDate: daysAhead(9) }), UpfrontFee: '40000.00' }],
    });
    const result = await onEvent(createEvent({ MaxUpfrontFee: '40000' }));
    expect(purchases().map(p => p.CapacityBlockOfferingId)).toEqual(['cb-0equal']);
    expect(result.PhysicalResourceId).toBe('cr-for-cb-0equal');
  });

  test('says so when there are no offerings at all', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [] });
    await expect(onEvent(createEvent())).rejects.toThrow(/No Capacity Block offering for 4 x p5.48xlarge.*widen the window/);
  });
});

describe('never buy twice', () => {
  test('a Create delivered twice buys once: the second delivery returns the stored outcome without calling EC2', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0only', 40000)] });
    const event = createEvent();

    const first = await onEvent(event);
    const callsAfterFirst = ec2.calls().length;
    const second = await onEvent(event);

    expect(purchases()).toHaveLength(1);
    expect(second).toEqual(first);
    expect(ec2.calls()).toHaveLength(callsAfterFirst);
  });

  test('a failed Create delivered again fails the same way and never buys: CloudFormation already has the first answer', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand)
      .resolvesOnce({ CapacityBlockOfferings: [offering('cb-0over', 99000)] })
      .resolves({ CapacityBlockOfferings: [offering('cb-0now-cheap', 1000)] });
    const event = createEvent();

    const first = (await onEvent(event).catch(e => e)) as Error;
    const second = (await onEvent(event).catch(e => e)) as Error;

    expect(first.message).toMatch(/No acceptable Capacity Block offering/);
    expect(second.message).toBe(first.message);
    expect(ec2).not.toHaveReceivedCommand(PurchaseCapacityBlockCommand);
  });

  test('the request key is stable for a request and differs between requests and resources; the owner key is stable across requests', () => {
    const a = createEvent({}, 'req-1');
    expect(resourceKeys(a)).toEqual(resourceKeys({ ...a }));
    expect(resourceKeys(a).request).not.toBe(resourceKeys(createEvent({}, 'req-2')).request);
    expect(resourceKeys(a).owner).toBe(resourceKeys(createEvent({}, 'req-2')).owner);
    expect(resourceKeys(a).request).not.toBe(resourceKeys({ ...a, LogicalResourceId: 'OtherBlock' }).request);
    expect(resourceKeys(a).owner).not.toBe(resourceKeys({ ...a, LogicalResourceId: 'OtherBlock' }).owner);
    // A stack created again under the same name (new stack id) owns what the earlier one bought.
    expect(resourceKeys({ ...a, StackId: a.StackId.replace(/[^/]+$/, 'another-uuid') }).owner).toBe(resourceKeys(a).owner);
  });

  test('when the purchase answer is lost and the block exists, it is adopted and not bought again', async () => {
    const offer = offering('cb-0only', 40000);
    const event = createEvent();
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offer] });
    ec2.on(PurchaseCapacityBlockCommand).rejects(lostAnswer());
    ec2.on(DescribeCapacityReservationsCommand)
      .resolvesOnce({ CapacityReservations: [] }) // before buying
      .resolves({ CapacityReservations: [reservation('cr-0landed', {}, offer, resourceKeys(event).request)] });

    const result = await onEvent(event);

    expect(result.PhysicalResourceId).toBe('cr-0landed');
    expect(result.Data?.Note).toMatch(/answer to the purchase was lost; the block was found by its idempotency tag/);
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockCommand, 1);
  });

  // What EC2 may list after a lost answer while its tag filter lags: blocks of exactly the offering's
  // shape. None is taken for this purchase, and nothing more is bought while its outcome is unknown.
  test.each([
    ['a block another resource bought', (offer: CapacityBlockOffering) => reservation('cr-0sibling', {}, offer, 'the-sibling-request-key')],
    ['a block that shows no tags yet', (offer: CapacityBlockOffering) => reservation('cr-0untagged', { Tags: [] }, offer)],
    ['a block created before the attempt', (offer: CapacityBlockOffering) => reservation('cr-0old', { Tags: [], CreateDate: new Date(Date.now() - 3_600_000) }, offer)],
  ])('after a lost purchase answer, %s of the same shape is never adopted, nothing more is bought, and the reason names the tag to look for', async (_kind, lookalike) => {
    const offer = offering('cb-0only', 40000);
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offer] });
    ec2.on(PurchaseCapacityBlockCommand).rejectsOnce(ec2Error('InternalError', 503)).resolves({ CapacityReservation: { CapacityReservationId: 'cr-0ours' } });
    ec2.on(DescribeCapacityReservationsCommand).callsFake(input => ({ CapacityReservations: input.Filters?.[0]?.Name === 'instance-type' ? [lookalike(offer)] : [] }));

    await expect(onEvent(createEvent())).rejects.toThrow(/The purchase of cb-0only \(40000.00 USD, InternalError: .*\) may have gone through: its answer never came .*nothing more was bought\. Deploy again after .*tagged cdk-capacity-reservations:idempotency-key=/);
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockCommand, 1);
  });

  test('when the block cannot even be looked for after a lost answer, it does not buy again', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0only', 40000)] });
    ec2.on(PurchaseCapacityBlockCommand).rejects(lostAnswer());
    ec2.on(DescribeCapacityReservationsCommand)
      .resolvesOnce({ CapacityReservations: [] }) // the ledger starts from what the resource owns: nothing
      .rejects(ec2Error('InternalError', 500));
    await expect(onEvent(createEvent())).rejects.toThrow(/may have gone through: its answer never came .*nothing more was bought\. Deploy again after .*tagged cdk-capacity-reservations:idempotency-key=/);
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockCommand, 1);
  });

  test('a 200 that names no reservation is final: the block is tracked by its Capacity Block id, never bought again', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0only', 40000), offering('cb-0next', 41000)] });
    ec2.on(PurchaseCapacityBlockCommand).resolves({ CapacityBlocks: [{ CapacityBlockId: 'cb-0bought', CapacityReservationIds: [] }] });
    ec2.on(DescribeCapacityBlocksCommand).resolves({ CapacityBlocks: [{ CapacityBlockId: 'cb-0bought', CapacityReservationIds: [] }] });
    Object.assign(purchasePolicy, { idWaitMs: 0 });
    try {
      const result = await onEvent(createEvent());
      expect(result.PhysicalResourceId).toBe('cb-0bought');
      expect(result.Data?.Note).toMatch(/EC2 answered the purchase of cb-0bought before naming its reservations/);
    } finally {
      Object.assign(purchasePolicy, { idWaitMs: 60_000 });
    }
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockCommand, 1);
  });
});

describe('sold out between search and purchase', () => {
  test('buys the next acceptable offering when the chosen one sells out', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({
      CapacityBlockOfferings: [offering('cb-0first', 30000), offering('cb-0second', 35000), offering('cb-0over', 70000)],
    });
    ec2.on(PurchaseCapacityBlockCommand)
      .rejectsOnce(ec2Error('InsufficientInstanceCapacity'))
      .resolves({ CapacityReservation: { CapacityReservationId: 'cr-0second' } });

    const result = await onEvent(createEvent());

    expect(purchases().map(p => p.CapacityBlockOfferingId)).toEqual(['cb-0first', 'cb-0second']);
    expect(result.PhysicalResourceId).toBe('cr-0second');
  });

  test('an offering that vanished from the listing is treated as sold, whatever the error code', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand)
      .resolvesOnce({ CapacityBlockOfferings: [offering('cb-0gone', 30000), offering('cb-0next', 36000)] })
      .resolves({ CapacityBlockOfferings: [offering('cb-0next', 36000)] });
    ec2.on(PurchaseCapacityBlockCommand)
      .rejectsOnce(ec2Error('InvalidParameterValue'))
      .resolves({ CapacityReservation: { CapacityReservationId: 'cr-0next' } });
    expect((await onEvent(createEvent())).PhysicalResourceId).toBe('cr-0next');
  });

  test('a refusal that is not about availability fails at once with EC2\'s reason', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0here', 30000), offering('cb-0other', 31000)] });
    ec2.on(PurchaseCapacityBlockCommand).rejects(ec2Error('InvalidParameterValue', 400, 'Windows is not supported for p5.48xlarge'));
    await expect(onEvent(createEvent({ InstancePlatform: 'Windows' }))).rejects.toThrow(/EC2 refused PurchaseCapacityBlock for cb-0here .*Windows is not supported.*nothing was bought/);
    expect(ec2).toHaveReceivedCommandTimes(PurchaseCapacityBlockCommand, 1);
  });

  test('a missing permission fails at once and says which', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0here', 30000)] });
    ec2.on(PurchaseCapacityBlockCommand).rejects(ec2Error('UnauthorizedOperation', 403));
    await expect(onEvent(createEvent())).rejects.toThrow(/ec2:PurchaseCapacityBlock/);
  });
});

describe('bad input changes nothing', () => {
  test.each([
    [{ InstanceCount: '0' }, /instanceCount must be a whole number from 1 to 64, got 0/],
    [{ InstanceCount: '0x4' }, /instanceCount must be a plain number, got '0x4'/],
    [{ MaxUpfrontFee: '-5' }, /maxUpfrontFee must be a plain number, got '-5'/],
    [{ MaxUpfrontFee: 'lots' }, /maxUpfrontFee must be a plain number, got 'lots'/],
    [{ MaxUpfrontFee: '0x10' }, /maxUpfrontFee must be a plain number, got '0x10'/],
    [{ MaxUpfrontFee: ' ' }, /maxUpfrontFee must be a plain number, got ' '/],
    [{ MaxUpfrontFee: '' }, /maxUpfrontFee is required/],
    [{ MaxUpfrontFee: '0' }, /maxUpfrontFee must be a positive number .*got 0/],
    [{ DurationHours: '36' }, /duration must be 1-14 days .*got 36 h/],
    [{ AvailabilityZone: 'eu-west-1a' }, /availabilityZone must be in the stack's region us-east-2, got 'eu-west-1a'/],
    [{ Tags: [{ Key: 'aws:owner', Value: 'x' }] }, /tag key must not start with 'aws:'/],
    [{ PreviewOnly: 'yes' }, /previewOnly must be true or false, got 'yes'/],
    [{ EarliestStart: daysAhead(60).toISOString() }, /earliestStart .* is more than 8 weeks ahead \(EC2 sells Capacity Blocks that start by .*\); deploy closer to the date or move earliestStart earlier/],
  ])('fails on %j before any EC2 call or DynamoDB write', async (props, message) => {
    await expect(onEvent(createEvent(props))).rejects.toThrow(message);
    expect(ec2.calls()).toHaveLength(0);
    expect(await claims.items()).toBe(0);
  });
});

test('fails when latestEnd leaves no room for the block, after only the adoption lookup', async () => {
  // The lookup comes first on purpose: a block this resource already owns must be adopted, not refused.
  await expect(onEvent(createEvent({ LatestEnd: daysAhead(1).toISOString() }))).rejects.toThrow(/latestEnd .* leaves no room for a 2 days \(48 h\) block/);
  expect(ec2).not.toHaveReceivedCommand(DescribeCapacityBlockOfferingsCommand);
  expect(mutatingCalls()).toHaveLength(0);
});

describe('previewOnly', () => {
  test('searches and dry-runs the purchase, buys nothing, and reports the offering it would buy', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0best', 30000), offering('cb-0worse', 40000)] });
    ec2.on(PurchaseCapacityBlockCommand).rejects(ec2Error('DryRunOperation', 412));

    const result = await onEvent(createEvent({ PreviewOnly: 'true' }));

    expect(result.PhysicalResourceId).toBe('preview-cb-0best');
    expect(result.Data).toMatchObject({ State: 'preview', OfferingId: 'cb-0best', UpfrontFee: '30000.00', CapacityReservationId: '' });
    expect(purchases()).toEqual([expect.objectContaining({ CapacityBlockOfferingId: 'cb-0best', DryRun: true })]);
    expect(mutatingCalls().every(c => (c.args[0].input as { DryRun?: boolean }).DryRun === true)).toBe(true);
  });

  test('fails when the dry run shows the purchase would fail', async () => {
    ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0best', 30000)] });
    ec2.on(PurchaseCapacityBlockCommand).rejects(ec2Error('UnauthorizedOperation', 403));
    await expect(onEvent(createEvent({ PreviewOnly: 'true' }))).rejects.toThrow(/dry-run purchase of cb-0best failed .*UnauthorizedOperation/);
  });
});

test('never logs the ResponseURL, and failure reasons are one line without a stack', async () => {
  const lines: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((...args) => { lines.push(args.join(' ')); });
  ec2.on(DescribeCapacityBlockOfferingsCommand).resolves({ CapacityBlockOfferings: [offering('cb-0over', 99000)] });

  const error = (await onEvent(createEvent()).catch(e => e)) as Error;

  expect(lines.length).toBeGreaterThan(0);
  expect(lines.join('\n')).not.toContain(RESPONSE_URL);
  expect(lines.join('\n')).not.toContain('secret-signature');
  expect(error.message).not.toMatch(/\n|\s+at /);
  expect(error.stack).toBe(error.message);
});
