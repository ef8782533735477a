import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ParallelClusterQueueOptions } from '../../../lib';
import { BLOCK_ZONE, deployTimeString, logicalIdOf, newStack, p5Block, threeZoneVpc, ultraBlock } from './fixtures';

function setup() {
  const stack = newStack();
  const vpc = threeZoneVpc(stack);
  const inZone = vpc.privateSubnets.filter(s => s.availabilityZone === BLOCK_ZONE);
  return { stack, vpc, inZone };
}

describe('parallelClusterQueue', () => {
  test('is a CAPACITY_BLOCK Slurm queue whose static nodes fill the block, in its zone', () => {
    const { stack, inZone } = setup();
    const block = p5Block(stack);

    const queue = stack.resolve(block.parallelClusterQueue({ queueName: 'gpu', subnets: inZone }));

    expect(queue).toEqual({
      Name: 'gpu',
      CapacityType: 'CAPACITY_BLOCK',
      Networking: { SubnetIds: inZone.map(s => stack.resolve(s.subnetId)) },
      ComputeResources: [{
        Name: 'capacity-block',
        InstanceType: 'p5.48xlarge',
        MinCount: 4,
        MaxCount: 4,
        CapacityReservationTarget: { CapacityReservationId: { 'Fn::GetAtt': [logicalIdOf(Template.fromStack(stack), 'Custom::CapacityBlockPurchase'), 'CapacityReservationId'] } },
      }],
    });
  });

  test('runs fewer static nodes than the block holds when told, MinCount still equal to MaxCount', () => {
    const { stack, inZone } = setup();
    const queue = p5Block(stack).parallelClusterQueue({ queueName: 'gpu', subnets: inZone, instanceCount: 2, computeResourceName: 'p5' });
    expect(queue.ComputeResources[0]).toMatchObject({ Name: 'p5', MinCount: 2, MaxCount: 2 });
  });

  test('serializes into a template value where the reservation id resolves at deploy time', () => {
    const { stack, inZone } = setup();
    const json = Stack.of(stack).toJsonString({ Scheduling: { Scheduler: 'slurm', SlurmQueues: [p5Block(stack).parallelClusterQueue({ queueName: 'gpu', subnets: inZone })] } });

    const deployed = JSON.parse(deployTimeString(stack.resolve(json), {
      attributes: { CapacityReservationId: 'cr-0123456789abcdef0' },
      refs: { [stack.resolve(inZone[0].subnetId).Ref]: 'subnet-0123456789abcdef0' },
    }));

    expect(deployed.Scheduling.SlurmQueues[0]).toMatchObject({
      Networking: { SubnetIds: ['subnet-0123456789abcdef0'] },
      ComputeResources: [{ CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } }],
    });
  });

  test.each<[string, (s: ReturnType<typeof setup>) => unknown, RegExp]>([
    ['more nodes than the block holds', ({ stack, inZone }) => p5Block(stack).parallelClusterQueue({ queueName: 'gpu', subnets: inZone, instanceCount: 8 }),
      /ParallelCluster queue gpu has instanceCount 8, but Capacity Block Stack\/Block holds 4 instances; set instanceCount to at most 4/],
    ['no nodes', ({ stack, inZone }) => p5Block(stack).parallelClusterQueue({ queueName: 'gpu', subnets: inZone, instanceCount: 0 }),
      /instanceCount must be a whole number of instances, 1 or more, got 0/],
    ['subnets in another zone', ({ stack, vpc }) => p5Block(stack).parallelClusterQueue({ queueName: 'gpu', subnets: vpc.privateSubnets }),
      /ParallelCluster queue gpu has subnets outside us-east-2a, .*\(us-east-2b\).*; select subnets in us-east-2a only/],
    ['no subnets', ({ stack }) => p5Block(stack).parallelClusterQueue({ queueName: 'gpu', subnets: [] }),
      /ParallelCluster queue gpu needs subnets in the zone of Capacity Block Stack\/Block; pass at least one/],
    ['a queue name ParallelCluster refuses', ({ stack, inZone }) => p5Block(stack).parallelClusterQueue({ queueName: 'GPU_queue', subnets: inZone }),
      /queueName must start with a lowercase letter and hold only lowercase letters, digits and hyphens, at most 25 characters, got 'GPU_queue'/],
    ['a purchase in any zone', ({ stack, inZone }) => p5Block(stack, { availabilityZone: undefined }).parallelClusterQueue({ queueName: 'gpu', subnets: inZone }),
      /the purchase has no availabilityZone, .*set availabilityZone on the purchase to 'us-east-2a', the zone of its subnets/],
    ['an UltraServer block', ({ stack, inZone }) => ultraBlock(stack).parallelClusterQueue({ queueName: 'gb200', subnets: inZone, instanceCount: 18 }),
      /ParallelCluster launches Capacity Blocks by one CapacityReservationId, and an UltraServer block is several reservations/],
  ])('fails at synth on %s, in one line', (_name, wire, message) => {
    expect(() => wire(setup())).toThrow(message);
    expect(() => wire(setup())).not.toThrow(/\n/);
  });
});

// Typed use, as a TypeScript user writes it (keeps the options struct exported).
export const example: ParallelClusterQueueOptions = { queueName: 'gpu', subnets: [] as ec2.ISubnet[] };
