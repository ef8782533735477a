import { Annotations, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';

/**
 * What the integrations need to know of a Capacity Block. The literal fields are set only when the
 * purchase's props are literal; the synth-time checks compare against them and skip the rest.
 */
export interface BlockFacts {
  /** The purchase, for messages and as the owner of anything created for it. */
  readonly block: IConstruct;
  /** The instance type the block reserves (an UltraServer block's node type, when known). */
  readonly instanceType?: string;
  /** How many instances the block holds (unknown for UltraServer blocks and token counts). */
  readonly instanceCount?: number;
  /** The zone the purchase was pinned to, when literal. */
  readonly literalZone?: string;
  /** The zone EC2 answered (a deploy-time attribute). */
  readonly zoneAttribute: string;
  /** The reservation id (instance block). */
  readonly reservationId: string;
  /** For an UltraServer block: its name, e.g. u-p6e-gb200x72. */
  readonly ultraserverType?: string;
  /** When the block starts and ends (ISO 8601 with milliseconds, as EC2's answer is written; deploy-time attributes), when known. */
  readonly startDate?: string;
  readonly endDate?: string;
  /** True for a previewOnly purchase: nothing is bought, so consumers are wired to launch nothing. */
  readonly previewOnly: boolean;
  /** What each consumer wired to this reservation may ask for, for the oversubscription warning. */
  readonly consumers: Consumer[];
  /** Applies the block to a launch template (capacity reservation target + market type). */
  applyToLaunchTemplate(launchTemplate: ec2.LaunchTemplate): void;
}

/** One consumer of a reservation and the most instances it can ask for (undefined: not known at synth). */
export interface Consumer {
  readonly name: string;
  readonly instances?: number;
}

/** The id of the synth warning for consumers that together may ask for more than the reservation holds (`Annotations.acknowledgeWarning`). */
export const OVERSUBSCRIBED_WARNING = 'cdk-capacity-reservations:oversubscribed';

/**
 * Records a consumer of the reservation. When the app synthesizes, the consumers' maxima are added
 * up: more than the reservation holds is a warning (each may be right alone, and they may take turns),
 * which a team that schedules them apart acknowledges by its id.
 */
export function registerConsumer(facts: BlockFacts, consumer: Consumer): void {
  if (facts.consumers.length === 0) {
    facts.block.node.addValidation({
      validate: () => {
        const warning = oversubscriptionWarning(facts);
        if (warning) Annotations.of(facts.block).addWarningV2(OVERSUBSCRIBED_WARNING, warning);
        return [];
      },
    });
  }
  facts.consumers.push(consumer);
}

function oversubscriptionWarning(facts: BlockFacts): string | undefined {
  const count = literal(facts.instanceCount);
  const known = facts.consumers.filter(c => literal(c.instances) !== undefined);
  if (count === undefined || facts.consumers.length < 2 || known.length < 2) return undefined;
  const total = known.reduce((sum, c) => sum + c.instances!, 0);
  if (total <= count) return undefined;
  const listed = known.map(c => `${c.name} (up to ${c.instances})`).join(', ');
  return `${blockName(facts)} holds ${count} instance${count === 1 ? '' : 's'}, but its consumers can ask for ${total} together: ${listed}; the launches beyond ${count} fail while the others run. Lower their sizes so they add up to at most ${count}, or acknowledge '${OVERSUBSCRIBED_WARNING}' if they never run at the same time`;
}

/** A literal value, or undefined when it is a token. */
export function literal<T>(value: T | undefined): T | undefined {
  return value === undefined || Token.isUnresolved(value) ? undefined : value;
}

/** "Capacity Block Stack/Block", the way every message names the block. */
export function blockName(facts: BlockFacts): string {
  return `Capacity Block ${facts.block.node.path}`;
}
