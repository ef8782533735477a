/**
 * Synth-time rules for wiring a Capacity Block into what launches instances. Each compares two
 * literal values and returns a one-line message naming both sides and the fix, or undefined; a
 * token on either side is skipped (the value is only known at deploy time: see the README).
 */
import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { BlockFacts, blockName, literal } from './block-facts';

export function instanceTypeError(consumer: string, instanceType: string | undefined, facts: BlockFacts): string | undefined {
  const given = literal(instanceType);
  const reserved = literal(facts.instanceType);
  if (given === undefined || reserved === undefined || given === reserved) return undefined;
  return `${consumer} uses instance type ${given}, but ${blockName(facts)} reserves ${reserved}; use ${reserved}`;
}

/** The sizes a consumer asks for, by prop name (minSize, desiredSize, maxSize, MinCount, ...). */
export type Sizes = Record<string, number | undefined>;

export function sizeErrors(consumer: string, sizes: Sizes, facts: BlockFacts): string[] {
  const count = literal(facts.instanceCount);
  if (count === undefined) return [];
  return Object.entries(sizes)
    .filter(([, size]) => literal(size) !== undefined && size! > count)
    .map(([prop, size]) => `${consumer} has ${prop} ${size}, but ${blockName(facts)} holds ${count} instance${count === 1 ? '' : 's'}; set ${prop} to at most ${count}`);
}

/**
 * Every subnet must be in the block's zone: EC2 launches a Capacity Block's instances only there,
 * and an Auto Scaling group spreads over all its subnets' zones.
 */
export function zoneErrors(consumer: string, subnets: ec2.ISubnet[], facts: BlockFacts): string[] {
  const zone = facts.literalZone;
  const knownZones = [...new Set(subnets.map(s => literal(s.availabilityZone)).filter((z): z is string => z !== undefined))];
  if (zone === undefined) {
    const suggestion = knownZones.length === 1 ? `'${knownZones[0]}', the zone of its subnets` : 'the zone of the subnets you will launch in';
    return [`${consumer} cannot be kept to the zone of ${blockName(facts)}: the purchase has no availabilityZone, so EC2 may sell a block in any zone; set availabilityZone on the purchase to ${suggestion}`];
  }
  const outside = subnets.filter(s => literal(s.availabilityZone) !== undefined && s.availabilityZone !== zone);
  if (outside.length === 0) return [];
  const listed = outside.map(s => `${Token.isUnresolved(s.subnetId) ? s.node.path : s.subnetId} (${s.availabilityZone})`).join(', ');
  return [`${consumer} has subnets outside ${zone}, the zone of ${blockName(facts)}: ${listed}; select subnets in ${zone} only, e.g. { availabilityZones: ['${zone}'] }`];
}

/** What a launch template already sets that a Capacity Block launch cannot have. */
export function launchTemplateErrors(launchTemplate: ec2.LaunchTemplate, facts: BlockFacts): string[] {
  const errors: string[] = [];
  const cfn = launchTemplate.node.defaultChild as ec2.CfnLaunchTemplate;
  const data = cfn.launchTemplateData as ec2.CfnLaunchTemplate.LaunchTemplateDataProperty | undefined;
  const market = data?.instanceMarketOptions as ec2.CfnLaunchTemplate.InstanceMarketOptionsProperty | undefined;
  if (market?.spotOptions !== undefined || (market?.marketType !== undefined && market.marketType !== 'capacity-block')) {
    errors.push(`launch template ${launchTemplate.node.path} requests Spot instances, but ${blockName(facts)} is launched with the capacity-block market type; remove spotOptions from the launch template`);
  }
  return errors;
}

/** Throws every error at once, in one line (as the construct's own prop checks do). */
export function throwIfAny(errors: Array<string | undefined>): void {
  const found = errors.filter((e): e is string => e !== undefined);
  if (found.length > 0) throw new Error(found.join('; '));
}
