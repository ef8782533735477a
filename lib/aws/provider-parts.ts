import { ArnFormat, CfnResource, Duration, IResolvable, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
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
  /** isComplete's entry in the bundle. @default 'index.isComplete' */
  readonly isCompleteHandler?: string;
  /** Log retention and encryption, the claims table's key, the VPC. @default - none of them */
  readonly options?: CapacityBlockProviderProps;
}

/** Options of a CapacityBlockProvider: where its functions run and how its logs and claims are kept. */
export interface CapacityBlockProviderProps {
  /**
   * How long the provider's log group keeps what was searched, bought and why. The log group is kept
   * after the stack is deleted either way: the blocks outlive the stack.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A KMS key for the provider's log group. A key of this app gets the key policy statement
   * CloudWatch Logs needs; an imported key must already allow `logs.<region>.amazonaws.com` to use it.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * A KMS key for the DynamoDB table of purchase claims; the onEvent function may use it for that table.
   * @default - DynamoDB's AWS owned key
   */
  readonly claimsTableEncryptionKey?: kms.IKey;

  /**
   * A VPC for the provider's Lambda functions (the Provider framework's too). Its subnets need a route
   * to the EC2, DynamoDB, Lambda, Step Functions and S3 (CloudFormation's response URL) endpoints:
   * a NAT gateway or VPC endpoints.
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Which subnets of `vpc` the functions use.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups for the functions in `vpc`.
   * @default - one security group for all of them, outbound only
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

export interface PurchaseFunctions {
  readonly runtime: lambda.Runtime;
  readonly onEvent: lambda.Function;
  readonly isComplete: lambda.Function;
  readonly claims: dynamodb.Table;
  readonly provider: cr.Provider;
}

/** Builds the parts under `scope` with the construct ids every provider has kept since its first release. */
export function purchaseFunctions(scope: Construct, props: PurchaseFunctionsProps): PurchaseFunctions {
  const options = props.options ?? {};
  const code = lambda.Code.fromAsset(props.assetDir);
  const runtime = latestNodeRuntime();
  const network = vpcOptions(scope, options);

  // One log group for every function of the provider and the waiter's execution events (Lambda
  // names each stream after its function). Kept for a year, and kept after the stack is deleted:
  // what was bought outlives the stack, and this log says what was bought and why.
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: options.logRetention ?? logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
    encryptionKey: options.logEncryptionKey,
  });
  if (options.logEncryptionKey) allowLogsToUse(options.logEncryptionKey, scope);
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
    ...(options.claimsTableEncryptionKey ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: options.claimsTableEncryptionKey } : {}),
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
    ...network,
  });
  claims.grant(onEvent, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
  // An Update asks CloudFormation whether its own stack is rolling back (the event's StackId): this stack only.
  onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: [Stack.of(scope).stackId] }));
  // The key actions aws-cdk's own Table grants give a reader and writer of a customer-managed-key table.
  options.claimsTableEncryptionKey?.grant(onEvent, ...CLAIMS_KEY_ACTIONS);
  const isCompleteDescription = `cdk-capacity-reservations: ${props.isCompletePurpose}`;
  const isComplete = new lambda.Function(scope, 'IsComplete', {
    code,
    runtime,
    handler: props.isCompleteHandler ?? 'index.isComplete',
    // The handler answers "not yet" 10 s before this rather than let a hung read time it out.
    timeout: Duration.seconds(IS_COMPLETE_TIMEOUT_SECONDS),
    memorySize: 256,
    description: isCompleteDescription,
    role: role('IsCompleteRole', isCompleteDescription),
    logGroup,
    ...network,
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
    ...network,
  });

  // The framework picks its functions' runtime with determineLatestNodeRuntime and offers no option.
  for (const fn of provider.node.findAll()) {
    if (fn instanceof lambda.CfnFunction) fn.runtime = runtime.name;
  }
  if (options.vpc) allowVpcAccess(scope, [onEvent, isComplete, ...FRAMEWORK_FUNCTIONS.map(f => provider.node.findChild(f) as lambda.Function)]);
  if (options.claimsTableEncryptionKey) {
    accept(defaultPolicy(onEvent), CLAIMS_KEY_ACTIONS.filter(a => a.endsWith('*')).map(action => ({
      rule: 'AwsSolutions-IAM5', finding: `Action::${action}`,
      reason: `The claims table is encrypted with claimsTableEncryptionKey: onEvent gets the key actions aws-cdk's own DynamoDB Table grants give a reader and writer (${CLAIMS_KEY_ACTIONS.join(', ')}), on that one key only`,
    })));
  }
  acceptFrameworkFindings(scope, onEvent, isComplete, provider);
  accept(claims.node.defaultChild as CfnResource, [{ rule: 'AwsSolutions-DDB3', reason: props.noBackupReason }]);
  return { runtime, onEvent, isComplete, claims, provider };
}

/** IAM conditions, as CloudFormation writes them: keys to values. */
export type Conditions = Record<string, Record<string, unknown>>;

/**
 * The IAM conditions on the owner tag "<stack name>/<logical id>" that every purchase of this library
 * carries: a stack's role may create only what is tagged as its own (with the idempotency tag), and
 * change only what one of its own purchases made.
 */
export function ownerTagConditions(ownedByThisStack: string | IResolvable): { taggedForThisStack: Conditions; boughtByThisStack: Conditions } {
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

/** What aws-cdk-lib's Table.grantReadWriteData grants on a customer managed key (its KEY_READ and KEY_WRITE actions). */
export const CLAIMS_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];

/** The Lambda functions the Provider framework makes (with an isComplete handler). */
export const FRAMEWORK_FUNCTIONS = ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout'];

/** The VPC placement every function of the provider shares: one outbound-only security group unless given. */
export function vpcOptions(scope: Construct, props: CapacityBlockProviderProps): Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
  if (!props.vpc) {
    if (props.vpcSubnets || props.securityGroups) throw new Error(`CapacityBlockProvider ${scope.node.path}: vpcSubnets and securityGroups need vpc; set vpc too`);
    return {};
  }
  const securityGroups = props.securityGroups ?? [new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc: props.vpc, allowAllOutbound: true, description: 'cdk-capacity-reservations: provider functions (outbound only: EC2, DynamoDB, Lambda, Step Functions, S3)',
  })];
  return { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups };
}

/**
 * Functions in a VPC need to manage their network interfaces. The roles are this provider's own (no
 * AWS managed policy), so they get the actions of AWSLambdaVPCAccessExecutionRole in one policy, and
 * each function waits for it: Lambda checks the permission when the function is created.
 */
export function allowVpcAccess(scope: Construct, functions: lambda.Function[]): void {
  const policy = new iam.Policy(scope, 'VpcAccess', {
    roles: [...new Set(functions.map(f => f.role!))],
    statements: [new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: ['*'],
    })],
  });
  for (const fn of functions) fn.node.addDependency(policy);
  accept(policy.node.defaultChild as CfnResource, [{
    rule: 'AwsSolutions-IAM5', finding: 'Resource::*',
    reason: 'The provider functions run in the VPC given as vpc: Lambda needs these network-interface actions (those of the AWS managed AWSLambdaVPCAccessExecutionRole), which take no resource scoping for Describe* and are created per invocation environment',
  }]);
}

/** CloudWatch Logs encrypts a log group with a customer managed key only if the key policy lets it. */
export function allowLogsToUse(key: kms.IKey, scope: Construct): void {
  const stack = Stack.of(scope);
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
  }), true);
}

/**
 * The newest Node.js runtime the installed aws-cdk-lib declares. `determineLatestNodeRuntime` answers
 * a regional fact that lags behind the Runtime constants (aws-cdk-lib 2.278 declares nodejs26.x and
 * still answers nodejs24.x); cdk-nag's AwsSolutions-L1 compares with the constants, as a user would.
 */
export function latestNodeRuntime(): lambda.Runtime {
  const version = (runtime: lambda.Runtime) => Number(/^nodejs(\d+(?:\.\d+)?)/.exec(runtime.name)?.[1] ?? -1);
  return lambda.Runtime.ALL
    .filter(r => r.family === lambda.RuntimeFamily.NODEJS && version(r) >= 0)
    .reduce((newest, r) => (version(r) > version(newest) ? r : newest));
}

/**
 * Records the cdk-nag findings of the aws-cdk-lib Provider framework around a provider's onEvent and
 * isComplete functions (every purchase provider of this library has them), each with the reason.
 */
export function acceptFrameworkFindings(scope: Construct, onEvent: lambda.Function, isComplete: lambda.Function, provider: cr.Provider): void {
  const ref = (value: string) => nagReference(Stack.of(scope).resolve(value));
  const versionsOf = (fn: lambda.IFunction) => `Resource::${ref(fn.functionArn)}:*`;
  const invokeReason = (fn: lambda.IFunction, caller: string) =>
    `${caller} may invoke ${fn.node.path} and nothing else: grantInvoke adds "<function ARN>:*" so that function's versions and aliases can be invoked too; the wildcard covers qualifiers of one function of this provider, no other function`;
  const framework = (id: string) => provider.node.findChild(id) as lambda.Function;
  const frameworkRoles: Array<[lambda.Function, string]> = [
    [framework('framework-onEvent'), 'The provider framework\'s framework-onEvent function'],
    // framework-isComplete and framework-onTimeout share one role (frameworkCompleteAndTimeoutRole).
    [framework('framework-isComplete'), 'The provider framework\'s framework-isComplete and framework-onTimeout functions'],
  ];
  for (const [fn, caller] of frameworkRoles) {
    accept(defaultPolicy(fn), [onEvent, isComplete].map(handler => ({
      rule: 'AwsSolutions-IAM5', finding: versionsOf(handler), reason: invokeReason(handler, caller),
    })));
  }

  const waiter = provider.node.findChild('waiter-state-machine');
  const waiterPolicy = waiter.node.findAll().find((c): c is iam.Policy => c instanceof iam.Policy);
  if (!waiterPolicy) throw new Error(`no IAM policy found under ${waiter.node.path}; the aws-cdk-lib Provider framework changed, review the cdk-nag findings of ${scope.node.path}`);
  accept(waiterPolicy.node.defaultChild as CfnResource, [
    ...[framework('framework-isComplete'), framework('framework-onTimeout')].map(fn => ({
      rule: 'AwsSolutions-IAM5', finding: versionsOf(fn), reason: invokeReason(fn, 'The waiter state machine'),
    })),
    {
      rule: 'AwsSolutions-IAM5', finding: 'Resource::*',
      reason: 'To log its executions, the aws-cdk-lib Provider framework grants the waiter state machine the CloudWatch Logs actions Step Functions logging needs (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups, CreateLogStream, PutLogEvents) on "*" in one statement it offers no way to narrow; the log-delivery actions support no resource-level permissions',
    },
  ]);
  const stateMachine = waiter.node.findAll().find((c): c is sfn.CfnStateMachine => c instanceof sfn.CfnStateMachine);
  if (!stateMachine) throw new Error(`no state machine found under ${waiter.node.path}; the aws-cdk-lib Provider framework changed, review the cdk-nag findings of ${scope.node.path}`);
  accept(stateMachine, [{
    rule: 'AwsSolutions-SF2',
    reason: 'The waiter runs one task (isComplete every 30 s, then onTimeout); its execution history and the ALL-level log events in the provider log group show every step, so X-Ray tracing would add only cost and X-Ray write rights (xray:PutTraceSegments, GetSamplingRules...) on "*"',
  }]);
}

export function defaultPolicy(fn: lambda.Function): CfnResource {
  const policy = fn.role?.node.tryFindChild('DefaultPolicy');
  if (!(policy instanceof iam.Policy)) throw new Error(`${fn.node.path} has no default IAM policy`);
  return policy.node.defaultChild as CfnResource;
}

export interface AcceptedFinding {
  /** The cdk-nag rule, e.g. `AwsSolutions-IAM5`. */
  readonly rule: string;
  /** The finding, for rules that report several per resource (cdk-nag's `Resource::…`). */
  readonly finding?: string;
  /** Why the finding is accepted: concrete, at least one sentence. */
  readonly reason: string;
}

export function accept(resource: CfnResource, findings: AcceptedFinding[]): void {
  for (const f of findings) {
    Validations.of(resource).acknowledge({ id: f.finding ? `${f.rule}[${f.finding}]` : f.rule, reason: f.reason });
  }
  const previous: object[] = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  resource.addMetadata('cdk_nag', {
    rules_to_suppress: [
      ...previous,
      ...findings.map(f => ({ id: f.rule, reason: f.reason, ...(f.finding ? { applies_to: [f.finding] } : {}) })),
    ],
  });
}

/** A resolved CloudFormation value written as cdk-nag writes it in finding ids. */
export function nagReference(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  const node = (value ?? {}) as { 'Fn::Join'?: [string, unknown[]]; 'Fn::GetAtt'?: unknown[]; 'Ref'?: unknown };
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return items.map(nagReference).join(delimiter);
  }
  if (node['Fn::GetAtt']) return `<${node['Fn::GetAtt'].map(nagReference).join('.')}>`;
  if (node.Ref) return `<${nagReference(node.Ref)}>`;
  return JSON.stringify(value);
}
