import { CloudFormationStack, Ec2Emulator } from '../../../lib/local';
import { engineFor } from './engine-harness';

/**
 * The money rules under CloudFormation's engine: the bundled handler runs inside the REAL Provider
 * framework runtime of aws-cdk-lib (only its Lambda, Step Functions and HTTPS calls are stubbed),
 * against the EC2 emulator and a local DynamoDB, through CloudFormation's event sequences.
 */
const engine = engineFor({ stackName: 'Training', logicalId: 'Block' });

/** 4 x p5.48xlarge for 2 days: the emulator offers them for about 6,040-7,600 USD. */
const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };
const lastResponse = (stack: CloudFormationStack) => stack.exchanges[stack.exchanges.length - 1].response;
const daysFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
const purchaseCalls = (emulator: Ec2Emulator) => emulator.calls.filter(c => c.action === 'PurchaseCapacityBlock' && c.params.DryRun !== 'true');

describe('a rollback never buys', () => {
  test('with allowRepurchase, a replacement rolled back after the first block expired returns to that block and buys nothing more', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    const first = { ...BLOCK, AllowRepurchase: 'true' };
    await cfn.deploy(first);
    const expired = emulator.purchases[0];
    emulator.clock.advance(emulator.endDateOf(expired).getTime() - emulator.clock.now().getTime() + 3_600_000);
    const bigger = { ...first, InstanceCount: '8', MaxUpfrontFee: '16000' };
    expect(await cfn.deploy(bigger, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    // The update bought its block (it asked to, and cannot undo it); the rollback bought nothing.
    expect(emulator.purchases).toHaveLength(2);
    expect(cfn.resource!.physicalResourceId).toBe(expired.id);
    const rollback = cfn.exchanges.find(e => e.phase === 'rollback')!.response;
    expect(rollback.Data).toMatchObject({ State: 'expired' });
    expect(rollback.Data?.Note).toMatch(/^Back to cr-\w+ \(4 x p5\.48xlarge in us-east-1\w, expired, .*\), which these properties were deployed with; nothing was bought/);
  }));
});

describe('a rollback never buys, whatever became of the first block', () => {
  test('with allowRepurchase, a replacement rolled back after the first block\'s payment failed returns to that block and buys nothing more', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    // Waiting ends at once (waitTimeout 0): the Create succeeds while the payment is pending; it fails later.
    const first = { ...BLOCK, AllowRepurchase: 'true', WaitTimeoutSeconds: '0' };
    await cfn.deploy(first);
    const failed = emulator.purchases[0];
    expect(cfn.status).toBe('CREATE_COMPLETE');
    emulator.clock.advance(3_600_000);
    expect(emulator.stateOf(failed)).toBe('payment-failed');
    const bigger = { ...first, InstanceCount: '8', MaxUpfrontFee: '16000' };
    expect(await cfn.deploy(bigger, { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(emulator.purchases).toHaveLength(2);
    expect(cfn.resource!.physicalResourceId).toBe(failed.id);
    expect(cfn.exchanges.find(e => e.phase === 'rollback')!.response.Data).toMatchObject({ State: 'payment-failed' });
  }, { paymentFails: id => id.includes('4x48') }));
});

describe('EC2 documents no tag filter for DescribeCapacityReservations', () => {
  // The ownership and idempotency lookups filter by tag; where EC2 refuses such a filter they must still work.
  test('with tag filters refused, a Create buys once, and the redeploy after its rollback adopts the block instead of failing or buying', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(BLOCK, { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].id);
    expect(lastResponse(cfn).Data?.Note).toMatch(/Adopted cr-\w+, which this resource \(Training\/Block\) already owns/);
  }, { tagFilters: 'refused' }));

  test('with tag filters refused, a purchase whose answer is lost is found by its tags and not bought again', () => engine(async ({ emulator, stack }) => {
    emulator.failNext('PurchaseCapacityBlock', 'lostAnswer');
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(purchaseCalls(emulator)).toHaveLength(1);
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].id);
  }, { tagFilters: 'refused' }));
});

describe('buy once, whatever the engine delivers', () => {
  test('two copies of one Create delivered at the same time buy one block', () => engine(async ({ emulator, stack }) => {
    const cfn = stack('twice-concurrent');
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].id);
  }, { faults: { latencyMs: 25 } }));

  test('two copies of one extension Update delivered at the same time buy one extension', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy(BLOCK);
    emulator.clock.advance(3_600_000); // paid: scheduled, so it can be extended
    cfn.delivery = () => 'twice-concurrent';
    expect(await cfn.deploy({ ...BLOCK, DurationHours: '72' })).toBe('UPDATE_COMPLETE');
    expect(emulator.extensions).toHaveLength(1);
  }, { faults: { latencyMs: 25 } }));

  test('onEvent invoked again by the framework after a lost Invoke answer, while the first still runs, buys one block', () => engine(async ({ emulator, framework, stack }) => {
    framework.failNext('invokeLost');
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(framework.injected.invokeLost).toBe(1);
    expect(emulator.purchases).toHaveLength(1);
  }, { faults: { latencyMs: 25 } }));

  test('a Create that CloudFormation records as FAILED after its purchase (StartExecution failed) is adopted by the next deploy, not bought again', () => engine(async ({ emulator, framework, stack }) => {
    framework.failNext('startExecutionThrottled');
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('ROLLBACK_COMPLETE');
    expect(cfn.exchanges[0].response.Reason).toMatch(/ThrottlingException/);
    expect(emulator.purchases).toHaveLength(1);

    // The stack was created anew (same name, new stack id): the block it paid for is found by its owner tag.
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource?.physicalResourceId).toBe(emulator.purchases[0].id);
    expect(lastResponse(cfn).Data?.Note).toMatch(/Adopted cr-\w+, which this resource \(Training\/Block\) already owns/);
  }));

  test('an invocation that crashes right after its purchase leaves its claim; a later delivery takes it over, finds the block and buys nothing', () => engine(async ({ emulator, framework, stack }) => {
    framework.crashAfter('PurchaseCapacityBlockCommand');
    const cfn = stack('twice-late');
    expect(await cfn.deploy(BLOCK)).toBe('ROLLBACK_COMPLETE'); // CloudFormation keeps the crash's FAILED
    expect(framework.invocations.filter(i => i.fn === 'onEvent').map(i => i.outcome)).toEqual(['crash', 'ok']); // the crash, then the takeover (the rollback Delete of the failed-create marker never reaches it)
    expect(emulator.purchases).toHaveLength(1);

    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
  }));

  test('a purchase whose answer never comes is found by its tags after the request timeout, not bought again', () => engine(async ({ emulator, framework, stack }) => {
    emulator.failNext('PurchaseCapacityBlock', 'hangAfter');
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(purchaseCalls(emulator)).toHaveLength(1);
    expect(emulator.purchases).toHaveLength(1);
    expect(framework.invocations.every(i => i.outcome === 'ok')).toBe(true);
  }));

  test('EC2 reads that hang inside isComplete are answered "not yet" before the Lambda timeout, and the block is reported once they answer', () => engine(async ({ emulator, framework, stack }) => {
    emulator.failNext('DescribeCapacityReservations', 'hang', 6, params => params['CapacityReservationId.1'] !== undefined);
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(framework.invocations.filter(i => i.outcome === 'timeout')).toEqual([]);
    expect(lastResponse(cfn).Data?.State).toBe('scheduled');
  }));

  test('at the longest waitTimeout with the payment still pending, CloudFormation gets SUCCESS (payment-pending) within ServiceTimeout', () => engine(async ({ stack }) => {
    const cfn = stack();
    expect(await cfn.deploy({ ...BLOCK, WaitTimeoutSeconds: '3000' })).toBe('CREATE_COMPLETE');
    expect(lastResponse(cfn).Data).toMatchObject({ State: 'payment-pending' });
    expect(lastResponse(cfn).Data?.Note).toMatch(/payment was still pending at waitTimeout/);
  }, { paymentDelayMs: 10 * 3_600_000 }));
});

describe('ownership: what this resource already owns is adopted or named, never bought again silently', () => {
  test('a Create whose resource owns a live block of another shape is refused unless allowRepurchase, and then the old block is named as still paid', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    expect(await cfn.deploy(BLOCK, { laterResourceFails: true })).toBe('ROLLBACK_COMPLETE'); // bought, then left to expire by the rollback
    const first = emulator.purchases[0].id;

    expect(await cfn.deploy({ ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000' })).toBe('ROLLBACK_COMPLETE');
    expect(lastResponse(cfn).Status).toBe('SUCCESS'); // the rollback Delete
    expect(cfn.exchanges[cfn.exchanges.length - 2].response.Reason).toMatch(new RegExp(`This change needs a new Capacity Block: instanceCount 2 \\(the block has 4\\)\\. This resource already holds ${first}`));
    expect(emulator.purchases).toHaveLength(1);

    expect(await cfn.deploy({ ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000', AllowRepurchase: 'true' })).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(2);
    expect(lastResponse(cfn).Data?.Note).toMatch(new RegExp(`also owns, and you pay for until they end: ${first}`));
  }));
});

describe('every update CloudFormation may roll back has a rollback that succeeds', () => {
  const kinds: Array<[string, Record<string, string | undefined>, Record<string, string | undefined>]> = [
    ['a tag change', BLOCK, { ...BLOCK, Tags: 'team' }],
    ['a longer duration (an extension is bought)', BLOCK, { ...BLOCK, DurationHours: '72' }],
    ['a shorter duration', BLOCK, { ...BLOCK, DurationHours: '24' }],
    ['a new count with allowRepurchase (a new block is bought)', { ...BLOCK, AllowRepurchase: 'true' }, { ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000', AllowRepurchase: 'true' }],
    ['allowRepurchase added together with a new count', BLOCK, { ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000', AllowRepurchase: 'true' }],
    ['another zone with allowRepurchase', { ...BLOCK, AvailabilityZone: 'us-east-1a' }, { ...BLOCK, AvailabilityZone: 'us-east-1b', AllowRepurchase: 'true' }],
    ['another platform with allowRepurchase', BLOCK, { ...BLOCK, InstancePlatform: 'Windows', AllowRepurchase: 'true' }],
    // The old window holds the old 48 h but not the extended block's end: the rollback must not hold the extension against it.
    ['a longer duration together with a later latestEnd', { ...BLOCK, LatestEnd: daysFromNow(17) }, { ...BLOCK, DurationHours: '72', LatestEnd: daysFromNow(18) }],
    ['a change refused for want of allowRepurchase', BLOCK, { ...BLOCK, InstanceCount: '8' }],
    ['previewOnly added over a bought block', BLOCK, { ...BLOCK, PreviewOnly: 'true' }],
    ['previewOnly removed (a block is bought)', { ...BLOCK, PreviewOnly: 'true' }, BLOCK],
    ['allowRepurchase turned on', BLOCK, { ...BLOCK, AllowRepurchase: 'true' }],
    ['a lower ceiling', BLOCK, { ...BLOCK, MaxUpfrontFee: '100' }],
    ['a longer waitTimeout', BLOCK, { ...BLOCK, WaitTimeoutSeconds: '3000' }],
  ];

  test.each(kinds)('%s, then a later resource fails: UPDATE_ROLLBACK_COMPLETE, holding what fits the old properties', (_kind, before, after) => engine(async ({ emulator, stack }) => {
    const props = (p: Record<string, string | undefined>) => Object.fromEntries(Object.entries(p)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => (k === 'Tags' ? [k, [{ Key: v!, Value: 'ml' }]] : [k, v])));
    const cfn = stack();
    expect(await cfn.deploy(props(before))).toBe('CREATE_COMPLETE');
    const held = cfn.resource!.physicalResourceId;

    expect(await cfn.deploy(props(after), { laterResourceFails: true })).toBe('UPDATE_ROLLBACK_COMPLETE');

    expect(cfn.continuedRollbacks).toBe(0);
    // A preview is re-run by its rollback and may name the offering that is cheapest now.
    expect(cfn.resource!.physicalResourceId).toEqual(held.startsWith('preview-') ? expect.stringMatching(/^preview-cb-/) : held);
    const bought = emulator.purchases.length;
    expect(bought).toBeLessThanOrEqual(2); // the original, and at most the one the update itself chose to buy
    if (bought === 2) expect(lastResponse(cfn).Status).toBe('SUCCESS');
  }));

  test('after a replacement rolls back, the original is tracked again, the replacement is named as still paid, and reverting buys nothing more', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true' });
    const original = cfn.resource!.physicalResourceId;
    await cfn.deploy({ ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000', AllowRepurchase: 'true' }, { laterResourceFails: true });
    const replacement = emulator.purchases.find(r => r.id !== original)!.id;

    const rollback = cfn.exchanges.find(e => e.phase === 'rollback')!.response;
    expect(rollback).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: original });
    expect(rollback.Data?.Note).toMatch(new RegExp(`also owns, and you pay for until they end: ${replacement}`));
    expect(cfn.exchanges.find(e => e.phase === 'cleanup')).toMatchObject({ requestType: 'Delete', physicalResourceId: replacement });

    // Deploying the replacement's properties again adopts it: still two blocks.
    expect(await cfn.deploy({ ...BLOCK, InstanceCount: '2', MaxUpfrontFee: '4000', AllowRepurchase: 'true' })).toBe('UPDATE_COMPLETE');
    expect(cfn.resource!.physicalResourceId).toBe(replacement);
    expect(emulator.purchases).toHaveLength(2);
  }));

  test('removing previewOnly buys, adding it back previews, removing it again adopts the block bought the first time', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy({ ...BLOCK, PreviewOnly: 'true' });
    await cfn.deploy(BLOCK);
    await cfn.deploy({ ...BLOCK, PreviewOnly: 'true' });
    expect(await cfn.deploy(BLOCK)).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(cfn.resource!.physicalResourceId).toBe(emulator.purchases[0].id);
  }));

  test('an update of a preview never fails (its rollback could not either): what a purchase would meet is in State and Note', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy({ ...BLOCK, PreviewOnly: 'true' });
    expect(await cfn.deploy({ ...BLOCK, PreviewOnly: 'true', MaxUpfrontFee: '100' })).toBe('UPDATE_COMPLETE');
    expect(lastResponse(cfn).Data).toMatchObject({ State: 'preview-failed' });
    expect(lastResponse(cfn).Data?.Note).toMatch(/previewOnly: nothing was bought, and a purchase now would fail: No acceptable Capacity Block offering .* > maxUpfrontFee 100\.00 USD/);
    expect(emulator.purchases).toHaveLength(0);
  }));

  test('a tag-only update after the block expired buys nothing, even with allowRepurchase, and reports the block as expired', () => engine(async ({ emulator, stack }) => {
    const cfn = stack();
    await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true' });
    emulator.clock.advance(30 * 86_400_000);
    expect(await cfn.deploy({ ...BLOCK, AllowRepurchase: 'true', Tags: [{ Key: 'team', Value: 'ml' }] })).toBe('UPDATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(lastResponse(cfn).Data).toMatchObject({ State: 'expired' });
    expect(lastResponse(cfn).Data?.Note).toMatch(/is over; nothing was bought/);
  }));
});
