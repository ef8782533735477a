// plan figures: one pass over the offering pages per distinct request shape, however many blocks share it.
import { rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { plan } from '../../lib/plan/cli';
import { withLocalClouds } from '../../lib/local';
import { budgets, fmt, formatCounts, groupByAction, Json, round, section, table, timed, tmp } from './report';

export async function benchPlan(): Promise<Json> {
  section('6. `cdk-capacity-reservations plan`: 50 blocks in 5 shapes, 50 reservations in 2 shapes');
  const dir = tmp('plan');
  const blocks: Json = {};
  const shapes = [['p5.48xlarge', 4, 48], ['p5.48xlarge', 2, 48], ['p5.48xlarge', 4, 24], ['p4d.24xlarge', 8, 72], ['p5e.48xlarge', 1, 24]];
  for (let i = 0; i < 50; i++) {
    const [type, count, hours] = shapes[i % shapes.length];
    blocks[`Block${i}`] = { Type: 'Custom::CapacityBlockPurchase', Properties: { ServiceToken: 'x', InstanceType: type, InstanceCount: String(count), DurationHours: String(hours), MaxUpfrontFee: '1000000', AvailabilityZone: 'us-east-1a' } };
  }
  writeFileSync(path.join(dir, 'Blocks.template.json'), JSON.stringify({ Resources: blocks }));
  const pools: Json = {};
  for (let i = 0; i < 50; i++) {
    pools[`Pool${i}`] = { Type: 'ALIYUN::ROS::CustomResource', Properties: { ServiceToken: 'x', Parameters: { InstanceType: i % 2 ? 'ecs.gn7i-c8g1.2xlarge' : 'ecs.g7.large', InstanceAmount: 2, ZoneIds: ['cn-hangzhou-h', 'cn-hangzhou-i'] } } };
  }
  writeFileSync(path.join(dir, 'Pools.template.json'), JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Resources: pools }));

  try {
    return await withLocalClouds({ ec2: { region: 'us-east-1' } }, async ({ ec2, ecs }) => {
      const { ms, result } = await timed(() => plan([dir]));
      const pages = ec2.calls.filter(c => c.action === 'DescribeCapacityBlockOfferings');
      const questions = new Set(pages.map(p => JSON.stringify({ ...p.params, NextToken: undefined, StartDateRange: undefined, EndDateRange: undefined })));
      const repeated = pages.length - new Set(pages.map(p => JSON.stringify(p.params))).size;
      const ecsByAction = groupByAction(ecs.calls);
      const ecsRepeated = ecs.calls.length - new Set(ecs.calls.map(c => JSON.stringify(c.query))).size;
      const rows = [
        { cloud: 'AWS', reservations: 50, 'distinct shapes': questions.size, 'API calls': `${pages.length} offering pages`, 'repeated identical calls': repeated, 'wall ms': fmt(ms, 0) },
        { cloud: 'Alibaba Cloud', reservations: 50, 'distinct shapes': 2, 'API calls': formatCounts(ecsByAction), 'repeated identical calls': ecsRepeated, 'wall ms': '' },
      ];
      console.log(table(rows, ['cloud', 'reservations', 'distinct shapes', 'API calls', 'repeated identical calls', 'wall ms']));
      const meets = repeated === 0 && ecsRepeated === 0 && questions.size === shapes.length && result.reservations.length === 100;
      budgets.push({ figure: 'plan, 100 reservations: repeated identical API calls', measured: `${repeated + ecsRepeated} (${pages.length} EC2 pages for ${questions.size} shapes; ${ecs.calls.length} ECS calls)`, budget: '0: one pass per distinct shape', meets });
      return { ms: round(ms), awsShapes: questions.size, awsPages: pages.length, awsRepeated: repeated, ecsCalls: ecsByAction, ecsRepeated, wouldFail: result.wouldFail.length };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
