import { instanceTypeError as ecsTypeError, instanceTypeWarning as ecsSizeWarning } from '../alicloud/validation';
import { CAPACITY_BLOCK_INSTANCE_TYPES } from '../aws/validation';

/**
 * The emulators refuse an instance type the cloud would refuse, so that a misspelt type fails the
 * rehearsal and `plan` as it would fail the deploy, instead of being sold.
 */
export type CloudError = (code: string, message: string) => Error;

/**
 * EC2 sells Capacity Blocks of the types in the EC2 API model's Capacity Block families; any other
 * InstanceType of DescribeCapacityBlockOfferings gets InvalidParameterValue, EC2's code for a
 * parameter value it does not accept (the message is ours).
 */
export function refuseUnknownEc2InstanceType(type: string | undefined, error: CloudError): void {
  if (type !== undefined && !CAPACITY_BLOCK_INSTANCE_TYPES.includes(type)) {
    throw error('InvalidParameterValue', `Invalid value '${type}' for InstanceType. Capacity Blocks are offered for ${CAPACITY_BLOCK_INSTANCE_TYPES.join(', ')}.`);
  }
}

/**
 * ECS answers a type it does not have with Invalid.InstanceType (400, "The specified InstanceType is
 * not valid.", the CreateCapacityReservation error table); the emulator knows a type by its form and
 * a size ECS uses.
 */
export function refuseUnknownEcsInstanceType(type: string | undefined, error: CloudError): void {
  if (type !== undefined && (ecsTypeError(type) !== undefined || ecsSizeWarning(type) !== undefined)) {
    throw error('Invalid.InstanceType', 'The specified InstanceType is not valid.');
  }
}
