import { planEngineFor, PLAN } from './training-plan-harness';

const engine = planEngineFor({ stackName: 'Training', logicalId: 'Plan' });

test('smoke: a Create buys one plan', () => engine(async ({ emulator, stack }) => {
  const cfn = stack();
  expect(await cfn.deploy(PLAN)).toBe('CREATE_COMPLETE');
  console.error(JSON.stringify(cfn.exchanges, null, 1));
  expect(emulator.purchases).toHaveLength(1);
}));
