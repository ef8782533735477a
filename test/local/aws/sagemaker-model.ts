import * as sm from '@aws-sdk/client-sagemaker';
import { jsonProtocolModel } from './json-protocol-model';

/** The official SageMaker model (@aws-sdk/client-sagemaker): what the emulator and the handler are checked against. */
export const { answerKeysNotInModel, requestKeyInModel, outputPathInModel } = jsonProtocolModel(sm, {
  packageName: '@aws-sdk/client-sagemaker',
  enums: {
    Status: sm.TrainingPlanStatus,
    InstanceType: sm.ReservedCapacityInstanceType,
    TargetResources: sm.SageMakerResourceName,
    ReservedCapacityType: sm.ReservedCapacityType,
  },
  // Members whose model is free text though the docs name values (extension Status, PaymentStatus).
  freeTextParents: ['TrainingPlanExtensions'],
});
