import { execFileSync } from 'child_process';
import { readFileSync, statSync } from 'fs';
import { join } from 'path';
import { unzipSync } from 'fflate';
import * as semver from 'semver';

/** jsii compiles the AWS API for Python, Java, .NET and Go; `npm test` builds first, so .jsii exists. */
test('the jsii assembly exports the AWS API with every language target', () => {
  const assembly = JSON.parse(readFileSync(join(__dirname, '..', '.jsii'), 'utf8'));
  expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining([
    'cdk-capacity-reservations.CapacityBlockPurchase',
    'cdk-capacity-reservations.CapacityBlockPurchaseProps',
    'cdk-capacity-reservations.CapacityBlockInstanceType',
    'cdk-capacity-reservations.InstancePlatform',
    'cdk-capacity-reservations.OfferingSelection',
    'cdk-capacity-reservations.ICapacityBlock',
  ]));
  expect(Object.keys(assembly.targets).sort()).toEqual(['dotnet', 'go', 'java', 'js', 'python']);
});

test('the packaged onEvent bundle, claim library included, stays within 100 KB, with the AWS SDK left to the Lambda runtime; isComplete\'s own entry carries no claim library', () => {
  const bundle = readFileSync(join(__dirname, '..', 'assets', 'capacity-block-handler', 'index.js'), 'utf8');
  expect(bundle.length).toBeLessThan(100 * 1000);
  expect(bundle).toContain('require("@aws-sdk/client-ec2")');
  const waiter = readFileSync(join(__dirname, '..', 'assets', 'capacity-block-handler', 'is-complete.js'), 'utf8');
  expect(waiter).toContain('require("@aws-sdk/client-ec2")');
  // The claims' key prefix (claims.ts) marks the claim library: in onEvent's entry only.
  expect(bundle).toContain('capacity-block-request');
  expect(waiter).not.toContain('capacity-block-request');
});

test('the training plan handler is its own bundle within 100 KB, with SageMaker\'s SDK left to the Lambda runtime and no EC2 client', () => {
  const bundle = readFileSync(join(__dirname, '..', 'assets', 'training-plan-handler', 'index.js'), 'utf8');
  expect(bundle.length).toBeLessThan(100 * 1024);
  expect(bundle).toContain('require("@aws-sdk/client-sagemaker")');
  expect(bundle).not.toContain('@aws-sdk/client-ec2');
  const assembly = JSON.parse(readFileSync(join(__dirname, '..', '.jsii'), 'utf8'));
  expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining([
    'cdk-capacity-reservations.TrainingPlanPurchase', 'cdk-capacity-reservations.TrainingPlanPurchaseProps', 'cdk-capacity-reservations.TrainingPlanInstanceType',
    'cdk-capacity-reservations.TrainingPlanUltraServerType', 'cdk-capacity-reservations.TrainingPlanTarget',
  ]));
});

test('the FC handler is inlined within the 300 KB budget and carries no full ECS SDK', () => {
  const bundle = Buffer.from(unzipSync(readFileSync(join(__dirname, '..', 'assets', 'alicloud-capacity-reservation-handler', 'code.zip')))['index.js']).toString('utf8');
  expect(Buffer.byteLength(bundle)).toBeLessThanOrEqual(300 * 1024);
  expect(bundle).not.toMatch(/require\("@alicloud\/ecs20140526"\)/);
  expect(bundle).toContain('ACS3-HMAC-SHA256');
});

test('the alicloud subpath is exported and compiled for JavaScript users', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  expect(pkg.exports['./alicloud']).toEqual({ types: './lib/alicloud/index.d.ts', default: './lib/alicloud/index.js' });
  // Load the compiled subpath as a consumer would (after `npm run build`).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled output, loaded by path as a consumer would
  const compiled = require(join(__dirname, '..', 'lib', 'alicloud', 'index.js'));
  expect(typeof compiled.AliCapacityReservation).toBe('function');
});

/** Budgets for what a user downloads (`npm run bench` prints the same figures). */
/**
 * The tarball budget was 600 KB before training plans; TrainingPlanPurchase adds about 190 kB packed
 * (its own handler bundle, SageMaker in the plan CLI, the construct, the SageMaker emulator, API docs).
 */
const PACKAGE_BUDGETS = { cliBundleBytes: 650 * 1000, tarballBytes: 650 * 1000 };

test('the plan CLI bundle, its SDKs included, stays within its budget', () => {
  expect(statSync(join(__dirname, '..', 'assets', 'cli', 'index.js')).size).toBeLessThanOrEqual(PACKAGE_BUDGETS.cliBundleBytes);
});

test('the tarball ships each artefact once (the FC handler only as the zip the template inlines) within its budget', () => {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const files: string[] = packed.files.map((f: { path: string }) => f.path);

  expect(files.filter(f => f.startsWith('assets/')).sort()).toEqual([
    'assets/alicloud-capacity-reservation-handler/code.zip',
    'assets/capacity-block-handler/index.js',
    'assets/capacity-block-handler/is-complete.js',
    'assets/cli/index.js',
    'assets/local-vendor/index.js',
    'assets/training-plan-handler/index.js',
  ]);
  expect(files.filter(f => /(^|\/)(handler|plan)\//.test(f) || /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  expect(packed.size).toBeLessThanOrEqual(PACKAGE_BUDGETS.tarballBytes);
});

test('the engines range is one every runtime dependency supports, the Node.js running the tests is in it, and the README states it', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  const range: string = pkg.engines.node;
  // aws-cdk-lib (the peer), the AWS SDK (bundled into the plan CLI) and dynalite (the ./local AWS rehearsal).
  const needs = Object.fromEntries(['aws-cdk-lib', '@aws-sdk/client-ec2', 'dynalite'].map(name => [name, JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).engines.node]));

  expect(Object.entries(needs).filter(([, theirs]) => !semver.subset(range, theirs))).toEqual([]);
  expect(semver.satisfies(process.version, range)).toBe(true);
  expect(readFileSync(join(__dirname, '..', 'README.md'), 'utf8')).toContain(`\`engines\`: \`node ${range}\``);
});

test('npm ci on the Node.js running the tests warns EBADENGINE only for the devDependencies the README names, each in its Node.js paragraph', () => {
  const lock = JSON.parse(readFileSync(join(__dirname, '..', 'package-lock.json'), 'utf8'));
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const nodeVersions = readme.slice(readme.indexOf('### Node.js versions'), readme.indexOf('\n### ', readme.indexOf('### Node.js versions') + 1));
  const narrower = Object.entries<{ engines?: { node?: string }; dev?: boolean }>(lock.packages)
    .filter(([, p]) => p.engines?.node && !semver.satisfies(process.version, p.engines.node))
    .map(([path, p]) => ({ name: path.replace(/^.*node_modules\//, ''), dev: p.dev === true }));

  expect(narrower.filter(p => !p.dev)).toEqual([]);
  expect(narrower.filter(p => !nodeVersions.includes(`\`${p.name}\``)).map(p => p.name)).toEqual([]);
});

test('the jsii assembly says how stable the API is', () => {
  expect(JSON.parse(readFileSync(join(__dirname, '..', '.jsii'), 'utf8')).docs?.stability).toBe('experimental');
});
