import { SageMakerCall } from '../../../lib/local';
import { ACCOUNT, AuthorizationRequest, REGION } from './iam-policy';

const planArn = (name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-plan/${name}`;
const reservedCapacity = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:reserved-capacity/*`;

const resourceTags = (tags: Record<string, string> | undefined) => Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
const requestTags = (tags: Array<{ Key: string; Value?: string }>) => ({
  ...Object.fromEntries(tags.map(t => [`aws:RequestTag/${t.Key}`, t.Value ?? ''])), 'aws:TagKeys': tags.map(t => t.Key),
});

/**
 * The authorization requests SageMaker makes for one call the emulator received, as the Service
 * Authorization Reference and the training plan guide describe them: a create is authorized on the
 * plan (aws:RequestTag, aws:TagKeys), on reserved capacity (CreateReservedCapacity), and as AddTags
 * with sagemaker:TaggingAction for the tags it carries; calls that name a plan are authorized on it,
 * with its tags as they were; the offering search has no resource type ("*").
 */
export function sageMakerAuthorizationRequests(call: SageMakerCall): AuthorizationRequest[] {
  const action = `sagemaker:${call.action}`;
  const p = call.params;
  switch (call.action) {
    case 'SearchTrainingPlanOfferings':
      // With TrainingPlanArn it searches extension offerings: still the one search action, on "*".
      return [{ action, resource: '*', context: {} }];
    case 'CreateTrainingPlan': {
      const tags = requestTags(p.Tags ?? []);
      const resource = planArn(p.TrainingPlanName);
      return [
        { action, resource, context: tags },
        { action: 'sagemaker:CreateReservedCapacity', resource: reservedCapacity, context: {} },
        ...((p.Tags ?? []).length > 0 ? [{ action: 'sagemaker:AddTags', resource, context: { ...tags, 'sagemaker:TaggingAction': 'CreateTrainingPlan' } }] : []),
      ];
    }
    case 'DescribeTrainingPlan':
      return [{ action, resource: planArn(p.TrainingPlanName), context: resourceTags(call.resourceTags) }];
    case 'ListTags':
    case 'DescribeTrainingPlanExtensionHistory':
      return [{ action, resource: p.ResourceArn ?? p.TrainingPlanArn, context: resourceTags(call.resourceTags) }];
    case 'AddTags':
      return [{ action, resource: p.ResourceArn, context: { ...resourceTags(call.resourceTags), ...requestTags(p.Tags ?? []) } }];
    case 'DeleteTags':
      return [{ action, resource: p.ResourceArn, context: { ...resourceTags(call.resourceTags), 'aws:TagKeys': p.TagKeys ?? [] } }];
    case 'ExtendTrainingPlan': {
      const name = Buffer.from(String(p.TrainingPlanExtensionOfferingId).split('-')[1] ?? '', 'hex').toString();
      return [{ action, resource: planArn(name), context: resourceTags(call.resourceTags) }];
    }
    default:
      throw new Error(`the IAM evaluator does not know how SageMaker authorizes ${call.action}`);
  }
}
