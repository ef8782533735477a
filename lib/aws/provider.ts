import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { IDEMPOTENCY_TAG, PROVIDER_TOTAL_TIMEOUT_SECONDS, RESERVED_TAG_PREFIX } from './wire';

/** Built by `npm run build` (scripts/bundle-handlers.mjs); shipped in the npm package. */
const HANDLER_ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'capacity-block-handler');

/** Every EC2 action the handler calls, and nothing else. Tests pin this list. */
export const EC2_ACTIONS = {
  describe: ['ec2:DescribeCapacityBlockOfferings', 'ec2:DescribeCapacityReservations', 'ec2:DescribeCapacityBlockExtensionOfferings'],
  purchase: 'ec2:PurchaseCapacityBlock',
  extend: 'ec2:PurchaseCapacityBlockExtension',
  tag: 'ec2:CreateTags',
  untag: 'ec2:DeleteTags',
} as const;

/**
 * The Lambda functions and Provider framework behind every CapacityBlockPurchase of a stack.
 * One per stack, found through the construct tree (never a module-level cache).
 */
export class CapacityBlockProvider extends Construct {
  public static readonly ID = 'CapacityBlockPurchaseProvider';

  public static getOrCreate(scope: Construct): CapacityBlockProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(CapacityBlockProvider.ID);
    return existing instanceof CapacityBlockProvider ? existing : new CapacityBlockProvider(stack, CapacityBlockProvider.ID);
  }

  public readonly serviceToken: string;

  private constructor(scope: Stack, id: string) {
    super(scope, id);
    const code = lambda.Code.fromAsset(HANDLER_ASSET_DIR);
    const runtime = lambda.determineLatestNodeRuntime(this);

    const onEvent = new lambda.Function(this, 'OnEvent', {
      code,
      runtime,
      handler: 'index.onEvent',
      // Search (all pages) + purchase + resolving an ambiguous purchase outcome.
      timeout: Duration.minutes(5),
      memorySize: 256,
      description: 'cdk-capacity-reservations: searches and purchases EC2 Capacity Blocks',
    });
    const isComplete = new lambda.Function(this, 'IsComplete', {
      code,
      runtime,
      handler: 'index.isComplete',
      timeout: Duration.minutes(1),
      memorySize: 256,
      description: 'cdk-capacity-reservations: waits for Capacity Block payment',
    });

    const stack = Stack.of(this);
    const reservations = stack.formatArn({ service: 'ec2', resource: 'capacity-reservation', resourceName: '*' });
    const boughtByThisLibrary = { Null: { [`aws:ResourceTag/${IDEMPOTENCY_TAG}`]: 'false' } };

    for (const fn of [onEvent, isComplete]) {
      // EC2 Describe* actions support no resource-level permissions.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: [...EC2_ACTIONS.describe], resources: ['*'] }));
    }
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [EC2_ACTIONS.purchase], resources: [reservations] }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [EC2_ACTIONS.tag],
      resources: [reservations],
      conditions: { StringEquals: { 'ec2:CreateAction': 'PurchaseCapacityBlock' } },
    }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [EC2_ACTIONS.tag, EC2_ACTIONS.extend],
      resources: [reservations],
      conditions: boughtByThisLibrary,
    }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [EC2_ACTIONS.untag],
      resources: [reservations],
      conditions: { ...boughtByThisLibrary, 'ForAllValues:StringNotLike': { 'aws:TagKeys': [`${RESERVED_TAG_PREFIX}*`] } },
    }));

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(30),
      totalTimeout: Duration.seconds(PROVIDER_TOTAL_TIMEOUT_SECONDS),
    });
    this.serviceToken = provider.serviceToken;
  }
}
