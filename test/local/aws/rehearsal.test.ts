import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'aws-cdk-lib';
import { TrainingCapacityStack } from '../../../examples/aws/stack';
import { FrontierCapacityStack } from '../../../examples/aws/ultraserver-stack';
import { rehearseAws } from '../../../lib/local';

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

test('the UltraServer example buys one P6e-GB200 block in the Dallas Local Zone within its ceiling, updates every reservation of it and leaves it to expire', async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-'));
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  new FrontierCapacityStack(app, 'FrontierCapacity', { env: { account: '123456789012', region: 'us-east-1' } });
  app.synth();

  const { reports, emulator } = await rehearseAws(join(outdir, 'FrontierCapacity.template.json'));

  expect(reports).toHaveLength(1);
  const [block] = reports;
  expect(block).toMatchObject({ ok: true, purchases: 1, state: 'scheduled' });
  expect(block.offeringsConsidered.length).toBeGreaterThan(0);
  expect(emulator.purchases).toHaveLength(1);
  const bought = emulator.purchases[0];
  expect(Number(bought.offering.upfrontFee)).toBeLessThanOrEqual(30_000);
  expect(bought.offering).toMatchObject({ ultraserverType: 'u-p6e-gb200x72', ultraserverCount: 1, availabilityZone: 'us-east-1-dfw-2a', zoneType: 'local-zone' });
  const reservations = emulator.reservationsOfPurchase(bought.id);
  expect(block.capacityReservationIds).toEqual(reservations.map(r => r.id));
  expect(reservations.map(r => r.tags.get('rehearsal'))).toEqual(reservations.map(() => 'updated'));
  expect(block.afterDelete).toMatch(/left to expire/);
});
