import { existsSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { EcsEmulatorOptions } from './alicloud/ecs-emulator';
import { Ec2EmulatorOptions } from './aws/ec2-emulator';
import { withLocalClouds } from './clouds';
import { ASSETS } from './resources';

export interface PlanLocallyOptions {
  /** Where the plan writes. @default this process's stdout and stderr */
  readonly io?: { readonly stdout: (text: string) => void; readonly stderr: (text: string) => void };
  /** The EC2 emulator. @default its region is the first AWS stack's in the planned cloud assembly (else us-east-1) */
  readonly ec2?: Ec2EmulatorOptions;
  /** The ECS emulator. @default its defaults */
  readonly ecs?: EcsEmulatorOptions;
}

/**
 * `cdk-capacity-reservations plan ARGS` against the local EC2 and ECS emulators instead of the
 * clouds: no account, no credentials, nothing bought. Resolves to the plan's exit status (0, 2, 1, 64).
 *
 * The emulators serve from this process, so the plan runs here too (the bundled CLI, called in
 * process): a child process started with spawnSync would wait for an answer its parent cannot give
 * while it waits. `npx cdk-capacity-reservations local -- plan ARGS` is the same from a shell.
 */
export async function planLocally(args: string[] = [], options: PlanLocallyOptions = {}): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CLI bundle of this package (npm run build)
  const cli = require(path.join(ASSETS, 'cli', 'index.js')) as { main(argv: string[], io?: PlanLocallyOptions['io']): Promise<number> };
  const region = options.ec2?.region ?? regionOf(args) ?? 'us-east-1';
  return withLocalClouds({ ec2: { ...options.ec2, region }, ecs: options.ecs }, () => cli.main(['plan', ...args], options.io));
}

/** --region, else the first AWS environment region of the cloud assemblies planned (./cdk.out by default). */
function regionOf(args: string[]): string | undefined {
  const flag = args.indexOf('--region');
  if (flag >= 0 && args[flag + 1]) return args[flag + 1];
  const places = args.filter((a, i) => !a.startsWith('-') && !['--region', '--parameters'].includes(args[i - 1]));
  for (const place of places.length > 0 ? places : ['cdk.out']) {
    const manifest = path.join(place, 'manifest.json');
    if (!existsSync(place) || !statSync(place).isDirectory() || !existsSync(manifest)) continue;
    const artifacts = Object.values<{ environment?: string }>(JSON.parse(readFileSync(manifest, 'utf8')).artifacts ?? {});
    const region = artifacts.map(a => /^aws:\/\/[^/]+\/([a-z0-9-]+)$/.exec(a.environment ?? '')?.[1]).find(r => r && r !== 'unknown-region');
    if (region) return region;
  }
  return undefined;
}
