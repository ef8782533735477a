import { chaosAws } from '../../../lib/local';
import { expectInvariantsHeld, LIFECYCLES, SEED } from '../chaos-summary';

test('aws: no duplicate purchase, nothing left untracked, nothing above the ceiling', async () => {
  expectInvariantsHeld(await chaosAws(LIFECYCLES, SEED));
}, 600_000);
