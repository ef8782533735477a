import { existsSync, readdirSync, readFileSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

/**
 * README.md is the front door and docs/*.md the manual: every relative link between them, and every
 * #anchor, must land where GitHub renders it.
 */
const ROOT = join(__dirname, '..');
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)];

/** The page's text with fenced code blocks blanked out (a `#` or `](` in code is not markdown). */
function prose(page: string): string {
  return readFileSync(join(ROOT, page), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
}

/**
 * The anchors GitHub gives a page's headings: the heading's text without markup, lower-cased, every
 * character that is not a letter, digit, space, hyphen or underscore dropped, each space a hyphen;
 * a repeated slug gets -1, -2, ...
 */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of prose(page).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const plain = text.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*_~](?=\S|$)|(?<=\S)[`*~]/g, '');
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** Every relative link of a page, as written. */
function linksOf(page: string): string[] {
  return [...prose(page).matchAll(/\]\(([^)\s]+)\)/g)].map(m => m[1]).filter(href => !/^[a-z][a-z0-9+.-]*:/i.test(href));
}

test('GIVEN GitHub\'s slug rules WHEN headings carry code, punctuation and repeats THEN the anchors are GitHub\'s', () => {
  expect([...anchorsOf('README.md')]).toEqual(expect.arrayContaining([
    'training-plans-sagemaker', 'tests-that-rehearse-with-cdk-capacity-reservationslocal',
    'before-anyone-pays-plan-and-spend-limits', 'example-alibaba-cloud-ros', 'nodejs-versions',
  ]));
});

test.each(PAGES)('every relative link and #anchor in %s resolves', page => {
  const broken = linksOf(page).filter(href => {
    const [path, anchor] = href.split('#');
    const target = path === '' ? page : relative(ROOT, resolve(dirname(join(ROOT, page)), path));
    if (!existsSync(join(ROOT, target))) return true;
    return anchor !== undefined && (!target.endsWith('.md') || !anchorsOf(target).has(anchor));
  });
  expect(broken).toEqual([]);
});

test('README.md stays a front door: at most 450 lines, the manual in docs/', () => {
  expect(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(450);
});
