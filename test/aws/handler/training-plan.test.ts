import { judgePlanOfferings, toPlanOffering } from '../../../lib/aws/handler/training-plan/offerings';
import { nextPlanName, planName } from '../../../lib/aws/handler/training-plan/plans';
import { parseTrainingPlanRequest } from '../../../lib/aws/handler/training-plan/request';
import * as planRules from '../../../lib/aws/training-plan-validation';

/** The judge of training plan offerings: SageMaker filters by the search, and every criterion is checked again here. */
const request = (overrides: Record<string, unknown> = {}) => parseTrainingPlanRequest({
  InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['training-job'], MaxUpfrontFee: '40000', TrainingPlanName: 'plan', ...overrides,
} as never);

const START = new Date('2030-03-02T11:30:00Z');
const offer = (id: string, fee: string, extra: Record<string, unknown> = {}, capacity: Record<string, unknown> = {}) => toPlanOffering({
  TrainingPlanOfferingId: id, TargetResources: ['training-job'], DurationHours: 48, DurationMinutes: 0, UpfrontFee: fee, CurrencyCode: 'USD',
  ReservedCapacityOfferings: [{ InstanceType: 'ml.p5.48xlarge', InstanceCount: 4, AvailabilityZone: 'us-east-1a', StartTime: START, EndTime: new Date(START.getTime() + 48 * 3_600_000), ...capacity }],
  ...extra,
} as never);

describe('judging training plan offerings', () => {
  test.each([
    ['a fee a fraction of a cent above the ceiling', offer('a', '40000.000000000001'), /40000\.000000000001 USD > maxUpfrontFee 40000\.00 USD/],
    ['a fee that is not a plain decimal', offer('b', '4e4'), /upfront fee '4e4' is not a plain decimal number/],
    ['another currency', offer('c', '100', { CurrencyCode: 'EUR' }), /priced in EUR, not USD/],
    ['another target', offer('d', '100', { TargetResources: ['hyperpod-cluster'] }), /not for training-job \(serves hyperpod-cluster\)/],
    ['another instance count', offer('e', '100', {}, { InstanceCount: 2 }), /^2 instances$/],
    ['another duration', offer('f', '100', { DurationHours: 72 }), /^72 h long$/],
    ['an end after latestEnd', offer('g', '100'), /ends 2030-03-04T11:30Z, after latestEnd/],
  ])('refuses %s', (_what, o, reason) => {
    const judged = judgePlanOfferings([o], request({ LatestEnd: '2030-03-04T00:00:00Z' }));
    expect(judged.acceptable).toEqual([]);
    expect(judged.refused[0].reason).toMatch(reason);
  });

  test('accepts a fee exactly at the ceiling, and ranks by fee, then start', () => {
    const later = offer('later', '30000', {}, { StartTime: new Date(START.getTime() + 86_400_000), EndTime: new Date(START.getTime() + 3 * 86_400_000) });
    const judged = judgePlanOfferings([offer('exact', '40000.00'), later, offer('cheap', '30000')], request());
    expect(judged.acceptable.map(o => o.id)).toEqual(['cheap', 'later', 'exact']);
    expect(judgePlanOfferings([offer('exact', '40000.00'), later], request({ Selection: 'EARLIEST_START' })).acceptable.map(o => o.id)).toEqual(['exact', 'later']);
  });

  test('an offering of reserved capacities one after another holds the fewest instances any of them holds', () => {
    const o = toPlanOffering({
      TrainingPlanOfferingId: 'split', TargetResources: ['training-job'], DurationHours: 48, UpfrontFee: '1', CurrencyCode: 'USD',
      ReservedCapacityOfferings: [
        { InstanceType: 'ml.p5.48xlarge', InstanceCount: 4, AvailabilityZone: 'us-east-1a', StartTime: START, EndTime: new Date(START.getTime() + 24 * 3_600_000) },
        { InstanceType: 'ml.p5.48xlarge', InstanceCount: 2, AvailabilityZone: 'us-east-1b', StartTime: new Date(START.getTime() + 24 * 3_600_000), EndTime: new Date(START.getTime() + 48 * 3_600_000) },
      ],
    } as never);
    expect(o).toMatchObject({ instanceCount: 2, availabilityZone: 'us-east-1a,us-east-1b', startTime: START, endTime: new Date(START.getTime() + 48 * 3_600_000) });
  });
});

describe('plan names', () => {
  test('a repurchase is <name>-2, -3; an unfinished attempt keeps its name', () => {
    expect(planName('run', 1)).toBe('run');
    expect(planName('run', 3)).toBe('run-3');
    const bought = { name: 'run', outcome: 'bought' } as never;
    expect(nextPlanName({ plans: [bought], extensions: [] }, 'run')).toBe('run-2');
    expect(nextPlanName({ plans: [bought, { name: 'run-2', outcome: 'intent' } as never], extensions: [] }, 'run')).toBe('run-2');
  });

  test('fails on properties SageMaker would refuse, before any call, naming every one', () => {
    expect(() => request({ InstanceCount: '0x4', TargetResources: [], TrainingPlanName: '-x' }))
      .toThrow(/^Invalid TrainingPlanPurchase properties: instanceCount must be a plain number, got '0x4'; targetResources must name at least one .*; trainingPlanName must be 1-60/);
  });
});

describe('extension rules (SageMaker: 1-day steps up to 14 days, 7-day steps up to 182 days)', () => {
  test.each([[24, undefined], [14 * 24, undefined], [15 * 24, /7-day steps/], [21 * 24, undefined], [183 * 24, /182 days/], [12, /1-day steps/]])('an extension by %i h is %s', (hours, error) => {
    const found = planRules.extensionHoursError(hours);
    if (error) expect(found).toMatch(error);
    else expect(found).toBeUndefined();
  });

  test('an extension is requested 1 h to 57 days before the plan ends', () => {
    const end = new Date('2027-03-01T11:30:00Z');
    expect(planRules.extensionTimingError(end, new Date('2027-02-28T11:30:00Z'))).toBeUndefined();
    expect(planRules.extensionTimingError(end, new Date('2027-03-01T11:00:00Z'))).toMatch(/at least 1 h before/);
    expect(planRules.extensionTimingError(end, new Date('2026-12-01T11:30:00Z'))).toMatch(/at most 57 days before/);
  });
});
