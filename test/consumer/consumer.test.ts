import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AWS_REHEARSAL_MODULES } from '../../lib/local';

/**
 * What a user installs: the packed tarball in fresh apps, with only what the README's Install section
 * says, running the README's code blocks exactly as printed. Packages come from the npm registry or
 * the npm cache (the versions this repository's own install put there). No cloud is called.
 */
const ROOT = join(__dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const devDependencies: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies;
const work = mkdtempSync(join(tmpdir(), 'consumer-'));
let tarball: string;

/** The code block under `<!-- consumer-test: NAME -->` in the README. */
function readmeBlock(name: string): string {
  const match = new RegExp(`<!-- consumer-test: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\`\\n`).exec(README);
  if (!match) throw new Error(`README.md has no code block marked <!-- consumer-test: ${name} -->`);
  return match[1];
}

function run(cwd: string, command: string, args: string[] = []): { status: number; output: string } {
  const result = spawnSync(command, args, {
    cwd, encoding: 'utf8', shell: args.length === 0, timeout: 300_000,
    env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', CDK_DISABLE_VERSION_CHECK: '1', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' },
  });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

function ok(cwd: string, command: string, args: string[] = []): string {
  const { status, output } = run(cwd, command, args);
  if (status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` in ${cwd} exited ${status}:\n${output.slice(-4000)}`);
  return output;
}

/** A fresh app as `cdk init app --language typescript` lays it out: TypeScript, ts-node, Node types, its tsconfig. */
function freshApp(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '0.1.0', private: true }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['es2022'], declaration: true, strict: true,
      noImplicitAny: true, strictNullChecks: true, noImplicitThis: true, alwaysStrict: true, inlineSourceMap: true, inlineSources: true,
      experimentalDecorators: true, strictPropertyInitialization: false, typeRoots: ['./node_modules/@types'],
    },
    exclude: ['node_modules', 'cdk.out', 'ros.out'],
  }));
  ok(dir, `npm install --save-dev typescript@${devDependencies.typescript} ts-node@${devDependencies['ts-node']} @types/node@20`);
  return dir;
}

/** Runs a README install block, with the packed tarball where it names this package. */
function install(dir: string, block: string): void {
  for (const line of readmeBlock(block).split('\n').filter(l => l.trim() && !l.startsWith('#'))) {
    ok(dir, line.replace(/(?<=\s)cdk-capacity-reservations(?=\s|$)/, tarball));
  }
}

/** Type-checks `source` with the app's tsconfig (nodenext) and with classic node10 resolution. */
function typeCheck(dir: string, source: string): void {
  writeFileSync(join(dir, 'consumer.ts'), source);
  ok(dir, 'npx tsc --noEmit -p tsconfig.json');
  ok(dir, 'npx tsc --noEmit --strict --target ES2022 --module commonjs --moduleResolution node10 --types node consumer.ts');
}

beforeAll(() => {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }));
  tarball = join(work, packed[0].filename);
}, 120_000);

describe('an AWS CDK app', () => {
  let app: string;
  beforeAll(() => {
    app = freshApp('aws-app');
    install(app, 'install-aws');
    install(app, 'install-local-aws');
  }, 600_000);

  test('the README\'s install line for ./local names every module the AWS rehearsal asks for', () => {
    const line = readmeBlock('install-local-aws');
    const named = Object.keys(AWS_REHEARSAL_MODULES).filter(name => name !== 'aws-cdk-lib');
    expect(named.filter(name => !line.includes(`${name}@${AWS_REHEARSAL_MODULES[name]}`))).toEqual([]);
  });

  test('synthesizes the README\'s AWS example with the pinned CDK CLI', () => {
    writeFileSync(join(app, 'app.ts'), readmeBlock('aws-app'));
    ok(app, 'npx cdk synth --app "npx ts-node app.ts"');
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'TrainingCapacity.template.json'), 'utf8'));
    expect(Object.values<{ Type: string }>(template.Resources).filter(r => r.Type === 'Custom::CapacityBlockPurchase')).toHaveLength(1);
  }, 300_000);

  test('synthesizes the README\'s training plan example, with the training plan handler the package ships', () => {
    writeFileSync(join(app, 'plan.ts'), readmeBlock('training-plan-app'));
    ok(app, 'npx cdk synth --app "npx ts-node plan.ts" --quiet');
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'HyperPodCapacity.template.json'), 'utf8'));
    expect(Object.values<{ Type: string }>(template.Resources).filter(r => r.Type === 'Custom::TrainingPlanPurchase')).toHaveLength(1);
    const assets = readdirSync(join(app, 'cdk.out')).filter(d => d.startsWith('asset.'));
    const bundleOf = (d: string) => join(app, 'cdk.out', d, 'index.js');
    expect(assets.some(d => existsSync(bundleOf(d)) && readFileSync(bundleOf(d), 'utf8').includes('require("@aws-sdk/client-sagemaker")'))).toBe(true);
  }, 300_000);

  test('the README\'s spend limit passes the example and fails synth, naming the block, when the blocks may cost more', () => {
    const limited = `${readmeBlock('aws-app')}\n${readmeBlock('spend-limit')}`;
    writeFileSync(join(app, 'limited.ts'), limited);
    expect(ok(app, 'npx cdk synth --app "npx ts-node limited.ts" --quiet')).toMatch(/Buys a Capacity Block for up to 6500 USD up front, non-refundable/);
    writeFileSync(join(app, 'limited.ts'), limited.replace('maxTotalUpfrontFee: 20_000', 'maxTotalUpfrontFee: 5_000'));
    const { status, output } = run(app, 'npx cdk synth --app "npx ts-node limited.ts" --quiet');
    expect(status).not.toBe(0);
    expect(output).toMatch(/CapacitySpendLimit on the app: the Capacity Blocks may cost up to 6,500 USD up front together, above the limit of 5,000 USD: TrainingCapacity\/TrainingBlock \(6,500 USD\)/);
  }, 300_000);

  test('runs the README\'s ./local rehearsal snippet as printed, progress lines included', () => {
    writeFileSync(join(app, 'rehearse.ts'), readmeBlock('rehearse-aws'));
    const output = ok(app, 'npx ts-node rehearse.ts');
    expect(output).toMatch(/TrainingBlock\w*: bought cr-\w+/);
  }, 300_000);

  test('./alicloud without the ROS CDK says in one line what to install', () => {
    const { status, output } = run(app, 'node -e "require(\'cdk-capacity-reservations/alicloud\')"');
    expect(status).not.toBe(0);
    expect(output).toMatch(/Error: cdk-capacity-reservations\/alicloud needs the ROS CDK, which your app installs: npm install @alicloud\/ros-cdk-core@'\^1\.12\.0' @alicloud\/ros-cdk-ros@'\^1\.11\.0' @alicloud\/ros-cdk-fc3@'\^1\.11\.0' @alicloud\/ros-cdk-ram@'\^1\.12\.0'\n/);
  }, 120_000);

  test('`npx cdk-capacity-reservations plan` runs from the installed bin', () => {
    const { status, output } = run(app, 'npx cdk-capacity-reservations plan --help');
    expect([status, output]).toEqual([0, expect.stringMatching(/^Usage: cdk-capacity-reservations plan/)]);
  }, 120_000);

  test('type-checks with nodenext and with classic node10 resolution', () => {
    typeCheck(app, [
      "import { CapacityBlockPurchase, CapacitySpendLimit } from 'cdk-capacity-reservations';",
      "import { rehearseAws, Ec2Emulator } from 'cdk-capacity-reservations/local';",
      'export const used = [CapacityBlockPurchase, CapacitySpendLimit, rehearseAws, Ec2Emulator];',
      '',
    ].join('\n'));
  }, 300_000);
});

describe('an Alibaba Cloud ROS CDK app, without aws-cdk-lib', () => {
  let app: string;
  beforeAll(() => {
    app = freshApp('ros-app');
    install(app, 'install-ros');
  }, 600_000);

  test('installs without aws-cdk-lib and synthesizes the README\'s ROS example', () => {
    expect(existsSync(join(app, 'node_modules', 'aws-cdk-lib'))).toBe(false);
    writeFileSync(join(app, 'app.ts'), readmeBlock('ros-app'));
    ok(app, 'npx ts-node app.ts');
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

  test('type-checks with nodenext and with classic node10 resolution', () => {
    typeCheck(app, [
      "import { AliCapacityReservation } from 'cdk-capacity-reservations/alicloud';",
      "import { rehearseAlicloud, EcsEmulator } from 'cdk-capacity-reservations/local';",
      'export const used = [AliCapacityReservation, rehearseAlicloud, EcsEmulator];',
      '',
    ].join('\n'));
  }, 300_000);
});
