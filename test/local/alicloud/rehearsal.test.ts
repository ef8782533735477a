import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { GpuPoolStack } from '../../../examples/alicloud/stack';
import { rehearseAlicloud } from '../../../lib/local';

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
