// `npm run bench`: the project's performance budgets (see README "Performance"), measured side by side in one run.
//
// 1. AWS: CapacityBlockPurchase vs the same purchases hand-wired with AwsCustomResource
//    (synth time, template bytes, CloudFormation resources, reservations per 500-resource stack).
// 2. ROS: AliCapacityReservation vs the native ALIYUN::ECS::CapacityReservation (bytes per reservation).
// 3. Handler bundles: size and cold require time.
// 4. Emulator lifecycles: API calls by action and phase, wall time; the `npm start` rehearsal.
// 5. `plan` for an app of 50 blocks and 50 reservations: questions asked per distinct request shape.
//
// Prints one table per section and writes the same data to bench-results.json at the repo root.
// Run after `npm run build` (the bench loads the compiled lib and the bundled handlers).
import { execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { cpus, tmpdir } from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import * as rosEcs from '@alicloud/ros-cdk-ecs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { unzipSync } from 'fflate';
import { CapacityBlockInstanceType, CapacityBlockPurchase } from '../lib';
import { AliCapacityReservation } from '../lib/alicloud';
import { plan } from '../lib/plan/cli';
import {
  Ec2Call, EcsCall, findResources, quietly, rehearseAlicloud, rehearseAws, SageMakerCall, withAliHandler, withAwsHandler, withLocalClouds, withTrainingPlanHandler,
  writeAwsTemplate, writeRosTemplate,
} from '../lib/local';

type Json = Record<string, any>;

const ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(ROOT, 'bench-results.json');
const STACK_RESOURCE_LIMIT = 500;
const AWS_CONTEXT = { '@aws-cdk/core:validateAgainstDefaultRules': true }; // as cdk.json and the tests
const ENV = { account: '123456789012', region: 'us-east-1' };
const SYNTH_RUNS = 3;
const LIFECYCLE_RUNS = 5;
const REQUIRE_RUNS = 5;
const KB = 1000; // budgets in KB are read as 1,000 bytes (the stricter reading)

// ---------------------------------------------------------------------------------------------
// helpers

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
const fmt = (value: number | undefined, digits = 1): string => (value === undefined || Number.isNaN(value) ? '-' : round(value, digits).toLocaleString('en-US'));
const ratio = (ours: number, theirs: number): number => ours / theirs;
const yesNo = (ok: boolean): string => (ok ? 'yes' : 'NO');
const tmp = (prefix: string): string => mkdtempSync(path.join(tmpdir(), `bench-${prefix}-`));
const section = (title: string): void => console.log(`\n=== ${title} ===\n`);

function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => cell(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map(w => '-'.repeat(w))), ...rows.map(r => line(columns.map(c => cell(r[c]))))].join('\n');
}

function groupByAction(calls: Array<{ action: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) counts[c.action] = (counts[c.action] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
const formatCounts = (counts: Record<string, number>): string => Object.entries(counts).map(([a, n]) => `${a} x${n}`).join(', ') || '(none)';
const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

interface Budget { figure: string; measured: string; budget: string; meets: boolean }
const budgets: Budget[] = [];

// ---------------------------------------------------------------------------------------------
// 1. AWS: CapacityBlockPurchase vs AwsCustomResource

type AwsImpl = 'CapacityBlockPurchase' | 'AwsCustomResource';
const AWS_IMPLS: AwsImpl[] = ['CapacityBlockPurchase', 'AwsCustomResource'];

function addAwsReservation(impl: AwsImpl, stack: Stack, i: number): void {
  if (impl === 'CapacityBlockPurchase') {
    new CapacityBlockPurchase(stack, `Block${i}`, {
      instanceType: CapacityBlockInstanceType.P5_48XLARGE,
      instanceCount: 4,
      duration: Duration.days(2),
      maxUpfrontFee: 6500,
    });
  } else {
    new AwsCustomResource(stack, `Block${i}`, {
      onCreate: {
        service: 'EC2',
        action: 'purchaseCapacityBlock',
        parameters: { CapacityBlockOfferingId: 'cb-0123456789abcdef0', InstancePlatform: 'Linux/UNIX' },
        physicalResourceId: PhysicalResourceId.fromResponse('CapacityReservation.CapacityReservationId'),
      },
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
  }
}

interface AwsSynth { constructMs: number; synthMs: number; totalMs: number; bytes: number; writtenBytes: number; resources: number }

/** A fresh App + Stack with `n` reservations, synthesized into a temp dir. Throws what synth throws. */
function synthAws(impl: AwsImpl, n: number): AwsSynth {
  const outdir = tmp('cdk');
  try {
    const t0 = nowMs();
    const app = new App({ outdir, context: AWS_CONTEXT });
    const stack = new Stack(app, 'Bench', { env: ENV });
    for (let i = 0; i < n; i++) addAwsReservation(impl, stack, i);
    const t1 = nowMs();
    const assembly = app.synth();
    const t2 = nowMs();
    const template = assembly.getStackByName(stack.stackName).template;
    return {
      constructMs: t1 - t0, synthMs: t2 - t1, totalMs: t2 - t0,
      bytes: Buffer.byteLength(JSON.stringify(template)), writtenBytes: Buffer.byteLength(JSON.stringify(template, undefined, 1)), resources: Object.keys(template.Resources ?? {}).length,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

interface AwsPoint {
  impl: AwsImpl; n: number; resources: number; bytes: number;
  constructMs: number; synthMs: number; totalMs: number; runsMs: number[];
  /** (x(N) - x(1)) / (N - 1); undefined at N = 1. */
  marginalBytesPerReservation?: number; marginalResourcesPerReservation?: number;
  /** The same, for the template as CDK writes it to cdk.out (JSON indented by 1). */
  writtenBytes: number; marginalWrittenBytesPerReservation?: number;
}

function measureAws(impl: AwsImpl, n: number, base?: AwsSynth): AwsPoint {
  const runs: AwsSynth[] = [];
  for (let r = 0; r < SYNTH_RUNS; r++) runs.push(synthAws(impl, n));
  const first = runs[0];
  const byTotal = [...runs].sort((a, b) => a.totalMs - b.totalMs);
  const mid = byTotal[Math.floor(byTotal.length / 2)];
  return {
    impl, n, resources: first.resources, bytes: first.bytes, writtenBytes: first.writtenBytes,
    constructMs: median(runs.map(r => r.constructMs)), synthMs: median(runs.map(r => r.synthMs)), totalMs: mid.totalMs,
    runsMs: runs.map(r => round(r.totalMs)),
    marginalBytesPerReservation: base && n > 1 ? (first.bytes - base.bytes) / (n - 1) : undefined,
    marginalResourcesPerReservation: base && n > 1 ? (first.resources - base.resources) / (n - 1) : undefined,
    marginalWrittenBytesPerReservation: base && n > 1 ? (first.writtenBytes - base.writtenBytes) / (n - 1) : undefined,
  };
}

function benchAws(): Json {
  section('1. AWS: CapacityBlockPurchase vs AwsCustomResource (one stack, us-east-1)');
  // Warm up both code paths (module loading, lazy requires) so N=1 is not mostly require time.
  for (const impl of AWS_IMPLS) synthAws(impl, 1);

  // Capacity: fixed and per-reservation resources from N=1 and N=2, then the largest N under the limit.
  const capacity: Record<string, Json> = {};
  for (const impl of AWS_IMPLS) {
    const one = synthAws(impl, 1);
    const two = synthAws(impl, 2);
    const perReservation = two.resources - one.resources;
    const fixed = one.resources - perReservation;
    const maxN = Math.floor((STACK_RESOURCE_LIMIT - fixed) / perReservation);
    capacity[impl] = { fixedResources: fixed, resourcesPerReservation: perReservation, maxN, n1: one, n2: two };
  }

  const points: AwsPoint[] = [];
  for (const impl of AWS_IMPLS) {
    const base = capacity[impl].n1 as AwsSynth;
    for (const n of [1, 50, 200, capacity[impl].maxN as number]) points.push(measureAws(impl, n, base));
  }

  // Verify the limit: maxN synthesizes within 500 resources, maxN + 1 is refused by CDK's stack limit.
  for (const impl of AWS_IMPLS) {
    const c = capacity[impl];
    const atMax = points.find(p => p.impl === impl && p.n === c.maxN)!;
    let overflow: string;
    try {
      const over = synthAws(impl, c.maxN + 1);
      overflow = `synthesized with ${over.resources} resources (no refusal)`;
    } catch (error) {
      const message = (error as Error).message;
      overflow = /greater than allowed maximum/.test(message) ? `refused: ${message.match(/\d+ is greater than allowed maximum of \d+/)?.[0] ?? message.slice(0, 120)}` : `error: ${message.slice(0, 160)}`;
    }
    c.verifiedAtMax = atMax.resources <= STACK_RESOURCE_LIMIT;
    c.resourcesAtMax = atMax.resources;
    c.atMaxPlusOne = overflow;
    c.verified = c.verifiedAtMax && overflow.startsWith('refused');
  }

  console.log(table(AWS_IMPLS.map(impl => {
    const c = capacity[impl];
    return {
      'implementation': impl, 'fixed resources': c.fixedResources, 'resources/reservation': c.resourcesPerReservation,
      'max N (500 limit)': c.maxN, 'resources at max N': c.resourcesAtMax, 'at max N + 1': c.atMaxPlusOne,
    };
  }), ['implementation', 'fixed resources', 'resources/reservation', 'max N (500 limit)', 'resources at max N', 'at max N + 1']));
  console.log('');

  console.log(table(points.map(p => ({
    'N': p.n, 'implementation': p.impl, 'resources': p.resources, 'resources/resv (marginal)': fmt(p.marginalResourcesPerReservation, 2),
    'template bytes': p.bytes.toLocaleString('en-US'), 'bytes/resv (marginal)': fmt(p.marginalBytesPerReservation),
    'as written: bytes/resv': fmt(p.marginalWrittenBytesPerReservation),
    'construct ms': fmt(p.constructMs), 'synth ms': fmt(p.synthMs), 'total ms (median of 3)': fmt(p.totalMs),
  })), ['N', 'implementation', 'resources', 'resources/resv (marginal)', 'template bytes', 'bytes/resv (marginal)', 'as written: bytes/resv', 'construct ms', 'synth ms', 'total ms (median of 3)']));
  console.log('\nmarginal = (x(N) - x(1)) / (N - 1); template bytes = JSON.stringify(template) (compact);');
  console.log('as written = the same template indented by 1, as CDK writes it to cdk.out (not used for the budget);');
  console.log('total = constructing the App, Stack and N reservations + app.synth()');
  console.log('');

  const ratios = [1, 50, 200].map(n => {
    const ours = points.find(p => p.impl === 'CapacityBlockPurchase' && p.n === n)!;
    const theirs = points.find(p => p.impl === 'AwsCustomResource' && p.n === n)!;
    return {
      n,
      timeRatio: ratio(ours.totalMs, theirs.totalMs),
      synthOnlyRatio: ratio(ours.synthMs, theirs.synthMs),
      bytesRatio: ratio(ours.bytes, theirs.bytes),
      marginalBytesRatio: ours.marginalBytesPerReservation !== undefined ? ratio(ours.marginalBytesPerReservation, theirs.marginalBytesPerReservation!) : undefined,
      marginalResourcesRatio: ours.marginalResourcesPerReservation !== undefined ? ratio(ours.marginalResourcesPerReservation, theirs.marginalResourcesPerReservation!) : undefined,
    };
  });
  const maxNRatio = ratio(capacity.CapacityBlockPurchase.maxN, capacity.AwsCustomResource.maxN);

  const ours200 = points.find(p => p.impl === 'CapacityBlockPurchase' && p.n === 200)!;
  const theirs200 = points.find(p => p.impl === 'AwsCustomResource' && p.n === 200)!;
  const r200 = ratios.find(r => r.n === 200)!;
  const aws: Budget[] = [
    {
      figure: 'CFN resources per AWS reservation', measured: `${fmt(ours200.marginalResourcesPerReservation, 2)} (AwsCustomResource: ${fmt(theirs200.marginalResourcesPerReservation, 2)})`,
      budget: '1', meets: ours200.marginalResourcesPerReservation! <= 1,
    },
    {
      figure: 'template bytes per AWS reservation', measured: `${fmt(ours200.marginalBytesPerReservation)} (AwsCustomResource: ${fmt(theirs200.marginalBytesPerReservation)})`,
      budget: '<= 450', meets: ours200.marginalBytesPerReservation! <= 450,
    },
    {
      figure: 'reservations that fit one stack (500 limit)', measured: `${capacity.CapacityBlockPurchase.maxN} (AwsCustomResource: ${capacity.AwsCustomResource.maxN})`,
      budget: '>= 480', meets: capacity.CapacityBlockPurchase.maxN >= 480 && capacity.CapacityBlockPurchase.verified,
    },
    {
      figure: 'synth time, 200 reservations (ratio)', measured: `${fmt(r200.timeRatio, 2)}x (${fmt(ours200.totalMs, 0)} vs ${fmt(theirs200.totalMs, 0)} ms)`,
      budget: 'ratio <= 1.0', meets: r200.timeRatio <= 1.0,
    },
  ];

  console.log(table([
    ...ratios.map(r => ({
      'N': r.n, 'time ratio (total)': `${fmt(r.timeRatio, 2)}x`, 'time ratio (synth only)': `${fmt(r.synthOnlyRatio, 2)}x`,
      'bytes ratio': `${fmt(r.bytesRatio, 2)}x`, 'bytes/resv ratio': r.marginalBytesRatio === undefined ? '-' : `${fmt(r.marginalBytesRatio, 2)}x`,
      'resources/resv ratio': r.marginalResourcesRatio === undefined ? '-' : `${fmt(r.marginalResourcesRatio, 2)}x`,
      'budget': r.n === 200 ? 'time <= 1.0x' : '', 'meets?': r.n === 200 ? yesNo(r.timeRatio <= 1.0) : '',
    })),
  ], ['N', 'time ratio (total)', 'time ratio (synth only)', 'bytes ratio', 'bytes/resv ratio', 'resources/resv ratio', 'budget', 'meets?']));
  console.log(`\nratios are CapacityBlockPurchase / AwsCustomResource; reservations per stack: ${capacity.CapacityBlockPurchase.maxN} / ${capacity.AwsCustomResource.maxN} = ${fmt(maxNRatio, 2)}x`);
  console.log('');
  console.log(table(aws.map(b => ({ figure: b.figure, measured: b.measured, budget: b.budget, 'meets?': yesNo(b.meets) })), ['figure', 'measured', 'budget', 'meets?']));
  budgets.push(...aws);

  return {
    context: AWS_CONTEXT, env: ENV, synthRuns: SYNTH_RUNS,
    capacity: Object.fromEntries(Object.entries(capacity).map(([k, v]) => [k, {
      fixedResources: v.fixedResources, resourcesPerReservation: v.resourcesPerReservation, maxN: v.maxN,
      resourcesAtMaxN: v.resourcesAtMax, atMaxNPlusOne: v.atMaxPlusOne, verified: v.verified,
    }])),
    points: points.map(p => ({ ...p, constructMs: round(p.constructMs), synthMs: round(p.synthMs), totalMs: round(p.totalMs), marginalBytesPerReservation: p.marginalBytesPerReservation === undefined ? undefined : round(p.marginalBytesPerReservation), marginalWrittenBytesPerReservation: p.marginalWrittenBytesPerReservation === undefined ? undefined : round(p.marginalWrittenBytesPerReservation), marginalResourcesPerReservation: p.marginalResourcesPerReservation })),
    ratios: ratios.map(r => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === undefined ? undefined : round(v, 3)]))),
    maxNRatio: round(maxNRatio, 3),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. ROS: AliCapacityReservation vs ALIYUN::ECS::CapacityReservation

type RosImpl = 'AliCapacityReservation' | 'ALIYUN::ECS::CapacityReservation';
const ROS_IMPLS: RosImpl[] = ['AliCapacityReservation', 'ALIYUN::ECS::CapacityReservation'];

function synthRos(impl: RosImpl, n: number): { bytes: number; resources: number; ms: number } {
  const outdir = tmp('ros');
  try {
    const t0 = nowMs();
    const app = new ros.App({ outdir });
    const stack = new ros.Stack(app, 'Bench');
    for (let i = 0; i < n; i++) {
      if (impl === 'AliCapacityReservation') {
        new AliCapacityReservation(stack, `Pool${i}`, { instanceType: 'ecs.gn7i-c8g1.2xlarge', instanceAmount: 4, zoneIds: ['cn-hangzhou-h'] });
      } else {
        new rosEcs.CapacityReservation(stack, `Pool${i}`, { instanceType: 'ecs.gn7i-c8g1.2xlarge', instanceAmount: 4, zoneId: 'cn-hangzhou-h' });
      }
    }
    const template = app.synth().getStackByName(stack.artifactId).template;
    return { bytes: Buffer.byteLength(JSON.stringify(template)), resources: Object.keys(template.Resources ?? {}).length, ms: nowMs() - t0 };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function benchRos(): Json {
  section('2. ROS: AliCapacityReservation vs native ALIYUN::ECS::CapacityReservation');
  const rows = ROS_IMPLS.map(impl => {
    synthRos(impl, 1); // warm-up
    const one = synthRos(impl, 1);
    const twenty = synthRos(impl, 20);
    const perReservation = (twenty.bytes - one.bytes) / 19;
    return {
      impl, bytesN1: one.bytes, bytesN20: twenty.bytes, resourcesN1: one.resources, resourcesN20: twenty.resources,
      marginalBytesPerReservation: perReservation, fixedBytes: one.bytes - perReservation, synthMsN20: twenty.ms,
    };
  });
  const [ours, native] = rows;
  const r = ratio(ours.marginalBytesPerReservation, native.marginalBytesPerReservation);
  console.log(table([
    ...rows.map(row => ({
      'implementation': row.impl, 'bytes N=1': row.bytesN1.toLocaleString('en-US'), 'bytes N=20': row.bytesN20.toLocaleString('en-US'),
      'fixed bytes': fmt(row.fixedBytes, 0), 'resources N=1 / N=20': `${row.resourcesN1} / ${row.resourcesN20}`,
      'bytes/resv (marginal)': fmt(row.marginalBytesPerReservation), 'synth ms N=20': fmt(row.synthMsN20),
    })),
    { 'implementation': 'ratio ours/native', 'bytes/resv (marginal)': `${fmt(r, 2)}x`, 'budget': '<= 1.6x', 'meets?': yesNo(r <= 1.6) },
  ], ['implementation', 'bytes N=1', 'bytes N=20', 'fixed bytes', 'resources N=1 / N=20', 'bytes/resv (marginal)', 'synth ms N=20', 'budget', 'meets?']));
  console.log('\nmarginal = (bytes(20) - bytes(1)) / 19, so the shared FC function + RAM role (inlined zip) is excluded');
  console.log(`(reference only: the whole native N=1 template is ${native.bytesN1} bytes; ours per reservation is ${fmt(ours.marginalBytesPerReservation / native.bytesN1, 2)}x that)`);
  budgets.push({
    figure: 'ROS template bytes per reservation', measured: `${fmt(ours.marginalBytesPerReservation)} vs native ${fmt(native.marginalBytesPerReservation)} = ${fmt(r, 2)}x`,
    budget: '<= 1.6x native', meets: r <= 1.6,
  });
  return { rows: rows.map(row => ({ ...row, marginalBytesPerReservation: round(row.marginalBytesPerReservation), fixedBytes: round(row.fixedBytes), synthMsN20: round(row.synthMsN20) })), ratio: round(r, 3) };
}

// ---------------------------------------------------------------------------------------------
// 3. Handler bundles

function coldRequireMs(file: string): number[] {
  const code = `const t=process.hrtime.bigint(); require(${JSON.stringify(file)}); console.log(Number(process.hrtime.bigint()-t)/1e6)`;
  const runs: number[] = [];
  for (let i = 0; i < REQUIRE_RUNS; i++) {
    const out = execFileSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    runs.push(Number(out.trim().split('\n').pop()));
  }
  return runs;
}

function benchBundles(): Json {
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

// ---------------------------------------------------------------------------------------------
// 4. Lifecycles on the emulators

/**
 * Drives one clean AWS lifecycle phase by phase, as rehearseAws does (same handler bundle, events and
 * simulated 30 s polls), and cuts the emulator's call log at each phase boundary.
 */
async function awsPhases(templateFile: string): Promise<Json> {
  const block = findResources(templateFile, 'Custom::CapacityBlockPurchase')[0];
  return withAwsHandler({ region: 'us-east-1' }, (handler, emulator) => quietly(async () => {
    const phases: Array<{ phase: string; calls: Ec2Call[]; invocations: number }> = [];
    let mark = 0;
    const cut = (phase: string, invocations: number) => {
      phases.push({ phase, calls: emulator.calls.slice(mark), invocations });
      mark = emulator.calls.length;
    };
    const base = {
      StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/bench/${randomUUID()}`,
      LogicalResourceId: block.logicalId, ResourceType: 'Custom::CapacityBlockPurchase',
      ResponseURL: 'https://cloudformation-custom-resource-response.invalid/presigned',
    };
    const properties = Object.fromEntries(Object.entries(block.properties).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
    const wait = async (event: Json): Promise<number> => {
      for (let poll = 1; poll <= 40; poll++) {
        emulator.clock.advance(30_000);
        if ((await handler.isComplete(event)).IsComplete) return poll;
      }
      throw new Error('isComplete did not finish within 40 polls');
    };
    const create = { ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: properties };
    const created = await handler.onEvent(create);
    cut('Create: onEvent', 1);
    cut('Create: isComplete polls', await wait({ ...create, PhysicalResourceId: created.PhysicalResourceId, Data: created.Data }));
    const updatedProps = { ...properties, Tags: [...(properties.Tags ?? []), { Key: 'rehearsal', Value: 'updated' }] };
    const update = { ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps, OldResourceProperties: properties };
    const updated = await handler.onEvent(update);
    cut('Update: onEvent', 1);
    cut('Update: isComplete polls', await wait({ ...update, PhysicalResourceId: updated.PhysicalResourceId, Data: updated.Data }));
    await handler.onEvent({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps });
    cut('Delete: onEvent', 1);
    return { phases, purchases: emulator.purchases.length };
  }));
}

/**
 * One clean TrainingPlanPurchase Create, driven as the framework drives it (onEvent, then isComplete
 * every 30 simulated seconds): SageMaker calls by action. The plan name is read once (a name already
 * bought is adopted, never bought again), the offerings searched once, the plan created once.
 */
async function trainingPlanCreate(): Promise<{ calls: SageMakerCall[]; polls: number }> {
  return withTrainingPlanHandler({ pendingMs: [60_000, 60_000] }, (handler, emulator) => quietly(async () => {
    const create = {
      RequestType: 'Create', RequestId: randomUUID(), StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/bench/${randomUUID()}`, LogicalResourceId: 'Plan',
      ResourceType: 'Custom::TrainingPlanPurchase', ResponseURL: 'https://cloudformation-custom-resource-response.invalid/presigned',
      ResourceProperties: { InstanceType: 'ml.p5.48xlarge', InstanceCount: '4', DurationHours: '48', TargetResources: ['training-job'], MaxUpfrontFee: '8000', TrainingPlanName: 'bench-plan' },
    };
    const created = await handler.onEvent(create);
    for (let poll = 1; poll <= 40; poll++) {
      emulator.clock.advance(30_000);
      if ((await handler.isComplete({ ...create, PhysicalResourceId: created.PhysicalResourceId, Data: created.Data })).IsComplete) return { calls: emulator.calls, polls: poll };
    }
    throw new Error('isComplete did not finish within 40 polls');
  }));
}

/** Drives one clean Alibaba lifecycle phase by phase, as rehearseAlicloud does. */
async function aliPhases(templateFile: string, stock: Record<string, number>): Promise<Json> {
  const resource = findResources(templateFile, 'ALIYUN::ROS::CustomResource', p => Array.isArray(p.Parameters?.ZoneIds))[0];
  return withAliHandler({ stock }, (invoke, emulator, responseUrl) => quietly(async () => {
    const phases: Array<{ phase: string; calls: EcsCall[]; status: string }> = [];
    let mark = 0;
    const cut = (phase: string, answer: Json) => {
      phases.push({ phase, calls: emulator.calls.slice(mark), status: answer.Status });
      mark = emulator.calls.length;
    };
    const base = { ResponseURL: responseUrl, StackId: randomUUID(), LogicalResourceId: resource.logicalId, RegionId: 'cn-hangzhou', ResourceType: 'ALIYUN::ROS::CustomResource' };
    const created = await invoke({ ...base, RequestType: 'Create', RequestId: randomUUID(), ResourceProperties: resource.properties });
    cut('Create', created);
    const parameters = resource.properties.Parameters as Json;
    const updatedProps = { ...resource.properties, Parameters: { ...parameters, InstanceAmount: Number(parameters.InstanceAmount) + 1 } };
    cut('Update (InstanceAmount + 1)', await invoke({ ...base, RequestType: 'Update', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps, OldResourceProperties: resource.properties }));
    cut('Delete', await invoke({ ...base, RequestType: 'Delete', RequestId: randomUUID(), PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: updatedProps }));
    return { phases };
  }));
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = nowMs();
  const result = await work();
  return { ms: nowMs() - t0, result };
}

async function benchLifecycles(): Promise<Json> {
  section('4. Lifecycles on the local emulators (redeliver: false, no faults)');
  const dir = tmp('templates');
  try {
    const awsFile = writeAwsTemplate({}, mkdtempSync(path.join(dir, 'aws-')));
    const rosOneZone = writeRosTemplate({ ZoneIds: ['cn-hangzhou-h'] }, mkdtempSync(path.join(dir, 'ros-')));
    const rosTwoZones = writeRosTemplate({}, mkdtempSync(path.join(dir, 'ros-fallback-')));

    // Full lifecycles through the public rehearsal, median of 5 (the first run also loads the bundle).
    const awsRuns: Array<{ ms: number; calls: Record<string, number>; ok: boolean; createOnEventCalls: number }> = [];
    for (let i = 0; i < LIFECYCLE_RUNS; i++) {
      const { ms, result } = await timed(() => rehearseAws(awsFile, { redeliver: false }));
      const calls = result.emulator.calls;
      const firstPoll = calls.findIndex(c => c.action === 'DescribeCapacityReservations' && c.params['CapacityReservationId.1'] !== undefined);
      awsRuns.push({ ms, calls: groupByAction(calls), ok: result.reports.every(r => r.ok), createOnEventCalls: firstPoll < 0 ? calls.length : firstPoll });
    }
    const aliRuns: Array<{ ms: number; calls: Record<string, number>; ok: boolean }> = [];
    for (let i = 0; i < LIFECYCLE_RUNS; i++) {
      const { ms, result } = await timed(() => rehearseAlicloud(rosOneZone, { redeliver: false }));
      aliRuns.push({ ms, calls: groupByAction(result.emulator.calls), ok: result.reports.every(r => r.ok) });
    }
    const aliFallbackRun = await timed(() => rehearseAlicloud(rosTwoZones, { redeliver: false }));
    const aliFallback = { ms: aliFallbackRun.ms, calls: groupByAction(aliFallbackRun.result.emulator.calls), ok: aliFallbackRun.result.reports.every(r => r.ok) };

    const stable = (runs: Array<{ calls: Record<string, number> }>) => runs.every(r => JSON.stringify(r.calls) === JSON.stringify(runs[0].calls));
    const lifecycleRows = [
      { cloud: 'AWS (EC2)', what: 'Create + Update (tag) + Delete', calls: awsRuns[0].calls, ms: awsRuns.map(r => r.ms), ok: awsRuns.every(r => r.ok), stable: stable(awsRuns) },
      { cloud: 'Alibaba (ECS)', what: 'Create + Update (amount) + Delete, 1 zone', calls: aliRuns[0].calls, ms: aliRuns.map(r => r.ms), ok: aliRuns.every(r => r.ok), stable: stable(aliRuns) },
      { cloud: 'Alibaba (ECS)', what: 'same, zone h out of stock -> i (as npm start)', calls: aliFallback.calls, ms: [aliFallback.ms], ok: aliFallback.ok, stable: true },
    ];
    console.log(table(lifecycleRows.map(r => ({
      'cloud': r.cloud, 'lifecycle': r.what, 'API calls': total(r.calls), 'calls by action': formatCounts(r.calls),
      'wall ms (median)': `${fmt(median(r.ms))}${r.ms.length > 1 ? ` (of ${r.ms.length}; first ${fmt(r.ms[0])})` : ' (1 run)'}`,
      'ok': r.ok ? (r.stable ? 'yes' : 'yes (calls vary)') : 'NO',
    })), ['cloud', 'lifecycle', 'API calls', 'calls by action', 'wall ms (median)', 'ok']));
    console.log('');

    // Per phase: the same lifecycle driven step by step, cutting the call log at each boundary.
    const aws = await awsPhases(awsFile);
    const ali = await aliPhases(rosOneZone, { 'cn-hangzhou-h': 64 });
    const phaseRows: Array<Record<string, unknown>> = [
      ...aws.phases.map((p: Json) => ({ 'cloud': 'AWS (EC2)', 'phase': p.phase, 'invocations': p.invocations, 'calls': p.calls.length, 'calls by action': formatCounts(groupByAction(p.calls)) })),
      ...ali.phases.map((p: Json) => ({ 'cloud': 'Alibaba (ECS)', 'phase': p.phase, 'invocations': 1, 'calls': p.calls.length, 'calls by action': formatCounts(groupByAction(p.calls)) })),
    ];

    // The budget: a clean Create = offering pages + 1 lookup + 1 purchase + polls, nothing else.
    const createCalls: Ec2Call[] = [...aws.phases[0].calls, ...aws.phases[1].calls];
    const polls: number = aws.phases[1].invocations;
    const pages = createCalls.filter(c => c.action === 'DescribeCapacityBlockOfferings');
    const searchPasses = pages.filter(c => c.params.NextToken === undefined).length;
    const lookups = createCalls.filter(c => c.action === 'DescribeCapacityReservations' && c.params['CapacityReservationId.1'] === undefined).length;
    const purchases = createCalls.filter(c => c.action === 'PurchaseCapacityBlock').length;
    const pollCalls = createCalls.filter(c => c.action === 'DescribeCapacityReservations' && c.params['CapacityReservationId.1'] !== undefined).length;
    const others = createCalls.length - pages.length - lookups - purchases - pollCalls;
    const createMeets = searchPasses === 1 && lookups === 1 && purchases === 1 && pollCalls === polls && others === 0;
    const createMeasured = `${createCalls.length} = ${pages.length} page(s) + ${lookups} lookup + ${purchases} purchase + ${pollCalls} poll(s)${others ? ` + ${others} other` : ''}`;
    phaseRows.push({ 'cloud': 'AWS (EC2)', 'phase': 'clean Create (onEvent + polls)', 'invocations': 1 + polls, 'calls': createCalls.length, 'calls by action': createMeasured, 'budget': 'pages + 1 lookup + 1 purchase + polls', 'meets?': yesNo(createMeets) });
    console.log(table(phaseRows, ['cloud', 'phase', 'invocations', 'calls', 'calls by action', 'budget', 'meets?']));
    const heuristic = awsRuns[0].createOnEventCalls;
    console.log(`\ncross-check: in the rehearseAws log, ${heuristic} call(s) precede the first DescribeCapacityReservations by CapacityReservationId.1 (driven Create onEvent: ${aws.phases[0].calls.length})`);
    budgets.push({ figure: 'EC2 calls for a clean Create', measured: createMeasured, budget: 'offering pages + 1 lookup + 1 purchase + polls', meets: createMeets });
    const plan = await trainingPlanCreate();
    const planCalls = groupByAction(plan.calls);
    const planOthers = plan.calls.length - (planCalls.SearchTrainingPlanOfferings ?? 0) - (planCalls.CreateTrainingPlan ?? 0) - (planCalls.DescribeTrainingPlan ?? 0);
    const planMeets = planCalls.SearchTrainingPlanOfferings === 1 && planCalls.CreateTrainingPlan === 1 && planCalls.DescribeTrainingPlan === 1 + plan.polls && planOthers === 0;
    const planMeasured = `${plan.calls.length} = 1 name read + ${planCalls.SearchTrainingPlanOfferings ?? 0} search + ${planCalls.CreateTrainingPlan ?? 0} create + ${plan.polls} poll(s)${planOthers ? ` + ${planOthers} other` : ''}`;
    console.log(table([{ 'cloud': 'AWS (SageMaker)', 'phase': 'clean training plan Create (onEvent + polls)', 'calls': plan.calls.length, 'calls by action': planMeasured, 'budget': '1 name read + 1 search + 1 create + polls', 'meets?': yesNo(planMeets) }],
      ['cloud', 'phase', 'calls', 'calls by action', 'budget', 'meets?']));
    budgets.push({ figure: 'SageMaker calls for a clean training plan Create', measured: planMeasured, budget: '1 name read + 1 search + 1 create + polls', meets: planMeets });
    console.log('');

    // `npm start`-equivalent: one AWS + one Alibaba lifecycle as npm start runs them (redelivery on,
    // zone fallback), in process; then scripts/rehearse.mjs itself on the synthesized examples.
    const bothRuns: number[] = [];
    let bothOk = true;
    for (let i = 0; i < LIFECYCLE_RUNS; i++) {
      const { ms, result } = await timed(async () => [await rehearseAws(awsFile), await rehearseAlicloud(rosTwoZones)] as const);
      bothOk = bothOk && result[0].reports.every(r => r.ok) && result[1].reports.every(r => r.ok);
      bothRuns.push(ms);
    }
    const examplesReady = ['cdk.out', 'ros.out'].every(d => existsSync(path.join(ROOT, d)) && readdirSync(path.join(ROOT, d)).some(f => f.endsWith('.template.json')));
    const scriptRuns: number[] = [];
    let scriptNote = 'cdk.out/ or ros.out/ has no template: run `npm run synth && npm run synth:alicloud` first';
    if (examplesReady) {
      scriptNote = 'passed';
      for (let i = 0; i < 3; i++) {
        const t0 = nowMs();
        try {
          execFileSync(process.execPath, ['scripts/rehearse.mjs'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        } catch (error) {
          scriptNote = `FAILED (exit ${(error as { status?: number }).status}): ${String((error as { stdout?: Buffer }).stdout ?? '').trim().split('\n').pop()}`;
        }
        scriptRuns.push(nowMs() - t0);
      }
    }
    const fullRows = [
      { what: 'in process: rehearseAws + rehearseAlicloud (redeliver on, zone fallback)', ms: median(bothRuns), runs: bothRuns.length, ok: bothOk ? 'passed' : 'FAILED' },
      ...(scriptRuns.length ? [{ what: 'node scripts/rehearse.mjs on cdk.out + ros.out (new process)', ms: median(scriptRuns), runs: scriptRuns.length, ok: scriptNote }] : []),
    ];
    console.log(table(fullRows.map(r => ({
      'full rehearsal, both clouds': r.what, 'wall ms (median)': `${fmt(r.ms)} (of ${r.runs})`, 'result': r.ok,
      'budget': '<= 5 s', 'meets?': yesNo(r.ms <= 5000 && !r.ok.startsWith('FAILED')),
    })), ['full rehearsal, both clouds', 'wall ms (median)', 'result', 'budget', 'meets?']));
    if (!examplesReady) console.log(`(${scriptNote})`);
    console.log('\nnot included: the two synth steps of `npm start` (cdk synth, ROS example app)');
    const worst = Math.max(...fullRows.map(r => r.ms));
    budgets.push({
      figure: 'full rehearsal, both clouds', measured: fullRows.map(r => `${fmt(r.ms / 1000, 2)} s`).join(' / ') + (scriptRuns.length ? ' (in process / new process)' : ''),
      budget: '<= 5 s wall', meets: worst <= 5000 && fullRows.every(r => !r.ok.startsWith('FAILED')),
    });

    const ms = (values: number[]) => ({ medianMs: round(median(values)), runsMs: values.map(v => round(v)) });
    return {
      lifecycles: lifecycleRows.map(r => ({ cloud: r.cloud, lifecycle: r.what, totalCalls: total(r.calls), callsByAction: r.calls, ok: r.ok, callsStableAcrossRuns: r.stable, ...ms(r.ms) })),
      phases: {
        aws: aws.phases.map((p: Json) => ({ phase: p.phase, invocations: p.invocations, calls: p.calls.length, callsByAction: groupByAction(p.calls) })),
        alicloud: ali.phases.map((p: Json) => ({ phase: p.phase, status: p.status, calls: p.calls.length, callsByAction: groupByAction(p.calls) })),
      },
      cleanCreate: { calls: createCalls.length, offeringPages: pages.length, searchPasses, lookups, purchases, polls, pollCalls, others, meets: createMeets },
      cleanTrainingPlanCreate: { calls: plan.calls.length, callsByAction: planCalls, polls: plan.polls, meets: planMeets },
      rehearseAwsCallsBeforeFirstPoll: heuristic,
      fullRehearsal: { inProcess: { ...ms(bothRuns), ok: bothOk }, rehearseScript: scriptRuns.length ? { ...ms(scriptRuns), result: scriptNote } : { skipped: scriptNote } },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 5. plan: one pass over the offering pages per distinct request shape, however many blocks share it

async function benchPlan(): Promise<Json> {
  section('5. `cdk-capacity-reservations plan`: 50 blocks in 5 shapes, 50 reservations in 2 shapes');
  const dir = tmp('plan');
  const blocks: Json = {};
  const shapes = [['p5.48xlarge', 4, 48], ['p5.48xlarge', 2, 48], ['p5.48xlarge', 4, 24], ['p4d.24xlarge', 8, 72], ['p5e.48xlarge', 1, 24]];
  for (let i = 0; i < 50; i++) {
    const [type, count, hours] = shapes[i % shapes.length];
    blocks[`Block${i}`] = { Type: 'Custom::CapacityBlockPurchase', Properties: { ServiceToken: 'x', InstanceType: type, InstanceCount: String(count), DurationHours: String(hours), MaxUpfrontFee: '1000000', AvailabilityZone: 'us-east-1a' } };
  }
  writeFileSync(path.join(dir, 'Blocks.template.json'), JSON.stringify({ Resources: blocks }));
  const pools: Json = {};
  for (let i = 0; i < 50; i++) {
    pools[`Pool${i}`] = { Type: 'ALIYUN::ROS::CustomResource', Properties: { ServiceToken: 'x', Parameters: { InstanceType: i % 2 ? 'ecs.gn7i-c8g1.2xlarge' : 'ecs.g7.large', InstanceAmount: 2, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'] } } };
  }
  writeFileSync(path.join(dir, 'Pools.template.json'), JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Resources: pools }));

  try {
    return await withLocalClouds({ ec2: { region: 'us-east-1' } }, async ({ ec2, ecs }) => {
      const { ms, result } = await timed(() => plan([dir]));
      const pages = ec2.calls.filter(c => c.action === 'DescribeCapacityBlockOfferings');
      const questions = new Set(pages.map(p => JSON.stringify({ ...p.params, NextToken: undefined, StartDateRange: undefined, EndDateRange: undefined })));
      const repeated = pages.length - new Set(pages.map(p => JSON.stringify(p.params))).size;
      const ecsByAction = groupByAction(ecs.calls);
      const ecsRepeated = ecs.calls.length - new Set(ecs.calls.map(c => JSON.stringify(c.query))).size;
      const rows = [
        { cloud: 'AWS', reservations: 50, 'distinct shapes': questions.size, 'API calls': `${pages.length} offering pages`, 'repeated identical calls': repeated, 'wall ms': fmt(ms, 0) },
        { cloud: 'Alibaba Cloud', reservations: 50, 'distinct shapes': 2, 'API calls': formatCounts(ecsByAction), 'repeated identical calls': ecsRepeated, 'wall ms': '' },
      ];
      console.log(table(rows, ['cloud', 'reservations', 'distinct shapes', 'API calls', 'repeated identical calls', 'wall ms']));
      const meets = repeated === 0 && ecsRepeated === 0 && questions.size === shapes.length && result.reservations.length === 100;
      budgets.push({ figure: 'plan, 100 reservations: repeated identical API calls', measured: `${repeated + ecsRepeated} (${pages.length} EC2 pages for ${questions.size} shapes; ${ecs.calls.length} ECS calls)`, budget: '0: one pass per distinct shape', meets });
      return { ms: round(ms), awsShapes: questions.size, awsPages: pages.length, awsRepeated: repeated, ecsCalls: ecsByAction, ecsRepeated, wouldFail: result.wouldFail.length };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = nowMs();
  console.log(`cdk-capacity-reservations bench: node ${process.version}, ${cpus().length} CPU(s), ${new Date().toISOString()}`);
  const results: Json = {
    meta: { node: process.version, cpus: cpus().length, date: new Date().toISOString() },
  };
  results.aws = benchAws();
  results.ros = benchRos();
  results.bundles = benchBundles();
  results.lifecycles = await benchLifecycles();

  results.plan = await benchPlan();

  section('Summary: budgets');
  console.log(table(budgets.map(b => ({ figure: b.figure, measured: b.measured, budget: b.budget, 'meets?': yesNo(b.meets) })), ['figure', 'measured', 'budget', 'meets?']));
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
