// What every family of figures shares: one table printer, number formats, timing, and the budgets
// the summary lists.
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

export type Json = Record<string, any>;

export const ROOT = path.resolve(__dirname, '..', '..');
export const KB = 1000; // budgets in KB are read as 1,000 bytes (the stricter reading)

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
export const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
export const fmt = (value: number | undefined, digits = 1): string => (value === undefined || Number.isNaN(value) ? '-' : round(value, digits).toLocaleString('en-US'));
export const ratio = (ours: number, theirs: number): number => ours / theirs;
export const yesNo = (ok: boolean): string => (ok ? 'yes' : 'NO');
export const tmp = (prefix: string): string => mkdtempSync(path.join(tmpdir(), `bench-${prefix}-`));
export const section = (title: string): void => console.log(`\n=== ${title} ===\n`);

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = nowMs();
  const result = await work();
  return { ms: nowMs() - t0, result };
}

/** The one table printer: columns padded to their widest cell, a rule under the header. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => cell(r[c]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns), line(widths.map(w => '-'.repeat(w))), ...rows.map(r => line(columns.map(c => cell(r[c]))))].join('\n');
}

export function groupByAction(calls: Array<{ action: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of calls) counts[c.action] = (counts[c.action] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
export const formatCounts = (counts: Record<string, number>): string => Object.entries(counts).map(([a, n]) => `${a} x${n}`).join(', ') || '(none)';
export const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** One row of the summary: each family adds the budgets it measured. */
export interface Budget { figure: string; measured: string; budget: string; meets: boolean }
export const budgets: Budget[] = [];

export const budgetTable = (rows: Budget[]): string =>
  table(rows.map(b => ({ figure: b.figure, measured: b.measured, budget: b.budget, 'meets?': yesNo(b.meets) })), ['figure', 'measured', 'budget', 'meets?']);
