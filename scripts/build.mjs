// `npm run build`: jsii (the AWS part, for every jsii language), a type check of everything, tsc for
// the subpaths jsii leaves out (./alicloud, ./local), then esbuild's bundles (scripts/bundle-handlers.mjs).
// The three chains read only sources and write separate files, so they run side by side (each of jsii
// and tsc keeps one core busy; on 2 cores that saves about a third of the build); each chain's output
// is printed whole, in this order, once all are done.
import { spawn } from 'child_process';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const { nodeNotice, silenceNodeBanners } = require('./node-notices.cjs');

silenceNodeBanners();
const notice = nodeNotice();
if (notice) console.error(notice);

/** Runs `node <bin> ...args`, resolving to its exit status and everything it printed. */
function node(bin, ...args) {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [require.resolve(bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' } });
    let output = '';
    child.stdout.on('data', d => { output += d; });
    child.stderr.on('data', d => { output += d; });
    child.on('close', status => resolve({ status: status ?? 1, output }));
  });
}

/** Steps one after the other, stopping at the first that fails. */
async function chain(...steps) {
  let output = '';
  for (const step of steps) {
    const result = await step();
    output += result.output;
    if (result.status !== 0) return { status: result.status, output };
  }
  return { status: 0, output };
}

const results = await Promise.all([
  node('jsii/bin/jsii', '--silence-warnings=reserved-word'),
  node('typescript/bin/tsc', '-p', 'tsconfig.dev.json', '--noEmit'),
  chain(() => node('typescript/bin/tsc', '-p', 'tsconfig.subpaths.json'), () => node('./bundle-handlers.mjs')),
]);
for (const { output } of results) if (output.trim()) process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
process.exit(results.find(r => r.status !== 0)?.status ?? 0);
