import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { main } from '../../lib/plan/cli';
import { CapacityBlockInstanceType, CapacityBlockPurchase, CapacitySpendLimit } from '../../lib';
import { Ec2Emulator } from '../../lib/local';

/**
 * `plan` for a budget owner: the price per instance-hour with its currency, what would be bought now,
 * the worst case (the sum of the ceilings) and each CapacitySpendLimit of the app beside them, in
 * the text and in --json alike. The app is synthesized for real, so the limit is read where `cdk
 * synth` writes it: the cloud assembly.
 */
let emulator: Ec2Emulator;
const saved = { ...process.env };

beforeEach(async () => {
  emulator = new Ec2Emulator({ region: 'us-east-1' });
  Object.assign(process.env, { AWS_ENDPOINT_URL_EC2: await emulator.start(), AWS_ACCESS_KEY_ID: 'AKIDPLAN', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' });
  delete process.env.AWS_PROFILE;
});
afterEach(async () => {
  process.env = { ...saved };
  await emulator.stop();
});

/** Two blocks under a 20,000 USD limit on the app: one would buy (ceiling 6,500), one only previews (ceiling 9,000, not counted). */
function synthesizedApp(limit: number): string {
  const outdir = mkdtempSync(join(tmpdir(), 'budget-cdk.out-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Training', { env: { account: '123456789012', region: 'us-east-1' } });
  const block = { instanceType: CapacityBlockInstanceType.P5_48XLARGE, instanceCount: 4, duration: Duration.days(2) };
  new CapacityBlockPurchase(stack, 'Block', { ...block, maxUpfrontFee: 6_500 });
  new CapacityBlockPurchase(stack, 'Trial', { ...block, maxUpfrontFee: 9_000, previewOnly: true });
  CapacitySpendLimit.of(app, { maxTotalUpfrontFee: limit });
  app.synth();
  return outdir;
}

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(['plan', ...args], { stdout: t => { out += t; }, stderr: () => undefined });
  return { code, out };
}

test('GIVEN an app with a spend limit WHEN it is planned THEN the text shows what would be bought now, the worst case, and the limit with what is left', async () => {
  const { code, out } = await run(synthesizedApp(20_000));
  expect(code).toBe(0);
  expect(out).toMatch(/6,040\.32 USD\s+31\.46 USD\s+would buy/);
  expect(out).toMatch(/AWS Capacity Blocks, up front and non-refundable: 6,040\.32 USD\n/);
  expect(out).toMatch(/Worst case, the sum of every ceiling \(maxUpfrontFee\) not previewOnly: 6,500\.00 USD\n/);
  expect(out).toMatch(/CapacitySpendLimit on \(app\) \(Training\): 20,000\.00 USD; worst case 6,500\.00 USD \(13,500\.00 USD to spare\), 6,040\.32 USD now\n/);
});

test('GIVEN the same app WHEN it is planned with --json THEN the JSON carries the same figures', async () => {
  const { code, out } = await run(synthesizedApp(20_000), '--json');
  expect(code).toBe(0);
  const report = JSON.parse(out);
  expect(report.upfrontTotals).toEqual({ USD: 6040.32 });
  expect(report.worstCaseTotals).toEqual({ USD: 6500 });
  expect(report.spendLimits).toEqual([{ scope: '(app)', maxTotalUpfrontFee: 20000, currencyCode: 'USD', stacks: ['Training'], worstCase: 6500, wouldBuyNow: 6040.32 }]);
  expect(report.reservations.find((r: any) => r.logicalId.startsWith('Block')).chosen).toMatchObject({ perInstanceHour: expect.closeTo(31.46, 2), currencyCode: 'USD' });
  expect(report.reservations.find((r: any) => r.logicalId.startsWith('Block')).ceiling).toEqual({ amount: 6500, currencyCode: 'USD' });
});
