import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { CapacityBlockPurchase } from './capacity-block-purchase';
import { TrainingPlanPurchase } from './training-plan-purchase';
import { DEFAULT_CURRENCY } from './wire';

/** Properties of a CapacitySpendLimit. */
export interface CapacitySpendLimitProps {
  /**
   * The most every CapacityBlockPurchase and TrainingPlanPurchase under the scope may cost up front
   * together: the sum of their `maxUpfrontFee`, in `currencyCode`. Those with `previewOnly` buy nothing
   * and do not count.
   */
  readonly maxTotalUpfrontFee: number;

  /**
   * The currency of `maxTotalUpfrontFee`. A block whose ceiling is in another currency cannot be
   * added up and fails the check.
   * @default 'USD'
   */
  readonly currencyCode?: string;
}

/**
 * A cap on what all Capacity Blocks and SageMaker training plans of an app, stage or stack may cost
 * up front together, checked
 * at synth: `cdk synth` fails, naming each block and its ceiling, when the sum of their
 * `maxUpfrontFee` is above the limit. A ceiling that is a token (a parameter, an import) cannot be
 * added up at synth, so it fails the check too: a limit that cannot be proven is not a limit.
 *
 * Each extension (a longer `duration` on update) may cost up to its block's `maxUpfrontFee` again;
 * the limit covers the purchases, which is what a synthesized app can know.
 */
export class CapacitySpendLimit {
  /**
   * Caps the up-front spend of every CapacityBlockPurchase and TrainingPlanPurchase under `scope` (an
   * App, a Stage or a Stack).
   *
   * @param scope the construct whose CapacityBlockPurchase and TrainingPlanPurchase descendants are added up
   * @param props the limit
   */
  public static of(scope: IConstruct, props: CapacitySpendLimitProps): void {
    const currency = props.currencyCode ?? DEFAULT_CURRENCY;
    if (!Token.isUnresolved(props.maxTotalUpfrontFee) && !(Number.isFinite(props.maxTotalUpfrontFee) && props.maxTotalUpfrontFee > 0)) {
      throw new Error(`CapacitySpendLimit ${scope.node.path || '(app)'}: maxTotalUpfrontFee must be a positive number, got ${props.maxTotalUpfrontFee}`);
    }
    scope.node.addValidation({
      validate: () => {
        recordForPlan(scope, props.maxTotalUpfrontFee, currency);
        return spendLimitErrors(scope, props.maxTotalUpfrontFee, currency);
      },
    });
  }

  private constructor() {}
}

function spendLimitErrors(scope: IConstruct, limit: number, currency: string): string[] {
  const where = scope.node.path || 'the app';
  if (Token.isUnresolved(limit)) return [`CapacitySpendLimit on ${where}: maxTotalUpfrontFee is a token; give the limit as a number`];
  // Both purchase types carry their ceiling, its currency and previewOnly: they add up alike.
  const blocks = scope.node.findAll().filter((c): c is CapacityBlockPurchase | TrainingPlanPurchase => (c instanceof CapacityBlockPurchase || c instanceof TrainingPlanPurchase) && !c.previewOnly);
  const what = blocks.some(b => b instanceof TrainingPlanPurchase) ? (blocks.some(b => b instanceof CapacityBlockPurchase) ? 'Capacity Blocks and training plans' : 'training plans') : 'Capacity Blocks';
  const unknown = blocks.filter(b => Token.isUnresolved(b.maxUpfrontFee));
  const foreign = blocks.filter(b => !Token.isUnresolved(b.maxUpfrontFee) && b.maxUpfrontFeeCurrency !== currency);
  const ceilings = (list: Array<CapacityBlockPurchase | TrainingPlanPurchase>) => list.map(b => `${b.node.path} (${Token.isUnresolved(b.maxUpfrontFee) ? 'a token' : `${money(b.maxUpfrontFee)} ${b.maxUpfrontFeeCurrency}`})`).join(', ');
  if (unknown.length > 0) {
    return [`CapacitySpendLimit on ${where}: cannot add up the ceilings of ${ceilings(unknown)}, whose maxUpfrontFee is only known at deploy time; give literal ceilings under a spend limit`];
  }
  if (foreign.length > 0) {
    return [`CapacitySpendLimit on ${where} is in ${currency}, but ${ceilings(foreign)} ${foreign.length > 1 ? 'are' : 'is'} priced in another currency; give every block the limit's currencyCode, or set one limit per currency`];
  }
  const total = blocks.reduce((sum, b) => sum + b.maxUpfrontFee, 0);
  return total <= limit ? [] : [
    `CapacitySpendLimit on ${where}: the ${what} may cost up to ${money(total)} ${currency} up front together, above the limit of ${money(limit)} ${currency}: ${ceilings(blocks)}. Lower their maxUpfrontFee, remove blocks, or raise the limit`,
  ];
}

/** The metadata type `plan` reads from the cloud assembly to show the app's total against the limit. */
export const SPEND_LIMIT_METADATA = 'cdk-capacity-reservations:spend-limit';

/** Writes the limit on every stack it covers (once), where `plan` finds it in the cloud assembly. */
function recordForPlan(scope: IConstruct, limit: number, currency: string): void {
  if (Token.isUnresolved(limit)) return;
  // The stacks under the scope, or the one it is part of.
  const below = scope.node.findAll().filter(Stack.isStack);
  const covered = below.length > 0 ? below : scope.node.scopes.filter(Stack.isStack).slice(-1);
  const data = { scope: scope.node.path || '(app)', maxTotalUpfrontFee: limit, currencyCode: currency };
  for (const stack of covered) {
    if (!stack.node.metadata.some(m => m.type === SPEND_LIMIT_METADATA && JSON.stringify(m.data) === JSON.stringify(data))) stack.node.addMetadata(SPEND_LIMIT_METADATA, data);
  }
}

function money(amount: number): string {
  return amount.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 2 });
}
