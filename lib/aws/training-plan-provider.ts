import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { accept, defaultPolicy, nagReference, ownerTagConditions, purchaseFunctions, userTagKeysOnly } from './provider-parts';

/** Built by `npm run build` (scripts/bundle-handlers.mjs): its own bundle, with @aws-sdk/client-sagemaker external. */
const HANDLER_ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'training-plan-handler');

/**
 * Every SageMaker action the training-plan handler calls, as the Service Authorization Reference
 * lists them (checked 2026-12 in its generated data, iam-floyd of 2026-08), and nothing else. Tests pin this list.
 */
export const SAGEMAKER_ACTIONS = {
  /**
   * No resource type in the reference: granted on "*". It reads, never changes. (ListTrainingPlans is
   * not granted: the handler reads plans by name, which never lags, and never lists them.)
   */
  search: ['sagemaker:SearchTrainingPlanOfferings'],
  /**
   * Resource type training-plan*. Granted without a tag condition: a name this stack never bought has
   * no tags, and IAM would answer AccessDenied where SageMaker answers ResourceNotFound, which is how
   * the handler learns that a name is free.
   */
  read: ['sagemaker:DescribeTrainingPlan', 'sagemaker:ListTags', 'sagemaker:DescribeTrainingPlanExtensionHistory'],
  /** Resource types training-plan* and reserved-capacity* ("you must also include CreateReservedCapacity and AddTags"); aws:RequestTag, aws:TagKeys. */
  create: ['sagemaker:CreateTrainingPlan', 'sagemaker:CreateReservedCapacity'],
  /** Tagging at creation: sagemaker:TaggingAction = CreateTrainingPlan / CreateReservedCapacity. */
  tag: 'sagemaker:AddTags',
  untag: 'sagemaker:DeleteTags',
  /**
   * Not in the reference data we could read (newer than it): granted on this stack's plans by their owner
   * tag. If SageMaker authorizes it otherwise, the extension is refused before anything is bought.
   */
  extend: 'sagemaker:ExtendTrainingPlan',
} as const;

/**
 * The Lambda functions and Provider framework behind every TrainingPlanPurchase of a stack: one per
 * stack, created only when the stack has a TrainingPlanPurchase, found through the construct tree.
 *
 * It has its own claims table rather than sharing the Capacity Block provider's: each role can write
 * only its own purchase type's ledgers, a stack with only training plans carries no EC2 provider,
 * and the two bundles' ledger records never meet in one table. It costs one more on-demand table
 * (no charge while idle) in stacks that buy both.
 */
export class TrainingPlanProvider extends Construct {
  public static readonly ID = 'TrainingPlanPurchaseProvider';

  public static getOrCreate(scope: Construct): TrainingPlanProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(TrainingPlanProvider.ID);
    return existing instanceof TrainingPlanProvider ? existing : new TrainingPlanProvider(stack, TrainingPlanProvider.ID);
  }

  public readonly serviceToken: string;

  private constructor(scope: Stack, id: string) {
    super(scope, id);
    const { onEvent, isComplete, provider } = purchaseFunctions(this, {
      assetDir: HANDLER_ASSET_DIR,
      onEventPurpose: 'searches and purchases SageMaker training plans',
      isCompletePurpose: 'waits for SageMaker training plan payment',
      noBackupReason: 'The table holds purchase claims (one item per CloudFormation request, deleted by TTL after a day) and one ledger item per training plan resource. Point-in-time recovery would restore nothing the handler needs: a resource whose ledger is missing starts it again by reading its plan names (every name it can have bought) from SageMaker',
    });
    this.serviceToken = provider.serviceToken;

    const stack = Stack.of(this);
    const plans = stack.formatArn({ service: 'sagemaker', resource: 'training-plan', resourceName: '*' });
    const reservedCapacity = stack.formatArn({ service: 'sagemaker', resource: 'reserved-capacity', resourceName: '*' });
    // Every plan this library buys carries an owner tag "<stack name>/<logical id>" (written by the
    // create call itself): this stack's role may buy only plans tagged as its own, and extend or
    // retag only plans one of its purchases made.
    const { taggedForThisStack, boughtByThisStack } = ownerTagConditions(`${stack.stackName}/*`);

    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [...SAGEMAKER_ACTIONS.search], resources: ['*'] }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [...SAGEMAKER_ACTIONS.read], resources: [plans] }));
    isComplete.addToRolePolicy(new iam.PolicyStatement({ actions: ['sagemaker:DescribeTrainingPlan'], resources: [plans] }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [SAGEMAKER_ACTIONS.create[0]], resources: [plans], conditions: taggedForThisStack }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [SAGEMAKER_ACTIONS.create[1]], resources: [reservedCapacity] }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [SAGEMAKER_ACTIONS.tag],
      resources: [plans, reservedCapacity],
      conditions: { StringEquals: { 'sagemaker:TaggingAction': ['CreateTrainingPlan', 'CreateReservedCapacity'] }, ...taggedForThisStack },
    }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [SAGEMAKER_ACTIONS.extend], resources: [plans], conditions: boughtByThisStack }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [SAGEMAKER_ACTIONS.tag, SAGEMAKER_ACTIONS.untag],
      resources: [plans],
      conditions: { ...boughtByThisStack, ...userTagKeysOnly() },
    }));

    accept(defaultPolicy(onEvent), [
      {
        rule: 'AwsSolutions-IAM5', finding: 'Resource::*',
        reason: `${SAGEMAKER_ACTIONS.search.join(', ')} has no resource type in the Service Authorization Reference, so IAM accepts it only on Resource "*"; it reads, never changes, and is the only action granted on "*"`,
      },
      {
        rule: 'AwsSolutions-IAM5', finding: `Resource::${nagReference(stack.resolve(plans))}`,
        reason: 'A training plan\'s ARN only exists once CreateTrainingPlan returns, so creation is granted on training-plan/* of this account and region, only with an owner tag naming this stack; tagging needs sagemaker:TaggingAction=CreateTrainingPlan (or the plan\'s owner tag naming this stack, user tag keys only), extension needs the owner tag; reads (Describe, ListTags, extension history) carry no condition, as a name never bought has no tags',
      },
      {
        rule: 'AwsSolutions-IAM5', finding: `Resource::${nagReference(stack.resolve(reservedCapacity))}`,
        reason: 'SageMaker authorizes a plan\'s reserved capacity (sagemaker:CreateReservedCapacity, and AddTags with TaggingAction=CreateReservedCapacity) on reserved-capacity resources whose ids it assigns while creating the plan: they cannot be named before',
      },
    ]);
    accept(defaultPolicy(isComplete), [{
      rule: 'AwsSolutions-IAM5', finding: `Resource::${nagReference(stack.resolve(plans))}`,
      reason: 'isComplete reads (sagemaker:DescribeTrainingPlan, nothing else) the plans of this account and region; a plan\'s ARN is known only after the stack bought it',
    }]);
  }
}
