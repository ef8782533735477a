import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { CloudFormationStack, quietly, seededRandom, withAwsHandler, withProviderFramework } from '../../../lib/local';
import { cloudArbitrary, commandsArbitrary, Model, Real, STACK } from './capacity-block-model';
import { modelRuns, modelSeed } from '../../support/model-budgets';

/**
 * The generated proof of the money rules for Capacity Blocks (capacity-block-model.ts): sequences of
 * deployments (a later resource failing, duplicate and concurrent deliveries with drawn interleavings),
 * stack deletions and re-creations, late deliveries of earlier requests and the passing of time, against
 * drawn EC2 consistency and faults, with the invariants checked after every step.
 *
 * `npm test` runs the budget in test/support/model-budgets.ts; `npm run verify -- --runs N` runs more. A failure
 * prints the seed and path: FC_SEED=<seed> FC_PATH=<path> replays exactly that counterexample.
 */
const RUNS = modelRuns('capacity-block');
/** A fixed seed in `npm test`, so that CI replays the same sequences; `npm run verify` draws a new one and prints it. */
const SEED = modelSeed();

test('Capacity Blocks: in every generated sequence, nothing is bought twice, above the ceiling or outside the window, the ledger knows every block, and no rollback wedges', async () => {
  let sequences = 0;
  let steps = 0;
  const started = Date.now();
  await fc.assert(fc.asyncProperty(cloudArbitrary, commandsArbitrary, async (cloud, commands) => {
    sequences++;
    await withAwsHandler(cloud.ec2, (handler, emulator, seams) => quietly(() => withProviderFramework(handler, emulator, handler.providerTimings, async framework => {
      const db = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-east-1' });
      // A stack created again has a new claims table, and creating it takes minutes of the clock.
      const newStack = async () => {
        emulator.clock.advance(3 * 60_000);
        await seams.newClaimsTable();
      };
      const real: Real = { cloud, handler, emulator, framework, db, seams, steps: 0, cfn: new CloudFormationStack(framework, STACK, () => 'once', 2, newStack) };
      try {
        await fc.asyncModelRun(() => ({ model: {} as Model, real }), commands);
      } finally {
        steps += real.steps;
        db.destroy();
      }
    }, cloud.engine, seededRandom(cloud.seed))));
  }), {
    numRuns: RUNS,
    seed: SEED,
    ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
    endOnFailure: process.env.FC_SHRINK === 'false',
  });
  process.stdout.write(`  aws model: ${sequences} sequences from seed ${SEED}, ${steps} steps, 6 invariants checked after each, 0 violations, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}, 900_000);
