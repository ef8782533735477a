import { AUDIT_EVENT_SOURCE } from '../../../lib/aws/wire';
import { engineFor } from './engine-harness';
import { PLAN, planEngineFor } from './training-plan-harness';

/**
 * The audit trail of money, through the bundled handler under the real Provider framework runtime:
 * each purchase that moves money puts one event on the default bus, however CloudFormation delivers.
 */
const engine = engineFor({ stackName: 'Training', logicalId: 'Block' });
const BLOCK = { InstanceType: 'p5.48xlarge', InstanceCount: '4', DurationHours: '48', MaxUpfrontFee: '8000' };

describe('the audit trail of money', () => {
  test('GIVEN a Create delivered twice at once WHEN it buys THEN one "Capacity Block Purchased" event, naming the block, its offering, fee, window, stack and logical id', () => engine(async ({ emulator, stack, seams }) => {
    const cfn = stack('twice-concurrent');
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    const [block] = emulator.purchases;
    expect(seams.events.events).toEqual([{
      source: AUDIT_EVENT_SOURCE, detailType: 'Capacity Block Purchased', resources: [], eventBusName: 'default',
      detail: {
        product: 'capacity-block', ids: expect.arrayContaining([block.id]), offeringId: block.offering.id, fee: block.offering.upfrontFee, currency: 'USD',
        start: block.offering.startDate.toISOString(), end: expect.any(String), stack: 'Training', logicalId: 'Block', learnedFrom: 'answer',
      },
    }]);
  }, { faults: { latencyMs: 25 } }));

  test('GIVEN a purchase whose answer is lost WHEN its block is found THEN the event says so; an extension adds its own event', () => engine(async ({ emulator, stack, seams }) => {
    emulator.failNext('PurchaseCapacityBlock', 'lostAnswer');
    const cfn = stack();
    expect(await cfn.deploy(BLOCK)).toBe('CREATE_COMPLETE');
    emulator.clock.advance(3_600_000);
    expect(await cfn.deploy({ ...BLOCK, DurationHours: '72' })).toBe('UPDATE_COMPLETE');
    expect(seams.events.events.map(e => [e.detailType, e.detail.learnedFrom])).toEqual([['Capacity Block Purchased', 'read-after-lost-answer'], ['Capacity Block Extended', 'answer']]);
    expect(seams.events.events[1].detail).toMatchObject({ ids: [emulator.purchases[0].id], fee: emulator.extensions[0].upfrontFee });
  }));

  test('GIVEN EventBridge throttles every attempt WHEN a block is bought THEN the deploy still succeeds: a purchase never fails for its audit event', () => engine(async ({ emulator, stack, seams }) => {
    seams.events.failNext('throttle', 10);
    expect(await stack().deploy(BLOCK)).toBe('CREATE_COMPLETE');
    expect(emulator.purchases).toHaveLength(1);
    expect(seams.events.events).toEqual([]);
  }));
});

describe('the audit trail of money: training plans', () => {
  const planEngine = planEngineFor({ stackName: 'Training', logicalId: 'Plan' });

  test('GIVEN a training plan bought under a Create delivered twice THEN one "Training Plan Purchased" event naming the plan ARN, offering and fee', () => planEngine(async ({ emulator, stack, seams }) => {
    expect(await stack('twice-concurrent').deploy(PLAN)).toBe('CREATE_COMPLETE');
    const [plan] = emulator.purchases;
    expect(seams.events.events.map(e => e.detailType)).toEqual(['Training Plan Purchased']);
    expect(seams.events.events[0].detail).toMatchObject({
      product: 'training-plan', ids: [plan.arn], offeringId: plan.offering.id, fee: plan.offering.upfrontFee, currency: 'USD', stack: 'Training', logicalId: 'Plan', learnedFrom: 'answer',
    });
  }));
});
