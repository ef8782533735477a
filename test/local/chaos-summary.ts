import { ChaosReport } from '../../lib/local';

/**
 * The randomized fault suites are seeded, bounded and loopback only. CHAOS_SEED replays another
 * sequence, CHAOS_LIFECYCLES changes the count, and a failing seed is printed so
 * `chaosAws(1, seed)` / `chaosAlicloud(1, seed)` replays it.
 */
export const LIFECYCLES = Number(process.env.CHAOS_LIFECYCLES ?? 200);
export const SEED = Number(process.env.CHAOS_SEED ?? 1);

export function summary(r: ChaosReport): string {
  return [
    `${r.cloud}: ${r.lifecycles} lifecycles from seed ${SEED} in ${(r.wallMs / 1000).toFixed(1)} s`,
    `  duplicate purchases ${r.duplicatePurchases}, untracked reservations ${r.untracked}, above ceiling ${r.aboveCeiling}`,
    `  clean failures ${r.cleanFailures}: ${JSON.stringify(r.cleanFailureReasons)}`,
    `  faults injected ${JSON.stringify(r.faultsInjected)}`,
    `  failing seeds ${r.failingSeeds.length > 0 ? r.failingSeeds.join(', ') : 'none'}`,
  ].join('\n');
}

/** The three money invariants hold, and the suite really exercised the faults it claims to. */
export function expectInvariantsHeld(report: ChaosReport): void {
  process.stdout.write(`${summary(report)}\n`);
  expect({ failingSeeds: report.failingSeeds, duplicates: report.duplicatePurchases, untracked: report.untracked, aboveCeiling: report.aboveCeiling })
    .toEqual({ failingSeeds: [], duplicates: 0, untracked: 0, aboveCeiling: 0 });
  expect(Object.keys(report.faultsInjected)).toEqual(expect.arrayContaining(['throttle', 'serverError', 'reset', 'lostAnswer']));
  expect(report.lifecycles - report.cleanFailures).toBeGreaterThan(report.lifecycles / 2);
}
