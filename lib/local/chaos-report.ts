import { FaultPlan } from './faults';

/** What a chaos run found. The three counts are the invariants: each must be 0. */
export interface ChaosReport {
  readonly cloud: 'aws' | 'alicloud';
  readonly lifecycles: number;
  /** Lifecycles in which more than one block / reservation was bought for one resource. */
  readonly duplicatePurchases: number;
  /** Paid blocks the stack does not track (Create reported FAILED, or another id reported); live ECS reservations after delete. */
  readonly untracked: number;
  /** Blocks bought above maxUpfrontFee. */
  readonly aboveCeiling: number;
  /** Lifecycles that failed cleanly (nothing bought or nothing owed), e.g. all offerings above the ceiling. */
  readonly cleanFailures: number;
  /** Why they failed: the start of each failure reason, counted. */
  readonly cleanFailureReasons: Record<string, number>;
  readonly faultsInjected: Record<string, number>;
  /** Seeds of lifecycles that broke an invariant: `chaosAws(1, seed)` replays one. */
  readonly failingSeeds: number[];
  readonly wallMs: number;
}

export function newReport() {
  return { duplicatePurchases: 0, untracked: 0, aboveCeiling: 0, cleanFailures: 0, cleanFailureReasons: {} as Record<string, number>, failingSeeds: [] as number[], faultsInjected: {} as Record<string, number> };
}

/** A failure reason with its ids, amounts and times (which vary per run) left out, so like reasons group. */
export function reasonKey(reason: string | undefined): string {
  // Only numbers that stand alone: "EC2", "p5.48xlarge" and "us-east-1a" stay whole.
  const normalized = (reason ?? 'unknown').replace(/\b(cr|crp|cb)-\w+|(?<![\w.-])\d[\d.:TZ,-]*/g, '…');
  return normalized.length > 160 ? `${normalized.slice(0, 159)}…` : normalized;
}

function countReason(reasons: Record<string, number>, reason: string | undefined): void {
  const key = reasonKey(reason);
  reasons[key] = (reasons[key] ?? 0) + 1;
}

export type ChaosCounts = ReturnType<typeof newReport>;

/** Counts one lifecycle: which invariants it broke, why it failed cleanly, which faults it saw. */
export function record(report: ChaosCounts, seed: number, broke: { duplicate: boolean; above: boolean; untracked: boolean; other?: boolean }, failure: string | undefined, injected: Record<string, number>): void {
  if (broke.duplicate) report.duplicatePurchases++;
  if (broke.above) report.aboveCeiling++;
  if (broke.untracked) report.untracked++;
  if (broke.duplicate || broke.above || broke.untracked || broke.other) {
    report.failingSeeds.push(seed);
  } else if (failure) {
    report.cleanFailures++;
    countReason(report.cleanFailureReasons, failure);
  }
  for (const [k, v] of Object.entries(injected)) report.faultsInjected[k] = (report.faultsInjected[k] ?? 0) + v;
}

export function faultPlan(random: () => number, seed: number, lostAnswerActions: string[], maxThrottle: number): FaultPlan {
  return {
    seed,
    throttle: random() * maxThrottle,
    serverError: random() * 0.1,
    reset: random() * 0.05,
    lostAnswer: random() < 0.5 ? random() * 0.6 : 0,
    lostAnswerActions,
    latencyMs: random() < 0.2 ? 3 : 0,
  };
}
