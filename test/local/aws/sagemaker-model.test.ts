import { answerKeysNotInModel, outputPathInModel, requestKeyInModel } from './sagemaker-model';
import { PLAN, planEngineFor } from './training-plan-harness';

/**
 * The SageMaker emulator encodes our reading of SageMaker, so it is checked against SageMaker's own
 * model: every request key it reads, every key of every answer it sends (timestamps as epoch seconds,
 * statuses and instance types the model lists), and every field the handler reads from an answer.
 */
const SERVED = ['SearchTrainingPlanOfferings', 'CreateTrainingPlan', 'DescribeTrainingPlan', 'ListTags', 'AddTags', 'DeleteTags', 'ExtendTrainingPlan', 'DescribeTrainingPlanExtensionHistory'];
const HOUR = 3_600_000;
const engine = planEngineFor({ stackName: 'Model', logicalId: 'Plan' });

/** An instance plan through buy, tag, untag, extension, preview and delete, and an UltraServer plan; what the handler read. */
async function exercise() {
  const reads = new Map<string, Set<string>>();
  const recording = (action: string, value: unknown, path: string[]): unknown => {
    if (value === null || typeof value !== 'object' || value instanceof Date) return value;
    return new Proxy(value as object, {
      get: (target, key, receiver) => {
        const child = Reflect.get(target, key, receiver);
        if (Array.isArray(target) && /^\d+$/.test(String(key))) return recording(action, child, path);
        if (typeof key !== 'string' || key === '$metadata' || key === 'length' || key === 'then' || typeof child === 'function') return child;
        const paths = reads.get(action) ?? new Set<string>();
        reads.set(action, paths);
        paths.add([...path, key].join('.'));
        return recording(action, child, [...path, key]);
      },
    });
  };
  return engine(async ({ emulator, stack, handler }) => {
    const saved = handler.hooks as unknown as Record<string, unknown>;
    Object.assign(saved, { afterCall: (command: string, output: unknown) => recording(command.replace(/Command$/, ''), output, []) });
    try {
      const cfn = stack();
      await cfn.deploy({ ...PLAN, Tags: [{ Key: 'team', Value: 'ml' }, { Key: 'cost', Value: 'a' }] });
      await cfn.deploy({ ...PLAN, Tags: [{ Key: 'team', Value: 'research' }] });
      emulator.clock.advance(HOUR);
      await cfn.deploy({ ...PLAN, DurationHours: '72', Tags: [{ Key: 'team', Value: 'research' }] });
      emulator.clock.advance(3 * HOUR); // the extension's payment clears
      await cfn.deploy({ ...PLAN, DurationHours: '72' });
      await cfn.deploy({ ...PLAN, PreviewOnly: 'true' });
      await cfn.destroy();
      const ultra = stack('once', 'ModelUltra');
      const status = await ultra.deploy({ UltraServerType: 'ml.u-p6e-gb200x72', UltraServerCount: '1', SpareInstanceCountPerUltraServer: '2', DurationHours: '24', TargetResources: ['hyperpod-cluster'], MaxUpfrontFee: '100000', TrainingPlanName: 'frontier' });
      return { reads, parametersRead: emulator.parametersRead, answers: emulator.answers, status, extensions: emulator.purchases[0].extensions.length, spare: emulator.purchases[1]?.spareInstancesPerUltraServer };
    } finally {
      Object.assign(saved, { afterCall: (_c: string, output: unknown) => output });
    }
  });
}

let seen: Awaited<ReturnType<typeof exercise>>;
beforeAll(async () => { seen = await exercise(); });

test('the flows exercise every action the emulator serves to the handler, the UltraServer plan included', () => {
  expect([...new Set(seen.answers.map(a => a.action))]).toEqual(expect.arrayContaining(SERVED));
  expect(seen.status).toBe('CREATE_COMPLETE');
  expect(seen.extensions).toBe(1);
  expect(seen.spare).toBe(2);
  expect([...seen.parametersRead.get('CreateTrainingPlan')!]).toContain('SpareInstanceCountPerUltraServer');
});

test('every request key the emulator reads is in the SageMaker model of its operation', () => {
  const problems = [...seen.parametersRead].flatMap(([action, keys]) => [...keys].map(k => requestKeyInModel(action, k)).filter(Boolean));
  expect(problems).toEqual([]);
});

test('every key of every answer the emulator sends is in the SageMaker model of its operation, timestamps as epoch seconds and statuses the model lists', () => {
  const problems = seen.answers.flatMap(({ action, body }) => answerKeysNotInModel(action, body));
  expect([...new Set(problems)]).toEqual([]);
});

test('every field the handler reads from a SageMaker answer is in the model of its operation', () => {
  expect([...seen.reads.keys()]).toEqual(expect.arrayContaining(['SearchTrainingPlanOfferings', 'CreateTrainingPlan', 'DescribeTrainingPlan', 'ListTags', 'DescribeTrainingPlanExtensionHistory', 'ExtendTrainingPlan']));
  expect([...seen.reads.get('SearchTrainingPlanOfferings')!]).toEqual(expect.arrayContaining([
    'TrainingPlanOfferings.UpfrontFee', 'TrainingPlanOfferings.ReservedCapacityOfferings.EndTime', 'TrainingPlanExtensionOfferings.UpfrontFee', 'TrainingPlanExtensionOfferings.EndDate',
  ]));
  const problems = [...seen.reads].filter(([action]) => SERVED.includes(action)).flatMap(([action, paths]) => [...paths].map(p => outputPathInModel(action, p.split('.'))).filter(Boolean));
  expect(problems).toEqual([]);
});

describe('the model checks can fail', () => {
  test('a misspelled answer key, a timestamp as text and a status the model does not list are caught', () => {
    expect(answerKeysNotInModel('DescribeTrainingPlan', { TrainingPlanArn: 'a', Status: 'Paid', StartTime: '2030-01-01', UpFrontFee: '1' })).toEqual([
      "DescribeTrainingPlan.Status: 'Paid' is not a value the model lists",
      'DescribeTrainingPlan.StartTime: a timestamp goes as epoch seconds, got "2030-01-01"',
      'DescribeTrainingPlan.UpFrontFee is not in the model',
    ]);
  });

  test('a request key the model does not have, and a handler read of a field the answer does not have, are caught', () => {
    expect(requestKeyInModel('CreateTrainingPlan', 'ClientToken')).toMatch(/'ClientToken', which is not in the request model/);
    expect(outputPathInModel('CreateTrainingPlan', ['TrainingPlanName'])).toMatch(/TrainingPlanName is not a member there/);
  });
});
