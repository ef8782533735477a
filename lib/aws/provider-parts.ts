import { CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { accept, acceptFrameworkFindings, latestNodeRuntime } from './provider';
import {
  CLAIMS_TABLE_ENV, IDEMPOTENCY_TAG, IS_COMPLETE_TIMEOUT_SECONDS, ON_EVENT_TIMEOUT_SECONDS, OWNER_TAG, PROVIDER_TOTAL_TIMEOUT_SECONDS, QUERY_INTERVAL_SECONDS,
  RESERVED_TAG_PREFIX,
} from './wire';

/**
 * The parts a purchase provider of this library is made of (the training plan provider; the Capacity
 * Block provider builds the same parts itself, with its options):
 * one log group kept after the stack, roles that may write only to it, the claims table that holds
 * the request claims and each resource's ledger, onEvent and isComplete from one handler bundle, and
 * the Provider framework around them, with the clock budget of wire.ts. What each provider adds is
 * its own cloud permissions.
 */
export interface PurchaseFunctionsProps {
  /** The built handler bundle (assets/…), with `index.onEvent` and `index.isComplete`. */
  readonly assetDir: string;
  /** What onEvent does, for its description and role, e.g. 'searches and purchases EC2 Capacity Blocks'. */
  readonly onEventPurpose: string;
  /** What isComplete does, e.g. 'waits for Capacity Block payment'. */
  readonly isCompletePurpose: string;
  /** Why the claims table needs no point-in-time recovery (cdk-nag AwsSolutions-DDB3), for this provider. */
  readonly noBackupReason: string;
}

export interface PurchaseFunctions {
  readonly onEvent: lambda.Function;
  readonly isComplete: lambda.Function;
  readonly claims: dynamodb.Table;
  readonly provider: cr.Provider;
}

/** Builds the parts under `scope` with the construct ids every provider has kept since its first release. */
export function purchaseFunctions(scope: Construct, props: PurchaseFunctionsProps): PurchaseFunctions {
  const code = lambda.Code.fromAsset(props.assetDir);
  const runtime = latestNodeRuntime();

  // One log group for every function of the provider and the waiter's execution events (Lambda
  // names each stream after its function). Kept for a year, and kept after the stack is deleted:
  // what was bought outlives the stack, and this log says what was bought and why.
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // Roles of our own making: they may write to that log group only, instead of the managed
  // AWSLambdaBasicExecutionRole (logs:CreateLogGroup/CreateLogStream/PutLogEvents on every log group).
  const role = (roleId: string, description: string): iam.Role => {
    const r = new iam.Role(scope, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description });
    logGroup.grantWrite(r);
    return r;
  };

  // The purchase claims: one item per CloudFormation request, written with a condition so that two
  // deliveries of one request never both buy; they expire by TTL. And the ledger of each resource
  // (handler/ledger.ts): what it bought and answered, kept for the life of the stack.
  const claims = new dynamodb.Table(scope, 'Claims', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: 'expiration',
    removalPolicy: RemovalPolicy.DESTROY,
  });

  const onEventDescription = `cdk-capacity-reservations: ${props.onEventPurpose}`;
  const onEvent = new lambda.Function(scope, 'OnEvent', {
    code,
    runtime,
    handler: 'index.onEvent',
    // Claim + search + purchase + resolving an ambiguous purchase outcome; the handler keeps its own
    // deadline before this.
    timeout: Duration.seconds(ON_EVENT_TIMEOUT_SECONDS),
    memorySize: 256,
    description: onEventDescription,
    role: role('OnEventRole', onEventDescription),
    logGroup,
    environment: { [CLAIMS_TABLE_ENV]: claims.tableName },
  });
  claims.grant(onEvent, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
  const isCompleteDescription = `cdk-capacity-reservations: ${props.isCompletePurpose}`;
  const isComplete = new lambda.Function(scope, 'IsComplete', {
    code,
    runtime,
    handler: 'index.isComplete',
    // The handler answers "not yet" 10 s before this rather than let a hung read time it out.
    timeout: Duration.seconds(IS_COMPLETE_TIMEOUT_SECONDS),
    memorySize: 256,
    description: isCompleteDescription,
    role: role('IsCompleteRole', isCompleteDescription),
    logGroup,
  });

  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler: onEvent,
    isCompleteHandler: isComplete,
    queryInterval: Duration.seconds(QUERY_INTERVAL_SECONDS),
    totalTimeout: Duration.seconds(PROVIDER_TOTAL_TIMEOUT_SECONDS),
    logGroup,
    frameworkOnEventRole: role('FrameworkOnEventRole', 'cdk-capacity-reservations: custom resource provider framework (onEvent)'),
    // isComplete and onTimeout need the same rights; the framework asks for a role apart from onEvent's.
    frameworkCompleteAndTimeoutRole: role('FrameworkWaiterRole', 'cdk-capacity-reservations: custom resource provider framework (isComplete, onTimeout)'),
    // Every state transition, but never the execution input: it is the CloudFormation event, with its ResponseURL.
    disableWaiterStateMachineLogging: false,
    waiterStateMachineLogOptions: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });

  // The framework picks its functions' runtime with determineLatestNodeRuntime and offers no option.
  for (const fn of provider.node.findAll()) {
    if (fn instanceof lambda.CfnFunction) fn.runtime = runtime.name;
  }
  acceptFrameworkFindings(scope, onEvent, isComplete, provider);
  accept(claims.node.defaultChild as CfnResource, [{ rule: 'AwsSolutions-DDB3', reason: props.noBackupReason }]);
  return { onEvent, isComplete, claims, provider };
}

/** IAM conditions, as CloudFormation writes them: keys to values. */
export type Conditions = Record<string, Record<string, string | string[]>>;

/**
 * The IAM conditions on the owner tag "<stack name>/<logical id>" that every purchase of this library
 * carries: a stack's role may create only what is tagged as its own (with the idempotency tag), and
 * change only what one of its own purchases made.
 */
export function ownerTagConditions(stack: Stack): { taggedForThisStack: Conditions; boughtByThisStack: Conditions } {
  const ownedByThisStack = `${stack.stackName}/*`;
  return {
    taggedForThisStack: {
      'Null': { [`aws:RequestTag/${IDEMPOTENCY_TAG}`]: 'false', [`aws:RequestTag/${OWNER_TAG}`]: 'false' },
      'StringLike': { [`aws:RequestTag/${OWNER_TAG}`]: ownedByThisStack },
    },
    boughtByThisStack: { StringLike: { [`aws:ResourceTag/${OWNER_TAG}`]: ownedByThisStack } },
  };
}

/**
 * After a purchase, tags are the user's: none of the library's own may be written or removed, and keys
 * must be named (a delete naming no keys deletes every tag).
 */
export function userTagKeysOnly(): Conditions {
  return {
    'Null': { 'aws:TagKeys': 'false' },
    'ForAllValues:StringNotLike': { 'aws:TagKeys': [`${RESERVED_TAG_PREFIX}*`] },
  };
}
