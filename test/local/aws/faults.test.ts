import { rehearseAws } from '../../../lib/local';
import { awsTemplate } from '../templates';

/** Through the real bundle and @aws-sdk/client-ec2, against the EC2 emulator with injected faults. */
describe('the AWS handler against a faulty EC2', () => {
  test('a block is bought once under redelivery and throttling', async () => {
    const { reports, emulator } = await rehearseAws(awsTemplate({}), { ec2: { faults: { seed: 7, throttle: 0.25 } } });
    expect(emulator.faults.injected.throttle).toBeGreaterThan(0);
    expect(reports[0]).toMatchObject({ ok: true, purchases: 1 });
    expect(emulator.purchases).toHaveLength(1);
  });

  test('a purchase whose answer is lost is found by its tag and not bought again', async () => {
    const { reports, emulator } = await rehearseAws(awsTemplate({}), { ec2: { faults: { seed: 3, lostAnswer: 1, lostAnswerActions: ['PurchaseCapacityBlock'] } } });
    expect(emulator.faults.injected.lostAnswer).toBeGreaterThan(0);
    expect(reports[0].ok).toBe(true);
    expect(emulator.calls.filter(c => c.action === 'PurchaseCapacityBlock')).toHaveLength(1);
    expect(emulator.purchases).toHaveLength(1);
  });

  test('the ceiling is never exceeded: with every offering above it, nothing is bought', async () => {
    const { reports, emulator } = await rehearseAws(awsTemplate({ MaxUpfrontFee: '5000' }));
    expect(reports[0].ok).toBe(false);
    expect(reports[0].error).toMatch(/No acceptable Capacity Block offering .* all refused; cheapest: .*> maxUpfrontFee 5000.00 USD/);
    expect(emulator.purchases).toHaveLength(0);
  });

  test('an offering sold between search and purchase is followed by the next acceptable one', async () => {
    const { reports, emulator } = await rehearseAws(awsTemplate({}), { ec2: { soldBeforePurchase: 1 } });
    const attempts = emulator.calls.filter(c => c.action === 'PurchaseCapacityBlock').map(c => c.params.CapacityBlockOfferingId);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).not.toBe(attempts[0]);
    expect(reports[0]).toMatchObject({ ok: true, purchases: 1, chosenOfferingId: attempts[1] });
  });

  test('a failed payment fails cleanly, saying nothing is owed', async () => {
    const { reports, emulator } = await rehearseAws(awsTemplate({}), { ec2: { paymentFails: () => true } });
    expect(reports[0].ok).toBe(false);
    expect(reports[0].error).toMatch(/Payment for Capacity Block cr-\w+ failed .*nothing is owed/);
    expect(emulator.stateOf(emulator.purchases[0])).toBe('payment-failed');
  });

  test('server errors and resets before any purchase do not lead to a second purchase', async () => {
    const { reports, emulator } = await rehearseAws(awsTemplate({}), { ec2: { faults: { seed: 11, serverError: 0.2, reset: 0.1 } } });
    expect(emulator.purchases.length).toBeLessThanOrEqual(1);
    if (reports[0].ok) expect(emulator.purchases).toHaveLength(1);
  });
});
