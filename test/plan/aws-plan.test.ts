import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DescribeCapacityBlockOfferingsCommand, EC2Client, PurchaseCapacityBlockCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { CapacityBlockInstanceType, CapacityBlockPurchase, CapacitySpendLimit } from '../../lib';
import { main } from '../../lib/plan/cli';
import { Ec2Emulator, writeAwsTemplate } from '../../lib/local';

/**
 * `cdk-capacity-reservations plan` for AWS, through the real @aws-sdk/client-ec2 over HTTP against
 * the EC2 emulator: what each block would buy now and for how much, and the exit status a CI gate reads.
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

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['plan', ...args], { stdout: t => { out += t; }, stderr: t => { err += t; } });
  return { code, out, err };
}

/** A template with one block per entry of `ceilings`, all asking for the same shape. */
function template(ceilings: string[], extra: Record<string, unknown> = {}): string {
  const file = writeAwsTemplate({ MaxUpfrontFee: ceilings[0], ...extra });
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  ceilings.slice(1).forEach((ceiling, i) => { parsed.Resources[`Block${i + 2}`] = { ...parsed.Resources.Block, Properties: { ...parsed.Resources.Block.Properties, MaxUpfrontFee: ceiling } }; });
  writeFileSync(file, JSON.stringify(parsed));
  return file;
}

test('shows every offering with the judge\'s verdict, the one it would buy and its price, and exits 0', async () => {
  const { code, out, err } = await run(template(['6500']));
  expect(code).toBe(0);
  expect(out).toMatch(/AWS Rehearsal\/Block \(us-east-1\): 4 x p5\.48xlarge for 2 days \(48 h\), maxUpfrontFee 6500\.00 USD/);
  expect(out).toMatch(/\*\s+cb-p548xlarge4x48a14\s+us-east-1a\s+\S+\s+\S+\s+6,040\.32 USD\s+31\.46 USD\s+would buy/);
  expect(out).toMatch(/cb-p548xlarge4x48a1 .* 7127\.58 USD > maxUpfrontFee 6500\.00 USD/);
  expect(out).toMatch(/-> would buy cb-p548xlarge4x48a14 in us-east-1a for 6,040\.32 USD/);
  expect(out).toMatch(/AWS Capacity Blocks, up front and non-refundable: 6,040\.32 USD/);
  expect(err).toMatch(/reading Capacity Block offerings for 4 x p5\.48xlarge .*: page 1/);
  expect(emulator.calls.every(c => /^Describe/.test(c.action))).toBe(true);
});

/** A block bought outside the plan, tagged as the handler tags what a deployed resource `owner` buys. */
async function ownedBlock(owner: string): Promise<string> {
  const client = new EC2Client({});
  try {
    const offered = await client.send(new DescribeCapacityBlockOfferingsCommand({ InstanceType: 'p5.48xlarge', InstanceCount: 4, CapacityDurationHours: 48 }));
    const bought = await client.send(new PurchaseCapacityBlockCommand({
      CapacityBlockOfferingId: offered.CapacityBlockOfferings![0].CapacityBlockOfferingId, InstancePlatform: 'Linux/UNIX',
      TagSpecifications: [{ ResourceType: 'capacity-reservation', Tags: [{ Key: 'cdk-capacity-reservations:owner', Value: owner }, { Key: 'cdk-capacity-reservations:idempotency-key', Value: 'k1' }] }],
    }));
    return bought.CapacityReservation!.CapacityReservationId!;
  } finally {
    client.destroy();
  }
}

test('a block a deployed stack\'s resource already owns and that serves it is "owned": adopted, nothing bought, nothing added to the spend', async () => {
  const id = await ownedBlock('Rehearsal/Block');
  const { code, out } = await run(template(['6500']));
  expect(code).toBe(0);
  expect(out).toMatch(new RegExp(`AWS Rehearsal/Block \\(us-east-1\\): 4 x p5\\.48xlarge for 2 days \\(48 h\\), maxUpfrontFee 6500\\.00 USD\n  -> owned: ${id} \\(4 x p5\\.48xlarge in us-east-1a, payment-pending, ends .*\\) \\(adopted, nothing bought\\)`));
  expect(out).not.toMatch(/up front and non-refundable/);
});

test('a resource that owns a live block which does not serve new properties would fail without allowRepurchase: exit 2, naming the block', async () => {
  const id = await ownedBlock('Rehearsal/Block');
  const { code, out } = await run(template(['16000'], { InstanceCount: '8' }));
  expect(code).toBe(2);
  expect(out).toMatch(new RegExp(`Rehearsal/Block: needs-allow-repurchase: this resource already holds ${id} .* set allowRepurchase: true to buy one`));
  expect((await run(template(['16000'], { InstanceCount: '8', AllowRepurchase: 'true' }))).code).toBe(0);
});

test('exits 2 when an offering is above every ceiling, naming the block and why', async () => {
  const { code, out } = await run(template(['5000']));
  expect(code).toBe(2);
  expect(out).toMatch(/1 reservation would fail now:\n  Rehearsal\/Block: no-acceptable-offering: none of the 12 offerings is acceptable: the cheapest that meets every other criterion costs 6040\.32 USD, above maxUpfrontFee 5000\.00 USD: raise maxUpfrontFee/);
});

test('asks EC2 once per distinct question, however many blocks share it, and adds up what they would buy', async () => {
  const { code, out } = await run(template(['6500', '9000', '9000']));
  expect(code).toBe(0);
  const pages = emulator.calls.filter(c => c.action === 'DescribeCapacityBlockOfferings');
  expect(pages).toHaveLength(4); // 12 offerings, 3 per page: one pass
  expect(new Set(pages.map(p => p.params.NextToken ?? 'first')).size).toBe(4);
  expect(out).toMatch(/up front and non-refundable: 18,120\.96 USD/);
});

test('--json gives the same plan to machines', async () => {
  const { code, out } = await run(template(['6500']), '--json');
  expect(code).toBe(0);
  const report = JSON.parse(out);
  expect(report.reservations[0]).toMatchObject({ cloud: 'aws', verdict: 'would-buy', chosen: { offeringId: 'cb-p548xlarge4x48a14', upfrontFee: 6040.32, currencyCode: 'USD' } });
  expect(report.upfrontTotals).toEqual({ USD: 6040.32 });
  expect(report.wouldFail).toEqual([]);
});

test('a previewOnly block is planned too, and not added to the spend', async () => {
  const { code, out } = await run(template(['6500'], { PreviewOnly: 'true' }));
  expect(code).toBe(0);
  expect(out).toMatch(/-> previewOnly: would buy nothing; a purchase would take cb-p548xlarge4x48a14/);
  expect(out).not.toMatch(/up front and non-refundable/);
});

test('a token is reported per property, not guessed; --parameters gives it a value', async () => {
  const file = template(['6500'], { InstanceCount: { Ref: 'Count' } });
  const unresolved = await run(file);
  expect(unresolved.code).toBe(2);
  expect(unresolved.out).toMatch(/unresolved: depends on values known only at deploy time: InstanceCount is \{"Ref":"Count"\} \(pass --parameters Count=VALUE to plan with a value\)/);
  expect(emulator.calls).toEqual([]);

  const resolved = await run(file, '--parameters', 'Count=4');
  expect(resolved.code).toBe(0);
});

test('bad properties are named before any EC2 call, with exit 2', async () => {
  const { code, out } = await run(template(['0x10']));
  expect(code).toBe(2);
  expect(out).toMatch(/invalid: Invalid CapacityBlockPurchase properties: maxUpfrontFee must be a plain number, got '0x10'/);
  expect(emulator.calls).toEqual([]);
});

test('missing credentials fail with exit 1 and the one line that says how to fix it', async () => {
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  const home = mkdtempSync(join(tmpdir(), 'no-aws-'));
  Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config'), AWS_EC2_METADATA_DISABLED: 'true' });
  const { code, err, out } = await run(template(['6500']));
  expect(code).toBe(1);
  expect(out).toBe('');
  expect(err).toMatch(/cdk-capacity-reservations plan: AWS: no credentials found; set AWS_PROFILE \(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), or run `aws sso login`\n$/);
});

test('no region anywhere fails with exit 1 and says where to give one', async () => {
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  const home = mkdtempSync(join(tmpdir(), 'no-aws-'));
  Object.assign(process.env, { AWS_CONFIG_FILE: join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials') });
  const { code, err } = await run(template(['6500']));
  expect(code).toBe(1);
  expect(err).toMatch(/AWS: no region; deploy the stack with an env region, set AWS_REGION, or pass --region/);
  expect((await run(template(['6500']), '--region', 'us-east-1')).code).toBe(0);
});

test('nothing to plan, or a path that does not exist, is exit 64 (usage) with why', async () => {
  expect((await run(join(tmpdir(), 'no-such-cdk.out'))).err).toMatch(/does not exist; synthesize first/);
  expect((await run(join(tmpdir(), 'no-such-cdk.out'))).code).toBe(64);
});

test('a caller without permission fails with exit 1, naming the one IAM action to grant', async () => {
  const ec2 = mockClient(EC2Client);
  ec2.on(DescribeCapacityBlockOfferingsCommand).rejects(Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation' }));
  try {
    const { code, err } = await run(template(['6500']));
    expect(code).toBe(1);
    expect(err).toMatch(/^cdk-capacity-reservations plan: AWS: UnauthorizedOperation: grant the caller ec2:DescribeCapacityBlockOfferings and ec2:DescribeCapacityReservations \(read-only; the plan calls nothing else\)\n$/);
  } finally {
    ec2.restore();
  }
});

test('an UltraServer block in a Local Zone is planned through the same judge: the offering, its zone and its price per node-hour', async () => {
  const file = writeAwsTemplate({ InstanceType: undefined, InstanceCount: undefined, AvailabilityZone: undefined, UltraserverType: 'u-p6e-gb200x72', UltraserverCount: '1', DurationHours: '24', MaxUpfrontFee: '30000', AllAvailabilityZones: 'true' });
  const { code, out } = await run(file);
  expect(code).toBe(0);
  expect(out).toMatch(/1 x UltraServer u-p6e-gb200x72 for 1 day \(24 h\), maxUpfrontFee 30000\.00 USD/);
  expect(out).toMatch(/-> would buy cb-\S+ in us-east-1-dfw-2a for 27,993\.60 USD \(64\.80 USD per instance-hour\)/);
  expect(emulator.calls.filter(c => c.action === 'DescribeCapacityBlockOfferings').every(c => c.params.UltraserverType === 'u-p6e-gb200x72' && c.params.AllAvailabilityZones === 'true')).toBe(true);
});

/*
 * plan for a budget owner: the price per instance-hour with its currency, what would be bought now,
 * the worst case (the sum of the ceilings) and each CapacitySpendLimit of the app beside them, in the
 * text and in --json alike. The app is synthesized for real, so the limit is read where `cdk synth`
 * writes it: the cloud assembly.
 */
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
