import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { accept, defaultPolicy, nagReference, ownerTagConditions, purchaseFunctions, userTagKeysOnly } from './provider-parts';

/** Built by `npm run build` (scripts/bundle-handlers.mjs); shipped in the npm package. */
const HANDLER_ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'capacity-block-handler');

/** Every EC2 action the handler calls, and nothing else. Tests pin this list. */
export const EC2_ACTIONS = {
  /**
   * What onEvent reads to search, to read the blocks its ledger holds (by id) and their extensions.
   * These and `wait` have no resource type in the Service Authorization Reference: they are granted on "*".
   */
  describe: ['ec2:DescribeCapacityBlockOfferings', 'ec2:DescribeCapacityReservations', 'ec2:DescribeCapacityBlocks', 'ec2:DescribeCapacityBlockExtensionHistory'],
  /** What isComplete reads while it waits (the blocks' state and interconnect); it searches, buys and tags nothing. */
  wait: ['ec2:DescribeCapacityReservations', 'ec2:DescribeCapacityBlocks', 'ec2:DescribeCapacityBlockStatus'],
  /** Has the resource type capacity-reservation* (aws:ResourceTag), so it is scoped like the extension itself. */
  extensionOfferings: 'ec2:DescribeCapacityBlockExtensionOfferings',
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
    const { onEvent, isComplete, provider } = purchaseFunctions(this, {
      assetDir: HANDLER_ASSET_DIR,
      onEventPurpose: 'searches and purchases EC2 Capacity Blocks',
      isCompletePurpose: 'waits for Capacity Block payment',
      noBackupReason: 'The table holds purchase claims (one item per CloudFormation request, deleted by TTL after a day) and one ledger item per reservation resource. Point-in-time recovery would restore nothing the handler needs: a resource whose ledger is missing starts it again from the blocks EC2 lists with its owner tag, which every purchase carries',
    });

    const stack = Stack.of(this);
    const reservations = stack.formatArn({ service: 'ec2', resource: 'capacity-reservation', resourceName: '*' });
    // Every block this library buys carries an owner tag "<stack name>/<logical id>": this stack's role
    // may buy only blocks tagged as its own, and extend or retag only blocks another of its purchases made.
    const { taggedForThisStack, boughtByThisStack } = ownerTagConditions(stack);
    const userTagsOnly = userTagKeysOnly();

    // These Describe* actions have no resource type in the Service Authorization Reference: "*" only.
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [...EC2_ACTIONS.describe], resources: ['*'] }));
    isComplete.addToRolePolicy(new iam.PolicyStatement({ actions: [...EC2_ACTIONS.wait], resources: ['*'] }));
    // A purchase (and its dry run: EC2 authorizes it the same way) must carry the idempotency and owner tags.
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [EC2_ACTIONS.purchase], resources: [reservations], conditions: taggedForThisStack }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [EC2_ACTIONS.tag],
      resources: [reservations],
      conditions: { StringEquals: { 'ec2:CreateAction': 'PurchaseCapacityBlock' }, ...taggedForThisStack },
    }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [EC2_ACTIONS.extensionOfferings, EC2_ACTIONS.extend],
      resources: [reservations],
      conditions: boughtByThisStack,
    }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [EC2_ACTIONS.tag, EC2_ACTIONS.untag],
      resources: [reservations],
      conditions: { ...boughtByThisStack, ...userTagsOnly },
    }));
    this.serviceToken = provider.serviceToken;

    const describeOnAnyResource = (actions: readonly string[]) => ({
      rule: 'AwsSolutions-IAM5', finding: 'Resource::*',
      reason: `${actions.join(', ')} have no resource type in the Service Authorization Reference, so IAM accepts them only on Resource "*"; they read, never change, and are the only actions granted on "*"`,
    });
    accept(defaultPolicy(onEvent), [
      describeOnAnyResource(EC2_ACTIONS.describe),
      {
        rule: 'AwsSolutions-IAM5', finding: `Resource::${nagReference(stack.resolve(reservations))}`,
        reason: 'A Capacity Block\'s reservation id only exists once PurchaseCapacityBlock returns, so purchase is granted on capacity-reservation/* of this account and region, only with an owner tag naming this stack; tagging at creation needs ec2:CreateAction=PurchaseCapacityBlock, and later tag, untag, extension-offering and extend calls need the block\'s owner tag to name this stack (tag and untag: user tag keys only)',
      },
    ]);
    accept(defaultPolicy(isComplete), [describeOnAnyResource(EC2_ACTIONS.wait)]);
  }
}
