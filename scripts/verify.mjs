// `npm run verify -- --runs N [--seed S]`: every fast-check model suite (test/**/*.model.test.ts) with
// a larger budget than `npm test` gives them. The suites read it from FC_RUNS (and FC_SEED to replay).
import { spawnSync } from 'child_process';
import { createRequire } from 'module';
import { parseArgs } from 'util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1000' }, seed: { type: 'string' } } });
if (!/^[1-9]\d*$/.test(values.runs)) {
  console.error(`verify: --runs takes a whole number of runs, got '${values.runs}'`);
  process.exit(1);
}
// npm test replays fixed seeds; verify explores a new one each run unless told which, and says which.
const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
console.log(`verify: ${values.runs} runs per model suite, seed ${seed} (replay with --seed ${seed})`);
const env = { ...process.env, FC_RUNS: values.runs, FC_SEED: seed };
// The project's own jest, not npx (which would ask to install one where node_modules has none).
const jestBin = createRequire(import.meta.url).resolve('jest/bin/jest');
const jest = spawnSync(process.execPath, [jestBin, '--testPathPattern', '\\.model\\.test\\.ts$'], { stdio: 'inherit', env });
process.exit(jest.status ?? 1);
