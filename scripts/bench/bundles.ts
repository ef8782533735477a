// Bundle figures: each shipped handler bundle's size and cold require time, and the npm tarball.
import { execFileSync } from 'child_process';
import { readFileSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { unzipSync } from 'fflate';
import { budgets, fmt, Json, KB, median, ROOT, round, section, table, tmp, yesNo } from './report';

const REQUIRE_RUNS = 5;

function coldRequireMs(file: string): number[] {
  const code = `const t=process.hrtime.bigint(); require(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint()-t)/1e6)`;
  const runs: number[] = [];
  for (let i = 0; i < REQUIRE_RUNS; i++) {
    const out = execFileSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    runs.push(Number(out.trim().split('\n').pop()));
  }
  return runs;
}

export function benchBundles(): Json {
  section('3. Handler bundles and the package (built by scripts/bundle-handlers.mjs; npm pack)');
  const aws = path.join(ROOT, 'assets', 'capacity-block-handler', 'index.js');
  const zip = path.join(ROOT, 'assets', 'alicloud-capacity-reservation-handler', 'code.zip');
  // The package ships the FC handler zipped only; its index.js is measured out of the zip.
  const ali = path.join(tmp('fc'), 'index.js');
  writeFileSync(ali, unzipSync(readFileSync(zip))['index.js']);
  const cli = path.join(ROOT, 'assets', 'cli', 'index.js');
  const items = [
    { name: 'AWS Lambda handler, onEvent (SDK external, claim library included)', file: aws, budgetBytes: 100 * KB, budget: '<= 100 KB', require: true },
    { name: 'AWS Lambda handler, isComplete (SDK external; reads only)', file: path.join(ROOT, 'assets', 'capacity-block-handler', 'is-complete.js'), budgetBytes: undefined, budget: '', require: true },
    { name: 'Training plan Lambda handler (SDK external, claim library included)', file: path.join(ROOT, 'assets', 'training-plan-handler', 'index.js'), budgetBytes: 100 * KB, budget: '<= 100 KB', require: true },
    { name: 'FC handler (all inlined, minified)', file: ali, budgetBytes: 300 * KB, budget: '<= 300 KB', require: true },
    { name: 'FC handler code.zip (inline in template)', file: zip, budgetBytes: undefined, budget: '', require: false },
    { name: 'plan CLI (SDKs inlined, unused EC2 schemas dropped)', file: cli, budgetBytes: 650 * KB, budget: '<= 650 KB', require: true },
  ];
  const rows = items.map(item => {
    const bytes = statSync(item.file).size;
    const runs = item.require ? coldRequireMs(item.file) : [];
    return {
      ...item, bytes, kib: bytes / 1024, requireRunsMs: runs.map(v => round(v, 2)), requireMedianMs: runs.length ? median(runs) : undefined,
      meets: item.budgetBytes === undefined ? undefined : bytes <= item.budgetBytes,
    };
  });
  console.log(table(rows.map(r => ({
    'bundle': r.name, 'file': r.file === ali ? 'index.js of the code.zip' : path.relative(ROOT, r.file), 'bytes': r.bytes.toLocaleString('en-US'), 'KiB': fmt(r.kib),
    'cold require ms (median of 5)': r.requireMedianMs === undefined ? '-' : fmt(r.requireMedianMs), 'budget': r.budget,
    'meets?': r.meets === undefined ? '' : yesNo(r.meets),
  })), ['bundle', 'file', 'bytes', 'KiB', 'cold require ms (median of 5)', 'budget', 'meets?']));
  console.log('\nKB = 1,000 bytes; the AWS bundle\'s require time includes loading @aws-sdk/client-ec2 from node_modules');
  const figures: Record<string, string> = { AWS: 'AWS handler bundle (SDK external)', Training: 'training plan handler bundle (SDK external)', FC: 'FC handler bundle (inline)', plan: 'plan CLI bundle' };
  for (const r of rows.filter(x => x.meets !== undefined)) {
    budgets.push({ figure: figures[r.name.split(' ')[0]], measured: `${r.bytes.toLocaleString('en-US')} bytes`, budget: r.budget, meets: r.meets! });
  }
  const tarball = benchTarball();
  return { bundles: rows.map(({ require: _r, ...r }) => ({ ...r, file: r.file === ali ? 'code.zip:index.js' : path.relative(ROOT, r.file), kib: round(r.kib, 2), requireMedianMs: r.requireMedianMs === undefined ? undefined : round(r.requireMedianMs, 2) })), tarball };
}

/** What `npm install cdk-capacity-reservations` downloads: the packed tarball (npm pack --dry-run). */
function benchTarball(): Json {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const budgetBytes = 650 * KB;
  console.log(`\nnpm tarball: ${packed.size.toLocaleString('en-US')} bytes packed, ${packed.unpackedSize.toLocaleString('en-US')} bytes unpacked, ${packed.entryCount} files (budget <= 650 KB packed: ${yesNo(packed.size <= budgetBytes)})`);
  budgets.push({ figure: 'npm tarball (packed)', measured: `${packed.size.toLocaleString('en-US')} bytes (${packed.unpackedSize.toLocaleString('en-US')} unpacked)`, budget: '<= 650 KB', meets: packed.size <= budgetBytes });
  return { packedBytes: packed.size, unpackedBytes: packed.unpackedSize, files: packed.entryCount, budgetBytes };
}
