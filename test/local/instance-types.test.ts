import { rehearseAlicloud, rehearseAws, writeAwsTemplate, writeRosTemplate } from '../../lib/local';

/**
 * The emulators refuse an instance type the cloud would refuse, with the cloud's error code, so a
 * misspelt type fails the rehearsal as it would fail the deploy, before anything is bought or created.
 * (`test/plan/cli.test.ts` shows `plan` naming the same refusals.)
 */
test('EC2: an instance type not sold as Capacity Blocks fails the Create with InvalidParameterValue, and nothing is bought', async () => {
  const { reports, emulator } = await rehearseAws(writeAwsTemplate({ InstanceType: 'p5.96xlarge' }), { ec2: { region: 'us-east-1' } });

  expect(reports.map(r => [r.ok, r.error])).toEqual([[false, expect.stringMatching(/InvalidParameterValue.*Invalid value 'p5\.96xlarge' for InstanceType/)]]);
  expect(emulator.purchases).toEqual([]);
}, 30_000);

test('ECS: an instance type whose size ECS does not use fails the Create with Invalid.InstanceType, and nothing is created', async () => {
  const { reports } = await rehearseAlicloud(writeRosTemplate({ InstanceType: 'ecs.gn7i-c8g1.2xlarg' }));

  expect(reports.map(r => [r.ok, r.reservationsCreated])).toEqual([[false, 0]]);
  expect(reports[0].error).toMatch(/Invalid\.InstanceType/);
}, 30_000);
