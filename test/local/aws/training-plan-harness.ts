import {
  AwsRehearsalSeams, CloudFormationStack, Delivery, EmulatedPlanOffering, ProviderFramework, quietly, SageMakerEmulator, SageMakerEmulatorOptions, TRAINING_PLAN_TYPE, TrainingPlanHandler,
  withProviderFramework, withTrainingPlanHandler,
} from '../../../lib/local';

/**
 * The bundled training-plan handler inside the REAL Provider framework runtime of aws-cdk-lib (only
 * its Lambda, Step Functions and HTTPS calls are stubbed), against the SageMaker emulator and a local
 * DynamoDB, with the CloudFormation stack model that sends its event sequences.
 */
export interface PlanEngine {
  readonly handler: TrainingPlanHandler;
  readonly emulator: SageMakerEmulator;
  readonly framework: ProviderFramework;
  readonly seams: AwsRehearsalSeams;
  stack(delivery?: Delivery, stackName?: string): CloudFormationStack;
}

export function planEngineFor(names: { stackName: string; logicalId: string }) {
  return <T>(work: (e: PlanEngine) => Promise<T>, options: SageMakerEmulatorOptions = {}): Promise<T> =>
    withTrainingPlanHandler(options, (handler, emulator, seams) => quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, framework => work({
      handler, emulator, framework, seams,
      stack: (delivery: Delivery = 'once', stackName = names.stackName) => new CloudFormationStack(framework, { ...names, stackName, region: 'us-east-1', resourceType: TRAINING_PLAN_TYPE }, () => delivery),
    }))));
}

/** 4 x ml.p5.48xlarge for 48 h for training jobs: the emulator offers them for about 7,370-9,340 USD. */
export const PLAN = { InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['training-job'], MaxUpfrontFee: '10000', TrainingPlanName: 'Training-Plan-1a2b3c' };

/** An offering the emulator sells as it is: `days` ahead at 11:30 UTC, for `fee`. */
export function offering(id: string, fee: string, days: number, extra: Partial<EmulatedPlanOffering> = {}): EmulatedPlanOffering {
  const now = new Date();
  return {
    id, instanceType: 'ml.p5.48xlarge', instanceCount: 4, availabilityZone: 'us-east-1a', durationHours: 48, targetResources: ['training-job'],
    startTime: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days, 11, 30)), upfrontFee: fee, currencyCode: 'USD', ...extra,
  };
}

/** Starts the resource's ledger again from SageMaker: as after its stack (and the stack's claims table) was deleted and created again. */
export async function forgetLedgers(): Promise<void> {
  const { CreateTableCommand, DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const name = `training-plan-claims-${Math.random().toString(36).slice(2)}`;
  await client.send(new CreateTableCommand({
    TableName: name, AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST',
  }));
  client.destroy();
  process.env.CAPACITY_BLOCK_CLAIMS_TABLE = name;
}
