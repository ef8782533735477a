import { CloudFormationStack, Ec2Emulator } from '../../../lib/local';
import { engineFor } from './engine-harness';

/**
 * The money rules that need the resource's ledger (what it bought, what it answered, what
 * CloudFormation released), under the REAL Provider framework runtime and CloudFormation's sequences,
 * against an EC2 emulator whose lists and payments lag as EC2's do.
 */
const engine = engineFor({ stackName: 'Training', logicalId: 'Block' });

/** 4 x p5.48xlarge for 2 days: the emulator offers them for about 6,040-7,600 USD. */
const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };
const ULTRA = { UltraserverType: 'u-trn2x64', UltraserverCount: '1', DurationHours: '24', MaxUpfrontFee: '3000', AllAvailabilityZones: 'true' };
const HOUR = 3_600_000;
const paidBlocks = (emulator: Ec2Emulator) => emulator.purchases.filter(r => emulator.stateOf(r) !== 'payment-failed');
const lastResponse = (stack: CloudFormationStack) => stack.exchanges[stack.exchanges.length - 1].response;
/** 11:30 UTC `days` after the emulator's today: where its generated offerings start. */
const offeringDay = (emulator: Ec2Emulator, days: number) => {
  const now = emulator.clock.now();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days, 11, 30));
};

describe('a 200 from PurchaseCapacityBlock is final', () => {
  test.each([
    ['an instance block', BLOCK],
    ['an UltraServer block', ULTRA],
  ])('%s that EC2 answers without reservation ids, and lists 40 s later, is bought once and tracked by its lowest reservation', (_kind, props) => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(props)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].id);
    expect(lastResponse(cfn).Data).toMatchObject({
      CapacityReservationIds: emulator.reservationsOfPurchase(emulator.purchases[0].id).map(r => r.id).join(','),
      CapacityBlockId: emulator.purchases[0].blockId,
    });
  }, { answersWithoutIds: () => true, listingDelayMs: 40_000 }));

  test('a purchase EC2 lists only after every lookup of onEvent is still never bought again: isComplete tracks its block until the reservations show', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].id);
  }, { answersWithoutIds: () => true, listingDelayMs: 20 * 60_000 }));
});

describe('an extension stays inside the window and the ceiling, and is bought once', () => {
  test('fails an update to a longer duration whose extension would end after latestEnd, and buys nothing', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    // Only blocks that start tomorrow fit 48 h before latestEnd; 72 h would end a day after it.
    const latestEnd = new Date(offeringDay(emulator, 1).getTime() + 60 * HOUR).toISOString();
    const first = { ...BLOCK, LatestEnd: latestEnd };
    expect(await cfn.deploy(first)).toBe('CREATE_COMPLETE');
    emulator.clock.advance(HOUR); // paid: scheduled, so it could be extended
    expect(await cfn.deploy({ ...first, DurationHours: '72' })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.extensions).toHaveLength(0);
    expect(cfn.exchanges.find(e => e.phase === 'deploy' && e.requestType === 'Update')!.response.Reason).toMatch(/latestEnd/);
  }));

  test('an update while an extension\'s payment is pending neither extends again nor wedges the stack', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    emulator.clock.advance(HOUR);
    const longer = { ...BLOCK, DurationHours: '72' };
    expect(await cfn.deploy(longer)).toBe('UPDATE_COMPLETE');
    expect(emulator.extensions).toHaveLength(1);
    // The extension's payment is still pending: EndDate has not moved yet.
    expect(await cfn.deploy({ ...longer, Tags: [{ Key: 'team', Value: 'ml' }] })).toBe('UPDATE_COMPLETE');
    expect(emulator.extensions).toHaveLength(1);
    expect(lastResponse(cfn).Data?.Note).toMatch(/payment-pending/);
  }, { extensionPaymentDelayMs: 6 * HOUR }));
});

describe('a rollback is what the ledger answered before, not a block that happens to fit', () => {
  test('fails a forward update back to the properties of a block whose payment failed, keeping the live block it holds instead of moving to the dead one', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    const first = { ...BLOCK, AllowRepurchase: 'true', WaitTimeoutSeconds: '0' };
    expect(await cfn.deploy(first)).toBe('CREATE_COMPLETE');
    emulator.clock.advance(HOUR);
    expect(emulator.stateOf(emulator.purchases[0])).toBe('payment-failed');
    // As the payment-failed advice says: deploy again, here with other properties, which buys a new block.
    const bigger = { ...first, InstanceCount: '8', MaxUpfrontFee: '16000' };
    expect(await cfn.deploy(bigger)).toBe('UPDATE_COMPLETE');
    const live = cfn.resource!.physicalResourceId;
    expect(paidBlocks(emulator).map(r => r.id)).toEqual([live]);
    // A later, forward update back to 4 instances without allowRepurchase needs a new block: refused.
    const back = { ...BLOCK, WaitTimeoutSeconds: '0' };
    expect(await cfn.deploy(back)).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(cfn.resource!.physicalResourceId).toBe(live);
    expect(emulator.purchases).toHaveLength(2);
  }, { paymentFails: id => id.includes('4x48') }));
});
