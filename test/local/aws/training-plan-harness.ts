import {
  CloudFormationStack, Delivery, ProviderFramework, quietly, SageMakerEmulator, SageMakerEmulatorOptions, TRAINING_PLAN_TYPE, TrainingPlanHandler,
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
  stack(delivery?: Delivery, stackName?: string): CloudFormationStack;
}

export function planEngineFor(names: { stackName: string; logicalId: string }) {
  return <T>(work: (e: PlanEngine) => Promise<T>, options: SageMakerEmulatorOptions = {}): Promise<T> =>
    withTrainingPlanHandler(options, (handler, emulator) => quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, framework => work({
      handler, emulator, framework,
      stack: (delivery: Delivery = 'once', stackName = names.stackName) => new CloudFormationStack(framework, { ...names, stackName, region: 'us-east-1', resourceType: TRAINING_PLAN_TYPE }, () => delivery),
    }))));
}

/** 4 x ml.p5.48xlarge for 48 h for training jobs: the emulator offers them for about 7,370-9,340 USD. */
export const PLAN = { InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['training-job'], MaxUpfrontFee: '10000', TrainingPlanName: 'Training-Plan-1a2b3c' };
