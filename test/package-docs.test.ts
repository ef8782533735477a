import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Documentation, Language } from 'jsii-docgen';

const ROOT = join(__dirname, '..');

/**
 * API.md is generated from the jsii assembly (`npm run build` writes .jsii, `npm run docgen` renders
 * it). This keeps the committed file equal, byte for byte, to what jsii-docgen renders now.
 */
test('API.md is what `npm run docgen` generates from the current .jsii', async () => {
  if (!existsSync(join(ROOT, '.jsii'))) {
    throw new Error('.jsii is missing: run `npm run build` first (npm test does), then `npm run docgen`');
  }
  const docs = await Documentation.forProject(ROOT);
  let generated: Buffer;
  try {
    // The same options the CLI (`jsii-docgen -o API.md`) uses for one language and every submodule.
    generated = Buffer.from((await docs.toMarkdown({ language: Language.TYPESCRIPT, allSubmodules: true })).render());
  } finally {
    await docs.cleanup();
  }
  const fresh = join(mkdtempSync(join(tmpdir(), 'docgen-')), 'API.md');
  writeFileSync(fresh, generated);

  const committedPath = join(ROOT, 'API.md');
  const committed = existsSync(committedPath) ? readFileSync(committedPath) : Buffer.alloc(0);
  if (!committed.equals(generated)) {
    const a = committed.toString('utf8').split('\n');
    const b = generated.toString('utf8').split('\n');
    const line = a.findIndex((l, i) => l !== b[i]);
    const where = line === -1 ? `line ${Math.min(a.length, b.length) + 1}` : `line ${line + 1}: committed ${JSON.stringify(a[line])}, generated ${JSON.stringify(b[line] ?? '<end of file>')}`;
    throw new Error(`API.md is out of date (first difference at ${where}). Run \`npm run docgen\` and commit API.md. Freshly generated copy: ${fresh}`);
  }
});
