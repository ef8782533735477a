import { randomUUID } from 'crypto';
import { faultPlan, newReport, record, ChaosReport } from '../chaos-report';
import { seededRandom } from '../faults';
import { Json, quietly } from '../resources';
import { AwsHandler, withAwsHandler } from './rehearsal';

/**
 * `count` seeded Capacity Block lifecycles against a faulty EC2: throttling, 5xx, resets, lost
 * purchase answers, offerings sold between search and purchase, failed payments, waitTimeout
 * reached while payment is pending, redelivered Creates and deletes during the wait.
 */
export async function chaosAws(count: number, baseSeed = 1): Promise<ChaosReport> {
  const started = Date.now();
  const report = newReport();
  for (let i = 0; i < count; i++) {
    const seed = baseSeed + i;
    const random = seededRandom(seed * 7919);
    const ceiling = random() < 0.15 ? 5_000 : 6_000 + Math.floor(random() * 2_000);
    const scenario = {
      redeliver: random() < 0.5,
      deleteDuringWait: random() < 0.2,
      waitTimeoutSeconds: random() < 0.15 ? 0 : 1_800,
      props: { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: String(ceiling), AvailabilityZone: random() < 0.5 ? 'us-east-1a' : undefined },
    };
    const paymentFails = random() < 0.1;
    await withAwsHandler({
      // The AWS SDK backs off 0.5 s and more per throttle: a lower rate keeps 200 lifecycles in minutes.
      faults: faultPlan(random, seed, ['PurchaseCapacityBlock', 'CreateTags'], 0.1),
      soldBeforePurchase: Math.floor(random() * 3),
      paymentFails: () => paymentFails,
    }, async (handler, emulator) => {
      const outcome = await quietly(() => awsLifecycle(handler, emulator.clock.advance.bind(emulator.clock), scenario));
      const bought = emulator.purchases;
      const owed = bought.filter(r => emulator.stateOf(r) !== 'payment-failed');
      record(report, seed, {
        duplicate: bought.length > 1,
        above: bought.some(r => Number(r.offering.upfrontFee) > ceiling),
        untracked: owed.some(r => r.id !== outcome.trackedId),
      }, outcome.failure, emulator.faults.injected);
    });
  }
  return { cloud: 'aws', lifecycles: count, ...report, wallMs: Date.now() - started };
}

/** Drives one resource as the Provider framework would; returns the block id the stack tracks, if any. */
async function awsLifecycle(handler: AwsHandler, advance: (ms: number) => void, scenario: { redeliver: boolean; deleteDuringWait: boolean; waitTimeoutSeconds: number; props: Json }): Promise<{ trackedId?: string; failure?: string }> {
  const properties = Object.fromEntries(Object.entries({ ...scenario.props, WaitTimeoutSeconds: String(scenario.waitTimeoutSeconds) }).filter(([, v]) => v !== undefined));
  const base = { StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/chaos/${randomUUID()}`, LogicalResourceId: 'Block', ResponseURL: 'https://cfn.invalid/presigned' };
  const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: properties };
  let created: { PhysicalResourceId: string; Data?: Json };
  try {
    created = await handler.onEvent(create);
    if (scenario.redeliver) {
      const again = await handler.onEvent(create);
      if (again.PhysicalResourceId !== created.PhysicalResourceId) return { trackedId: created.PhysicalResourceId };
    }
  } catch (error) {
    return { failure: (error as Error).message }; // CloudFormation records the Create as failed: the stack tracks nothing.
  }
  const id = created.PhysicalResourceId;
  const remove = () => handler.onEvent({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: id, ResourceProperties: properties });
  if (scenario.deleteDuringWait) {
    await remove(); // a rollback or stack delete while payment is pending: tracked until deleted, left to expire
    return { trackedId: id };
  }
  for (let poll = 0; poll < 40; poll++) {
    advance(30_000);
    try {
      const result = await handler.isComplete({ ...create, PhysicalResourceId: id, Data: created.Data });
      if (result.IsComplete) break;
    } catch (error) {
      return { failure: (error as Error).message }; // reported FAILED: allowed only when nothing is owed (payment-failed)
    }
  }
  await remove();
  return { trackedId: id };
}
