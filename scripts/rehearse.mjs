// `npm start`: rehearse the synthesized example apps against the local emulators, through the real
// bundled handlers and SDK clients, and print what was bought, where, for how much, and what delete did.
// Exits non-zero if any lifecycle broke.
import { existsSync, readdirSync } from 'fs';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
// `npm run build` has said what Node.js 20 means, in one line; the SDK's clients need not repeat it.
require('./node-notices.cjs').silenceNodeBanners();
const { planLocally, rehearseAws, rehearseAlicloud, rehearseRosSequences, rehearseTrainingPlans } = require('../lib/local/index.js');

const templates = dir => (existsSync(dir) ? readdirSync(dir).filter(f => f.endsWith('.template.json')).map(f => `${dir}/${f}`) : []);
// The rehearsal mutes the handlers' JSON logs via console.log, so progress goes straight to stdout.
const progress = line => process.stdout.write(`${line}\n`);
const table = (rows, columns) => {
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => String(r[c] ?? '').length)));
  const line = cells => cells.map((cell, i) => String(cell ?? '').padEnd(widths[i])).join('  ');
  return [line(columns), line(widths.map(w => '-'.repeat(w))), ...rows.map(r => line(columns.map(c => r[c])))].join('\n');
};

const started = Date.now();
let failures = 0;

// First what a platform team would run before paying: `cdk-capacity-reservations plan cdk.out ros.out`,
// the real CLI, against the emulators instead of the clouds (read-only: it buys nothing).
{
  const places = ['cdk.out', 'ros.out'].filter(p => existsSync(p));
  console.log(`$ cdk-capacity-reservations local -- plan ${places.join(' ')}   (the local emulators instead of the clouds)\n`);
  let progressAndErrors = '';
  const code = await planLocally(places, {
    ecs: { hourlyPrices: { 'ecs.gn7i-c8g1.2xlarge': 12.5 } },
    io: { stdout: t => process.stdout.write(t), stderr: t => { progressAndErrors += t; } },
  });
  if (code !== 0) {
    console.log(`${progressAndErrors.trim().split('\n').pop()}\nplan exited ${code}`);
    failures++;
  }
}

for (const file of templates('cdk.out')) {
  console.log(`\nAWS: ${file} -> local EC2 and SageMaker emulators`);
  const { reports } = await rehearseAws(file, { progress });
  for (const r of reports) {
    if (!r.ok) failures++;
    // The plan above showed every offering and the judge's verdict; here, what the deploy did.
    console.log(`\n${r.logicalId}: ${r.offeringsConsidered.length} offerings considered for maxUpfrontFee ${r.request.maxUpfrontFee}, ${r.request.selection}; took ${r.chosenOfferingId ?? 'none'}`);
    console.log(r.ok
      ? `  bought ${r.capacityReservationId} for ${r.upfrontFee}, state ${r.state}; purchases made: ${r.purchases}; EC2 calls: ${r.ec2Calls}${(r.capacityReservationIds ?? []).length > 1 ? `\n  reservations of the block: ${r.capacityReservationIds.join(', ')}` : ''}\n  delete: ${r.afterDelete}`
      : `  FAILED: ${r.error}`);
  }
  const { reports: plans } = await rehearseTrainingPlans(file, { progress });
  for (const r of plans) {
    if (!r.ok) failures++;
    console.log(`\n${r.logicalId}: ${r.offeringsConsidered.length} training plan offerings considered for maxUpfrontFee ${r.request.maxUpfrontFee}, ${r.request.selection}; took ${r.chosenOfferingId ?? 'none'}`);
    console.log(r.ok
      ? `  bought training plan ${r.trainingPlanName} for ${r.upfrontFee}, status ${r.status}; plans bought: ${r.purchases}; SageMaker calls: ${r.sageMakerCalls}\n  delete: ${r.afterDelete}`
      : `  FAILED: ${r.error}`);
  }
}

for (const file of templates('ros.out')) {
  console.log(`\nAlibaba Cloud: ${file} -> local ECS emulator`);
  const { reports } = await rehearseAlicloud(file, { progress });
  console.log('');
  console.log(table(reports.map(r => ({
    resource: r.logicalId, reservation: r.reservationId ?? '-', zone: r.zoneId ?? '-', 'zones tried': r.zonesTried.join(', '),
    status: r.status ?? '-', 'amount after update': r.amountAfterUpdate ?? '-', 'on delete': r.releasedOnDelete ? 'released' : 'NOT released',
    result: r.ok ? 'ok' : `FAILED: ${r.error ?? ''}`,
  })), ['resource', 'reservation', 'zone', 'zones tried', 'status', 'amount after update', 'on delete', 'result']));
  failures += reports.filter(r => !r.ok).length;
  console.log(`\nAlibaba Cloud: ${file} through ROS's sequences (duplicate, late and rolled-back requests)`);
  const ros = await rehearseRosSequences(file, { progress });
  if (ros.duplicateLive + ros.liveAfterDeletion + ros.lostWhileHeld + ros.rollbackFailed > 0) failures++;
}

// Wall time: the emulators' clocks are simulated, so the hours a payment and the waits take in the
// cloud pass within it.
console.log(`\nRehearsal ${failures === 0 ? 'passed' : `FAILED (${failures})`} in ${((Date.now() - started) / 1000).toFixed(1)} s of wall time (the hours of payment and waiting ran on the emulators' simulated clocks).`);
process.exit(failures === 0 ? 0 : 1);
