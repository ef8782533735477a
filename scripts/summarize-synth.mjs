// Prints what `npm start` synthesized: per template, the reservations it holds and their limits.
import { existsSync, readdirSync, readFileSync } from 'fs';

const templates = dir => (existsSync(dir) ? readdirSync(dir).filter(f => f.endsWith('.template.json')).map(f => `${dir}/${f}`) : []);

for (const file of [...templates('cdk.out'), ...templates('ros.out')]) {
  const template = JSON.parse(readFileSync(file, 'utf8'));
  const resources = Object.entries(template.Resources ?? {});
  console.log(`${file}: ${resources.length} resources, ${(JSON.stringify(template).length / 1024).toFixed(1)} KiB`);
  for (const [id, { Type: type, Properties: p }] of resources) {
    if (type === 'Custom::CapacityBlockPurchase') {
      const where = typeof p.AvailabilityZone === 'string' ? ` in ${p.AvailabilityZone}` : '';
      const preview = p.PreviewOnly === 'true' ? ' (previewOnly: buys nothing)' : '';
      console.log(`  ${id}: Capacity Block ${p.InstanceCount} x ${p.InstanceType} for ${p.DurationHours} h${where}, at most ${p.MaxUpfrontFee} ${p.CurrencyCode ?? 'USD'} up front${preview}`);
    } else if (type === 'ALIYUN::ROS::CustomResource' && p.Parameters?.ZoneIds) {
      const q = p.Parameters;
      console.log(`  ${id}: ECS capacity reservation ${q.InstanceAmount} x ${q.InstanceType}, zones ${q.ZoneIds.join(' then ')}, ${q.EndTime ? `until ${q.EndTime}` : 'until released'}, on delete: ${q.RemovalPolicy ?? 'release'}`);
    }
  }
}
