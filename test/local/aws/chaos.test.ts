import { chaosAws } from '../../../lib/local';
import { expectInvariantsHeld, LIFECYCLES, SEED } from '../chaos-summary';

test('aws: through CloudFormation\'s sequences and the real Provider framework, no block bought twice, none untracked, none above the ceiling, no rollback wedged', async () => {
  const report = await chaosAws(LIFECYCLES, SEED);
  process.stdout.write(`  UltraServer lifecycles ${report.ultraserverLifecycles} (purchases ${report.ultraserverPurchases})\n  rollbacks wedged ${report.rollbackFailed} (continued by the operator and then fine: ${report.continuedRollbacks}), Lambda timeouts ${report.lambdaTimeouts}, requests unanswered past ServiceTimeout ${report.serviceTimeouts}\n  stack operations ${JSON.stringify(report.operations)}\n`);
  expectInvariantsHeld(report);
  expect({ rollbackFailed: report.rollbackFailed, lambdaTimeouts: report.lambdaTimeouts, serviceTimeouts: report.serviceTimeouts })
    .toEqual({ rollbackFailed: 0, lambdaTimeouts: 0, serviceTimeouts: 0 });
  // The engine's faults and sequences really happened.
  expect(Object.keys(report.faultsInjected)).toEqual(expect.arrayContaining(['concurrentDuplicate', 'sequentialDuplicate', 'invokeLost', 'startExecutionThrottled', 'crash', 'hang']));
  // So did EC2's lagging lists: tags shown late, UltraServer purchases listed partly, tag filters refused.
  expect(Object.keys(report.faultsInjected)).toEqual(expect.arrayContaining(['tagLag', 'ultraserverListingLag', 'tagFilterRefused']));
  expect(Object.keys(report.operations)).toEqual(expect.arrayContaining(['ROLLBACK_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'UPDATE_COMPLETE', 'DELETE_COMPLETE']));
  // UltraServer blocks (several reservations per purchase) went through the same faults, and were bought.
  expect(report.ultraserverLifecycles).toBeGreaterThan(LIFECYCLES / 10);
  expect(report.ultraserverPurchases).toBeGreaterThan(0);
}, 600_000);
