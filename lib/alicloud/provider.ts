import { readFileSync } from 'fs';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import * as fc from '@alicloud/ros-cdk-fc3';
import * as ram from '@alicloud/ros-cdk-ram';
import { ECS_ACTIONS, FUNCTION_TIMEOUT_SECONDS, MAX_ROS_TIMEOUT_SECONDS, ROS_ACTIONS } from './wire';

/** Built by `npm run build` (scripts/bundle-handlers.mjs): the zipped FC handler, shipped in the package. */
export const HANDLER_ZIP = path.join(__dirname, '..', '..', 'assets', 'alicloud-capacity-reservation-handler', 'code.zip');

/**
 * The FC3 function and RAM role behind every AliCapacityReservation of a stack, found through the
 * construct tree. The code travels inline (Code.ZipFile), so the template deploys as it is.
 */
export class AliCapacityReservationProvider extends ros.Construct {
  public static readonly ID = 'AliCapacityReservationProvider';

  public static getOrCreate(scope: ros.Construct): AliCapacityReservationProvider {
    const stack = ros.Stack.of(scope);
    const existing = stack.node.tryFindChild(AliCapacityReservationProvider.ID);
    return existing instanceof AliCapacityReservationProvider ? existing : new AliCapacityReservationProvider(stack, AliCapacityReservationProvider.ID);
  }

  public readonly serviceToken: string;

  private constructor(scope: ros.Construct, id: string) {
    super(scope, id);
    // ROS logical ids are the bare construct ids. Every reservation's ServiceToken names the
    // function, so its id is kept short: template bytes per reservation are a budget (npm run bench).
    // Names must be unique per region/account: the stack id makes them so.
    const unique = (prefix: string) => ros.Fn.join('', [prefix, ros.RosPseudo.stackId]);

    const role = new ram.Role(this, 'CrpHandlerRole', {
      roleName: unique('crp-fc-'),
      description: 'cdk-capacity-reservations: lets the FC handler manage ECS capacity reservations',
      assumeRolePolicyDocument: {
        version: '1',
        statement: [{ action: 'sts:AssumeRole', effect: 'Allow', principal: { service: ['fc.aliyuncs.com'] } }],
      },
      policies: [{
        policyName: unique('crp-ecs-'),
        policyDocument: {
          version: '1',
          statement: [
            // RAM authorizes DescribeCapacityReservations on capacityreservation/* too: no wildcard resource.
            // The ECS references list no condition key (such as acs:ResourceTag) for these six actions,
            // so the handler itself acts only on reservations carrying the resource's tag, read by id.
            {
              effect: 'Allow',
              action: [...ECS_ACTIONS],
              resource: [ros.Fn.sub('acs:ecs:${ALIYUN::Region}:${ALIYUN::AccountId}:capacityreservation/*')],
            },
            // The stack's own status only (removalPolicy retain-on-update-or-delete).
            {
              effect: 'Allow',
              action: [...ROS_ACTIONS],
              resource: [ros.Fn.sub('acs:ros:${ALIYUN::Region}:${ALIYUN::AccountId}:stack/${ALIYUN::StackId}')],
            },
          ],
        },
      }],
    });

    const fn = new fc.Function(this, 'CrpHandler', {
      functionName: unique('capacity-reservations-'),
      description: 'cdk-capacity-reservations: creates, updates and releases ECS capacity reservations for ROS',
      runtime: 'nodejs20',
      handler: 'index.handler',
      memorySize: 512,
      timeout: FUNCTION_TIMEOUT_SECONDS,
      role: role.attrArn,
      code: { zipFile: readFileSync(HANDLER_ZIP).toString('base64') },
    });
    // ROS invokes FC asynchronously. FC keeps an event up to 86400 s by default (and retries a
    // throttled one for hours), so a Create could run long after ROS gave up and rolled back, and
    // create a reservation nobody tracks. Events older than ROS's longest wait are dropped instead.
    new fc.AsyncInvokeConfig(this, 'CrpAsync', {
      functionName: fn.attrFunctionName,
      maxAsyncEventAgeInSeconds: MAX_ROS_TIMEOUT_SECONDS,
    });
    this.serviceToken = ros.Token.asString(fn.attrArn);
  }
}
