import { CapacityBlockOffering, CapacityReservation, EC2ServiceException } from '@aws-sdk/client-ec2';
import { ProviderEvent } from '../../../lib/aws/handler';
import { CapacityBlockWireProperties, IDEMPOTENCY_TAG, OFFERING_TAG, UPFRONT_FEE_TAG } from '../../../lib/aws/wire';

export const STACK_ID = 'arn:aws:cloudformation:us-east-2:123456789012:stack/Training/1f2e3d4c';
export const RESPONSE_URL = 'https://cloudformation-custom-resource-response-useast2.s3.amazonaws.com/secret-signature';
const DAY = 86_400_000;

/** A start date `days` ahead, on a whole hour, as EC2 offers them. */
export function daysAhead(days: number): Date {
  const d = new Date(Date.now() + days * DAY);
  d.setUTCMinutes(30, 0, 0);
  return d;
}

export function wireProps(overrides: Partial<CapacityBlockWireProperties> = {}): CapacityBlockWireProperties {
  return { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '60000', ...overrides };
}

export function createEvent(props: Partial<CapacityBlockWireProperties> = {}, requestId = 'req-create-1'): ProviderEvent {
  return {
    RequestType: 'Create',
    StackId: STACK_ID,
    RequestId: requestId,
    LogicalResourceId: 'TrainingBlock',
    ResourceProperties: wireProps(props),
    ResponseURL: RESPONSE_URL,
  } as ProviderEvent;
}

export function updateEvent(physicalId: string, props: Partial<CapacityBlockWireProperties>, oldProps: Partial<CapacityBlockWireProperties> = {}, requestId = 'req-update-1'): ProviderEvent {
  return {
    ...createEvent(props, requestId),
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    OldResourceProperties: wireProps(oldProps),
  };
}

export function deleteEvent(physicalId: string): ProviderEvent {
  return { ...createEvent(), RequestType: 'Delete', RequestId: 'req-delete-1', PhysicalResourceId: physicalId };
}

export function offering(id: string, fee: number, overrides: Partial<CapacityBlockOffering> = {}): CapacityBlockOffering {
  const start = overrides.StartDate ?? daysAhead(7);
  return {
    CapacityBlockOfferingId: id,
    InstanceType: 'p5.48xlarge',
    AvailabilityZone: 'us-east-2a',
    InstanceCount: 4,
    StartDate: start,
    EndDate: new Date(start.getTime() + 2 * DAY),
    CapacityBlockDurationHours: 48,
    UpfrontFee: fee.toFixed(2),
    CurrencyCode: 'USD',
    Tenancy: 'default',
    ...overrides,
  };
}

/** The reservation EC2 would list after buying `offer` for the request with `key`. */
export function reservation(id: string, overrides: Partial<CapacityReservation> = {}, offer: CapacityBlockOffering = offering('cb-0aaa', 50000), key = 'key'): CapacityReservation {
  return {
    CapacityReservationId: id,
    CapacityReservationArn: `arn:aws:ec2:us-east-2:123456789012:capacity-reservation/${id}`,
    InstanceType: offer.InstanceType,
    InstancePlatform: 'Linux/UNIX',
    AvailabilityZone: offer.AvailabilityZone,
    TotalInstanceCount: offer.InstanceCount,
    StartDate: offer.StartDate,
    EndDate: offer.EndDate,
    CreateDate: new Date(),
    State: 'scheduled',
    ReservationType: 'capacity-block',
    Tags: [
      { Key: IDEMPOTENCY_TAG, Value: key },
      { Key: OFFERING_TAG, Value: offer.CapacityBlockOfferingId },
      { Key: UPFRONT_FEE_TAG, Value: `${offer.UpfrontFee} ${offer.CurrencyCode}` },
    ],
    ...overrides,
  };
}

/** An error EC2 answered with (HTTP status given): the request was refused, nothing happened. */
export function ec2Error(code: string, status = 400, message = `${code} happened`): EC2ServiceException {
  return new EC2ServiceException({ name: code, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message });
}

/** A failure where the answer never arrived: the purchase may or may not have happened. */
export function lostAnswer(): Error {
  return Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
}
