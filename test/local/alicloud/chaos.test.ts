import { chaosAlicloud } from '../../../lib/local';
import { expectInvariantsHeld, LIFECYCLES, SEED } from '../chaos-summary';

test('alicloud: no duplicate purchase, nothing left untracked, nothing above the ceiling', async () => {
  expectInvariantsHeld(await chaosAlicloud(LIFECYCLES, SEED));
}, 600_000);
