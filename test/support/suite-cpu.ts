/**
 * With SUITE_CPU_FILE set (as `npm run bench` sets it), appends each suite's CPU time to that file as
 * a JSON line: its worker's user + system time from the suite's start (module loading and transforms
 * included) to its end, and that of the child processes it ran.
 */
import { appendFileSync } from 'fs';
import { relative } from 'path';
import { cpuSeconds } from './cpu';

const file = process.env.SUITE_CPU_FILE;
if (file) {
  const started = cpuSeconds();
  afterAll(() => {
    const suite = relative(process.cwd(), expect.getState().testPath ?? '');
    appendFileSync(file, `${JSON.stringify({ suite, cpuSeconds: Number((cpuSeconds() - started).toFixed(2)) })}\n`);
  });
}
