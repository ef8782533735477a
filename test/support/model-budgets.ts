/**
 * How many generated sequences each fast-check model suite runs in `npm test`, in one place: `npm test`
 * must finish in 6 minutes on a 2-core machine, and each suite's share is tuned here. Each budget stays
 * large enough for the suite's own coverage checks (every kind of step it counts happens at least once
 * from the fixed seed). `npm run verify -- --runs N` (FC_RUNS) runs N per suite from a new seed (FC_SEED).
 */
export const NPM_TEST_RUNS = {
  /** test/local/aws/capacity-block.model.test.ts: about 0.15 s of CPU per sequence. */
  'capacity-block': 40,
  /** test/local/aws/training-plan.model.test.ts: about 0.15 s per sequence. */
  'training-plan': 30,
  /** test/local/alicloud/ros.model.test.ts: about 0.06 s per sequence. */
  'ros': 100,
} as const;

/** The fixed seed `npm test` replays, so that CI sees the same sequences every run. */
export const NPM_TEST_SEED = 20261204;

/** FC_RUNS (npm run verify) or the suite's `npm test` budget. */
export function modelRuns(suite: keyof typeof NPM_TEST_RUNS): number {
  return Number(process.env.FC_RUNS ?? NPM_TEST_RUNS[suite]);
}

/** FC_SEED (npm run verify, or a replay) or the fixed seed. */
export function modelSeed(): number {
  return Number(process.env.FC_SEED ?? NPM_TEST_SEED);
}
