// `npm run build`: jsii (the AWS part, for every jsii language), a type check of everything, tsc for
// the subpaths jsii leaves out (./alicloud, ./local), then esbuild's bundles (scripts/bundle-handlers.mjs).
import { execFileSync } from 'child_process';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const { nodeNotice, silenceNodeBanners } = require('./node-notices.cjs');

silenceNodeBanners();
const notice = nodeNotice();
if (notice) console.error(notice);

const node = (bin, ...args) => execFileSync(process.execPath, [require.resolve(bin), ...args], { stdio: 'inherit' });
try {
  node('jsii/bin/jsii', '--silence-warnings=reserved-word');
  node('typescript/bin/tsc', '-p', 'tsconfig.dev.json', '--noEmit');
  node('typescript/bin/tsc', '-p', 'tsconfig.subpaths.json');
  node('./bundle-handlers.mjs');
} catch (error) {
  // The failing step has printed its errors.
  process.exit(error.status ?? 1);
}
