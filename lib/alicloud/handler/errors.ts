import { oneLineText, UserError } from '../../shared/handler-log';
import { asEcsError } from './ecs';

/**
 * Create errors that mean "not in this zone": no stock, sold out, not open to the account, or the
 * type not offered there. The next zone of zoneIds is tried. Plain OperationDenied is not one: the
 * ECS seed gives it for a type or zone "not available or not authorized", an account matter a
 * user must see, not read as "no stock".
 */
export const NO_STOCK_CODES = new Set([
  'NoStock', 'OperationDenied.NoStock', 'Zone.NotOnSale', 'Zone.NotOpen', 'InvalidResourceType.NotSupported',
]);

/** Codes that mean the same whatever the call: permissions, ECS itself, the region. */
const COMMON: Record<string, string> = {
  'Forbidden.RAM': 'the function role lacks a permission; check the RAM policy of the stack\'s crp-fc- role',
  'NoPermission': 'the function role lacks a permission; check the RAM policy of the stack\'s crp-fc- role',
  'InternalError': 'ECS failed internally (after retries); deploy again later',
  'InvalidParameter.RegionId': 'the region does not exist or is not available; deploy the stack in a region that offers ECS',
};

/** Per call: a code ECS reuses across actions means something else on a release or a modify. */
const BY_ACTION: Record<string, Record<string, string>> = {
  ReleaseCapacityReservation: {
    'OperationDenied': 'ECS refused to release it (only manual-release reservations can be released, and not while instances use it); stop the instances using it or release it in the ECS console, then retry',
    'Invalid.PrivatePoolOptions.status': 'the reservation cannot be released in its current state; wait until it is Active, then retry',
  },
  ModifyCapacityReservation: {
    'NoStock': 'the zone has no stock for the larger instanceAmount; lower instanceAmount or try again later',
    'OperationDenied.NoStock': 'the zone has no stock for the larger instanceAmount; lower instanceAmount or try again later',
    'OperationDenied': 'ECS refused the change (instanceAmount cannot go below the instances in use, nor above 1000); check instanceAmount',
    'Invalid.EndTime': 'endTime is not valid; use a future UTC time in the form yyyy-MM-ddTHH:mm:ssZ',
    'Invalid.PrivatePoolOptionsName.MalFormed': 'the name is not valid; use 2-128 characters starting with a letter, with letters, digits, ":", "_" or "-"',
    'Invalid.PrivatePoolOptions.status': 'the reservation cannot change in its current state; wait until it is Active, then deploy again',
  },
};

/**
 * Every error code of the CreateCapacityReservation reference, as what it means and what to do.
 * Codes about instances or scheduled reservations cannot come from our calls, but are mapped anyway:
 * ECS reuses codes across actions.
 */
const REASONS: Record<string, string> = {
  'InvalidParameter.RegionId': 'the region does not exist or is not available; deploy the stack in a region that offers ECS',
  'MissingParameter.RegionId': 'no region was sent; deploy the stack in a region',
  'NoStock': 'the zone has no stock of this instance type; add more zones to zoneIds or try another instance type',
  'OperationDenied.NoStock': 'the instance type is out of stock in the zone; add more zones to zoneIds or try another instance type',
  'Zone.NotOnSale': 'the zone is sold out; add more zones to zoneIds or try another region',
  'OperationDenied': 'the instance type or zone is not available or not authorized for this account; pick another zone or instance type',
  'MissingParameter': 'a required parameter was missing; check instanceType, instanceAmount and zoneIds',
  'InvalidStartTime.NotSupported': 'ECS rejected the start time; this construct only creates immediate-effect reservations, so report this as a bug',
  'InvalidStartTime.MalFormed': 'ECS rejected the start time; this construct only creates immediate-effect reservations, so report this as a bug',
  'StartTime.NotNeed': 'ECS wants no start time for immediate-effect reservations; report this as a bug',
  'Invalid.PrivatePoolOptionsName.MalFormed': 'the name is not valid; use 2-128 characters starting with a letter, with letters, digits, ":", "_" or "-"',
  'Invalid.ZoneId': 'a zone id is not valid; use ids such as cn-hangzhou-h from DescribeZones',
  'Invalid.ZoneIds': 'at least one zone id is not valid; use ids from DescribeZones',
  'InvalidZoneId.NotFound': 'the zone does not exist in this region; use ids from DescribeZones',
  'Zone.NotOpen': 'this account may not buy resources in the zone yet; choose another zone or ask Alibaba Cloud support to open it',
  'Invalid.InstanceType': 'the instance type is not valid; use a type from DescribeInstanceTypes',
  'InvalidInstanceType.NotSupported': 'the instance type is not supported here; use a type from DescribeAvailableResource for the zone',
  'InvalidResourceType.NotSupported': 'this instance type is not offered in the zone; change zoneIds or instanceType',
  'InvalidResourceGroup.NotFound': 'the resource group does not exist; fix resourceGroupId or remove it',
  'Invalid.EndTime': 'endTime is not valid; use a future UTC time in the form yyyy-MM-ddTHH:mm:ssZ',
  'Invalid.TimeSlot': 'the time slot is not valid; check endTime',
  'InvalidPlatform.ValueNotSupported': 'platform does not match; use Linux or Windows, or leave it unset',
  'Invalid.PrivatePoolOptions.MatchCriteria': 'Target mode does not support this operation; use matchCriteria Open',
  'MissingParameter.PrivatePoolOptions.Id': 'no reservation id was sent; report this as a bug',
  'MissingParameter.PrivatePoolOptions.Ids': 'no reservation id was sent; report this as a bug',
  'Invalid.PrivatePoolOptions.Id': 'the reservation does not exist',
  'Invalid.PrivatePoolOptions.Ids': 'a reservation id does not exist',
  'Invalid.PrivatePoolOptions.status': 'the reservation is used up; raise instanceAmount',
  'Invalid.TooManyPrivatePoolOptions.Ids': 'too many reservation ids in one request; report this as a bug',
  'Invalid.TooManyZoneIds': 'ECS takes one zone per reservation; report this as a bug',
  'Invalid.TooManyInstanceTypes': 'ECS takes one instance type per reservation; use one instanceType',
  'Invalid.TooManyUnpaidPrivatePool': 'the account has too many unpaid reservations; pay or release them, then deploy again',
  'MissingParameter.InstanceAmount': 'instanceAmount is required',
  'MissingParameter.InstanceCpuCoreCount': 'instanceAmount is required',
  'MissingParameter.InstanceCpuCoreCountOrInstanceAmount': 'instanceAmount is required',
  'Invalid.InstanceCpuCoreCountOrInstanceAmount': 'give instanceAmount only; report this as a bug',
  'MissingParameter.PackageType': 'ECS wants a package type; report this as a bug',
  'Invalid.PackageType': 'the package type is not valid; report this as a bug',
  'Invalid.PrivatePool.Purchase': 'the reservation is already paid',
  'Invalid.AssuranceTimes.NotSupported': 'the assurance times value is not supported; report this as a bug',
  'RepeatStartPrivatePool': 'the reservation has already started',
  'DedicatedHostNotSupported': 'private pools do not support dedicated hosts',
  'SpotNotSupported': 'private pools do not support spot instances',
  'ClassicNetworkNotSupported': 'private pools do not support classic-network instances',
  'Invalid.InstanceId': 'the instance does not exist',
  'Invalid.InstanceChargeType': 'the instance charge type does not match the private pool; use pay-as-you-go',
  'InvalidAliUid': 'the private pool belongs to another account',
  'AccountForbidden.ProductCreationLimited': 'this account may only buy pay-as-you-go resources operated by Alibaba Cloud; check the instance type',
  'RegionUnauthorized': 'this account may not create capacity reservations in the region; ask Alibaba Cloud support or use another region',
  'PriceNotFound': 'ECS has no price for this type in the zone; try another zone or instance type',
  'InternalError': 'ECS failed internally (after retries); deploy again later',
  'Forbidden.RAM': 'the function role lacks a permission; check the RAM policy of the stack\'s crp-fc- role',
  'NoPermission': 'the function role lacks a permission; check the RAM policy of the stack\'s crp-fc- role',
};

/** One line a user can act on: which call, where, the ECS code, what it means and the fix. */
export function ecsFailure(action: string, where: string, error: unknown): UserError {
  if (error instanceof UserError) return error;
  const e = asEcsError(error);
  // Create's explanations (zones, stock) only for Create; other calls get theirs or ECS's own message.
  const reason = BY_ACTION[action]?.[e.code] ?? COMMON[e.code] ?? (action === 'CreateCapacityReservation' ? REASONS[e.code] : undefined) ?? oneLineText(e.message);
  return new UserError(oneLineText(`ECS ${action}${where ? ` (${where})` : ''} failed with ${e.code}: ${reason}`));
}

/**
 * What ECS answers for a reservation id it no longer has (released or unknown): the Release
 * reference gives InvalidParameter.PrivatePoolOptions.Ids; the others are seen on Describe/Modify.
 * Only these: a wider match (any *.NotFound) would count a failed release as done.
 */
const GONE_CODES = new Set(['InvalidParameter.PrivatePoolOptions.Ids', 'Invalid.PrivatePoolOptions.Ids', 'Invalid.PrivatePoolOptions.Id', 'InvalidParameter.PrivatePoolOptions.Id']);

export function isGone(error: unknown): boolean {
  return GONE_CODES.has(asEcsError(error).code);
}
