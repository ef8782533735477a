import { Token } from 'aws-cdk-lib';
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
  /** Applies the block to a launch template (capacity reservation target + market type). */
  applyToLaunchTemplate(launchTemplate: ec2.LaunchTemplate): void;
}

/** A literal value, or undefined when it is a token. */
export function literal<T>(value: T | undefined): T | undefined {
  return value === undefined || Token.isUnresolved(value) ? undefined : value;
}

/** "Capacity Block Stack/Block", the way every message names the block. */
export function blockName(facts: BlockFacts): string {
  return `Capacity Block ${facts.block.node.path}`;
}
