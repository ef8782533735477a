import { CapacityReservation, DescribeCapacityReservationsCommand } from '@aws-sdk/client-ec2';
import { parseDecimal } from '../validation';
import { CapacityBlockAttributes, OFFERING_TAG, UPFRONT_FEE_TAG } from '../wire';
import { ec2, ec2CallOptions } from './ec2';
import { isNotFound, UserError } from './errors';
import { iso } from './offerings';

export async function describeReservation(id: string): Promise<CapacityReservation | undefined> {
  try {
    const result = await ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: [id] }), ec2CallOptions());
    return result.CapacityReservations?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function tagValue(reservation: CapacityReservation, key: string): string | undefined {
  return reservation.Tags?.find(t => t.Key === key)?.Value;
}

/** The resource's attributes, read from EC2 (and from the tags written at purchase for the fee). */
export function attributesOf(reservation: CapacityReservation, note: string): CapacityBlockAttributes {
  // Written at purchase as "<fee> <currency>"; a fee that does not read strictly is reported as unknown.
  const [fee = '', currency = ''] = (tagValue(reservation, UPFRONT_FEE_TAG) ?? '').split(' ');
  const readable = parseDecimal(fee) !== undefined;
  return {
    CapacityReservationId: reservation.CapacityReservationId ?? '',
    CapacityReservationArn: reservation.CapacityReservationArn ?? '',
    AvailabilityZone: reservation.AvailabilityZone ?? '',
    StartDate: reservation.StartDate?.toISOString() ?? '',
    EndDate: reservation.EndDate?.toISOString() ?? '',
    UpfrontFee: readable ? fee : '',
    CurrencyCode: readable ? currency : '',
    State: reservation.State ?? 'unknown',
    OfferingId: tagValue(reservation, OFFERING_TAG) ?? '',
    Note: note,
  };
}

export function describeBlock(r: CapacityReservation): string {
  return `${r.CapacityReservationId} (${r.TotalInstanceCount} x ${r.InstanceType} in ${r.AvailabilityZone}, ${r.State}, ends ${r.EndDate ? iso(r.EndDate) : 'unknown'})`;
}

export type WaitDecision =
  | { readonly complete: false }
  | { readonly complete: true; readonly note: string };

/**
 * Lifecycle rule 4: the wait ends at scheduled/active; at the deadline a pending payment still
 * succeeds (the block is bought and cannot be undone); only payment-failed fails, as nothing is owed.
 */
export function decideWait(reservation: CapacityReservation | undefined, id: string, deadline: Date, now: Date): WaitDecision {
  const state = reservation?.State;
  if (state === 'payment-failed') {
    throw new UserError(`Payment for Capacity Block ${id} failed and EC2 released the block; nothing is owed. Check the account's payment method and deploy again`);
  }
  if (state === 'payment-pending' || state === undefined) {
    if (now < deadline) return { complete: false };
    return {
      complete: true,
      note: state === undefined
        ? `Capacity Block ${id} was bought but EC2 did not list it before waitTimeout; check it in the EC2 console`
        : `Capacity Block ${id} is bought; its payment was still pending at waitTimeout (${deadline.toISOString()}). EC2 releases it if payment fails within 12 hours`,
    };
  }
  return { complete: true, note: state === 'scheduled' || state === 'active' ? '' : `Capacity Block ${id} is ${state}` };
}
