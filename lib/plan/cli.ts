/**
 * `cdk-capacity-reservations plan [cdk.out|ros.out|TEMPLATE…]`: what each reservation of a
 * synthesized app would buy now and for how much, asked of the clouds read-only, before anyone pays.
 * `cdk-capacity-reservations local -- plan …` asks the local emulators instead of the clouds.
 * Exit 0 when every reservation would succeed, 2 when one would not (named, with why), 1 when the
 * clouds could not be asked, 64 on a usage error.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { version } from '../../package.json';
import { AliPlanError, planAlicloud } from './alicloud';
import { PlanCloudError, planAws } from './aws';
import { formatPlan } from './format';
import { PlanReport, summarize } from './report';
import { findReservations, findSpendLimits, PlanInputError } from './templates';
import { planTrainingPlans } from './training-plans';

export type { Plan, PlanReport, SpendLimitCheck } from './report';

export interface PlanIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal: the progress line is rewritten in place. */
  readonly interactive?: boolean;
}

/** Exit statuses: a CI gate tells "would not buy" (2) from "could not ask" (1) from "called wrongly" (64, EX_USAGE). */
export const EXIT = { ok: 0, cloudError: 1, wouldFail: 2, usage: 64 } as const;

const USAGE = `Usage: cdk-capacity-reservations plan [cdk.out|ros.out|TEMPLATE...] [--json] [--region REGION] [--parameters NAME=VALUE ...]
       cdk-capacity-reservations local -- plan [same arguments]
       cdk-capacity-reservations --version

Shows what every CapacityBlockPurchase, TrainingPlanPurchase and AliCapacityReservation of a synthesized
app would buy now, and for how much, asking EC2, SageMaker and ECS read-only with your usual credentials.
Buys nothing. With no path it plans ./cdk.out and ./ros.out, whichever exist. \`local -- plan\` asks the
local emulators of cdk-capacity-reservations/local instead: no account, no credentials.

Below the plans: what would be bought now, the worst case (the sum of the ceilings, maxUpfrontFee),
and each CapacitySpendLimit of the app with what it covers; --json carries the same.

Exit status: 0 every reservation would succeed; 2 at least one would not (each is named, with why);
1 the clouds could not be asked (credentials, region, permissions); 64 a usage error (arguments,
nothing to plan). With --json, errors are JSON too: {"error":{"kind":"usage"|"cloud","message":...}}.`;

/** The command line itself is wrong: exit 64 with the usage. */
class UsageError extends Error {}

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[], io: PlanIo = processIo()): Promise<number> {
  const json = argv.includes('--json');
  const fail = (kind: 'usage' | 'cloud', message: string, usage: boolean): number => {
    io.stderr(io.interactive ? '\r\x1b[K' : '');
    if (json) io.stdout(`${JSON.stringify({ error: { kind, message } }, null, 2)}\n`);
    else io.stderr(usage ? `cdk-capacity-reservations: ${message}\n${USAGE}\n` : `cdk-capacity-reservations plan: ${message}\n`);
    return kind === 'usage' ? EXIT.usage : EXIT.cloudError;
  };
  try {
    const args = parse(argv);
    if (args.command === 'version') {
      io.stdout(`${version}\n`);
      return EXIT.ok;
    }
    if (args.command === 'help') {
      io.stdout(`${USAGE}\n`);
      return EXIT.ok;
    }
    if (args.command === 'local') return await planAgainstLocalClouds(args.rest, io);
    const report = await plan(args.paths, { region: args.region, parameters: args.parameters, progress: progressLine(io) });
    io.stderr(io.interactive ? '\r\x1b[K' : '');
    io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report));
    return report.wouldFail.length === 0 ? EXIT.ok : EXIT.wouldFail;
  } catch (error) {
    if (error instanceof UsageError) return fail('usage', error.message, true);
    if (error instanceof PlanInputError) return fail('usage', error.message, false);
    if (error instanceof PlanCloudError || error instanceof AliPlanError) return fail('cloud', error.message, false);
    throw error;
  }
}

/**
 * `local -- plan …`: the plan against the emulators of `cdk-capacity-reservations/local`, which run
 * in this process (a child process would wait on an emulator its parent cannot serve while it waits).
 */
async function planAgainstLocalClouds(rest: string[], io: PlanIo): Promise<number> {
  // Two levels up from both lib/plan (the sources) and assets/cli (the bundle): the package root.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the ./local subpath, loaded only for this command
  const local = require(path.join(__dirname, '..', '..', 'lib', 'local', 'index.js')) as { planLocally(args: string[], options: { io: PlanIo }): Promise<number> };
  return local.planLocally(rest, { io });
}

export interface PlanOptions {
  readonly region?: string;
  readonly parameters?: Record<string, string>;
  readonly progress?: (line: string) => void;
  readonly now?: Date;
}

/** The plan, for programs: `npm start` shows it before the rehearsal. */
export async function plan(paths: string[], options: PlanOptions = {}): Promise<PlanReport> {
  const places = paths.length > 0 ? paths : ['cdk.out', 'ros.out'].filter(p => existsSync(p));
  if (places.length === 0) throw new PlanInputError('nothing to plan: no cdk.out or ros.out here; run `cdk synth` first, or name a template');
  const found = findReservations(places);
  if (found.length === 0) throw new PlanInputError(`no CapacityBlockPurchase, TrainingPlanPurchase or AliCapacityReservation in ${places.join(', ')}`);
  const common = { region: options.region, parameters: options.parameters ?? {}, progress: options.progress ?? (() => undefined) };
  const aws = await planAws(found.filter(f => f.cloud === 'aws'), { ...common, now: options.now ?? new Date() });
  const trainingPlans = await planTrainingPlans(found.filter(f => f.cloud === 'sagemaker'), { ...common, now: options.now ?? new Date() });
  const alicloud = await planAlicloud(found.filter(f => f.cloud === 'alicloud'), { ...common, now: options.now });
  return summarize([...aws, ...trainingPlans, ...alicloud], findSpendLimits(places));
}

function parse(argv: string[]) {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') return { command: 'version' as const, ...NO_ARGS };
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { command: 'help' as const, ...NO_ARGS };
  if (command === 'local') {
    const args = rest[0] === '--' ? rest.slice(1) : rest;
    if (args[0] !== 'plan') throw new UsageError(`local runs the plan against the local emulators: cdk-capacity-reservations local -- plan [arguments]; got '${args.join(' ')}'`);
    return { command: 'local' as const, ...NO_ARGS, rest: args.slice(1) };
  }
  if (command !== 'plan') throw new UsageError(`unknown command '${command}'`);
  let parsed: ReturnType<typeof parsePlanArgs>;
  try {
    parsed = parsePlanArgs(rest);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' as const, ...NO_ARGS };
  const parameters: Record<string, string> = {};
  for (const pair of values.parameters ?? []) {
    const match = /^([^=]+)=(.*)$/.exec(pair);
    if (!match) throw new UsageError(`--parameters takes NAME=VALUE, got '${pair}'`);
    parameters[match[1]] = match[2];
  }
  return { command: 'plan' as const, paths: positionals, json: values.json ?? false, region: values.region, parameters, rest: [] };
}

const NO_ARGS = { paths: [] as string[], json: false, region: undefined as string | undefined, parameters: {} as Record<string, string>, rest: [] as string[] };

function parsePlanArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      region: { type: 'string' },
      parameters: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function progressLine(io: PlanIo): (line: string) => void {
  return line => io.stderr(io.interactive ? `\r\x1b[K${line}` : `${line}\n`);
}

function processIo(): PlanIo {
  return {
    stdout: text => process.stdout.write(text),
    stderr: text => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
  };
}
