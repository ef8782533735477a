import { readFileSync } from 'fs';
import { join } from 'path';
import { ROS_CDK_MODULES } from '../../lib/alicloud';
import { AWS_REHEARSAL_MODULES, reasonKey, rehearseAlicloud, writeRosTemplate } from '../../lib/local';

/** What `cdk-capacity-reservations/local` asks of the user's install, and how it reports. */
test('the modules an AWS rehearsal asks users to install are the ones, and the versions, this package is tested with', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  for (const [name, range] of Object.entries(AWS_REHEARSAL_MODULES)) {
    expect([name, pkg.peerDependencies[name] ?? pkg.devDependencies[name]]).toEqual([name, range]);
  }
  // Everything the Lambda bundle leaves to the runtime is in the table.
  const bundle = readFileSync(join(__dirname, '..', '..', 'assets', 'capacity-block-handler', 'index.js'), 'utf8');
  const externals = [...new Set([...bundle.matchAll(/require\("(@aws-sdk\/[^"/]+)/g)].map(m => m[1]))];
  expect(externals.filter(name => !(name in AWS_REHEARSAL_MODULES))).toEqual([]);
});

test('the ROS CDK packages ./alicloud asks users to install are the versions this package is tested with, as the README says', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const install = /<!-- consumer-test: install-ros -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  for (const [name, range] of Object.entries(ROS_CDK_MODULES)) {
    expect([name, pkg.devDependencies[name]]).toEqual([name, range]);
    expect(install).toContain(`${name}@${range}`);
  }
});

test('chaos failure reasons keep names such as EC2, p5.48xlarge and us-east-1a whole and leave out only ids, amounts and times', () => {
  expect(reasonKey('EC2 answered 503 for cr-0123abcd at 2026-11-29T10:00:00Z; the block was released'))
    .toBe('EC2 answered … for … at …; the block was released');
  expect(reasonKey('No acceptable offering for 4 x p5.48xlarge in us-east-1a: cheapest 6040.32 USD'))
    .toBe('No acceptable offering for … x p5.48xlarge in us-east-1a: cheapest … USD');
});

test.each(['console.log', 'line => console.log(line)'])('progress: %s prints while the handlers\' own logs stay muted', async form => {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => { lines.push(line); });
  try {
    // Built after the spy, as a user's console.log is what it is when they call the rehearsal.
    const progress = form === 'console.log' ? console.log : (line: string) => console.log(line);
    await rehearseAlicloud(writeRosTemplate(), { progress });
  } finally {
    spy.mockRestore();
  }
  expect(lines.some(l => /Create 4 x ecs\.gn7i-c8g1\.2xlarge/.test(l))).toBe(true);
  expect(lines.filter(l => l.startsWith('{'))).toEqual([]);
});
