/**
 * `cdk-capacity-reservations plan [cdk.out|ros.out|TEMPLATE…]`: what each reservation of a
 * synthesized app would buy now and for how much, asked of the clouds read-only, before anyone pays.
 * Exit 0 when every reservation would succeed, 2 when one would not (named, with why), 1 on errors.
 */
import { existsSync } from 'fs';
import { parseArgs } from 'util';
import { AliPlanError, AliReservationPlan, planAlicloud } from './alicloud';
import { AwsBlockPlan, PlanCloudError, planAws } from './aws';
import { formatPlan } from './format';
import { findReservations, PlanInputError } from './templates';
import { planTrainingPlans, TrainingPlanPlan } from './training-plans';

export type Plan = AwsBlockPlan | TrainingPlanPlan | AliReservationPlan;

export interface PlanReport {
  readonly reservations: Plan[];
  /** What the app would pay up front for Capacity Blocks and training plans now, per currency (previews and owned plans excluded). */
  readonly upfrontTotals: Record<string, number>;
  /** What the Alibaba reservations would cost per hour, per currency. */
  readonly hourlyTotals: Record<string, number>;
  /** Reservations whose deploy would fail now, with why. */
  readonly wouldFail: Array<{ readonly reservation: string; readonly reason: string }>;
}

export interface PlanIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal: the progress line is rewritten in place. */
  readonly interactive?: boolean;
}

const USAGE = `Usage: cdk-capacity-reservations plan [cdk.out|ros.out|TEMPLATE...] [--json] [--region REGION] [--parameters NAME=VALUE ...]

Shows what every CapacityBlockPurchase, TrainingPlanPurchase and AliCapacityReservation of a synthesized
app would buy now, and for how much, asking EC2, SageMaker and ECS read-only with your usual credentials. Buys nothing.
With no path it plans ./cdk.out and ./ros.out, whichever exist.

Exit status: 0 every reservation would succeed; 2 at least one would not (each is named, with why);
1 the plan itself failed (credentials, region, permissions, input).`;

/** Runs the CLI; returns the exit status. */
export async function main(argv: string[], io: PlanIo = processIo()): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    io.stderr(`cdk-capacity-reservations: ${(error as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (args.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    const report = await plan(args.paths, { region: args.region, parameters: args.parameters, progress: progressLine(io) });
    io.stderr(io.interactive ? '\r\x1b[K' : '');
    io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report));
    return report.wouldFail.length === 0 ? 0 : 2;
  } catch (error) {
    if (error instanceof PlanInputError || error instanceof PlanCloudError || error instanceof AliPlanError) {
      io.stderr(`${io.interactive ? '\r\x1b[K' : ''}cdk-capacity-reservations plan: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
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
  const reservations: Plan[] = [...aws, ...trainingPlans, ...alicloud];
  const upfrontTotals: Record<string, number> = {};
  for (const p of [...aws, ...trainingPlans]) if (p.verdict === 'would-buy' && p.chosen) upfrontTotals[p.chosen.currencyCode] = (upfrontTotals[p.chosen.currencyCode] ?? 0) + p.chosen.upfrontFee;
  const hourlyTotals: Record<string, number> = {};
  for (const p of alicloud) if (p.hourlyCost !== undefined && p.currency) hourlyTotals[p.currency] = (hourlyTotals[p.currency] ?? 0) + p.hourlyCost;
  const wouldFail = reservations
    .filter(p => !['would-buy', 'preview', 'would-reserve', 'owned'].includes(p.verdict))
    .map(p => ({ reservation: `${p.stack}/${p.logicalId}`, reason: `${p.verdict}: ${p.reason ?? ''}` }));
  return { reservations, upfrontTotals, hourlyTotals, wouldFail };
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv[0] === 'plan' ? argv.slice(1) : argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      region: { type: 'string' },
      parameters: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (argv[0] !== 'plan' && !values.help) throw new Error(argv[0] ? `unknown command '${argv[0]}'` : 'no command');
  const parameters: Record<string, string> = {};
  for (const pair of values.parameters ?? []) {
    const match = /^([^=]+)=(.*)$/.exec(pair);
    if (!match) throw new Error(`--parameters takes NAME=VALUE, got '${pair}'`);
    parameters[match[1]] = match[2];
  }
  return { paths: positionals, json: values.json ?? false, region: values.region, parameters, help: values.help ?? false };
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
