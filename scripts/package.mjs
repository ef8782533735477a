// `npm run package`: what can be packaged offline here.
// - js: the npm tarball (jsii-pacmak).
// - python: jsii-pacmak's own build asks PyPI for its build tools (setuptools~=75.3), so the sources
//   come from `--code-only` and the wheel is built with a local setuptools and wheel, without
//   build isolation, index or network (Debian: apt-get install python3-setuptools python3-wheel).
// - java, dotnet, go: not here. Maven needs Maven Central; there is no dotnet or go toolchain.
import { execFileSync, spawnSync } from 'child_process';
import { mkdirSync, readdirSync } from 'fs';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
require('./node-notices.cjs').silenceNodeBanners();
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' });

// The project's own jsii-pacmak, not npx (which would ask to install one where node_modules has none).
const pacmak = require.resolve('jsii-pacmak/bin/jsii-pacmak');
run(process.execPath, [pacmak, '--targets', 'js', '-o', 'dist']);
run(process.execPath, [pacmak, '--code-only', '--targets', 'python', '-o', 'dist']);

const python = ['/usr/bin/python3', 'python3'].find(p => spawnSync(p, ['-c', 'import setuptools, wheel']).status === 0);
if (!python) {
  console.error('python wheel: no python3 with setuptools and wheel; install them (Debian: apt-get install python3-setuptools python3-wheel), then run npm run package again');
  process.exit(1);
}
mkdirSync('dist/python-wheel', { recursive: true });
run(python, ['-m', 'pip', 'wheel', '--no-build-isolation', '--no-deps', '--no-index', '-w', 'dist/python-wheel', 'dist/python']);

console.log(`\npackaged: ${readdirSync('dist/js').map(f => `dist/js/${f}`).join(', ')}, ${readdirSync('dist/python-wheel').map(f => `dist/python-wheel/${f}`).join(', ')}`);
console.log('not packaged here: java (Maven needs Maven Central), dotnet and go (no toolchain on this machine)');
