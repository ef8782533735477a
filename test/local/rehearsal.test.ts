import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import { App } from 'aws-cdk-lib';
import { GpuPoolStack } from '../../examples/alicloud/stack';
import { TrainingCapacityStack } from '../../examples/aws/stack';
import { rehearseAlicloud, rehearseAws } from '../../lib/local';

/** The main job's whole path: both example apps, synthesized and rehearsed through the real bundles. */
test('the AWS example buys exactly one block within its ceiling, survives redelivery, updates in place and is left to expire', async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-'));
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  new TrainingCapacityStack(app, 'TrainingCapacity', { env: { account: '123456789012', region: 'us-east-1' } });
  app.synth();

  const { reports, emulator } = await rehearseAws(join(outdir, 'TrainingCapacity.template.json'));

  expect(reports).toHaveLength(1);
  const [block] = reports;
  expect(block).toMatchObject({ ok: true, purchases: 1, state: 'scheduled' });
  expect(block.afterDelete).toMatch(/left to expire/);
  expect(emulator.purchases).toHaveLength(1);
  expect(Number(emulator.purchases[0].offering.upfrontFee)).toBeLessThanOrEqual(6500);
  expect(emulator.purchases[0].offering.availabilityZone).toBe('us-east-1a');
  expect(emulator.purchases[0].tags.get('rehearsal')).toBe('updated');
  expect(emulator.calls.map(c => c.action)).not.toContain('CancelCapacityReservation');
});

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
