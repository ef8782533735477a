import * as ros from '@alicloud/ros-cdk-core';
import { AliCapacityReservation, MatchCriteria } from '../../lib/alicloud';

/** An inference team's GPU pool: four gn7i nodes, in zone h or, if it has no stock, zone i. */
export class GpuPoolStack extends ros.Stack {
  constructor(scope: ros.Construct, id: string, props?: ros.StackProps) {
    super(scope, id, props);

    const pool = new AliCapacityReservation(this, 'GpuPool', {
      instanceType: 'ecs.gn7i-c8g1.2xlarge',
      instanceAmount: 4,
      zoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'],
      name: 'inference-gpu-pool',
      description: 'GPU capacity for the inference fleet',
      matchCriteria: MatchCriteria.TARGET,
      tags: { team: 'inference' },
    });

    new ros.RosOutput(this, 'ReservationId', { value: pool.attrReservationId });
    new ros.RosOutput(this, 'ZoneId', { value: pool.attrZoneId });
    new ros.RosOutput(this, 'Status', { value: pool.attrStatus });
  }
}
