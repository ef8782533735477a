// `npm run bench`: the project's performance budgets (see README "Performance"), measured side by side
// in one run, one module per family of figures:
//
// 1-2. template.ts   CapacityBlockPurchase vs AwsCustomResource; AliCapacityReservation vs the native ROS type
// 3.   bundles.ts    handler bundles (size, cold require time) and the npm tarball
// 4.   rehearsal.ts  whole lifecycles through the public rehearsal, and the `npm start` rehearsal
// 5.   calls.ts      API calls of a clean lifecycle, phase by phase
// 6.   plan.ts       `plan` for an app of 50 blocks and 50 reservations
// 7.   tests.ts      `npm test` end to end and its five slowest suites
//
// Prints one table per figure and a summary of the budgets, and writes the same data to
// bench-results.json at the repo root. Run after `npm run build` (it loads the compiled lib and the
// bundled handlers). `--skip-tests` leaves out 7 (it runs `npm test`, minutes);
// `--tests-from <jest.json>` reads a jest --json results file for it instead.
import { writeFileSync } from 'fs';
import { cpus } from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { benchBundles } from './bundles';
import { benchCalls } from './calls';
import { benchPlan } from './plan';
import { benchRehearsal } from './rehearsal';
import { budgets, budgetTable, Json, nowMs, ROOT, round, section } from './report';
import { benchAws, benchRos } from './template';
import { benchTests } from './tests';

// The rehearsals load the AWS SDK: `npm run build` has said what Node.js 20 means, in one line.
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require('../node-notices.cjs') as { silenceNodeBanners: () => void }).silenceNodeBanners();

const RESULTS_FILE = path.join(ROOT, 'bench-results.json');

async function main(): Promise<void> {
  const { values: options } = parseArgs({ options: { 'skip-tests': { type: 'boolean', default: false }, 'tests-from': { type: 'string' } } });
  const started = nowMs();
  console.log(`cdk-capacity-reservations bench: node ${process.version}, ${cpus().length} CPU(s), ${new Date().toISOString()}`);
  const results: Json = {
    meta: { node: process.version, cpus: cpus().length, date: new Date().toISOString() },
  };
  results.aws = benchAws();
  results.ros = benchRos();
  results.bundles = benchBundles();
  results.lifecycles = await benchRehearsal();
  results.calls = await benchCalls();
  results.plan = await benchPlan();
  if (!options['skip-tests']) results.tests = benchTests({ resultsFile: options['tests-from'] });

  section('Summary: budgets');
  console.log(budgetTable(budgets));
  const missed = budgets.filter(b => !b.meets);
  console.log(missed.length === 0 ? '\nAll budgets met.' : `\nBudgets missed (${missed.length}):\n${missed.map(b => `  - ${b.figure}: ${b.measured} (budget ${b.budget})`).join('\n')}`);
  const seconds = (nowMs() - started) / 1000;
  console.log(`\nbench finished in ${seconds.toFixed(1)} s; results in ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}`);

  results.budgets = budgets;
  results.missed = missed.map(b => b.figure);
  results.meta.benchSeconds = round(seconds);
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
}

main().catch(error => {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
