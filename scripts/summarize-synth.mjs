// Prints what `npm start` synthesized: per stack, the reservations it will buy and what they cost at most.
import { readdirSync, readFileSync } from 'fs';

for (const file of readdirSync('cdk.out').filter(f => f.endsWith('.template.json'))) {
  const resources = Object.entries(JSON.parse(readFileSync(`cdk.out/${file}`, 'utf8')).Resources ?? {});
  const blocks = resources.filter(([, r]) => r.Type === 'Custom::CapacityBlockPurchase');
  console.log(`${file}: ${resources.length} resources, ${blocks.length} Capacity Block purchase(s)`);
  for (const [id, { Properties: p }] of blocks) {
    const where = typeof p.AvailabilityZone === 'string' ? ` in ${p.AvailabilityZone}` : '';
    console.log(`  ${id}: ${p.InstanceCount} x ${p.InstanceType} for ${p.DurationHours} h${where}, at most ${p.MaxUpfrontFee} ${p.CurrencyCode ?? 'USD'} up front${p.PreviewOnly === 'true' ? ' (previewOnly: buys nothing)' : ''}`);
  }
}
