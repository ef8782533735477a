import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { main } from '../../lib/plan/cli';
import { SageMakerEmulator } from '../../lib/local';

/**
 * `cdk-capacity-reservations plan` for TrainingPlanPurchase, through the real @aws-sdk/client-sagemaker
 * over HTTP against the SageMaker emulator: every offering with the judge's verdict, the plan it would
 * buy and its price, the totals, and a plan the stack already holds reported as owned.
 */
let emulator: SageMakerEmulator;
const saved = { ...process.env };

beforeEach(async () => {
  emulator = new SageMakerEmulator({ region: 'us-east-1' });
  Object.assign(process.env, { AWS_ENDPOINT_URL_SAGEMAKER: await emulator.start(), AWS_ACCESS_KEY_ID: 'AKIDPLAN', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' });
  delete process.env.AWS_PROFILE;
});
afterEach(async () => {
  process.env = { ...saved };
  await emulator.stop();
});

function template(properties: Record<string, unknown> = {}): string {
  const file = join(mkdtempSync(join(tmpdir(), 'plan-')), 'Training.template.json');
  writeFileSync(file, JSON.stringify({ Resources: { Plan: { Type: 'Custom::TrainingPlanPurchase', Properties: {
    ServiceToken: 'x', InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['hyperpod-cluster'], MaxUpfrontFee: '8000', TrainingPlanName: 'llm-run', ...properties,
  } } } }));
  return file;
}

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['plan', ...args], { stdout: t => { out += t; }, stderr: t => { err += t; } });
  return { code, out, err };
}

test('shows every training plan offering with the judge\'s verdict, the one it would buy and its price, and adds it to the up-front total', async () => {
  const { code, out } = await run(template());
  expect(code).toBe(0);
  expect(out).toMatch(/SageMaker Training\/Plan \(us-east-1\): training plan llm-run, 4 x ml\.p5\.48xlarge for 2 days \(48 h\) \(hyperpod-cluster\), maxUpfrontFee 8000\.00 USD/);
  expect(out).toMatch(/\*\s+tpo-\w+\s+us-east-1a\s+\S+\s+\S+\s+7,372\.80 USD\s+38\.40 USD\s+would buy/);
  expect(out).toMatch(/tpo-\w+ .* 8110\.08 USD > maxUpfrontFee 8000\.00 USD\n/);
  expect(out).toMatch(/-> would buy tpo-\w+ in us-east-1a for 7,372\.80 USD \(38\.40 USD per instance-hour\)/);
  expect(out).toMatch(/AWS Capacity Blocks and SageMaker training plans, up front and non-refundable: 7,372\.80 USD/);
  expect(emulator.calls.map(c => c.action)).toEqual(['DescribeTrainingPlan', 'SearchTrainingPlanOfferings']);
});

test('exits 2 when every offering is above the ceiling, naming the plan and why', async () => {
  const { code, out } = await run(template({ MaxUpfrontFee: '5000' }));
  expect(code).toBe(2);
  expect(out).toMatch(/1 reservation would fail now:\n  Training\/Plan: no-acceptable-offering: none of the 12 offerings is acceptable/);
});

test('a plan the stack already holds under its name is reported as owned, adopted, and not added to the spend', async () => {
  const { SageMakerClient, SearchTrainingPlanOfferingsCommand, CreateTrainingPlanCommand } = await import('@aws-sdk/client-sagemaker');
  const client = new SageMakerClient({});
  const offered = await client.send(new SearchTrainingPlanOfferingsCommand({ InstanceType: 'ml.p5.48xlarge', InstanceCount: 4, DurationHours: 48, TargetResources: ['hyperpod-cluster'] }));
  await client.send(new CreateTrainingPlanCommand({
    TrainingPlanName: 'llm-run', TrainingPlanOfferingId: offered.TrainingPlanOfferings![0].TrainingPlanOfferingId, Tags: [{ Key: 'cdk-capacity-reservations:owner', Value: 'Training/Plan' }],
  }));
  client.destroy();
  const { code, out } = await run(template());
  expect(code).toBe(0);
  expect(out).toMatch(/-> owned: llm-run \(Pending, \d+\.\d\d USD\) \(adopted, nothing bought\)/);
  expect(out).not.toMatch(/up front and non-refundable/);
});

test('bad properties are named before any SageMaker call, with exit 2', async () => {
  const { code, out } = await run(template({ InstanceCount: 'x', TrainingPlanName: 'my_plan' }));
  expect(code).toBe(2);
  expect(out).toMatch(/Training\/Plan: invalid: Invalid TrainingPlanPurchase properties: instanceCount must be a plain number, got 'x'; trainingPlanName must be 1-60/);
  expect(emulator.calls).toEqual([]);
});
