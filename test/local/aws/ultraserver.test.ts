import { CloudFormationStack, Ec2Emulator, Ec2EmulatorOptions } from '../../../lib/local';
import { engineFor } from './engine-harness';

/**
 * UltraServer Capacity Blocks under CloudFormation's engine: the bundled handler inside the real
 * Provider framework runtime, against the EC2 emulator, which sells P6e-GB200 NVL72 UltraServers in
 * the Dallas Local Zone only, one Capacity Block per UltraServer with two reservations each.
 */
const engine = engineFor({ stackName: 'Frontier', logicalId: 'Ultra' });

/** 2 x u-p6e-gb200x72 for a day: the emulator offers them for about 58,000-67,000 USD. */
const ULTRA = { UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '2', DurationHours: '24', MaxUpfrontFee: '70000', AllAvailabilityZones: 'true' };
const lastResponse = (stack: CloudFormationStack) => stack.exchanges[stack.exchanges.length - 1].response;
const purchaseCalls = (emulator: Ec2Emulator) => emulator.calls.filter(c => c.action === 'PurchaseCapacityBlock' && c.params.DryRun !== 'true');

describe('an UltraServer block is bought, tracked and waited for as one', () => {
  test('Create buys one UltraServer block; the resource is its lowest reservation and its attributes list every reservation and block', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(ULTRA)).toBe('CREATE_COMPLETE');

    expect(emulator.purchases).toHaveLength(1);
    const reservations = emulator.reservationsOfPurchase(emulator.purchases[0].id);
    expect(reservations).toHaveLength(4); // 2 UltraServers x 2 reservations
    expect(cfn.resource?.physicalResourceId).toBe(reservations[0].id);
    const data = lastResponse(cfn).Data!;
    expect(String(data.CapacityReservationIds).split(',')).toEqual(reservations.map(r => r.id));
    expect(String(data.CapacityBlockIds).split(',').sort()).toEqual([...new Set(reservations.map(r => r.blockId))].sort());
    expect(data.CapacityBlockId).toBe(reservations[0].blockId);
    expect(data).toMatchObject({ State: 'scheduled', AvailabilityZone: 'us-east-1-dfw-2a' });
    // The search asked for UltraServers, in every zone, not for instances.
    const search = emulator.calls.find(c => c.action === 'DescribeCapacityBlockOfferings')!.params;
    expect(search).toMatchObject({ UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '2', AllAvailabilityZones: 'true' });
    expect(search.InstanceType).toBeUndefined();
  }));

  test('P6e-GB200 UltraServers sold only in a Local Zone are not listed without allAvailabilityZones: the error says to opt in', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    const { AllAvailabilityZones: _all, ...withoutAllZones } = ULTRA;
    expect(await cfn.deploy(withoutAllZones)).toBe('ROLLBACK_COMPLETE');
    expect(cfn.exchanges[0].response.Reason).toMatch(/No Capacity Block offering for 2 x UltraServer u-p6e-gb200x72 for 1 day \(24 h\).*opted in to that zone, or set allAvailabilityZones: true/);
    expect(emulator.purchases).toHaveLength(0);
  }));

  test('an account opted in to the Local Zone sees its offerings without allAvailabilityZones', () => engine(async ({ emulator, stack }) => {
    const { AllAvailabilityZones: _all, ...withoutAllZones } = ULTRA;
    expect(await stack().deploy(withoutAllZones)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases[0].offering.availabilityZone).toBe('us-east-1-dfw-2a');
  }, { optedInLocalZones: ['us-east-1-dfw-2a'] }));
});

describe('the money rules hold for UltraServer blocks', () => {
  test('two copies of one Create delivered at the same time buy one UltraServer block', () => engine(async ({ emulator, stack }) => {
    const cfn = stack('twice-concurrent');
    expect(await cfn.deploy(ULTRA)).toBe('CREATE_COMPLETE');
    expect(purchaseCalls(emulator)).toHaveLength(1);
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].id);
  }, { faults: { latencyMs: 25 } }));

  test.each<[string, 'hangAfter' | 'lostAnswer', Ec2EmulatorOptions]>([
    ['hung after it was carried out', 'hangAfter', {}],
    ['lost', 'lostAnswer', {}],
    ['lost while EC2 lists only part of the purchase', 'lostAnswer', { ultraserverListingLag: 2 }],
    ['lost while EC2 shows the new reservations without their tags yet', 'lostAnswer', { tagLag: 3 }],
  ])('an UltraServer purchase whose answer is %s is found by its tags, tracked by its lowest reservation with every reservation, and not bought again', (_case, fault, ec2) => engine(async ({ emulator, stack }) => {
    emulator.failNext('PurchaseCapacityBlock', fault);
    const cfn = stack();
    expect(await cfn.deploy(ULTRA)).toBe('CREATE_COMPLETE');
    expect(purchaseCalls(emulator)).toHaveLength(1);
    expect(emulator.purchases).toHaveLength(1);
    const reservations = emulator.reservationsOfPurchase(emulator.purchases[0].id).map(r => r.id);
    // The physical id later Updates and Deletes name: the lowest reservation, as for an answered purchase.
    expect(cfn.resource?.physicalResourceId).toBe(reservations[0]);
    expect(lastResponse(cfn).Data?.CapacityReservationIds).toBe(reservations.join(','));
  }, ec2));

  test('when EC2 still lists only part of a lost UltraServer purchase after every lookup, the block is kept (not failed, not bought again) and later answers never call it another block you pay for', () => engine(async ({ emulator, stack }) => {
    emulator.failNext('PurchaseCapacityBlock', 'lostAnswer');
    const cfn = stack();
    expect(await cfn.deploy(ULTRA)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(lastResponse(cfn).Data?.Note).toMatch(/EC2 listed only part of the purchase/);
    emulator.listEverything();
    expect(await cfn.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'frontier' }] })).toBe('UPDATE_COMPLETE');
    expect(lastResponse(cfn).Data?.Note).not.toMatch(/also owns/);
    expect(emulator.reservationsOfPurchase(emulator.purchases[0].id).map(r => r.tags.get('team'))).toEqual(['frontier', 'frontier', 'frontier', 'frontier']);
    expect(await cfn.destroy()).toBe('DELETE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
  }, { ultraserverListingLag: 12 }));

  test('when the tags of a lost UltraServer purchase show later than every lookup, nothing is bought again: the Create fails naming the tag to look for, and the next deploy adopts the block', () => engine(async ({ emulator, stack }) => {
    emulator.failNext('PurchaseCapacityBlock', 'lostAnswer');
    const cfn = stack();
    expect(await cfn.deploy(ULTRA)).toBe('ROLLBACK_COMPLETE');
    expect(cfn.exchanges[0].response.Reason).toMatch(/may have gone through: its answer never came .*nothing more was bought\. Deploy again after .*tagged cdk-capacity-reservations:idempotency-key=/);
    expect(emulator.purchases).toHaveLength(1);
    emulator.listEverything();
    expect(await cfn.deploy(ULTRA)).toBe('CREATE_COMPLETE');
    expect(purchaseCalls(emulator)).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.reservationsOfPurchase(emulator.purchases[0].id)[0].id);
  }, { tagLag: 50 }));

  test('an update right after the purchase, while EC2 does not show the new block\'s tags yet, waits for them: the block is updated in place and nothing is bought, even with allowRepurchase', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    // waitTimeout 0: the Create answers at once, and the update follows before the tags show.
    const block = { ...ULTRA, WaitTimeoutSeconds: '0' };
    expect(await cfn.deploy(block)).toBe('CREATE_COMPLETE');
    const tracked = cfn.resource!.physicalResourceId;
    expect(await cfn.deploy({ ...block, AllowRepurchase: 'true', Tags: [{ Key: 'team', Value: 'frontier' }] })).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(tracked);
    expect(lastResponse(cfn).Data?.Note).not.toMatch(/Adopted/);
    expect(emulator.reservationsOfPurchase(tracked).map(r => r.tags.get('team'))).toEqual(['frontier', 'frontier', 'frontier', 'frontier']);
  }, { tagLag: 4 }));

  test('fails and buys nothing when every UltraServer offering is above maxUpfrontFee, naming the ceiling and the cheapest offering', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...ULTRA, MaxUpfrontFee: '50000' })).toBe('ROLLBACK_COMPLETE');
    expect(cfn.exchanges[0].response.Reason).toMatch(/No acceptable Capacity Block offering for 2 x UltraServer u-p6e-gb200x72 .* with maxUpfrontFee 50000\.00 USD.*cb-\w+ \(us-east-1-dfw-2a, .*\): \d+\.\d\d USD > maxUpfrontFee 50000\.00 USD/);
    expect(purchaseCalls(emulator)).toHaveLength(0);
  }));

  test('a Create rolled back after its purchase leaves the block; the next deploy adopts every reservation of it and buys nothing', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(ULTRA, { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    const reservations = emulator.reservationsOfPurchase(emulator.purchases[0].id).map(r => r.id);

    expect(await cfn.deploy(ULTRA)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(reservations[0]);
    expect(lastResponse(cfn).Data?.CapacityReservationIds).toBe(reservations.join(','));
    // The other reservations of the same block are not "other blocks you pay for".
    expect(lastResponse(cfn).Data?.Note).not.toMatch(/also owns/);
  }));

  test('a tag update rolled back keeps the block, and both tag every reservation of it', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(ULTRA);
    const held = cfn.resource!.physicalResourceId;
    expect(await cfn.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'frontier' }] }, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(cfn.resource!.physicalResourceId).toBe(held);
    expect(await cfn.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'frontier' }] })).toBe('UPDATE_COMPLETE');
    expect(emulator.reservationsOfPurchase(held).map(r => r.tags.get('team'))).toEqual(['frontier', 'frontier', 'frontier', 'frontier']);
    expect(emulator.purchases).toHaveLength(1);
  }));

  test('more UltraServers without allowRepurchase is refused naming the block; its rollback succeeds and nothing is bought', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(ULTRA);
    expect(await cfn.deploy({ ...ULTRA, UltraserverCount: '3', MaxUpfrontFee: '100000' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    const refusal = cfn.exchanges.find(e => e.response.Status === 'FAILED')!.response.Reason;
    expect(refusal).toMatch(/This change needs a new Capacity Block: ultraserverType x ultraserverCount u-p6e-gb200x72 x 3 \(the block has u-p6e-gb200x72 x 2\)\. This resource already holds cr-\w+ \(UltraServer u-p6e-gb200x72 x 2, reservations/);
    expect(emulator.purchases).toHaveLength(1);
  }));

  test('a replacement (more UltraServers, allowRepurchase) rolled back by a later failure returns to the first block: the rollback buys nothing, the cleanup cancels nothing, and every later answer names the block still paid for', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    const first = { ...ULTRA, AllowRepurchase: 'true' };
    await cfn.deploy(first);
    const held = cfn.resource!.physicalResourceId;
    const more = { ...first, UltraserverCount: '3', MaxUpfrontFee: '100000' };
    expect(await cfn.deploy(more, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.purchases).toHaveLength(2);
    expect(cfn.resource!.physicalResourceId).toBe(held);
    const rollback = cfn.exchanges.find(e => e.phase === 'rollback')!;
    const second = emulator.purchases.find(p => p.id !== held)!;
    expect(rollback.physicalResourceId).toBe(second.id);
    expect(rollback.response.PhysicalResourceId).toBe(held);
    expect(rollback.response.Data?.Note).toMatch(new RegExp(`also owns, and you pay for until they end: ${second.id} \\(UltraServer u-p6e-gb200x72 x 3`));
    expect(cfn.exchanges.filter(e => e.phase === 'cleanup').map(e => [e.physicalResourceId, e.response.Status])).toEqual([[second.id, 'SUCCESS']]);
    // The same deploy again adopts the second block it already owns: nothing more is bought.
    expect(await cfn.deploy(more)).toBe('UPDATE_COMPLETE');
    expect(cfn.resource!.physicalResourceId).toBe(second.id);
    expect(emulator.purchases).toHaveLength(2);
    expect(emulator.calls.filter(c => c.action === 'CancelCapacityReservation')).toHaveLength(0);
  }));

  test('two copies of a Create delivered at the same time, whose purchase answer is lost while EC2 lists only part of it, buy one block tracked by its lowest reservation', () => engine(async ({ emulator, stack }) => {
    emulator.failNext('PurchaseCapacityBlock', 'lostAnswer');
    const cfn = stack('twice-concurrent');
    expect(await cfn.deploy(ULTRA)).toBe('CREATE_COMPLETE');
    expect(purchaseCalls(emulator)).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.reservationsOfPurchase(emulator.purchases[0].id)[0].id);
  }, { ultraserverListingLag: 2, faults: { latencyMs: 25 } }));

  test('a longer duration is refused before anything is bought: an UltraServer block is not extended reservation by reservation', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(ULTRA);
    emulator.clock.advance(3_600_000);
    expect(await cfn.deploy({ ...ULTRA, DurationHours: '48' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(cfn.exchanges.find(e => e.response.Status === 'FAILED')!.response.Reason).toMatch(/is UltraServer u-p6e-gb200x72 x 2, which this library does not extend .*nothing was bought/);
    expect(emulator.extensions).toHaveLength(0);
    expect(emulator.calls.filter(c => c.action === 'PurchaseCapacityBlockExtension')).toHaveLength(0);
  }));

  test.each(['payment-pending', 'payment-failed', 'delayed', 'unavailable', 'failed', 'cancelled', 'pending', 'assessing', 'expired'])('stack deletion with the UltraServer block %s succeeds and cancels nothing', state => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(ULTRA);
    for (const r of emulator.reservationsOfPurchase(emulator.purchases[0].id)) emulator.setState(r.id, state);
    expect(await cfn.destroy()).toBe('DELETE_COMPLETE');
    expect(emulator.calls.filter(c => c.action === 'CancelCapacityReservation')).toHaveLength(0);
    expect(emulator.purchases).toHaveLength(1);
  }));

  test('Delete leaves every reservation of the block to expire', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(ULTRA);
    expect(await cfn.destroy()).toBe('DELETE_COMPLETE');
    expect(emulator.calls.filter(c => c.action === 'CancelCapacityReservation')).toHaveLength(0);
    expect(emulator.reservationsOfPurchase(emulator.purchases[0].id)).toHaveLength(4);
  }));
});

describe('blocks are up to a day short of whole days, and EC2 states beyond paid/active', () => {
  test('an offering that starts within the hour ends at 11:30 UTC short of whole days: it is bought, and adopted again after a rollback', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000', Selection: 'EARLIEST_START' };
    expect(await cfn.deploy(BLOCK, { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    const bought = emulator.purchases[0];
    expect(bought.offering.durationMinutes).toBeLessThan(48 * 60);
    expect(bought.offering.durationMinutes).toBeGreaterThan(24 * 60);

    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(bought.id);
  }, { sameDayOfferings: true }));

  test('a block EC2 delivers late (delayed) is reported with what it means, and never bought again', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy({ ...ULTRA, AllowRepurchase: 'true' });
    const held = cfn.resource!.physicalResourceId;
    for (const r of emulator.reservationsOfPurchase(held)) emulator.setState(r.id, 'delayed');
    expect(await cfn.deploy({ ...ULTRA, AllowRepurchase: 'true', Tags: [{ Key: 'team', Value: 'frontier' }] })).toBe('UPDATE_COMPLETE');
    expect(lastResponse(cfn).Data).toMatchObject({ State: 'delayed' });
    expect(lastResponse(cfn).Data?.Note).toMatch(/is bought, but EC2 is delivering it late \(state delayed\)/);
    expect(emulator.purchases).toHaveLength(1);
    expect(await cfn.destroy()).toBe('DELETE_COMPLETE');
  }));

  test('an active UltraServer block reports its interconnect status, and says so when it is impaired', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(ULTRA);
    const start = emulator.purchases[0].offering.startDate.getTime();
    emulator.clock.advance(start - emulator.clock.now().getTime() + 3_600_000); // inside the block: active
    expect(await cfn.deploy({ ...ULTRA, Tags: [{ Key: 'team', Value: 'frontier' }] })).toBe('UPDATE_COMPLETE');
    expect(lastResponse(cfn).Data).toMatchObject({ State: 'active', InterconnectStatus: 'impaired' });
    expect(lastResponse(cfn).Data?.Note).toMatch(/accelerator interconnect of cb-\w+, cb-\w+ is impaired; contact AWS Support/);
  }, { interconnectStatus: () => 'impaired' }));
});
