import * as rules from '../../validation';
import { DEFAULT_CURRENCY, WireTag } from '../../wire';
import { UserError } from '../../handler/errors';
import { wireReaders } from '../../handler/wire-values';
import { PRICED_PLATFORMS } from '../price';
import * as future from '../rules';
import { FutureReservationWireProperties } from '../wire';

/** A FutureCapacityReservation's properties, parsed and validated at deploy time: what the user asked for. */
export interface FutureReservationRequest {
  readonly instanceType: string;
  readonly instanceCount: number;
  readonly availabilityZone: string;
  readonly instancePlatform: string;
  readonly tenancy: string;
  readonly startDate: Date;
  readonly commitmentSeconds: number;
  readonly endDate?: Date;
  /** Ceilings as the template wrote them (plain decimal text): money is compared with them exactly. */
  readonly maxCommittedCost: string;
  readonly maxCancellationCharge?: string;
  readonly currencyCode: string;
  readonly allowRepurchase: boolean;
  readonly previewOnly: boolean;
  readonly tags: WireTag[];
}

/**
 * Parses CloudFormation's all-strings properties with the construct's rules (rules.ts), now that
 * tokens have resolved. The start-date window is NOT checked here: it is judged at the moment of the
 * request (`assertStartWindow`), and an Update that keeps the start must not fail on it. Throws one
 * UserError naming every bad value, before any cloud call.
 */
export function parseFutureRequest(props: FutureReservationWireProperties): FutureReservationRequest {
  const errors: Array<string | undefined> = [];
  const { text, number, flag, date } = wireReaders(errors);
  const instanceType = text(props.InstanceType) ?? '';
  const instanceCount = number('instanceCount', props.InstanceCount, rules.parseWholeNumber);
  const availabilityZone = text(props.AvailabilityZone) ?? '';
  const instancePlatform = text(props.InstancePlatform) ?? 'Linux/UNIX';
  const tenancy = text(props.Tenancy) ?? 'default';
  const startDate = date(props.StartDate) ?? new Date(NaN);
  const commitmentSeconds = number('commitment (seconds)', props.CommitmentSeconds, rules.parseWholeNumber);
  const endDate = date(props.EndDate);
  const maxCommittedCost = text(props.MaxCommittedCost) ?? '';
  const maxCancellationCharge = text(props.MaxCancellationCharge);
  const currencyCode = text(props.CurrencyCode) ?? DEFAULT_CURRENCY;
  const tags = (props.Tags ?? []).map(t => ({ Key: String(t.Key), Value: String(t.Value ?? '') }));

  errors.push(rules.instanceTypeError(instanceType) ?? future.futureDatedFamilyError(instanceType));
  if (!Number.isNaN(instanceCount)) errors.push(future.futureInstanceCountError(instanceCount));
  errors.push(rules.availabilityZoneError(availabilityZone, process.env.AWS_REGION));
  if (!PRICED_PLATFORMS.includes(instancePlatform)) errors.push(`instancePlatform must be one of ${PRICED_PLATFORMS.join(', ')}, got '${instancePlatform}'`);
  if (tenancy !== 'default' && tenancy !== 'dedicated') errors.push(`tenancy must be default or dedicated, got '${tenancy}'`);
  if (Number.isNaN(startDate.getTime())) errors.push(`startDate must be an ISO 8601 date, got '${props.StartDate}'`);
  if (!Number.isNaN(commitmentSeconds)) errors.push(future.commitmentError(commitmentSeconds));
  if (!Number.isNaN(startDate.getTime()) && !Number.isNaN(commitmentSeconds)) errors.push(future.endDateError(endDate, startDate, commitmentSeconds));
  errors.push(ceilingError('maxCommittedCost', maxCommittedCost));
  if (maxCancellationCharge !== undefined) errors.push(ceilingError('maxCancellationCharge', maxCancellationCharge, true));
  errors.push(rules.currencyCodeError(currencyCode));
  errors.push(...rules.tagErrors(tags, false, 'future-dated Capacity Reservation'));
  const previewOnly = flag('previewOnly', props.PreviewOnly);
  const allowRepurchase = flag('allowRepurchase', props.AllowRepurchase);
  const found = errors.filter((e): e is string => e !== undefined);
  if (found.length > 0) throw new UserError(`Invalid FutureCapacityReservation properties: ${found.join('; ')}`);
  return {
    instanceType, instanceCount, availabilityZone, instancePlatform, tenancy, startDate, commitmentSeconds, endDate,
    maxCommittedCost, maxCancellationCharge, currencyCode, allowRepurchase, previewOnly, tags,
  };
}

/** The start window, judged when EC2 is asked (synth day is not deploy day). */
export function assertStartWindow(request: FutureReservationRequest, now: Date): void {
  const error = future.startDateError(request.startDate, now);
  if (error) throw new UserError(`${error}; nothing was requested`);
}

/** The vCPU rule, with the vCPUs of one instance from its size or (metal) from EC2. */
export function assertEnoughVcpus(request: FutureReservationRequest, vcpusPerInstance: number | undefined): void {
  const error = future.totalVcpusError(request.instanceType, request.instanceCount, vcpusPerInstance);
  if (error) throw new UserError(`${error}; nothing was requested`);
}

export function describeShape(r: Pick<FutureReservationRequest, 'instanceType' | 'instanceCount' | 'availabilityZone'>): string {
  return `${r.instanceCount} x ${r.instanceType} in ${r.availabilityZone}`;
}

function ceilingError(prop: string, text: string, allowZero = false): string | undefined {
  const value = rules.parseDecimal(text);
  if (value === undefined) return `${prop} must be a plain decimal amount such as 250000 or 250000.50, got '${text}'`;
  return value > 0 || allowZero ? undefined : `${prop} must be a positive amount (the most you will pay), got '${text}'`;
}
