import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { GpuPoolStack } from '../../../examples/alicloud/stack';
import { rehearseAlicloud } from '../../../lib/local';
import { rehearseRosSequences } from '../../../lib/local/alicloud/rehearsal';

/** The main job's whole path for Alibaba: the example app, synthesized and rehearsed through the real bundle. */
test('the Alibaba example falls back to the second zone, updates in place and is released on delete', async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'ros-'));
  const app = new ros.App({ outdir });
  new GpuPoolStack(app, 'GpuPool');
  app.synth();

  const { reports, emulator } = await rehearseAlicloud(join(outdir, 'GpuPool.template.json'));

  expect(reports).toEqual([expect.objectContaining({
    ok: true, zoneId: 'cn-hangzhou-i', status: 'Active', zonesTried: ['cn-hangzhou-h', 'cn-hangzhou-i'],
    amountAfterUpdate: 5, reservationsCreated: 1, releasedOnDelete: true,
  })]);
  expect(emulator.live()).toHaveLength(0);
  expect(emulator.calls.every(c => c.fault !== 'signature')).toBe(true);
});

/** ROS's engine sequences on the example app, invariants printed. */
test('the Alibaba example through ROS\'s sequences: no duplicate live reservation, nothing live after deletion, no ROLLBACK_FAILED', async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'ros-'));
  const app = new ros.App({ outdir });
  new GpuPoolStack(app, 'GpuPool');
  app.synth();
  const lines: string[] = [];

  const invariants = await rehearseRosSequences(join(outdir, 'GpuPool.template.json'), { progress: l => lines.push(l) });

  process.stdout.write(`${lines.join('\n')}\n`);
  expect(invariants).toMatchObject({ duplicateLive: 0, liveAfterDeletion: 0, lostWhileHeld: 0, rollbackFailed: 0 });
  expect(Object.keys(invariants.scenarios).sort()).toEqual([
    'concurrent duplicate Creates', 'late Create after the rollback Delete (no PhysicalResourceId)', 'rollback Update after a later resource failed',
  ]);
  expect(lines.join('\n')).toMatch(/concurrent duplicate Creates -> [12] created, 1 live/);
  expect(lines.join('\n')).toMatch(/late Create after the rollback Delete -> answer refused 1 time\(s\), 0 live/);
});
