import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { accept, defaultPolicy, nagReference, ownerTagConditions, purchaseFunctions, userTagKeysOnly } from '../provider-parts';

/** Built by `npm run build` (scripts/bundle-handlers.mjs): its own bundle, with @aws-sdk/* external. */
const HANDLER_ASSET_DIR = path.join(__dirname, '..', '..', '..', 'assets', 'future-reservation-handler');

/** Every action the future-dated reservation handler calls, and nothing else. Tests pin this list. */
export const FUTURE_RESERVATION_ACTIONS = {
  /** No resource type in the Service Authorization Reference: "*" only. They read, never change. */
  describe: ['ec2:DescribeCapacityReservations', 'ec2:DescribeInstanceTypes'],
  /** The Price List Query API has no resource types at all. */
  price: ['pricing:GetProducts'],
  /** Only with the owner and idempotency tags in aws:RequestTag. */
  request: 'ec2:CreateCapacityReservation',
  tag: 'ec2:CreateTags',
  untag: 'ec2:DeleteTags',
  /** Only on reservations whose owner tag names this stack. */
  manage: [
    'ec2:CancelCapacityReservation', 'ec2:ModifyCapacityReservation',
    'ec2:CreateCapacityReservationCancellationQuote', 'ec2:CreateCapacityReservationDateChangeQuote',
  ],
} as const;

/**
 * The Lambda functions and Provider framework behind every FutureCapacityReservation of a stack: one
 * per stack, created only when the stack has one, found through the construct tree. Its own claims
 * table, as the training-plan provider has: each role writes only its own product's ledgers.
 */
export class FutureReservationProvider extends Construct {
  public static readonly ID = 'FutureCapacityReservationProvider';

  public static getOrCreate(scope: Construct): FutureReservationProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(FutureReservationProvider.ID);
    return existing instanceof FutureReservationProvider ? existing : new FutureReservationProvider(stack, FutureReservationProvider.ID);
  }

  public readonly serviceToken: string;

  private constructor(scope: Stack, id: string) {
    super(scope, id);
    const { onEvent, provider } = purchaseFunctions(this, {
      assetDir: HANDLER_ASSET_DIR,
      onEventPurpose: 'prices and requests future-dated EC2 Capacity Reservations',
      isCompletePurpose: 'answers at once (EC2 assesses future-dated requests for days)',
      noBackupReason: 'The table holds request claims (one item per CloudFormation request, deleted by TTL after a day) and one ledger item per future-dated reservation resource. Point-in-time recovery would restore nothing the handler needs: a request is repeated with the same ClientToken, which EC2 answers with the first result, and every reservation carries its owner and idempotency tags',
    });
    this.serviceToken = provider.serviceToken;

    const stack = Stack.of(this);
    const reservations = stack.formatArn({ service: 'ec2', resource: 'capacity-reservation', resourceName: '*' });
    const { taggedForThisStack, boughtByThisStack } = ownerTagConditions(`${stack.stackName}/*`);
    const A = FUTURE_RESERVATION_ACTIONS;

    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [...A.describe], resources: ['*'] }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [...A.price], resources: ['*'] }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [A.request], resources: [reservations], conditions: taggedForThisStack }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [A.tag],
      resources: [reservations],
      conditions: { StringEquals: { 'ec2:CreateAction': 'CreateCapacityReservation' }, ...taggedForThisStack },
    }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: [...A.manage], resources: [reservations], conditions: boughtByThisStack }));
    onEvent.addToRolePolicy(new iam.PolicyStatement({
      actions: [A.tag, A.untag],
      resources: [reservations],
      conditions: { ...boughtByThisStack, ...userTagKeysOnly() },
    }));

    accept(defaultPolicy(onEvent), [
      {
        rule: 'AwsSolutions-IAM5', finding: 'Resource::*',
        reason: `${[...A.describe, ...A.price].join(', ')} have no resource type in the Service Authorization Reference (the Price List has none at all), so IAM accepts them only on Resource "*"; they read, never change, and are the only actions granted on "*"`,
      },
      {
        rule: 'AwsSolutions-IAM5', finding: `Resource::${nagReference(stack.resolve(reservations))}`,
        reason: 'A reservation id only exists once CreateCapacityReservation returns, so the request is granted on capacity-reservation/* of this account and region, only with owner and idempotency tags naming this stack; tagging at creation needs ec2:CreateAction=CreateCapacityReservation, and cancel, modify, quotes, tag and untag need the reservation\'s owner tag to name this stack (tag and untag: user tag keys only)',
      },
    ]);
  }
}
