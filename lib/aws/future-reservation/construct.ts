import { Annotations, CustomResource, Duration, ITaggable, Lazy, RemovalPolicy, Resource, Stack, TagManager, TagType, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { PropSpec, propTypeErrors } from '../../shared/prop-types';
import { InstancePlatform } from '../instance-platform';
import * as rules from '../validation';
import { DEFAULT_CURRENCY, SERVICE_TIMEOUT_SECONDS, WireTag } from '../wire';
import { PRICED_PLATFORMS } from './price';
import { FutureReservationProvider } from './provider';
import * as future from './rules';
import { FUTURE_RESERVATION_RESOURCE_TYPE, FutureReservationAttributeName, FutureReservationWireProperties } from './wire';

/** Who the reserved instances' hardware is shared with (EC2 `Tenancy`). */
export enum ReservationTenancy {
  /** Shared hardware. */
  DEFAULT = 'default',
  /** Hardware dedicated to this account. */
  DEDICATED = 'dedicated',
}

/** Properties of a FutureCapacityReservation. */
export interface FutureCapacityReservationProps {
  /**
   * The instance type: a family EC2 takes future-dated requests for (C, G, I, M, R or T), e.g.
   * `ec2.InstanceType.of(ec2.InstanceClass.M7I, ec2.InstanceSize.XLARGE8)` or `new ec2.InstanceType('m7i.8xlarge')`.
   */
  readonly instanceType: ec2.InstanceType;

  /** How many instances; together at least 32 vCPUs. */
  readonly instanceCount: number;

  /** The Availability Zone, in the stack's region, e.g. `us-east-1a`. */
  readonly availabilityZone: string;

  /**
   * The operating system the reservation is for (and priced at).
   * @default InstancePlatform.LINUX_UNIX
   */
  readonly instancePlatform?: InstancePlatform;

  /**
   * Shared or dedicated hardware.
   * @default ReservationTenancy.DEFAULT
   */
  readonly tenancy?: ReservationTenancy;

  /**
   * When the capacity is needed: 5 to 120 days after the deployment that requests it (EC2 recommends
   * 56 days or more). Checked against the synth day with a warning, and enforced on deploy day.
   */
  readonly startDate: Date;

  /** How long you commit to keep (and pay for) the capacity from the start: 14 days or more. */
  readonly commitment: Duration;

  /**
   * When the reservation ends; not inside the commitment.
   * @default - it runs until cancelled (deleting the resource cancels it, within the rules of `maxCancellationCharge`)
   */
  readonly endDate?: Date;

  /**
   * The most the commitment may cost: the On-Demand rate (from the Price List at deploy time) ×
   * instanceCount × commitment hours, compared exactly in decimal. Above it, nothing is requested.
   */
  readonly maxCommittedCost: number;

  /**
   * The currency of the ceilings.
   * @default 'USD'
   */
  readonly currencyCode?: string;

  /**
   * The most a Delete may pay to cancel inside the commitment (a quote's hours × committed count × the
   * On-Demand rate). Rollbacks never pay.
   * @default - a Delete never pays a cancellation charge: a reservation whose cancellation costs money is kept, and the log says how to cancel it by hand
   */
  readonly maxCancellationCharge?: number;

  /**
   * Let an update that changes what is reserved (type, count, zone, platform, tenancy, commitment, end,
   * an earlier start) request a new reservation; CloudFormation then deletes the old one.
   * @default false - such updates fail, naming what would be needed
   */
  readonly allowRepurchase?: boolean;

  /**
   * Price and validate only: the deployment reports the commitment's cost and requests nothing.
   * @default false
   */
  readonly previewOnly?: boolean;

  /**
   * Tags for the reservation. `Tags.of(scope)` propagates here too.
   * @default - no tags beyond the ones this library writes (prefix `cdk-capacity-reservations:`)
   */
  readonly tags?: { [key: string]: string };
}

const DETAIL_TYPE_PREFIX = 'EC2 Capacity Reservation';

/**
 * A future-dated EC2 On-Demand Capacity Reservation, requested while the stack deploys: capacity for
 * a date 5 to 120 days ahead, with a commitment of 14 days or more. No CloudFormation resource type
 * can express one (AWS::EC2::CapacityReservation has no StartDate or CommitmentDuration).
 *
 * Create prices the commitment and refuses above `maxCommittedCost`, then requests once and answers
 * while EC2 assesses (usually up to 5 days): the outcome comes as the `on*` EventBridge rules and the
 * `state` of the next deployment. Delete cancels when that is free; a charge is paid only within
 * `maxCancellationCharge`, never by a rollback.
 */
export class FutureCapacityReservation extends Resource implements ITaggable {
  /** The Capacity Reservation id (`cr-…`). */
  public readonly capacityReservationId: string;
  /** The Capacity Reservation ARN. */
  public readonly capacityReservationArn: string;
  /** The state at the end of the deployment: assessing, scheduled, active, delayed, unsupported, failed, cancelled, expired, or preview. */
  public readonly state: string;
  /** When the capacity starts (ISO 8601), as EC2 shows it. */
  public readonly reservationStartDate: string;
  /** When the commitment ends (ISO 8601); '' while EC2 shows none (a delayed request's commitment is waived). */
  public readonly commitmentEndDate: string;
  /** The commitment's cost at the On-Demand rate read at deploy time, exact decimal text. */
  public readonly committedCost: string;
  /** The currency of `committedCost`. */
  public readonly committedCostCurrency: string;
  /** The instance type reserved. */
  public readonly instanceType: string;
  /** How many instances are reserved. */
  public readonly instanceCount: number;
  /** The Availability Zone of the reservation. */
  public readonly availabilityZone: string;
  /** The start asked for. */
  public readonly startDate: Date;
  /** The commitment asked for. */
  public readonly commitment: Duration;
  /** The most the commitment may cost (a token when it comes from a parameter). */
  public readonly maxCommittedCost: number;
  /** The currency of `maxCommittedCost`. */
  public readonly maxCommittedCostCurrency: string;
  /** True when the resource only previews: it requests nothing. */
  public readonly previewOnly: boolean;
  /** Tags of the reservation. */
  public readonly tags: TagManager;
  private readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: FutureCapacityReservationProps) {
    super(scope, id);
    const typeErrors = propTypeErrors(props, PROP_SPECS);
    if (typeErrors.length > 0) throw new Error(`FutureCapacityReservation ${this.node.path}: ${typeErrors.join('; ')}`);
    const instanceType = typeNameOf(props.instanceType);
    const errors = literalPropErrors(props, instanceType, Stack.of(this).region);
    if (errors.length > 0) throw new Error(`FutureCapacityReservation ${this.node.path}: ${errors.join('; ')}`);
    this.previewOnly = props.previewOnly === true;
    this.instanceType = instanceType;
    this.instanceCount = props.instanceCount;
    this.startDate = props.startDate;
    this.commitment = props.commitment;
    this.maxCommittedCost = props.maxCommittedCost;
    this.maxCommittedCostCurrency = props.currencyCode ?? DEFAULT_CURRENCY;

    // Synth day is not deploy day: the start window is a warning here, and the handler enforces it.
    const window = future.startDateError(props.startDate, new Date()) ?? future.startDateWarning(props.startDate, new Date());
    if (window) Annotations.of(this).addWarningV2('cdk-capacity-reservations:future-start-date', `${window} (checked again on deploy day)`);
    Annotations.of(this).addInfo(this.previewOnly
      ? 'previewOnly: requests nothing; reports what the commitment would cost'
      : `Requests a future-dated Capacity Reservation committing up to ${Token.isUnresolved(props.maxCommittedCost) ? 'the maxCommittedCost given at deploy time' : `${props.maxCommittedCost} ${this.maxCommittedCostCurrency}`}: billed at the On-Demand rate, used or not, for the whole commitment once delivered`);
    this.tags = new TagManager(TagType.KEY_VALUE, FUTURE_RESERVATION_RESOURCE_TYPE, props.tags);
    this.node.addValidation({ validate: () => rules.tagErrors(this.literalTags(), false, 'future-dated Capacity Reservation') });

    const properties: FutureReservationWireProperties = {
      InstanceType: instanceType,
      InstanceCount: numberToWire(props.instanceCount),
      AvailabilityZone: props.availabilityZone,
      InstancePlatform: props.instancePlatform?.value,
      Tenancy: props.tenancy,
      StartDate: props.startDate.toISOString(),
      CommitmentSeconds: props.commitment.isUnresolved() ? Token.asString(props.commitment.toSeconds()) : String(props.commitment.toSeconds({ integral: false })),
      EndDate: props.endDate?.toISOString(),
      MaxCommittedCost: numberToWire(props.maxCommittedCost),
      CurrencyCode: props.currencyCode,
      MaxCancellationCharge: props.maxCancellationCharge === undefined ? undefined : numberToWire(props.maxCancellationCharge),
      AllowRepurchase: props.allowRepurchase ? 'true' : undefined,
      PreviewOnly: this.previewOnly ? 'true' : undefined,
      Tags: Lazy.any({ produce: () => this.tags.renderTags() }) as unknown as WireTag[],
    };
    const resource = this.resource = new CustomResource(this, 'Resource', {
      serviceToken: FutureReservationProvider.getOrCreate(this).serviceToken,
      resourceType: FUTURE_RESERVATION_RESOURCE_TYPE,
      properties,
      serviceTimeout: Duration.seconds(SERVICE_TIMEOUT_SECONDS),
    });
    const attr = (attribute: FutureReservationAttributeName) => resource.getAttString(attribute);
    this.capacityReservationId = attr('CapacityReservationId');
    this.capacityReservationArn = attr('CapacityReservationArn');
    this.state = attr('State');
    this.reservationStartDate = attr('StartDate');
    this.commitmentEndDate = attr('CommitmentEndDate');
    this.committedCost = attr('CommittedCost');
    this.committedCostCurrency = attr('CurrencyCode');
    this.availabilityZone = props.availabilityZone;
  }

  /**
   * `RemovalPolicy.RETAIN` keeps the reservation when the resource leaves the stack: no Delete is
   * sent, nothing is cancelled, and it belongs to no later resource of the stack.
   *
   * @param policy what CloudFormation does with the reservation when the resource is removed
   */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    this.resource.applyRemovalPolicy(policy);
  }

  /** A rule for EC2's event when the assessment schedules the reservation (capacity will be there at the start). */
  public onScheduled(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.stateRule(id, 'Scheduled', options);
  }

  /** A rule for EC2's event when the reservation becomes active (capacity delivered; billing and the commitment start). */
  public onActive(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.stateRule(id, 'Active', options);
  }

  /** A rule for EC2's event when delivery is delayed (the commitment is waived; cancelling is free). */
  public onDelayed(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.stateRule(id, 'Delayed', options);
  }

  /** A rule for EC2's event when the request is unsupported (EC2 cannot provide the capacity; nothing is billed). */
  public onUnsupported(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.stateRule(id, 'Unsupported', options);
  }

  /** A rule for EC2's event when the request failed. */
  public onFailed(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.stateRule(id, 'Failed', options);
  }

  /** A rule for EC2's event when the reservation expired (its end date passed). */
  public onExpired(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.stateRule(id, 'Expired', options);
  }

  /** EC2 user guide "monitor-fcr-state": detail-type "EC2 Capacity Reservation <State>", source aws.ec2. */
  private stateRule(id: string, state: string, options: events.OnEventOptions): events.Rule {
    const rule = new events.Rule(this, id, {
      description: options.description,
      ruleName: options.ruleName,
      crossStackScope: options.crossStackScope,
      eventPattern: { source: ['aws.ec2'], detailType: [`${DETAIL_TYPE_PREFIX} ${state}`], detail: { 'capacity-reservation-id': [this.capacityReservationId] } },
    });
    if (options.eventPattern) rule.addEventPattern(options.eventPattern);
    if (options.target) rule.addTarget(options.target);
    return rule;
  }

  private literalTags(): WireTag[] {
    const rendered: WireTag[] = this.tags.renderTags() ?? [];
    return rendered.filter(t => !Token.isUnresolved(t.Key) && !Token.isUnresolved(t.Value));
  }
}

/** Every literal prop checked at synth (the start window is a warning: see the constructor); tokens at deploy. */
function literalPropErrors(props: FutureCapacityReservationProps, instanceType: string, region: string): string[] {
  const literal = <T>(value: T | undefined): value is T => value !== undefined && !Token.isUnresolved(value);
  const errors: Array<string | undefined> = [];
  if (!Token.isUnresolved(instanceType)) errors.push(rules.instanceTypeError(instanceType) ?? future.futureDatedFamilyError(instanceType));
  if (literal(props.instanceCount)) {
    errors.push(future.futureInstanceCountError(props.instanceCount));
    if (!Token.isUnresolved(instanceType)) errors.push(future.totalVcpusError(instanceType, props.instanceCount, future.vcpusBySize(instanceType)));
  }
  if (literal(props.availabilityZone)) errors.push(rules.availabilityZoneError(props.availabilityZone, Token.isUnresolved(region) ? undefined : region));
  const platform = props.instancePlatform?.value;
  if (platform !== undefined && !Token.isUnresolved(platform) && !PRICED_PLATFORMS.includes(platform)) {
    errors.push(`instancePlatform '${platform}' cannot be priced from the Price List by this release (${PRICED_PLATFORMS.join(', ')}); choose one of those`);
  }
  if (Number.isNaN(props.startDate.getTime())) errors.push('startDate must be a valid date, got an invalid date');
  const seconds = props.commitment.isUnresolved() ? undefined : props.commitment.toSeconds({ integral: false });
  if (seconds !== undefined) errors.push(future.commitmentError(seconds));
  if (seconds !== undefined && !Number.isNaN(props.startDate.getTime())) errors.push(future.endDateError(props.endDate, props.startDate, seconds));
  if (literal(props.maxCommittedCost)) errors.push(future.moneyCeilingError('maxCommittedCost', props.maxCommittedCost));
  if (literal(props.maxCancellationCharge)) errors.push(future.moneyCeilingError('maxCancellationCharge', props.maxCancellationCharge, true));
  if (literal(props.currencyCode)) errors.push(rules.currencyCodeError(props.currencyCode));
  if (props.previewOnly && props.allowRepurchase) errors.push('allowRepurchase has no effect with previewOnly (a preview requests nothing); remove one of them');
  return errors.filter((e): e is string => e !== undefined);
}

/** The EC2 name of the instance type; a plain-JavaScript caller may pass the name itself. */
function typeNameOf(value: ec2.InstanceType | string): string {
  return typeof value === 'string' ? value : value.toString();
}

function numberToWire(value: number): string {
  return Token.isUnresolved(value) ? Token.asString(value) : String(value);
}

const PROP_SPECS: Record<keyof FutureCapacityReservationProps, PropSpec> = {
  instanceType: {
    kind: { type: 'any-of', kinds: [{ type: 'string' }, { type: 'instance', is: value => value instanceof ec2.InstanceType, example: "an ec2.InstanceType such as new ec2.InstanceType('m7i.8xlarge')" }] },
    required: "the instance type, e.g. instanceType: new ec2.InstanceType('m7i.8xlarge')",
  },
  instanceCount: { kind: { type: 'number' }, required: 'how many instances, e.g. instanceCount: 4' },
  availabilityZone: { kind: { type: 'string' }, required: "the Availability Zone, e.g. availabilityZone: 'us-east-1a'" },
  instancePlatform: { kind: { type: 'instance', is: value => value instanceof InstancePlatform, example: 'an InstancePlatform such as InstancePlatform.LINUX_UNIX' } },
  tenancy: { kind: { type: 'one-of', values: Object.values(ReservationTenancy) } },
  startDate: { kind: { type: 'date' }, required: "when the capacity is needed, 5-120 days ahead, e.g. startDate: new Date('2027-03-01T00:00:00Z')" },
  commitment: { kind: { type: 'instance', is: value => value instanceof Duration, example: 'a Duration such as Duration.days(14)' }, required: 'how long you commit, 14 days or more, e.g. commitment: Duration.days(14)' },
  endDate: { kind: { type: 'date' } },
  maxCommittedCost: { kind: { type: 'number' }, required: 'the most the commitment may cost, in currencyCode (USD by default), e.g. maxCommittedCost: 25000' },
  currencyCode: { kind: { type: 'string' } },
  maxCancellationCharge: { kind: { type: 'number' } },
  allowRepurchase: { kind: { type: 'boolean' } },
  previewOnly: { kind: { type: 'boolean' } },
  tags: { kind: { type: 'string-map' } },
};
