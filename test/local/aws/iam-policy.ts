import { Ec2Call } from '../../../lib/local';

/**
 * A small IAM evaluator for the policies this library synthesizes: Allow statements (it writes no
 * Deny), actions and resources with `*`/`?` wildcards, and the condition operators it uses, with
 * IAM's rules for multi-valued keys (ForAllValues / ForAnyValue) and for missing keys (a missing key
 * fails every operator but Null and ForAllValues). No emulator evaluates IAM, and a call the role is
 * not granted fails only in a real account, so each EC2 call the handler makes is checked with this.
 */
export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** One authorization request, as EC2 makes it: an action on one resource, with its context keys. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  /** Context keys: aws:RequestTag/K, aws:ResourceTag/K, ec2:CreateAction (single) and aws:TagKeys (multi). */
  readonly context: Record<string, string | string[]>;
}

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
/** The id CloudFormation gives a stack: what AWS::StackId resolves to. */
export const stackIdOf = (stackName: string) => `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/0a1b2c3d-4e5f-6789-abcd-ef0123456789`;

/** Resolves the Fn::Join / Ref of a synthesized statement for one deployed stack. */
export function resolve(value: unknown, stackName: string): unknown {
  if (Array.isArray(value)) return value.map(v => resolve(v, stackName));
  if (value === null || typeof value !== 'object') return value;
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(p => resolve(p, stackName)).join(delimiter);
  }
  if ('Ref' in node) {
    const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::StackName': stackName, 'AWS::StackId': stackIdOf(stackName) };
    const ref = String(node.Ref);
    if (!(ref in pseudo)) throw new Error(`cannot resolve Ref ${ref} in an IAM statement`);
    return pseudo[ref];
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v, stackName)]));
}

export function isAllowed(statements: Statement[], request: AuthorizationRequest): boolean {
  return statements.some(s => s.Effect === 'Allow'
    && [s.Action].flat().some(a => like(request.action, a))
    && [s.Resource].flat().some(r => like(request.resource, r))
    && Object.entries(s.Condition ?? {}).every(([operator, keys]) => Object.entries(keys).every(([key, expected]) => holds(operator, request.context[key], [expected].flat()))));
}

function holds(operator: string, actual: string | string[] | undefined, expected: string[]): boolean {
  const [qualifier, base] = operator.includes(':') ? operator.split(':') as [string, string] : [undefined, operator];
  if (base === 'Null') return expected.every(e => (e === 'true') === (actual === undefined || (Array.isArray(actual) && actual.length === 0)));
  const values = actual === undefined ? [] : [actual].flat();
  const one = (v: string) => compare(base, v, expected);
  if (qualifier === 'ForAllValues') return values.every(one);
  if (qualifier === 'ForAnyValue') return values.some(one);
  if (values.length !== 1) return false;
  return one(values[0]);
}

function compare(base: string, value: string, expected: string[]): boolean {
  switch (base) {
    case 'StringEquals': return expected.includes(value);
    case 'StringNotEquals': return !expected.includes(value);
    case 'StringLike': return expected.some(e => like(value, e));
    case 'StringNotLike': return !expected.some(e => like(value, e));
    default: throw new Error(`the IAM evaluator does not know the condition operator ${base}`);
  }
}

function like(value: string, pattern: string): boolean {
  const regex = pattern.split('').map(c => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${regex}$`).test(value);
}

const reservationArn = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:capacity-reservation/${id}`;

/** Form-encoded `Name.N.Key`/`Name.N.Value` pairs. */
function tagsIn(params: Record<string, string>, prefix: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params[`${prefix}.${i}.Key`] !== undefined; i++) tags[params[`${prefix}.${i}.Key`]] = params[`${prefix}.${i}.Value`] ?? '';
  return tags;
}

function resourceTagContext(tags: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(tags ?? {}).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
}

function requestTagContext(tags: Record<string, string>): Record<string, string | string[]> {
  return { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), 'aws:TagKeys': Object.keys(tags) };
}

/**
 * The authorization requests EC2 makes for one call the emulator received, as the EC2 documentation
 * describes them: a purchase with TagSpecifications is also a CreateTags with ec2:CreateAction (a
 * DryRun is authorized the same way); calls that name reservations are authorized on each of them,
 * with its tags as it had them; Describe* calls have no resource type and are authorized on "*".
 */
export function authorizationRequests(call: Ec2Call): AuthorizationRequest[] {
  const action = `ec2:${call.action}`;
  const p = call.params;
  switch (call.action) {
    case 'PurchaseCapacityBlock': {
      const tags = tagsIn(p, 'TagSpecification.1.Tag');
      const context = requestTagContext(tags);
      const resource = reservationArn('*');
      return [
        { action, resource, context },
        ...(Object.keys(tags).length > 0 ? [{ action: 'ec2:CreateTags', resource, context: { ...context, 'ec2:CreateAction': 'PurchaseCapacityBlock' } }] : []),
      ];
    }
    case 'CreateTags':
    case 'DeleteTags': {
      const ids: string[] = [];
      for (let i = 1; p[`ResourceId.${i}`] !== undefined; i++) ids.push(p[`ResourceId.${i}`]);
      const tags = tagsIn(p, 'Tag');
      return ids.map((id, i) => ({ action, resource: reservationArn(id), context: { ...resourceTagContext(call.resourceTags[i]), ...requestTagContext(tags) } }));
    }
    case 'PurchaseCapacityBlockExtension':
    case 'DescribeCapacityBlockExtensionOfferings':
      return [{ action, resource: reservationArn(p.CapacityReservationId), context: resourceTagContext(call.resourceTags[0]) }];
    default:
      if (!call.action.startsWith('Describe')) throw new Error(`the IAM evaluator does not know how EC2 authorizes ${call.action}`);
      return [{ action, resource: '*', context: {} }];
  }
}

/**
 * The handler, wrapped so that every call `calls()` records while onEvent or isComplete runs is
 * attributed to that function. The lifecycles these specs drive deliver each request once, so the
 * functions never overlap: the calls made while one ran are its own.
 */
export function attributingCalls<H extends object, C>(handler: H, calls: () => C[]): { traced: H; byFunction: Record<'onEvent' | 'isComplete', C[]> } {
  const byFunction: Record<'onEvent' | 'isComplete', C[]> = { onEvent: [], isComplete: [] };
  let attributed = 0;
  const attribute = (fn: 'onEvent' | 'isComplete') => {
    byFunction[fn].push(...calls().slice(attributed));
    attributed = calls().length;
  };
  const traced = new Proxy(handler, {
    get: (target, key, receiver) => {
      const value = Reflect.get(target, key, receiver) as (event: unknown, context: unknown) => Promise<unknown>;
      if (key !== 'onEvent' && key !== 'isComplete') return value;
      return async (event: unknown, context: unknown) => {
        attribute(key === 'onEvent' ? 'isComplete' : 'onEvent');
        try {
          return await value.call(target, event, context);
        } finally {
          attribute(key);
        }
      };
    },
  });
  return { traced, byFunction };
}
