import { randomBytes } from 'crypto';
import {
  commitmentError, endDateError, futureDatedFamilyError, MAX_START_POSTPONEMENT_DAYS, startDateError, totalVcpusError, vcpusBySize,
} from '../../aws/future-reservation/rules';
import { instanceTypeError } from '../../aws/validation';
import { SimulatedClock } from '../faults';
import { Ec2Error, tagSpecifications } from './ec2-query';

/**
 * EC2's future-dated On-Demand Capacity Reservations (CreateCapacityReservation with StartDate,
 * CommitmentDuration and DeliveryPreference), as the EC2 user guide ("cr-concepts", "create-future-cr")
 * and the @aws-sdk/client-ec2 model describe them, over simulated days:
 *
 * - a request is `assessing` for `assessmentMs`, then `scheduled` (no instances until the start),
 *   `unsupported`, `delayed` (commitment waived) or `failed`, as `outcome` draws;
 * - `scheduled` turns `active` at StartDate (billed at the On-Demand rate, used or not) and `expired` at
 *   a limited EndDate; the commitment runs CommitmentDuration from the start;
 * - Cancel is free while assessing or delayed, and after the commitment; while scheduled or inside the
 *   commitment only with an active cancellation quote and ApplyCancellationCharges=commitment-wind-down,
 *   after which it is `cancelling` (capacity gone, charges run) until the commitment ends;
 * - before delivery the start can be pushed out, up to 30 days after the original start, through a
 *   date-change quote that ModifyCapacityReservation accepts once;
 * - ClientToken makes CreateCapacityReservation idempotent, as EC2 documents.
 *
 * The Ec2Emulator routes these actions here; a reservation id of this inventory is `cr-f…`.
 */
export type AssessmentOutcome = 'scheduled' | 'unsupported' | 'delayed' | 'failed';

export interface FutureReservationOptions {
  /** Simulated time a request stays `assessing`. @default 2 days */
  readonly assessmentMs?: number;
  /** What the assessment decides for a request. @default always 'scheduled' */
  readonly outcome?: (request: { instanceType: string; instanceCount: number; startDate: Date }) => AssessmentOutcome;
  /** Simulated time a new cancellation quote stays `pending`. @default 0 */
  readonly quotePendingMs?: number;
}

export interface EmulatedFutureReservation {
  readonly id: string;
  readonly instanceType: string;
  readonly instancePlatform: string;
  readonly availabilityZone: string;
  readonly tenancy: string;
  readonly instanceCount: number;
  readonly originalStartDate: Date;
  startDate: Date;
  readonly commitmentSeconds: number;
  readonly endDate?: Date;
  readonly createDate: Date;
  readonly clientToken?: string;
  /** The request as sent, to tell a repeat of the token from a different request under it. */
  readonly fingerprint: string;
  readonly tags: Map<string, string>;
  readonly outcome: AssessmentOutcome;
  cancellation?: { readonly at: Date; readonly windDown: boolean };
}

interface Quote {
  readonly id: string;
  readonly reservationId: string;
  readonly kind: 'cancellation' | 'date-change';
  readonly createTime: Date;
  readonly newStartDate?: Date;
  used: boolean;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const QUOTE_LIFETIME_MS = DAY;
/** EC2 shows an unsupported request for 30 days, then forgets it. */
const UNSUPPORTED_VISIBLE_MS = 30 * DAY;

export class FutureReservationInventory {
  public readonly reservations = new Map<string, EmulatedFutureReservation>();
  private readonly quotes = new Map<string, Quote>();

  constructor(
    private readonly clock: SimulatedClock,
    private readonly account: { readonly region: string; readonly accountId: string },
    private readonly options: FutureReservationOptions = {},
  ) {}

  /** Reservations that were requested (each may come to bill the On-Demand rate for its commitment). */
  public get requests(): EmulatedFutureReservation[] {
    return [...this.reservations.values()];
  }

  public owns(id: string): boolean {
    return this.reservations.has(id);
  }

  public stateOf(r: EmulatedFutureReservation): string {
    const now = this.clock.now().getTime();
    if (r.cancellation) return r.cancellation.windDown && now < this.commitmentEnd(r).getTime() ? 'cancelling' : 'cancelled';
    if (now < r.createDate.getTime() + (this.options.assessmentMs ?? 2 * DAY)) return 'assessing';
    if (r.outcome !== 'scheduled') return r.outcome;
    if (now < r.startDate.getTime()) return 'scheduled';
    return r.endDate && now >= r.endDate.getTime() ? 'expired' : 'active';
  }

  public commitmentEnd(r: EmulatedFutureReservation): Date {
    return new Date(r.startDate.getTime() + r.commitmentSeconds * 1000);
  }

  /** Whether ending it now would cut its commitment short (a charge applies). */
  public insideCommitment(r: EmulatedFutureReservation): boolean {
    const state = this.stateOf(r);
    return (state === 'scheduled' || state === 'active') && this.clock.now().getTime() < this.commitmentEnd(r).getTime();
  }

  /** True when CreateCapacityReservation asks for a future-dated reservation (the rest is not emulated). */
  public static isFutureDated(p: Record<string, string>): boolean {
    return p.StartDate !== undefined || p.CommitmentDuration !== undefined || p.DeliveryPreference !== undefined;
  }

  public create(p: Record<string, string>): Record<string, unknown> {
    const fingerprint = JSON.stringify(Object.entries(p).filter(([k]) => k !== 'ClientToken' && k !== 'Action' && k !== 'Version').sort());
    if (p.ClientToken) {
      const earlier = [...this.reservations.values()].find(r => r.clientToken === p.ClientToken);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) throw new Ec2Error('IdempotentParameterMismatch', `The client token ${p.ClientToken} was used with different parameters.`);
        return { capacityReservation: this.render(earlier) };
      }
    }
    const instanceType = p.InstanceType ?? '';
    const instanceCount = Number(p.InstanceCount);
    const startDate = new Date(p.StartDate ?? '');
    const commitmentSeconds = Number(p.CommitmentDuration);
    const endDate = p.EndDate ? new Date(p.EndDate) : undefined;
    const refusal = [
      p.DeliveryPreference !== 'incremental' ? `DeliveryPreference must be incremental, got ${p.DeliveryPreference}` : undefined,
      p.InstanceMatchCriteria !== 'targeted' ? 'A future-dated Capacity Reservation must use targeted instance matching.' : undefined,
      !p.AvailabilityZone ? 'A future-dated Capacity Reservation needs an AvailabilityZone.' : undefined,
      p.PlacementGroupArn || p.OutpostArn ? 'Future-dated Capacity Reservations are not supported in placement groups or on Outposts.' : undefined,
      instanceTypeError(instanceType),
      futureDatedFamilyError(instanceType),
      totalVcpusError(instanceType, instanceCount, vcpusBySize(instanceType)),
      startDateError(startDate, this.clock.now()),
      commitmentError(commitmentSeconds),
      p.EndDateType === 'limited' ? endDateError(endDate, startDate, commitmentSeconds) : undefined,
    ].find(Boolean);
    if (refusal) throw new Ec2Error('InvalidParameterValue', refusal);
    const r: EmulatedFutureReservation = {
      id: `cr-f${randomBytes(8).toString('hex').slice(0, 16)}`,
      instanceType, instancePlatform: p.InstancePlatform ?? 'Linux/UNIX', availabilityZone: p.AvailabilityZone!, tenancy: p.Tenancy ?? 'default',
      instanceCount, originalStartDate: startDate, startDate, commitmentSeconds, endDate: p.EndDateType === 'limited' ? endDate : undefined,
      createDate: this.clock.now(), clientToken: p.ClientToken, fingerprint, tags: tagSpecifications(p, 'capacity-reservation', 'TagSpecifications'),
      outcome: this.options.outcome?.({ instanceType, instanceCount, startDate }) ?? 'scheduled',
    };
    this.reservations.set(r.id, r);
    return { capacityReservation: this.render(r) };
  }

  /** DescribeCapacityReservations' part: the reservations of this inventory that `ids` names (all when none). */
  public describe(ids: string[]): EmulatedFutureReservation[] {
    return [...this.reservations.values()].filter(r => (ids.length === 0 || ids.includes(r.id)) && this.visible(r));
  }

  public visible(r: EmulatedFutureReservation): boolean {
    const decided = r.createDate.getTime() + (this.options.assessmentMs ?? 2 * DAY);
    return !(this.stateOf(r) === 'unsupported' && this.clock.now().getTime() >= decided + UNSUPPORTED_VISIBLE_MS);
  }

  public cancel(p: Record<string, string>): Record<string, unknown> {
    const r = this.existing(p.CapacityReservationId);
    const state = this.stateOf(r);
    if (!['assessing', 'delayed', 'scheduled', 'active'].includes(state)) {
      throw new Ec2Error('IncorrectState', `The Capacity Reservation ${r.id} is ${state} and cannot be cancelled.`);
    }
    if (this.insideCommitment(r)) {
      const quote = p.QuoteId ? this.quotes.get(p.QuoteId) : undefined;
      if (p.ApplyCancellationCharges !== 'commitment-wind-down' || !quote || quote.kind !== 'cancellation' || quote.reservationId !== r.id || this.quoteState(quote) !== 'active' || quote.used) {
        throw new Ec2Error('InvalidParameterCombination', `The Capacity Reservation ${r.id} is within its commitment duration: cancelling it requires an active cancellation quote (QuoteId) and ApplyCancellationCharges=commitment-wind-down.`);
      }
      quote.used = true;
      r.cancellation = { at: this.clock.now(), windDown: true };
    } else {
      r.cancellation = { at: this.clock.now(), windDown: false };
    }
    return { return: true };
  }

  public createCancellationQuote(p: Record<string, string>): Record<string, unknown> {
    const r = this.existing(p.CapacityReservationId);
    if (!this.insideCommitment(r)) {
      throw new Ec2Error('IncorrectState', `The Capacity Reservation ${r.id} is ${this.stateOf(r)}; a cancellation quote is only needed (and given) while it is scheduled or within its commitment.`);
    }
    const quote: Quote = { id: `crcq-${randomBytes(8).toString('hex')}`, reservationId: r.id, kind: 'cancellation', createTime: this.clock.now(), used: false };
    this.quotes.set(quote.id, quote);
    const chargeFrom = Math.max(this.clock.now().getTime(), r.startDate.getTime());
    return {
      capacityReservationCancellationQuote: {
        capacityReservationCancellationQuoteId: quote.id, capacityReservationId: r.id,
        createTime: iso(quote.createTime), expirationTime: iso(new Date(quote.createTime.getTime() + QUOTE_LIFETIME_MS)), quoteState: this.quoteState(quote),
        currentConfiguration: { instanceCount: this.deliveredCount(r), reservationState: this.stateOf(r) },
        cancellationTermSet: { item: [{
          cancellationType: 'commitment-wind-down', reservationState: 'cancelling', committedInstanceCount: r.instanceCount,
          chargeCommitmentDurationHours: Math.ceil((this.commitmentEnd(r).getTime() - chargeFrom) / HOUR), chargeEndDate: iso(this.commitmentEnd(r)),
        }] },
      },
    };
  }

  public createDateChangeQuote(p: Record<string, string>): Record<string, unknown> {
    const r = this.existing(p.CapacityReservationId);
    const state = this.stateOf(r);
    if (state !== 'assessing' && state !== 'scheduled') {
      throw new Ec2Error('IncorrectState', `The Capacity Reservation ${r.id} is ${state}; its start date can only change before it is delivered.`);
    }
    const newStart = new Date(p.NewStartDate ?? '');
    const limit = r.originalStartDate.getTime() + MAX_START_POSTPONEMENT_DAYS * DAY;
    if (Number.isNaN(newStart.getTime()) || newStart.getTime() <= r.startDate.getTime() || newStart.getTime() > limit) {
      throw new Ec2Error('InvalidParameterValue', `The new start date must be later than ${iso(r.startDate)} and at most ${MAX_START_POSTPONEMENT_DAYS} days after the original start date ${iso(r.originalStartDate)}.`);
    }
    const quote: Quote = { id: `crmq-${randomBytes(8).toString('hex')}`, reservationId: r.id, kind: 'date-change', createTime: this.clock.now(), newStartDate: newStart, used: false };
    this.quotes.set(quote.id, quote);
    return {
      capacityReservationModificationQuote: {
        capacityReservationModificationQuoteId: quote.id, capacityReservationId: r.id,
        createTime: iso(quote.createTime), expirationTime: iso(new Date(quote.createTime.getTime() + QUOTE_LIFETIME_MS)), quoteState: this.quoteState(quote),
        currentConfiguration: { instanceCount: this.deliveredCount(r), reservationState: state, startDate: iso(r.startDate), originalStartDate: iso(r.originalStartDate) },
        modificationTerms: { reservationUpdate: {
          newStartDate: iso(newStart), newCommitmentEndDate: iso(new Date(newStart.getTime() + r.commitmentSeconds * 1000)), newCommitmentDuration: r.commitmentSeconds,
        } },
      },
    };
  }

  public modify(p: Record<string, string>): Record<string, unknown> {
    const r = this.existing(p.CapacityReservationId);
    if (p.InstanceCount !== undefined && this.insideCommitment(r) && Number(p.InstanceCount) < r.instanceCount) {
      throw new Ec2Error('InvalidParameterValue', `The instance count of ${r.id} cannot go below its committed ${r.instanceCount} within the commitment duration.`);
    }
    if (p.EndDate !== undefined && this.insideCommitment(r) && new Date(p.EndDate).getTime() < this.commitmentEnd(r).getTime()) {
      throw new Ec2Error('InvalidParameterValue', `The end date of ${r.id} cannot fall within its commitment duration (until ${iso(this.commitmentEnd(r))}).`);
    }
    if (p.StartDate === undefined) throw new Ec2Error('InvalidParameterValue', 'This emulator modifies only the start date of a future-dated Capacity Reservation.');
    const quote = p.QuoteId ? this.quotes.get(p.QuoteId) : undefined;
    if (!quote || quote.kind !== 'date-change' || quote.reservationId !== r.id || quote.used || this.quoteState(quote) !== 'active' || p.AcceptModificationTerms !== 'true') {
      throw new Ec2Error('InvalidParameterCombination', 'Changing the start date requires an active date-change quote (QuoteId) for this Capacity Reservation and AcceptModificationTerms=true.');
    }
    if (new Date(p.StartDate).getTime() !== quote.newStartDate!.getTime()) {
      throw new Ec2Error('InvalidParameterValue', `The start date must be the quoted ${iso(quote.newStartDate!)}.`);
    }
    const state = this.stateOf(r);
    if (state !== 'assessing' && state !== 'scheduled') throw new Ec2Error('IncorrectState', `The Capacity Reservation ${r.id} is ${state}; its start date can only change before it is delivered.`);
    quote.used = true;
    r.startDate = quote.newStartDate!;
    return { return: true };
  }

  public render(r: EmulatedFutureReservation, tags = r.tags): Record<string, unknown> {
    const state = this.stateOf(r);
    return {
      capacityReservationId: r.id,
      ownerId: this.account.accountId,
      capacityReservationArn: `arn:aws:ec2:${this.account.region}:${this.account.accountId}:capacity-reservation/${r.id}`,
      instanceType: r.instanceType,
      instancePlatform: r.instancePlatform,
      availabilityZone: r.availabilityZone,
      tenancy: r.tenancy,
      totalInstanceCount: this.deliveredCount(r),
      availableInstanceCount: this.deliveredCount(r),
      state,
      startDate: iso(r.startDate),
      originalStartDate: iso(r.originalStartDate),
      ...(r.endDate ? { endDate: iso(r.endDate) } : {}),
      endDateType: r.endDate ? 'limited' : 'unlimited',
      instanceMatchCriteria: 'targeted',
      createDate: iso(r.createDate),
      reservationType: 'default',
      deliveryPreference: 'incremental',
      // A delayed request's commitment is waived: EC2 shows none.
      ...(r.outcome === 'delayed' && !r.cancellation ? {} : { commitmentInfo: { committedInstanceCount: r.instanceCount, commitmentEndDate: iso(this.commitmentEnd(r)) } }),
      tagSet: { item: [...tags].map(([key, value]) => ({ key, value })) },
    };
  }

  /** No instances until delivery: EC2 shows a count of 0 while assessing or scheduled. */
  private deliveredCount(r: EmulatedFutureReservation): number {
    return this.stateOf(r) === 'active' ? r.instanceCount : 0;
  }

  private quoteState(q: Quote): string {
    const age = this.clock.now().getTime() - q.createTime.getTime();
    if (age >= QUOTE_LIFETIME_MS) return 'expired';
    return q.kind === 'cancellation' && age < (this.options.quotePendingMs ?? 0) ? 'pending' : 'active';
  }

  private existing(id: string | undefined): EmulatedFutureReservation {
    const r = this.reservations.get(id ?? '');
    if (!r || !this.visible(r)) throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation ID '${id}' does not exist`);
    return r;
  }
}

function iso(d: Date): string {
  return d.toISOString();
}
