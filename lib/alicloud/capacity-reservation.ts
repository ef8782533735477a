import * as ros from '@alicloud/ros-cdk-core';
import * as ROS from '@alicloud/ros-cdk-ros';
import { PropSpec, propTypeErrors } from '../shared/prop-types';
import { AliCapacityReservationProvider } from './provider';
import * as rules from './validation';
import {
  AliAttributeName, AliReservationParameters, DEFAULT_WAIT_TIMEOUT_SECONDS, RESPONSE_MARGIN_SECONDS,
} from './wire';

/** Which instances may use the reservation's private pool. */
export enum MatchCriteria {
  /** Any matching pay-as-you-go instance uses it automatically. */
  OPEN = 'Open',
  /** Only instances that name this reservation use it. */
  TARGET = 'Target',
}

/** The operating system the reservation is for (matches regional reserved instances for billing). */
export enum ReservationPlatform {
  LINUX = 'Linux',
  WINDOWS = 'Windows',
}

/** What deleting the resource, or replacing its reservation, does to the reservation. */
export enum ReservationRemovalPolicy {
  /** Release it (billing stops). */
  RELEASE = 'release',
  /**
   * Keep it when the stack is deleted, the resource leaves the template, or a completed update
   * replaces it, and when ROS rolls back the stack's creation; you release it yourself. What is kept
   * is tagged `retained:<resource>` and belongs to nobody: no later request, not even of the same
   * logical id coming back, touches it. A replacement that ROS rolls back goes back to the original.
   */
  RETAIN = 'retain',
  /**
   * Like RETAIN, except that what a failed operation added is released: on ROS's rollback of the
   * stack's creation, or of an update that added the resource (CloudFormation's
   * RetainExceptOnCreate, aws-cdk-lib's RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE): a failed deploy
   * leaves nothing it added billing. The handler reads the stack's status (ROS GetStack).
   */
  RETAIN_ON_UPDATE_OR_DELETE = 'retain-on-update-or-delete',
}

export interface AliCapacityReservationProps {
  /** One ECS instance type, e.g. `ecs.gn7i-c8g1.2xlarge`. */
  readonly instanceType: string;
  /** How many instances to reserve (1-1000, the ECS limit per reservation). */
  readonly instanceAmount: number;
  /** Zones to try in order: the next one is tried when a zone has no stock. */
  readonly zoneIds: string[];
  /**
   * The reservation's name: 2–128 characters, starting with a letter or Chinese character.
   * @default - none
   */
  readonly name?: string;
  /**
   * 2–256 characters, not starting with http:// or https://.
   * @default - none
   */
  readonly description?: string;
  /** @default MatchCriteria.OPEN */
  readonly matchCriteria?: MatchCriteria;
  /**
   * When ECS releases the reservation (UTC, `yyyy-MM-ddTHH:mm:ssZ` or a Date); sets EndTimeType Limited.
   * Once it has passed, the reservation has ended and updates leave it alone; a new reservation
   * with a past endTime fails at deploy time.
   * @default - Unlimited: it lasts until released
   */
  readonly endTime?: string | Date;
  /**
   * The operating system the reservation is priced for by `plan` (DescribePrice). ECS documents
   * CreateCapacityReservation's Platform as "not available for use": it does not apply it, so the
   * reservation itself is the same for both and a change is a no-op at deploy time.
   * @default - Linux
   */
  readonly platform?: ReservationPlatform;
  /** @default - the account's default resource group */
  readonly resourceGroupId?: string;
  /**
   * Up to 16 tags (ECS allows 20; this library writes 2 and keeps 2 free for its answer markers); keys unique and not blank.
   * @default - none
   */
  readonly tags?: { [key: string]: string };
  /** @default ReservationRemovalPolicy.RELEASE */
  readonly removalPolicy?: ReservationRemovalPolicy;
  /**
   * Seconds to wait for the reservation to become Active (60–3000). A reservation still not Active
   * then is released and the deployment fails, so nothing keeps billing unseen.
   * @default 600
   */
  readonly waitTimeout?: number;
}

/**
 * An ECS immediate-effect capacity reservation (private pool), created while the ROS stack deploys
 * and released when it is deleted. Beyond the native `ALIYUN::ECS::CapacityReservation` it adds
 * idempotent create, zone fallback, waiting for Active, retain-on-delete and actionable errors.
 */
export class AliCapacityReservation extends ros.Construct {
  /** The reservation id (`crp-…`, the PrivatePoolOptionsId). */
  public readonly attrReservationId: string;
  /** The zone the reservation was created in (the first of `zoneIds` with stock). */
  public readonly attrZoneId: string;
  /** The status when the deployment finished (Active). */
  public readonly attrStatus: string;
  public readonly attrStartTime: string;
  /** Empty for Unlimited reservations. */
  public readonly attrEndTime: string;

  constructor(scope: ros.Construct, id: string, props: AliCapacityReservationProps) {
    // ROS logical ids are the bare construct ids: two reservations with one id under different
    // parents would collide in the template. Say so before ROS CDK's generic duplicate-id error.
    const clash = ros.Stack.of(scope).node.findAll().find(c => c instanceof AliCapacityReservation && c.node.id === id);
    if (clash) {
      throw new Error(`AliCapacityReservation id '${id}' is already used in this stack at ${clash.node.path}; ROS names the resource by the bare construct id, so give each reservation in a stack its own id`);
    }
    super(scope, id);
    const typeErrors = propTypeErrors(props, PROP_SPECS);
    if (typeErrors.length > 0) {
      throw new Error(`AliCapacityReservation ${this.node.path}: ${typeErrors.join('; ')}`);
    }
    const endTime = props.endTime instanceof Date ? rules.formatEndTime(props.endTime) : props.endTime;
    const errors = literalPropErrors(props, endTime);
    if (errors.length > 0) {
      throw new Error(`AliCapacityReservation ${this.node.path}: ${errors.join('; ')}`);
    }
    const typeWarning = ros.Token.isUnresolved(props.instanceType) ? undefined : rules.instanceTypeWarning(props.instanceType);
    if (typeWarning) this.node.addWarning(typeWarning);
    const waitTimeout = props.waitTimeout ?? DEFAULT_WAIT_TIMEOUT_SECONDS;
    const tags = Object.entries(props.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const parameters: AliReservationParameters = {
      InstanceType: props.instanceType,
      InstanceAmount: props.instanceAmount,
      ZoneIds: props.zoneIds,
      Name: props.name,
      Description: props.description,
      MatchCriteria: props.matchCriteria,
      EndTime: endTime,
      Platform: props.platform,
      ResourceGroupId: props.resourceGroupId,
      Tags: tags.length > 0 ? tags : undefined,
      RemovalPolicy: props.removalPolicy === ReservationRemovalPolicy.RELEASE ? undefined : props.removalPolicy,
      WaitTimeoutSeconds: props.waitTimeout,
    };
    // ROS CDK makes a resource's logical id its bare construct id (ignoring the path), so the
    // custom resource carries the user's id: the template reads GpuPool, not Resource.
    const resource = new ROS.RosCustomResource(this, id, {
      serviceToken: AliCapacityReservationProvider.getOrCreate(this).serviceToken,
      // Covers zone fallback + the wait (+ a replacement's release) + the response.
      timeout: ros.Token.isUnresolved(waitTimeout) ? ros.Fn.add([waitTimeout, RESPONSE_MARGIN_SECONDS]) : waitTimeout + RESPONSE_MARGIN_SECONDS,
      parameters: withoutUndefined(parameters),
    }, true);
    // `Outputs` is the documented attribute of ALIYUN::ROS::CustomResource (the Data map); Fn::Select reads a key of it.
    const attr = (name: AliAttributeName) => ros.Token.asString(ros.Fn.select(name, resource.attrOutputs));
    this.attrReservationId = attr('ReservationId');
    this.attrZoneId = attr('ZoneId');
    this.attrStatus = attr('Status');
    this.attrStartTime = attr('StartTime');
    this.attrEndTime = attr('EndTime');
  }
}

/** What each prop is at run time, for JavaScript callers (TypeScript checks it for the others). */
const PROP_SPECS: Record<keyof AliCapacityReservationProps, PropSpec> = {
  instanceType: { kind: { type: 'string' }, required: "one ECS instance type, e.g. instanceType: 'ecs.gn7i-c8g1.2xlarge'" },
  instanceAmount: { kind: { type: 'number' }, required: 'how many instances to reserve, e.g. instanceAmount: 4' },
  zoneIds: { kind: { type: 'string-array' }, required: "the zones to try in order, e.g. zoneIds: ['cn-hangzhou-h']" },
  name: { kind: { type: 'string' } },
  description: { kind: { type: 'string' } },
  matchCriteria: { kind: { type: 'one-of', values: Object.values(MatchCriteria) } },
  endTime: { kind: { type: 'any-of', kinds: [{ type: 'string' }, { type: 'date' }] } },
  platform: { kind: { type: 'one-of', values: Object.values(ReservationPlatform) } },
  resourceGroupId: { kind: { type: 'string' } },
  tags: { kind: { type: 'string-map' } },
  removalPolicy: { kind: { type: 'one-of', values: Object.values(ReservationRemovalPolicy) } },
  waitTimeout: { kind: { type: 'number' } },
};

function literalPropErrors(props: AliCapacityReservationProps, endTime: string | undefined): string[] {
  const literal = <T>(value: T | undefined): value is T => value !== undefined && !ros.Token.isUnresolved(value);
  const errors: Array<string | undefined> = [];
  if (literal(props.instanceType)) errors.push(rules.instanceTypeError(props.instanceType));
  if (literal(props.instanceAmount)) errors.push(rules.instanceAmountError(props.instanceAmount));
  if (literal(props.zoneIds)) errors.push(...rules.zoneIdsErrors(props.zoneIds.filter(z => !ros.Token.isUnresolved(z))));
  if (literal(props.name)) errors.push(rules.nameError(props.name));
  if (literal(props.description)) errors.push(rules.descriptionError(props.description));
  // Format only: once a deployed reservation's endTime has passed, the unchanged app must still
  // synthesize (updates and rollbacks leave an ended reservation alone). A new reservation with a
  // past endTime is refused at deploy time, before any ECS call.
  if (literal(endTime)) errors.push(rules.endTimeError(endTime, new Date(0)));
  if (literal(props.resourceGroupId)) errors.push(rules.resourceGroupIdError(props.resourceGroupId));
  if (literal(props.waitTimeout)) errors.push(rules.waitTimeoutError(props.waitTimeout));
  const tags = Object.entries(props.tags ?? {}).filter(([k, v]) => literal(k) && literal(v)).map(([Key, Value]) => ({ Key, Value }));
  errors.push(...rules.aliTagErrors(tags));
  return errors.filter((e): e is string => e !== undefined);
}

function withoutUndefined<T extends object>(value: T): { [key: string]: unknown } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
