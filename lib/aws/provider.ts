import * as path from 'path';
import { Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { accept, CapacityBlockProviderProps, defaultPolicy, nagReference, ownerTagConditions, purchaseFunctions, userTagKeysOnly } from './provider-parts';

export { latestNodeRuntime } from './provider-parts';

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
 * The Lambda functions and Provider framework behind CapacityBlockPurchase resources: 18 resources,
 * however many blocks use it. Each stack gets one with default options, made by its first block;
 * create one yourself to set options, and pass it as the blocks' `provider`.
 */
export class CapacityBlockProvider extends Construct {
  /** The id of the provider a stack makes for its blocks when they name none. */
  public static readonly ID = 'CapacityBlockPurchaseProvider';

  /** The stack's own provider, with default options: found through the construct tree, made on first use. */
  public static getOrCreate(scope: Construct): CapacityBlockProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(CapacityBlockProvider.ID);
    return existing instanceof CapacityBlockProvider ? existing : new CapacityBlockProvider(stack, CapacityBlockProvider.ID);
  }

  /** The ServiceToken of the custom resources it serves. */
  public readonly serviceToken: string;

  /** The stacks whose blocks it buys: its IAM conditions name each one's owner tags. */
  private readonly consumers = new Set<Stack>();

  constructor(scope: Construct, id: string, props: CapacityBlockProviderProps = {}) {
    super(scope, id);
    const { onEvent, isComplete, provider } = purchaseFunctions(this, {
      assetDir: HANDLER_ASSET_DIR,
      onEventPurpose: 'searches and purchases EC2 Capacity Blocks',
      isCompletePurpose: 'waits for Capacity Block payment',
      // isComplete has its own entry, which carries no claim library (scripts/bundle-handlers.mjs).
      isCompleteHandler: 'is-complete.isComplete',
      noBackupReason: 'The table holds purchase claims (one item per CloudFormation request, deleted by TTL after a day) and one ledger item per reservation resource. Point-in-time recovery would restore nothing the handler needs: a resource whose ledger is missing starts it again from the blocks EC2 lists with its owner tag, which every purchase carries',
      options: props,
    });
    this.serviceToken = provider.serviceToken;
    describeStacksGrants.set(this, consumer => onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks'],
      resources: [Stack.of(this).formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${consumer.stackName}/*` })],
    })));

    const stack = Stack.of(this);
    const reservations = stack.formatArn({ service: 'ec2', resource: 'capacity-reservation', resourceName: '*' });
    // Every block this library buys carries an owner tag "<stack name>/<logical id>": the role may buy
    // only blocks tagged for a stack whose blocks it serves, and extend or retag only those.
    const ownedByThisStack = Lazy.any({ produce: () => {
      const patterns = [...new Set([...this.consumers].map(s => `${s.stackName}/*`))];
      return patterns.length === 0 ? `${stack.stackName}/*` : patterns.length === 1 ? patterns[0] : patterns;
    } });
    const { taggedForThisStack, boughtByThisStack } = ownerTagConditions(ownedByThisStack);
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

    acceptNagFindings(this, onEvent, isComplete, reservations);
  }
}







/**
 * Records the cdk-nag findings this provider cannot avoid, each with the reason, so that users who
 * run cdk-nag on their app see only their own findings. Written twice, with no dependency on
 * cdk-nag: as `Validations.acknowledge` (cdk-nag 3) and as `cdk_nag` CloudFormation metadata
 * (cdk-nag 2). Finding ids are cdk-nag's: `Resource::<the ARN, references written <Logical.Attr>>`.
 */
function acceptNagFindings(scope: Construct, onEvent: lambda.Function, isComplete: lambda.Function, reservations: string): void {
  const ref = (value: string) => nagReference(Stack.of(scope).resolve(value));
  const describeOnAnyResource = (actions: readonly string[]) => ({
    rule: 'AwsSolutions-IAM5', finding: 'Resource::*',
    reason: `${actions.join(', ')} have no resource type in the Service Authorization Reference, so IAM accepts them only on Resource "*"; they read, never change, and are the only actions granted on "*"`,
  });
  accept(defaultPolicy(onEvent), [
    describeOnAnyResource(EC2_ACTIONS.describe),
    {
      rule: 'AwsSolutions-IAM5', finding: `Resource::${ref(reservations)}`,
      reason: 'A Capacity Block\'s reservation id only exists once PurchaseCapacityBlock returns, so purchase is granted on capacity-reservation/* of this account and region, only with an owner tag naming a stack this provider serves; tagging at creation needs ec2:CreateAction=PurchaseCapacityBlock, and later tag, untag, extension-offering and extend calls need the block\'s owner tag to name such a stack (tag and untag: user tag keys only)',
    },
  ]);
  accept(defaultPolicy(isComplete), [describeOnAnyResource(EC2_ACTIONS.wait)]);
}


/** Lets a provider's onEvent ask DescribeStacks about another top-level stack it serves (by name: its id is not known there). */
const describeStacksGrants = new WeakMap<CapacityBlockProvider, (consumer: Stack) => void>();

/**
 * Records that `block`'s stack buys through `provider`. A provider may serve blocks in other top-level
 * stacks of the app (one provider instead of 18 resources per stack): its role may then act on the
 * blocks whose owner tag names any of them, and on no other stack's.
 */
export function registerConsumer(provider: CapacityBlockProvider, block: Construct): void {
  const stack = Stack.of(block);
  if (stack !== Stack.of(provider) && Token.isUnresolved(stack.stackName)) {
    throw new Error(`${block.node.path} uses the CapacityBlockProvider of stack ${Stack.of(provider).node.path}, but its own stack's name is known only at deploy time (a nested stack); share a provider only among top-level stacks, or give the block its own stack's provider`);
  }
  const consumers = (provider as unknown as { consumers: Set<Stack> }).consumers;
  // An Update asks CloudFormation about its own stack: the consumer's.
  if (stack !== Stack.of(provider) && !consumers.has(stack)) describeStacksGrants.get(provider)?.(stack);
  consumers.add(stack);
}




