// Test figures: `npm test` end to end (the pretest build, lint, jest), its CPU time, and the five
// slowest suites, against 6 minutes on an idle 2-core machine. `--tests-from <jest.json>` reads the
// results of an earlier `npm test -- --json --outputFile <jest.json>` instead (jest's wall time only).
import { spawnSync } from 'child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'fs';
import { cpus, loadavg } from 'os';
import * as path from 'path';
import { cpuSeconds } from '../../test/support/cpu';
import { budgets, fmt, Json, nowMs, ROOT, round, section, table, tmp } from './report';

const BUDGET_SECONDS = 6 * 60;
const SLOWEST = 5;

interface SuiteResult { name: string; startTime: number; endTime: number; status: string; assertionResults: unknown[] }
interface JestResults { success: boolean; startTime: number; numTotalTests: number; numFailedTests: number; testResults: SuiteResult[] }

/** Runs `npm test` as a contributor does, recording jest's results and each suite's CPU time. */
function runNpmTest(): { jest: JestResults; cpuBySuite: Map<string, number>; wallSeconds: number; cpuSeconds: number; log: string; exit: number } {
  const dir = tmp('tests');
  const [jsonFile, cpuFile, log] = ['jest.json', 'suite-cpu.jsonl', 'npm-test.log'].map(f => path.join(dir, f));
  const out = openSync(log, 'w');
  const cpu0 = cpuSeconds();
  const t0 = nowMs();
  const run = spawnSync('npm', ['test', '--', '--json', `--outputFile=${jsonFile}`], {
    cwd: ROOT, stdio: ['ignore', out, out], env: { ...process.env, SUITE_CPU_FILE: cpuFile },
  });
  const wallSeconds = (nowMs() - t0) / 1000;
  closeSync(out);
  if (!existsSync(jsonFile)) throw new Error(`npm test exited ${run.status} before jest wrote its results; see ${log}`);
  const cpuBySuite = new Map<string, number>(existsSync(cpuFile)
    ? readFileSync(cpuFile, 'utf8').trim().split('\n').map(l => JSON.parse(l)).map(r => [r.suite, r.cpuSeconds] as [string, number])
    : []);
  return { jest: JSON.parse(readFileSync(jsonFile, 'utf8')), cpuBySuite, wallSeconds, cpuSeconds: cpuSeconds() - cpu0, log, exit: run.status ?? -1 };
}

export function benchTests(options: { resultsFile?: string }): Json {
  section(`7. npm test: the build, lint and every suite (budget: ${BUDGET_SECONDS / 60} min on an idle 2-core machine)`);
  const load = loadavg()[0];
  const measured = options.resultsFile
    ? { jest: JSON.parse(readFileSync(options.resultsFile, 'utf8')) as JestResults, cpuBySuite: new Map<string, number>(), wallSeconds: undefined, cpuSeconds: undefined, log: undefined, exit: undefined }
    : runNpmTest();
  const { jest } = measured;
  const jestSeconds = (Math.max(...jest.testResults.map(s => s.endTime)) - jest.startTime) / 1000;
  const suites = jest.testResults.map(s => {
    const name = path.relative(ROOT, s.name);
    return { name, seconds: (s.endTime - s.startTime) / 1000, cpuSeconds: measured.cpuBySuite.get(name), tests: s.assertionResults.length, status: s.status };
  }).sort((a, b) => b.seconds - a.seconds);
  const wall = measured.wallSeconds ?? jestSeconds;
  const what = measured.wallSeconds === undefined ? `jest in ${options.resultsFile}` : 'npm test (build + lint + jest)';

  console.log(table([
    { 'run': what, 'wall s': fmt(wall), 'jest wall s': fmt(jestSeconds), 'CPU s (user + sys)': fmt(measured.cpuSeconds), 'tests': jest.numTotalTests, 'failed': jest.numFailedTests, 'suites': suites.length },
  ], ['run', 'wall s', 'jest wall s', 'CPU s (user + sys)', 'tests', 'failed', 'suites']));
  console.log(`\n${SLOWEST} slowest suites (wall: from the suite's start to its end in its worker; CPU: its worker and child processes):\n`);
  console.log(table(suites.slice(0, SLOWEST).map(s => ({ 'suite': s.name, 'wall s': fmt(s.seconds), 'CPU s': fmt(s.cpuSeconds), 'tests': s.tests })), ['suite', 'wall s', 'CPU s', 'tests']));
  const cores = cpus().length;
  if (measured.cpuSeconds !== undefined) {
    console.log(`\n${cores} CPU(s), load average ${fmt(load, 2)} when it started: where other work runs, the wall time counts it too;`
      + ` ${fmt(measured.cpuSeconds / cores)} s is the CPU time spread over ${cores} cores, a lower bound for an idle machine's wall time.`);
  }
  if (measured.exit) console.log(`npm test exited ${measured.exit}: see ${measured.log}`);

  budgets.push({
    figure: `${what}, 2-core machine`,
    measured: `${fmt(wall / 60, 2)} min wall${measured.cpuSeconds === undefined ? '' : `, ${fmt(measured.cpuSeconds)} s CPU (load ${fmt(load, 2)} at start)`}; ${jest.numTotalTests} tests, ${jest.numFailedTests} failed`,
    budget: `<= ${BUDGET_SECONDS / 60} min, passing`, meets: wall <= BUDGET_SECONDS && jest.success,
  });
  return {
    run: what, wallSeconds: round(wall), jestSeconds: round(jestSeconds), cpuSeconds: measured.cpuSeconds === undefined ? undefined : round(measured.cpuSeconds),
    loadAverageAtStart: measured.cpuSeconds === undefined ? undefined : round(load, 2), tests: jest.numTotalTests, failed: jest.numFailedTests,
    suites: suites.map(s => ({ ...s, seconds: round(s.seconds), cpuSeconds: s.cpuSeconds })),
  };
}
