import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { EXIT, main } from '../../lib/plan/cli';
import { planLocally, writeAwsTemplate, writeRosTemplate } from '../../lib/local';

/**
 * The CLI shell of `cdk-capacity-reservations`: its version, its exit statuses (a CI gate tells
 * "would not buy" from "could not ask the cloud" from "called wrongly"), errors as JSON for machines,
 * and the plan against the local emulators (`local -- plan`, or `planLocally` from a script).
 * `npm test` builds first: `local` runs the CLI bundle and the compiled ./local.
 */
const VERSION = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
const saved = { ...process.env };
afterEach(() => { process.env = { ...saved }; });

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: t => { out += t; }, stderr: t => { err += t; } });
  return { code, out, err };
}

function withoutAwsCredentials(): void {
  const home = mkdtempSync(join(tmpdir(), 'no-aws-'));
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL_EC2']) delete process.env[name];
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'), AWS_CONFIG_FILE: join(home, 'config'), AWS_EC2_METADATA_DISABLED: 'true' });
}

test('--version prints the package version', async () => {
  expect(await run('--version')).toEqual({ code: EXIT.ok, out: `${VERSION}\n`, err: '' });
});

describe('exit statuses', () => {
  test('fails on an unknown command or flag with 64, the usage, and nothing on stdout', async () => {
    for (const argv of [['plna'], ['plan', '--jsn']]) {
      const { code, out, err } = await run(...argv);
      expect([code, out]).toEqual([64, '']);
      expect(err).toMatch(/^cdk-capacity-reservations: (unknown command 'plna'|Unknown option '--jsn'.*)\nUsage: cdk-capacity-reservations plan/);
    }
  });

  test('fails on nothing to plan with 64, not 1: the command line is wrong, not the cloud', async () => {
    const { code, err } = await run('plan', join(tmpdir(), 'no-such-cdk.out'));
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(/^cdk-capacity-reservations plan: .*no-such-cdk\.out does not exist; synthesize first \(cdk synth\), or name a template file\n$/);
  });

  test('fails on missing credentials with 1: the cloud could not be asked', async () => {
    withoutAwsCredentials();
    expect((await run('plan', writeAwsTemplate())).code).toBe(EXIT.cloudError);
  });
});

describe('--json', () => {
  test('a usage error is JSON on stdout, kind usage', async () => {
    const { code, out, err } = await run('plan', join(tmpdir(), 'no-such-cdk.out'), '--json');
    expect(code).toBe(EXIT.usage);
    expect(JSON.parse(out)).toEqual({ error: { kind: 'usage', message: expect.stringMatching(/does not exist; synthesize first/) } });
    expect(err).toBe('');
  });

  test('a cloud error is JSON on stdout, kind cloud', async () => {
    withoutAwsCredentials();
    const { code, out } = await run('plan', writeAwsTemplate(), '--json');
    expect(code).toBe(EXIT.cloudError);
    expect(JSON.parse(out)).toEqual({ error: { kind: 'cloud', message: 'AWS: no credentials found; set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws sso login`' } });
  });
});

describe('local -- plan: against the local emulators, in this process', () => {
  test('plans a block and a reservation with no account and no credentials, and exits 0', async () => {
    withoutAwsCredentials();
    const { code, out } = await run('local', '--', 'plan', writeAwsTemplate(), writeRosTemplate());
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/-> would buy cb-\S+ in us-east-1a for 6,040\.32 USD/);
    expect(out).toMatch(/-> would reserve in cn-hangzhou-h/);
    expect(out).toMatch(/Every reservation would succeed now\./);
    expect(process.env.AWS_ENDPOINT_URL_EC2).toBeUndefined(); // the environment is given back
  });

  test('planLocally does the same from a script, and takes emulator options', async () => {
    let out = '';
    const code = await planLocally([writeAwsTemplate({ AvailabilityZone: 'eu-west-1b' })], { ec2: { region: 'eu-west-1' }, io: { stdout: t => { out += t; }, stderr: () => undefined } });
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/-> would buy cb-\S+ in eu-west-1b/);
  });

  test('fails on `local` without `plan` with 64', async () => {
    expect((await run('local', '--', 'deploy')).code).toBe(EXIT.usage);
  });

  test('names the zone, not the fee, when no offering is in the zone asked for; exits 2', async () => {
    const { code, out } = await run('local', '--', 'plan', writeAwsTemplate({ AvailabilityZone: 'us-east-1d', MaxUpfrontFee: '9000' }));
    expect(code).toBe(EXIT.wouldFail);
    expect(out).toMatch(/Rehearsal\/Block: no-acceptable-offering: none of the 12 offerings is acceptable: none is in us-east-1d; 12 would fit in us-east-1a, us-east-1b, us-east-1c \(cheapest 6040\.32 USD\): change or drop availabilityZone\n/);
    expect(out).not.toMatch(/maxUpfrontFee 9000.*raise/);
  });

  test('names the fee when the fee is what refuses', async () => {
    const { out } = await run('local', '--', 'plan', writeAwsTemplate({ MaxUpfrontFee: '5000' }));
    expect(out).toMatch(/none of the 12 offerings is acceptable: the cheapest that meets every other criterion costs 6040\.32 USD, above maxUpfrontFee 5000\.00 USD: raise maxUpfrontFee\n/);
  });

  test('an instance type the cloud does not sell is refused as the cloud refuses it, and the plan says it would fail (2)', async () => {
    const { code, out } = await run('local', '--', 'plan', writeAwsTemplate({ InstanceType: 'm5.large' }), writeRosTemplate({ InstanceType: 'ecs.gn7i-c8g1.2xlarg' }));
    expect(code).toBe(EXIT.wouldFail);
    expect(out).toMatch(/Rehearsal\/Block: invalid: EC2 refused the search: InvalidParameterValue: Invalid value 'm5\.large' for InstanceType\./);
    expect(out).toMatch(/Rehearsal\/Pool: invalid: ECS refused instance type ecs\.gn7i-c8g1\.2xlarg \(Invalid\.InstanceType: The specified InstanceType is not valid\.\)/);
  });
});
