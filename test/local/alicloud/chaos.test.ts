import { chaosAlicloud } from '../../../lib/local';
import { rosInvariantsLine } from '../../../lib/local/alicloud/ros-engine';
import { expectInvariantsHeld, LIFECYCLES, SEED } from '../chaos-summary';

test('alicloud: no duplicate purchase, nothing left untracked, nothing above the ceiling', async () => {
  const report = await chaosAlicloud(LIFECYCLES, SEED);
  expectInvariantsHeld(report);
  // ROS's engine: per run, 0 duplicate live reservations per resource, 0 live after stack deletion
  // (RETAIN excepted), 0 ROLLBACK_FAILED; and every sequence really ran.
  process.stdout.write(`${rosInvariantsLine(report.ros)}\n`);
  expect({ duplicateLive: report.ros.duplicateLive, liveAfterDeletion: report.ros.liveAfterDeletion, lostWhileHeld: report.ros.lostWhileHeld, rollbackFailed: report.ros.rollbackFailed })
    .toEqual({ duplicateLive: 0, liveAfterDeletion: 0, lostWhileHeld: 0, rollbackFailed: 0 });
  expect(Object.keys(report.ros.scenarios)).toEqual(expect.arrayContaining([
    'concurrent duplicate Creates', 'Create delivered again', 'late Create after the rollback Delete (no PhysicalResourceId)',
    'rollback Delete after a failed Create', 'rollback Delete after a later resource failed',
    'rollback Update after a later resource failed',
  ]));
}, 600_000);
