import { AliReservationPlan } from './alicloud';
import { AwsBlockPlan } from './aws';
import { SpendLimitFound } from './templates';
import { TrainingPlanPlan } from './training-plans';

export type Plan = AwsBlockPlan | TrainingPlanPlan | AliReservationPlan;

/** One CapacitySpendLimit of the app, and what the reservations it covers add up to. */
export interface SpendLimitCheck {
  /** The construct path the limit was set on (`(app)` for the App). */
  readonly scope: string;
  readonly maxTotalUpfrontFee: number;
  readonly currencyCode: string;
  /** The stacks it covers. */
  readonly stacks: string[];
  /** The sum of the ceilings (maxUpfrontFee) of the purchases it covers: what synth checks, and the most they can cost. */
  readonly worstCase: number;
  /** What the purchases it covers would pay now (the offerings each would buy). */
  readonly wouldBuyNow: number;
}

export interface PlanReport {
  readonly reservations: Plan[];
  /** What the app would pay up front for Capacity Blocks and training plans now, per currency (previews and owned purchases excluded). */
  readonly upfrontTotals: Record<string, number>;
  /** The worst case: the sum of the ceilings (maxUpfrontFee) of every purchase that is not previewOnly, per currency. */
  readonly worstCaseTotals: Record<string, number>;
  /** Every CapacitySpendLimit found in the cloud assembly, with the totals of what it covers. */
  readonly spendLimits: SpendLimitCheck[];
  /** What the Alibaba reservations would cost per hour, per currency. */
  readonly hourlyTotals: Record<string, number>;
  /** Reservations whose deploy would fail now, with why. */
  readonly wouldFail: Array<{ readonly reservation: string; readonly reason: string }>;
}

/** The verdicts that deploy: everything else would fail the deploy now. */
const SUCCEEDS = ['would-buy', 'preview', 'owned', 'would-reserve'];

/** The totals a budget owner reads beside the plans: now, worst case, and against each spend limit. */
export function summarize(reservations: Plan[], limits: SpendLimitFound[]): PlanReport {
  const purchases = reservations.filter((p): p is AwsBlockPlan | TrainingPlanPlan => p.cloud !== 'alicloud');
  const buysNow = (p: AwsBlockPlan | TrainingPlanPlan) => (p.verdict === 'would-buy' && p.chosen ? p.chosen : undefined);
  const countsToCeiling = (p: AwsBlockPlan | TrainingPlanPlan) => (p.verdict !== 'preview' && p.ceiling ? p.ceiling : undefined);
  const add = (totals: Record<string, number>, currency: string, amount: number) => { totals[currency] = round((totals[currency] ?? 0) + amount); };

  const upfrontTotals: Record<string, number> = {};
  const worstCaseTotals: Record<string, number> = {};
  for (const p of purchases) {
    const now = buysNow(p);
    if (now) add(upfrontTotals, now.currencyCode, now.upfrontFee);
    const ceiling = countsToCeiling(p);
    if (ceiling) add(worstCaseTotals, ceiling.currencyCode, ceiling.amount);
  }
  const hourlyTotals: Record<string, number> = {};
  for (const p of reservations) if (p.cloud === 'alicloud' && p.hourlyCost !== undefined && p.currency) add(hourlyTotals, p.currency, p.hourlyCost);

  const byLimit = new Map<string, { limit: SpendLimitFound; stacks: string[] }>();
  for (const limit of limits) {
    const key = JSON.stringify([limit.scope, limit.maxTotalUpfrontFee, limit.currencyCode]);
    const entry = byLimit.get(key) ?? { limit, stacks: [] };
    entry.stacks.push(limit.stack);
    byLimit.set(key, entry);
  }
  const spendLimits = [...byLimit.values()].map(({ limit, stacks }): SpendLimitCheck => {
    const covered = purchases.filter(p => stacks.includes(p.stack));
    const sum = (amounts: Array<{ amount: number; currencyCode: string } | undefined>) => round(amounts
      .filter((a): a is { amount: number; currencyCode: string } => a?.currencyCode === limit.currencyCode).reduce((total, a) => total + a.amount, 0));
    return {
      scope: limit.scope, maxTotalUpfrontFee: limit.maxTotalUpfrontFee, currencyCode: limit.currencyCode, stacks,
      worstCase: sum(covered.map(countsToCeiling)),
      wouldBuyNow: sum(covered.map(buysNow).map(c => c && { amount: c.upfrontFee, currencyCode: c.currencyCode })),
    };
  });

  const wouldFail = reservations
    .filter(p => !SUCCEEDS.includes(p.verdict))
    .map(p => ({ reservation: `${p.stack}/${p.logicalId}`, reason: `${p.verdict}: ${p.reason ?? ''}` }));
  return { reservations, upfrontTotals, worstCaseTotals, spendLimits, hourlyTotals, wouldFail };
}

/** Cents: sums of decimal fees stay what a person adds up. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}
