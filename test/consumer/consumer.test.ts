import { execFileSync, spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as semver from 'semver';
import { AWS_REHEARSAL_MODULES } from '../../lib/local';

/**
 * What a new user meets: the packed tarball in apps made as the README says (the AWS one by the pinned
 * CDK CLI's own `cdk init app --language typescript`, which runs TypeScript with tsx), every README
 * command and code block run exactly as printed, with aws-cdk-lib at the newest release the peer range
 * allows, as a fresh install gets it (cdk-nag's AwsSolutions pack included). No cloud is called.
 * As on a fresh machine whose npm answers no prompt (`yes=false`, as npm's CI setting): every command
 * runs with an npm (and so npx) cache, a global prefix, a CDK home and a temp dir made for this run,
 * so nothing a previous run left (an npx install, a global CLI, ~/.cdk) can make a README line pass.
 * Packages come from the npm registry.
 */
const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
/** TypeScript 5, for the classic node10 resolution TypeScript 7 no longer has. */
const TSC_5 = join(ROOT, 'node_modules', '.bin', 'tsc');
const work = mkdtempSync(join(tmpdir(), 'consumer-'));
let tarball: string;

/** The code block under `<!-- consumer-test: NAME -->` in the README. */
function readmeBlock(name: string): string {
  const match = new RegExp(`<!-- consumer-test: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\`\\n`).exec(README);
  if (!match) throw new Error(`README.md has no code block marked <!-- consumer-test: ${name} -->`);
  return match[1];
}

/** A directory of this run's own, for state a tool would otherwise keep between runs. */
function fresh(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  return dir;
}

const ENV = {
  ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false',
  CDK_DISABLE_VERSION_CHECK: '1', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
  npm_config_yes: 'false', npm_config_cache: fresh('npm-cache'), npm_config_prefix: fresh('npm-global'),
  CDK_HOME: fresh('cdk-home'), TMPDIR: fresh('tmp'),
};

function run(cwd: string, script: string, options: { preferOffline?: boolean } = {}): { status: number; output: string } {
  const result = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd, encoding: 'utf8', timeout: 300_000, env: { ...ENV, npm_config_prefer_offline: options.preferOffline === false ? 'false' : 'true' },
  });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

function ok(cwd: string, script: string, options: { preferOffline?: boolean } = {}): string {
  const { status, output } = run(cwd, script, options);
  if (status !== 0) throw new Error(`\`${script}\` in ${cwd} exited ${status}:\n${output.slice(-4000)}`);
  return output;
}

/**
 * A README shell block as printed, as one script (a `cd` carries on), the packed tarball installed where
 * `npm install` names this package. A line that has npx fetch a package (`npx aws-cdk@2.1148.1 init`)
 * asks "Need to install the following packages: ... Ok to proceed?", and a person answers yes: that
 * line runs with `npm_config_yes=true`. Every other npx line must find its command in the app.
 */
function blockScript(name: string): string {
  return readmeBlock(name).split('\n')
    .map(line => (/^npm install /.test(line) ? line.replace(/(?<=\s)cdk-capacity-reservations(?=\s|$)/, tarball) : line))
    .map(line => line.replace(/^npx (?=[\w@/.-]+@\d)/, 'npm_config_yes=true npx '))
    .join('\n');
}

function runBlock(cwd: string, name: string, options: { preferOffline?: boolean } = {}): string {
  return ok(cwd, blockScript(name), options);
}

/** The same, in the background: the ROS app installs from the registry while the AWS app synthesizes. */
function runBlockInBackground(cwd: string, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', blockScript(name)], { cwd, env: { ...ENV, npm_config_prefer_offline: 'true' } });
    child.stdout.on('data', d => { output += d; });
    child.stderr.on('data', d => { output += d; });
    child.on('close', code => (code === 0 ? resolve() : reject(new Error(`README block ${name} exited ${code}:\n${output.slice(-4000)}`))));
  });
}

let rosInstalled: Promise<void>;
beforeAll(() => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }));
  tarball = join(work, packed[0].filename);
  rosInstalled = runBlockInBackground(work, 'install-ros');
  rosInstalled.catch(() => undefined); // awaited (and reported) by the ROS app's tests
}, 120_000);

describe('an AWS CDK app made by the pinned `cdk init app --language typescript`', () => {
  const app = join(work, 'training-capacity');
  beforeAll(() => {
    // The README's aws-cdk-lib range resolves against the registry, as a fresh install does.
    runBlock(work, 'quick-start-aws', { preferOffline: false });
    runBlock(app, 'install-local-aws');
  }, 600_000);

  test('the README\'s install line for ./local names every module the AWS rehearsal asks for', () => {
    const line = readmeBlock('install-local-aws');
    const named = Object.keys(AWS_REHEARSAL_MODULES).filter(name => name !== 'aws-cdk-lib');
    expect(named.filter(name => !line.includes(`${name}@${AWS_REHEARSAL_MODULES[name]}`))).toEqual([]);
  });

  test('cdk init made a tsx app, and the install took the newest aws-cdk-lib of the peer range', () => {
    expect(JSON.parse(readFileSync(join(app, 'cdk.json'), 'utf8')).app).toMatch(/npx tsx bin\/training-capacity\.ts/);
    const published: string[] = JSON.parse(ok(app, `npm view aws-cdk-lib@'${PKG.peerDependencies['aws-cdk-lib']}' version --json`, { preferOffline: false }));
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version;
    expect(installed).toBe(semver.maxSatisfying([published].flat(), PKG.peerDependencies['aws-cdk-lib']));
  }, 60_000);

  test('`npx cdk synth` synthesizes the README\'s example as printed, every function on the newest Node.js runtime that aws-cdk-lib declares', () => {
    writeFileSync(join(app, 'bin', 'training-capacity.ts'), readmeBlock('aws-app'));
    expect(runBlock(app, 'synth-aws')).toMatch(/Buys a Capacity Block for up to 6500 USD up front, non-refundable/);
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'TrainingCapacity.template.json'), 'utf8'));
    const resources = Object.values<{ Type: string; Properties: { Runtime?: string } }>(template.Resources);
    expect(resources.filter(r => r.Type === 'Custom::CapacityBlockPurchase')).toHaveLength(1);
    const newest = ok(app, 'node -p "require(\'aws-cdk-lib/aws-lambda\').Runtime.ALL.map(r => r.name).filter(n => /^nodejs\\d/.test(n)).sort((a, b) => parseFloat(a.slice(6)) - parseFloat(b.slice(6))).pop()"').trim();
    expect(resources.filter(r => r.Type === 'AWS::Lambda::Function').map(r => r.Properties.Runtime)).toEqual(Array(5).fill(newest));
  }, 300_000);

  test('synthesizes the README\'s training plan example, with the training plan handler the package ships', () => {
    writeFileSync(join(app, 'bin', 'hyperpod-capacity.ts'), readmeBlock('training-plan-app'));
    ok(app, 'npx cdk synth --app "npx tsx bin/hyperpod-capacity.ts" --output cdk.out.plans --quiet');
    const template = JSON.parse(readFileSync(join(app, 'cdk.out.plans', 'HyperPodCapacity.template.json'), 'utf8'));
    expect(Object.values<{ Type: string }>(template.Resources).filter(r => r.Type === 'Custom::TrainingPlanPurchase')).toHaveLength(1);
    const bundleOf = (d: string) => join(app, 'cdk.out.plans', d, 'index.js');
    const assets = readdirSync(join(app, 'cdk.out.plans')).filter(d => d.startsWith('asset.'));
    expect(assets.some(d => existsSync(bundleOf(d)) && readFileSync(bundleOf(d), 'utf8').includes('require("@aws-sdk/client-sagemaker")'))).toBe(true);
  }, 300_000);

  test('runs the README\'s ./local rehearsal snippet as printed, progress lines included', () => {
    writeFileSync(join(app, 'rehearse.ts'), readmeBlock('rehearse-aws'));
    expect(runBlock(app, 'run-rehearse-aws')).toMatch(/TrainingBlock\w*: bought cr-\w+/);
  }, 300_000);

  test('`npx cdk-capacity-reservations local -- plan` plans the synthesized app against the local emulators', () => {
    const output = runBlock(app, 'local-plan');
    expect(output).toMatch(/AWS TrainingCapacity\/TrainingBlock\w+ \(us-east-2\): 4 x p5\.48xlarge/);
    expect(output).toMatch(/-> would buy cb-\S+ in us-east-2a/);
    expect(ok(app, 'npx cdk-capacity-reservations --version 2>/dev/null')).toBe(`${PKG.version}\n`);
  }, 120_000);

  test('cdk-nag\'s AwsSolutions pack finds nothing unacknowledged in the README\'s example', () => {
    ok(app, `npm install --save-dev cdk-nag@${PKG.devDependencies['cdk-nag']}`);
    const nagged = readmeBlock('aws-app')
      .replace("import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';", "import { App, CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';\nimport { AwsSolutionsChecks } from 'cdk-nag';")
      .replace('const app = new App();', 'const app = new App();\nValidations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));');
    writeFileSync(join(app, 'nag.ts'), `${nagged}\napp.synth();\n`);
    const { status, output } = run(app, 'npx tsx nag.ts');
    expect([status, output.match(/AwsSolutions-\w+.*/g) ?? []]).toEqual([0, []]);
  }, 300_000);

  test('the README\'s provider with options and spend limit synthesize beside the example; a lower limit fails synth, naming the block', () => {
    // The blocks' own imports, merged into the example's.
    const body = (name: string) => readmeBlock(name).replace(/^import .*\n/gm, '');
    const source = [readmeBlock('aws-app')
      .replace("import * as ec2 from 'aws-cdk-lib/aws-ec2';", "import * as ec2 from 'aws-cdk-lib/aws-ec2';\nimport * as kms from 'aws-cdk-lib/aws-kms';\nimport * as logs from 'aws-cdk-lib/aws-logs';")
      .replace('{ CapacityBlockInstanceType, CapacityBlockPurchase }', '{ CapacityBlockInstanceType, CapacityBlockProvider, CapacityBlockPurchase, CapacitySpendLimit }'),
    body('provider'), body('spend-limit')].join('\n');
    writeFileSync(join(app, 'limited.ts'), source);
    expect(ok(app, 'npx cdk synth --app "npx tsx limited.ts" --quiet')).toMatch(/Buys a Capacity Block for up to 1600 USD up front, non-refundable/);
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'TrainingCapacity.template.json'), 'utf8'));
    expect(Object.values<{ Type: string; Properties: { RetentionInDays?: number } }>(template.Resources)
      .filter(r => r.Type === 'AWS::Logs::LogGroup').map(r => r.Properties.RetentionInDays).sort()).toEqual([365, 3653]);

    writeFileSync(join(app, 'limited.ts'), source.replace('maxTotalUpfrontFee: 20_000', 'maxTotalUpfrontFee: 5_000'));
    const { status, output } = run(app, 'npx cdk synth --app "npx tsx limited.ts" --quiet');
    expect(status).not.toBe(0);
    expect(output).toMatch(/CapacitySpendLimit on the app: the Capacity Blocks may cost up to 8,100 USD up front together, above the limit of 5,000 USD: TrainingCapacity\/TrainingBlock \(6,500 USD\), TrainingCapacity\/MoreCapacity \(1,600 USD\)/);
  }, 300_000);

  test('./alicloud without the ROS CDK says in one line what to install', () => {
    const { status, output } = run(app, 'node -e "require(\'cdk-capacity-reservations/alicloud\')"');
    expect(status).not.toBe(0);
    expect(output).toMatch(/Error: cdk-capacity-reservations\/alicloud needs the ROS CDK, which your app installs: npm install @alicloud\/ros-cdk-core@'\^1\.12\.0' @alicloud\/ros-cdk-ros@'\^1\.11\.0' @alicloud\/ros-cdk-fc3@'\^1\.11\.0' @alicloud\/ros-cdk-ram@'\^1\.12\.0'\n/);
  }, 120_000);

  test('`npm run build` (cdk init\'s TypeScript 7, nodenext) type-checks every file the README had us write', () => {
    ok(app, 'npm run build');
  }, 120_000);
});

describe('an Alibaba Cloud ROS CDK app, without aws-cdk-lib, run with tsx as the README says', () => {
  const app = join(work, 'gpu-pool');
  beforeAll(() => rosInstalled, 600_000);

  test('installs without aws-cdk-lib, and `npx tsx app.ts` synthesizes the README\'s ROS example', () => {
    expect(existsSync(join(app, 'node_modules', 'aws-cdk-lib'))).toBe(false);
    writeFileSync(join(app, 'app.ts'), readmeBlock('ros-app'));
    runBlock(app, 'synth-ros');
    const templates = readdirSync(join(app, 'ros.out')).filter(f => f.endsWith('.template.json'));
    const template = JSON.parse(readFileSync(join(app, 'ros.out', templates[0]), 'utf8'));
    expect(Object.values<{ Type: string }>(template.Resources).filter(r => r.Type === 'ALIYUN::ROS::CustomResource')).toHaveLength(1);
  }, 300_000);

  test('./local loads and rehearses Alibaba; the AWS rehearsal says in one line what to install', () => {
    writeFileSync(join(app, 'local.js'), [
      "const { rehearseAlicloud, rehearseAws } = require('cdk-capacity-reservations/local');",
      '(async () => {',
      "  const { reports } = await rehearseAlicloud('ros.out/GpuPool.template.json');",
      "  console.log('alicloud', reports.every(r => r.ok));",
      "  await rehearseAws('ros.out/GpuPool.template.json').catch(e => console.log('aws', e.message));",
      '})();',
      '',
    ].join('\n'));
    const output = ok(app, 'node local.js');
    expect(output).toMatch(/^alicloud true$/m);
    expect(output).toMatch(/^aws cdk-capacity-reservations\/local: rehearseAws \(and the AWS chaos suite\) runs the Lambda bundle as Lambda would and needs aws-cdk-lib, @aws-sdk\/client-ec2, .*dynalite, which your app installs: npm install --save-dev aws-cdk-lib@'\^2\.276\.0' @aws-sdk\/client-ec2@'\^3\.1169\.0' /m);
  }, 300_000);

  test('resolves types with nodenext and with classic node10 resolution', () => {
    writeFileSync(join(app, 'consumer.ts'), [
      "import { AliCapacityReservation } from 'cdk-capacity-reservations/alicloud';",
      "import { rehearseAlicloud, EcsEmulator } from 'cdk-capacity-reservations/local';",
      'export const used = [AliCapacityReservation, rehearseAlicloud, EcsEmulator];',
      '',
    ].join('\n'));
    const types = `--skipLibCheck --types node --typeRoots ${join(ROOT, 'node_modules', '@types')}`;
    ok(app, `${TSC_5} --noEmit --strict --target ES2022 --module nodenext --moduleResolution nodenext ${types} consumer.ts`);
    ok(app, `${TSC_5} --noEmit --strict --target ES2022 --module commonjs --moduleResolution node10 ${types} consumer.ts`);
  }, 300_000);
});
