// Bundles the Lambda handler at build time (never at the user's synth). The AWS SDK v3 ships in the
// Lambda Node.js runtime, so it stays external; everything else is inlined into one file.
import { build } from 'esbuild';
import { mkdirSync, rmSync, statSync } from 'fs';

const outdir = 'assets/capacity-block-handler';
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: ['lib/aws/handler/index.ts'],
  outfile: `${outdir}/index.js`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  external: ['@aws-sdk/*'],
  logLevel: 'warning',
});
console.log(`${outdir}/index.js: ${(statSync(`${outdir}/index.js`).size / 1024).toFixed(1)} KiB`);
