// Rehearsal figures: wall time and calls of whole lifecycles through the public rehearsal (as
// `npm start` runs them), in process and as `node scripts/rehearse.mjs`.
import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'fs';
import * as path from 'path';
import { rehearseAlicloud, rehearseAws, writeAwsTemplate, writeRosTemplate } from '../../lib/local';
import { budgets, fmt, formatCounts, Json, median, nowMs, ROOT, round, section, table, timed, tmp, total, groupByAction, yesNo } from './report';

const LIFECYCLE_RUNS = 5;

export async function benchRehearsal(): Promise<Json> {
  section('4. Lifecycles on the local emulators (redeliver: false, no faults), and the full rehearsal');
  const dir = tmp('templates');
  try {
    const awsFile = writeAwsTemplate({}, mkdtempSync(path.join(dir, 'aws-')));
    const rosOneZone = writeRosTemplate({ ZoneIds: ['cn-hangzhou-h'] }, mkdtempSync(path.join(dir, 'ros-')));
    const rosTwoZones = writeRosTemplate({}, mkdtempSync(path.join(dir, 'ros-fallback-')));

    // Full lifecycles through the public rehearsal, median of 5 (the first run also loads the bundle).
    const awsRuns: Array<{ ms: number; calls: Record<string, number>; ok: boolean }> = [];
    for (let i = 0; i < LIFECYCLE_RUNS; i++) {
      const { ms, result } = await timed(() => rehearseAws(awsFile, { redeliver: false }));
      awsRuns.push({ ms, calls: groupByAction(result.emulator.calls), ok: result.reports.every(r => r.ok) });
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
      fullRehearsal: { inProcess: { ...ms(bothRuns), ok: bothOk }, rehearseScript: scriptRuns.length ? { ...ms(scriptRuns), result: scriptNote } : { skipped: scriptNote } },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
