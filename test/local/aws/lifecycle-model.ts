import fc from 'fast-check';
import { AwsRehearsalSeams, CfnExchange, Json } from '../../../lib/local';

/**
 * What the model of the purchase lifecycle core shares between products (capacity-block-model.ts,
 * training-plan.model.test.ts): the faults the core must survive, drawn the same way for every
 * adapter, and the invariant every adapter is held to.
 */

/** What a product's model tells the shared invariant about the cloud it emulates. */
export interface PurchasesView {
  /** Whether the purchase a physical id names was live at `at`; undefined if the cloud holds none of that id. */
  liveAt(id: string, at: number): boolean | undefined;
  /** What about the purchase does not serve `props` at `at` (shape, window, hours left). */
  mismatches(id: string, props: Json, at: number): string[];
  /** Whether `props` ask for another purchase than `old` do (not tags, ceiling, wait or name). */
  defining(props: Json, old: Json | undefined): boolean;
}

/**
 * After every SUCCESS that answered a change defining the purchase, the physical id CloudFormation
 * tracks names a purchase that was live when that answer was given, and that serves the properties
 * it was answered for. (Rollbacks go back to what CloudFormation tracked before, as it is; changes
 * that do not define the purchase never buy, and may report one that is over.)
 */
export function checkAnswersServe(exchanges: readonly CfnExchange[], view: PurchasesView): void {
  for (const e of exchanges) {
    if (e.phase !== 'deploy' || e.requestType === 'Delete' || e.response.Status !== 'SUCCESS') continue;
    const id = e.response.PhysicalResourceId;
    const old = (e.event.OldResourceProperties as Json | undefined);
    if (id.startsWith('preview-') || e.properties.PreviewOnly === 'true' || !view.defining(e.properties, old)) continue;
    const at = e.response.at ?? 0;
    const live = view.liveAt(id, at);
    if (live === undefined) throw new Error(`SUCCESS named ${id}, which the cloud does not hold (${e.requestType} of ${JSON.stringify(e.properties)})`);
    if (!live) throw new Error(`SUCCESS named ${id}, which was not live when answered (${e.requestType} of ${JSON.stringify(e.properties)})`);
    const why = view.mismatches(id, e.properties, at);
    if (why.length > 0) throw new Error(`SUCCESS named ${id}, which does not serve what it was answered for: ${why.join('; ')}`);
  }
}

/** A fault the core must survive, injected before the next step. */
export type CoreFault =
  /** The same call failing N times in a row (N up to the SDK's 4 attempts: 4 fails the call). */
  | { readonly kind: 'burst'; readonly action: string; readonly count: number }
  /** The next ledger write fails (a DynamoDB throttling burst). */
  | { readonly kind: 'ledger-write' }
  /** CloudFormation's DescribeStacks cannot be read for the next update. */
  | { readonly kind: 'describe-stacks' };

export function coreFaultArbitrary(actions: readonly string[]): fc.Arbitrary<CoreFault> {
  return fc.oneof(
    fc.record({ kind: fc.constant('burst' as const), action: fc.constantFrom(...actions), count: fc.integer({ min: 1, max: 4 }) }),
    fc.constant<CoreFault>({ kind: 'ledger-write' }),
    fc.constant<CoreFault>({ kind: 'describe-stacks' }),
  );
}

/** Sets the fault up: the emulator's burst, the claims store's refused writes, DescribeStacks' throttling. */
export function injectCoreFault(fault: CoreFault, seams: AwsRehearsalSeams, burst: (action: string, count: number) => void): void {
  if (fault.kind === 'burst') burst(fault.action, fault.count);
  else if (fault.kind === 'ledger-write') seams.claims.failNextWrites(4);
  else seams.cloudFormation.failNext('throttle', 4);
}

export function describeFault(fault: CoreFault): string {
  return fault.kind === 'burst' ? `burst(${fault.action} x${fault.count})` : fault.kind;
}
