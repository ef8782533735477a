import { iso } from '../aws/handler/offerings';
import { AliReservationPlan } from './alicloud';
import { AwsBlockPlan, perInstanceHour } from './aws';
import type { PlanReport, SpendLimitCheck } from './report';
import { planPerInstanceHour, TrainingPlanPlan } from './training-plans';

/** A plain-text table: a header, a rule, and one line per row, columns padded to fit. */
export function table(rows: Array<Record<string, string>>, columns: string[]): string {
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map(w => '-'.repeat(w))), ...rows.map(r => line(columns.map(c => r[c] ?? '')))].join('\n');
}

export function amount(value: number, currency: string): string {
  return `${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

/** A decimal figure as the cloud gave it: thousands grouped, at least two decimals, no digit dropped or rounded. */
export function exactAmount(decimal: string, currency: string): string {
  const [whole, fraction = ''] = decimal.split('.');
  return `${whole.replace(/\B(?=(\d{3})+$)/g, ',')}.${fraction.padEnd(2, '0')} ${currency}`;
}

/** The plan for people: one section per reservation, then the totals and what would fail. */
export function formatPlan(report: PlanReport): string {
  const bought = report.reservations.some(p => p.cloud === 'sagemaker') ? 'AWS Capacity Blocks and SageMaker training plans' : 'AWS Capacity Blocks';
  const sections = report.reservations.map(p => (p.cloud === 'aws' ? formatAws(p) : p.cloud === 'sagemaker' ? formatTrainingPlan(p) : formatAlicloud(p)));
  const totals = [
    ...Object.entries(report.upfrontTotals).map(([c, v]) => `${bought}, up front and non-refundable: ${amount(v, c)}`),
    ...Object.entries(report.worstCaseTotals).map(([c, v]) => `Worst case, the sum of every ceiling (maxUpfrontFee) not previewOnly: ${amount(v, c)}${report.upfrontTotals[c] === undefined ? ` (${amount(0, c)} now)` : ''}`),
    ...report.spendLimits.map(spendLimitLine),
    ...Object.entries(report.hourlyTotals).map(([c, v]) => `Alibaba Cloud capacity reservations: ${amount(v, c)} per hour, ${amount(v * 720, c)} per 30 days`),
  ];
  const failing = report.wouldFail.length === 0
    ? ['Every reservation would succeed now.']
    : [`${report.wouldFail.length} reservation${report.wouldFail.length > 1 ? 's' : ''} would fail now:`, ...report.wouldFail.map(f => `  ${f.reservation}: ${f.reason}`)];
  return `${[...sections, [...totals, ...failing].join('\n')].join('\n\n')}\n`;
}

function formatAws(p: AwsBlockPlan): string {
  const head = `AWS ${p.stack}/${p.logicalId} (${p.region})${p.shape ? `: ${p.shape}, maxUpfrontFee ${p.maxUpfrontFee}` : ''}`;
  if (p.verdict === 'owned') return `${head}\n  -> owned: ${p.reason}`;
  if (p.offerings.length === 0) return `${head}\n  ${p.verdict}: ${p.reason ?? ''}`;
  const rows = p.offerings.map(({ offering: o, verdict }) => ({
    ' ': o.id === p.chosen?.offeringId ? '*' : '',
    'offering': o.id,
    'zone': o.availabilityZone,
    'start': iso(o.startDate),
    'end': iso(o.endDate),
    'upfront fee': Number.isFinite(o.upfrontFee) ? amount(o.upfrontFee, o.currencyCode) : `'${o.upfrontFeeText}'`,
    'per instance-hour': Number.isFinite(o.upfrontFee) ? amount(perInstanceHour(o), o.currencyCode) : '-',
    'verdict': verdictText(verdict),
  }));
  const outcome = p.chosen
    ? `  -> ${p.verdict === 'preview' ? 'previewOnly: would buy nothing; a purchase would take' : 'would buy'} ${p.chosen.offeringId} in ${p.chosen.availabilityZone} for ${amount(p.chosen.upfrontFee, p.chosen.currencyCode)} (${amount(p.chosen.perInstanceHour, p.chosen.currencyCode)} per instance-hour)`
    : `  -> ${p.verdict}: ${p.reason ?? ''}`;
  return `${head}\n${indent(table(rows, [' ', 'offering', 'zone', 'start', 'end', 'upfront fee', 'per instance-hour', 'verdict']))}\n${outcome}`;
}

/** One CapacitySpendLimit: its limit, the worst case it covers and what would be bought now. */
function spendLimitLine(l: SpendLimitCheck): string {
  const spare = l.maxTotalUpfrontFee - l.worstCase;
  const room = spare >= 0 ? `${amount(spare, l.currencyCode)} to spare` : `${amount(-spare, l.currencyCode)} above it: cdk synth fails`;
  return `CapacitySpendLimit on ${l.scope} (${l.stacks.join(', ')}): ${amount(l.maxTotalUpfrontFee, l.currencyCode)}; worst case ${amount(l.worstCase, l.currencyCode)} (${room}), ${amount(l.wouldBuyNow, l.currencyCode)} now`;
}

function formatTrainingPlan(p: TrainingPlanPlan): string {
  const head = `SageMaker ${p.stack}/${p.logicalId} (${p.region || 'default region'})${p.shape ? `: training plan ${p.trainingPlanName}, ${p.shape}, maxUpfrontFee ${p.maxUpfrontFee}` : ''}`;
  if (p.offerings.length === 0) return `${head}\n  ${p.verdict === 'owned' ? '->' : `${p.verdict}:`} ${p.reason ?? ''}`;
  const rows = p.offerings.map(({ offering: o, verdict }) => ({
    ' ': o.id === p.chosen?.offeringId ? '*' : '',
    'offering': o.id,
    'zone': o.availabilityZone,
    'start': iso(o.startTime),
    'end': iso(o.endTime),
    'upfront fee': Number.isFinite(o.upfrontFee) ? amount(o.upfrontFee, o.currencyCode) : `'${o.upfrontFeeText}'`,
    'per instance-hour': Number.isFinite(o.upfrontFee) ? amount(planPerInstanceHour(o), o.currencyCode) : '-',
    'verdict': verdictText(verdict),
  }));
  const outcome = p.chosen
    ? `  -> ${p.verdict === 'preview' ? 'previewOnly: would buy nothing; a purchase would take' : 'would buy'} ${p.chosen.offeringId} in ${p.chosen.availabilityZone} for ${amount(p.chosen.upfrontFee, p.chosen.currencyCode)} (${amount(p.chosen.perInstanceHour, p.chosen.currencyCode)} per instance-hour)`
    : `  -> ${p.verdict}: ${p.reason ?? ''}`;
  return `${head}\n${indent(table(rows, [' ', 'offering', 'zone', 'start', 'end', 'upfront fee', 'per instance-hour', 'verdict']))}\n${outcome}`;
}

function formatAlicloud(p: AliReservationPlan): string {
  const head = `Alibaba Cloud ${p.stack}/${p.logicalId} (${p.region})${p.instanceType ? `: ${p.instanceAmount} x ${p.instanceType}` : ''}`;
  if (p.zones.length === 0) return `${head}\n  ${p.verdict}: ${p.reason ?? ''}`;
  const rows = p.zones.map(z => ({
    ' ': z.zoneId === p.chosenZone ? '*' : '',
    'zone (in order)': z.zoneId,
    'stock': `${z.stock} (${z.stockDetail})`,
    'price per hour (all instances)': z.hourlyPriceText !== undefined ? exactAmount(z.hourlyPriceText, z.currency ?? '') : (z.priceError ?? '-'),
  }));
  const period = exactAmount(p.periodCostText ?? '0', p.currency ?? '');
  const until = p.totalCost !== undefined ? `at most ${period} until endTime ${p.endTime} (${p.hours} started hours), released then`
    : `${period} per 30 days, billed until released`;
  const outcome = p.chosenZone
    ? `  -> would reserve in ${p.chosenZone}${p.hourlyCostText !== undefined && p.currency ? `: ${exactAmount(p.hourlyCostText, p.currency)} per hour, ${until}` : ''}`
    : `  -> ${p.verdict}: ${p.reason ?? ''}`;
  return `${head}\n${indent(table(rows, [' ', 'zone (in order)', 'stock', 'price per hour (all instances)']))}\n${outcome}`;
}

function verdictText(verdict: string): string {
  return verdict.length > 60 ? `${verdict.slice(0, 57)}...` : verdict;
}

function indent(text: string): string {
  return text.split('\n').map(l => `  ${l}`).join('\n');
}
