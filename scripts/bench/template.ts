// Template figures: CapacityBlockPurchase vs the same purchases hand-wired with AwsCustomResource
// (synth time, template bytes, CloudFormation resources, reservations per 500-resource stack), and
// AliCapacityReservation vs the native ALIYUN::ECS::CapacityReservation (bytes per reservation).
import { rmSync } from 'fs';
import * as ros from '@alicloud/ros-cdk-core';
import * as rosEcs from '@alicloud/ros-cdk-ecs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { CapacityBlockInstanceType, CapacityBlockPurchase } from '../../lib';
import { AliCapacityReservation } from '../../lib/alicloud';
import { Budget, budgets, budgetTable, fmt, Json, median, nowMs, ratio, round, section, table, tmp, yesNo } from './report';

const STACK_RESOURCE_LIMIT = 500;
const AWS_CONTEXT = { '@aws-cdk/core:validateAgainstDefaultRules': true }; // as cdk.json and the tests
const ENV = { account: '123456789012', region: 'us-east-1' };
const SYNTH_RUNS = 3;

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

export function benchAws(): Json {
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
  console.log(budgetTable(aws));
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

export function benchRos(): Json {
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
