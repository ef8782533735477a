// Bundles both handlers and the plan CLI at build time (never at the user's synth).
// - AWS Lambda: the AWS SDK v3 ships in the Node.js runtime, so it stays external.
// - Alibaba FC3: everything is inlined and zipped, because the code travels inside the ROS template
//   (Code.ZipFile) and the template must deploy as it is, with no asset upload.
// - The plan CLI (`npx cdk-capacity-reservations plan`): everything inlined, so it runs in any app
//   without the user installing SDKs.
// - The local emulators' helper libraries (assets/local-vendor), for the same reason.
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';

async function bundle(entry, outdir, options, file = 'index.js') {
  if (file === 'index.js') rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [entry],
    outfile: `${outdir}/${file}`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    ...options,
  });
  return `${outdir}/${file}`;
}

const kib = file => `${(statSync(file).size / 1024).toFixed(1)} KiB`;

// One asset, two entries: onEvent (index.js, with the claim library) and isComplete (is-complete.js,
// reads only), so that neither function loads the other's code.
const aws = await bundle('lib/aws/handler/on-event.ts', 'assets/capacity-block-handler', { external: ['@aws-sdk/*'] });
const awsWaiter = await bundle('lib/aws/handler/is-complete.ts', 'assets/capacity-block-handler', { external: ['@aws-sdk/*'] }, 'is-complete.js');
console.log(`${aws}: ${kib(aws)}; ${awsWaiter}: ${kib(awsWaiter)}`);

// TrainingPlanPurchase has its own Lambda bundle: the Node.js runtime ships @aws-sdk/client-sagemaker.
const trainingPlan = await bundle('lib/aws/handler/training-plan/index.ts', 'assets/training-plan-handler', { external: ['@aws-sdk/*'] });
console.log(`${trainingPlan}: ${kib(trainingPlan)}`);

// FutureCapacityReservation: its own bundle; the runtime ships @aws-sdk/client-ec2 and client-pricing.
const futureReservation = await bundle('lib/aws/future-reservation/handler/index.ts', 'assets/future-reservation-handler', { external: ['@aws-sdk/*'] });
console.log(`${futureReservation}: ${kib(futureReservation)}`);

// Shipped once, zipped: the template inlines the zip, and the ROS rehearsal reads index.js out of it.
const aliDir = 'assets/alicloud-capacity-reservation-handler';
const ali = await bundle('lib/alicloud/handler/index.ts', aliDir, {});
// A fixed timestamp keeps the zip, and so the template, byte-for-byte reproducible.
writeFileSync(`${aliDir}/code.zip`, zipSync({ 'index.js': readFileSync(ali) }, { level: 9, mtime: new Date('2020-01-01T00:00:00Z') }));
console.log(`${ali}: ${kib(ali)} (zipped ${kib(`${aliDir}/code.zip`)}, shipped zipped only)`);
rmSync(ali);

// The AWS SDK's ES modules let esbuild drop what the CLI does not call. Its schema module writes most
// object keys as computed names (`{ [_xN]: "…" }`), which esbuild must keep as possible side effects,
// and so keeps every schema of EC2's API (~1 MB); the keys are string constants of the same module,
// so they are written as the strings they are, and the unused schemas go.
const literalSchemaKeys = {
  name: 'literal-schema-keys',
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ }, ({ path }) => {
      const source = readFileSync(path, 'utf8');
      const strings = new Map([...source.matchAll(/^const (_\w+) = ("[^"\\]*");$/gm)].map(m => [m[1], m[2]]));
      return { contents: source.replace(/\[(_\w+)\]:/g, (key, name) => (strings.has(name) ? `${strings.get(name)}:` : key)), loader: 'js' };
    });
  },
};
// The ES modules import Node built-ins dynamically; as require() they load in any host (Jest's VM too).
const cli = await bundle('lib/plan/cli.ts', 'assets/cli', { mainFields: ['module', 'main'], plugins: [literalSchemaKeys], supported: { 'dynamic-import': false } });
console.log(`${cli}: ${kib(cli)}`);

// The emulators' XML writer and ACS3 signer, so `cdk-capacity-reservations/local` installs nothing extra.
const vendor = await bundle('scripts/local-vendor.ts', 'assets/local-vendor', {});
console.log(`${vendor}: ${kib(vendor)}`);
