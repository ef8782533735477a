// `npm start`: rehearse the synthesized example apps against the local emulators, through the real
// bundled handlers and SDK clients, and print what was bought, where, for how much, and what delete did.
// Exits non-zero if any lifecycle broke.
import { existsSync, readdirSync } from 'fs';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const { rehearseAws, rehearseAlicloud } = require('../lib/local/index.js');

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

for (const file of templates('cdk.out')) {
  console.log(`\nAWS: ${file} -> local EC2 emulator`);
  const { reports } = await rehearseAws(file, { progress });
  for (const r of reports) {
    if (!r.ok) failures++;
    console.log(`\n${r.logicalId}: offerings considered (${r.offeringsConsidered.length}) for maxUpfrontFee ${r.request.maxUpfrontFee}, ${r.request.selection}`);
    const rows = [...r.offeringsConsidered]
      .sort((a, b) => Number(a.upfrontFee) - Number(b.upfrontFee))
      .map(o => {
        const hours = o.durationHours * o.instanceCount;
        const verdict = o.id === r.chosenOfferingId ? 'bought'
          : r.request.availabilityZone && o.availabilityZone !== r.request.availabilityZone ? `not in ${r.request.availabilityZone}`
            : Number(o.upfrontFee) > r.request.maxUpfrontFee ? 'above maxUpfrontFee' : 'acceptable, not chosen';
        return {
          ' ': o.id === r.chosenOfferingId ? '*' : '', verdict,
          offering: o.id, zone: o.availabilityZone, start: o.startDate.toISOString().slice(0, 16) + 'Z',
          end: new Date(o.startDate.getTime() + o.durationHours * 3_600_000).toISOString().slice(0, 16) + 'Z',
          'upfront fee': `${o.upfrontFee} ${o.currencyCode}`, 'per instance-hour': (Number(o.upfrontFee) / hours).toFixed(2),
        };
      });
    console.log(table(rows, [' ', 'offering', 'zone', 'start', 'end', 'upfront fee', 'per instance-hour', 'verdict']));
    console.log(r.ok
      ? `  bought ${r.capacityReservationId} for ${r.upfrontFee}, state ${r.state}; purchases made: ${r.purchases}; EC2 calls: ${r.ec2Calls}${(r.capacityReservationIds ?? []).length > 1 ? `\n  reservations of the block: ${r.capacityReservationIds.join(', ')}` : ''}\n  delete: ${r.afterDelete}`
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
}

console.log(`\nRehearsal ${failures === 0 ? 'passed' : `FAILED (${failures})`} in ${((Date.now() - started) / 1000).toFixed(1)} s (simulated clock).`);
process.exit(failures === 0 ? 0 : 1);
