import { CreateTrainingPlanCommand, DescribeTrainingPlanCommand, ListTrainingPlansCommand, SageMakerClient, SearchTrainingPlanOfferingsCommand } from '@aws-sdk/client-sagemaker';
import { SageMakerEmulator } from '../../../lib/local';
import { answerKeysNotInModel } from './sagemaker-model';

/**
 * The SageMaker emulator's documented consistency, through the real @aws-sdk/client-sagemaker: a new
 * plan is read by name at once and stays Pending for its drawn time, lists leave it out for their
 * drawn lag, and one seed draws the same lags every time. The handler decides from reads by name only.
 */
async function withEmulator<T>(seed: number, work: (client: SageMakerClient, emulator: SageMakerEmulator) => Promise<T>): Promise<T> {
  const emulator = new SageMakerEmulator({ seed, listLagMs: [30_000, 90_000], pendingMs: [60_000, 120_000] });
  const client = new SageMakerClient({ endpoint: await emulator.start(), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    return await work(client, emulator);
  } finally {
    client.destroy();
    await emulator.stop();
  }
}

async function buyOne(client: SageMakerClient, name: string): Promise<void> {
  const offered = await client.send(new SearchTrainingPlanOfferingsCommand({ InstanceType: 'ml.p5.48xlarge', InstanceCount: 2, DurationHours: 24, TargetResources: ['training-job'] }));
  await client.send(new CreateTrainingPlanCommand({ TrainingPlanName: name, TrainingPlanOfferingId: offered.TrainingPlanOfferings![0].TrainingPlanOfferingId }));
}

test('a new plan is read by name at once, Pending for its drawn time, while ListTrainingPlans leaves it out for its drawn lag', () => withEmulator(7, async (client, emulator) => {
  await buyOne(client, 'lagging');
  const [plan] = emulator.purchases;
  expect(plan.listLagMs).toBeGreaterThanOrEqual(30_000);
  expect((await client.send(new DescribeTrainingPlanCommand({ TrainingPlanName: 'lagging' }))).Status).toBe('Pending');
  expect((await client.send(new ListTrainingPlansCommand({}))).TrainingPlanSummaries).toEqual([]);
  emulator.clock.advance(plan.listLagMs);
  const listed = await client.send(new ListTrainingPlansCommand({}));
  expect(listed.TrainingPlanSummaries!.map(p => p.TrainingPlanName)).toEqual(['lagging']);
  expect(emulator.lagsShown.listLag).toBe(1);
  emulator.clock.advance(plan.pendingMs);
  expect((await client.send(new DescribeTrainingPlanCommand({ TrainingPlanName: 'lagging' }))).Status).toBe('Scheduled');
  expect((await client.send(new ListTrainingPlansCommand({ Filters: [{ Name: 'Status', Value: 'Pending' }] }))).TrainingPlanSummaries).toEqual([]);
  expect(emulator.answers.filter(a => a.action === 'ListTrainingPlans').flatMap(a => answerKeysNotInModel(a.action, a.body))).toEqual([]);
}));

test('one seed draws the same Pending times and list lags; another seed draws others', async () => {
  const draws = (seed: number) => withEmulator(seed, async (client, emulator) => {
    await buyOne(client, 'a');
    return emulator.purchases.map(p => [p.pendingMs, p.listLagMs]);
  });
  expect(await draws(3)).toEqual(await draws(3));
  expect(await draws(3)).not.toEqual(await draws(4));
});

test('fails a second plan under a name that exists with ResourceInUse, as the SageMaker model lists for CreateTrainingPlan', () => withEmulator(1, async client => {
  await buyOne(client, 'taken');
  await expect(buyOne(client, 'taken')).rejects.toMatchObject({ name: 'ResourceInUse' });
}));
