import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';

export type Json = Record<string, any>;

/** One reservation found in a synthesized template. */
export interface FoundReservation {
  /** aws: a CapacityBlockPurchase; sagemaker: a TrainingPlanPurchase; alicloud: an AliCapacityReservation. */
  readonly cloud: 'aws' | 'sagemaker' | 'alicloud';
  /** The stack (cdk.out artifact id, or the template file's name). */
  readonly stack: string;
  readonly logicalId: string;
  /** From the cloud assembly's environment, when it names one. */
  readonly region?: string;
  /** The properties as the handler would receive them, tokens left in place. */
  readonly properties: Json;
}

/** A CapacitySpendLimit that covers a stack, as `cdk synth` recorded it in the cloud assembly. */
export interface SpendLimitFound {
  readonly stack: string;
  /** The construct path the limit was set on. */
  readonly scope: string;
  readonly maxTotalUpfrontFee: number;
  readonly currencyCode: string;
}

/** The metadata type CapacitySpendLimit writes on every stack it covers (lib/aws/spend-limit.ts). */
const SPEND_LIMIT_METADATA = 'cdk-capacity-reservations:spend-limit';

const AWS_TYPE = 'Custom::CapacityBlockPurchase';
const TRAINING_PLAN_TYPE = 'Custom::TrainingPlanPurchase';
const ROS_TYPE = 'ALIYUN::ROS::CustomResource';

/**
 * Every CapacityBlockPurchase and AliCapacityReservation in the given places: a cloud assembly
 * (cdk.out, stages included; ros.out from ROS CDK), a directory of templates, or template files.
 */
export function findReservations(places: string[]): FoundReservation[] {
  return places.flatMap(place => {
    if (!existsSync(place)) throw new PlanInputError(`${place} does not exist; synthesize first (cdk synth), or name a template file`);
    if (!statSync(place).isDirectory()) return fromTemplate(place, path.basename(place).replace(/\.template\.json$|\.json$/, ''));
    return existsSync(path.join(place, 'manifest.json')) ? fromAssembly(place) : fromDirectory(place);
  });
}

function fromAssembly(dir: string): FoundReservation[] {
  return stackArtifacts(dir).flatMap(({ dir: at, stack, artifact }) => {
    const region = /^aws:\/\/[^/]+\/([a-z0-9-]+)$/.exec(String(artifact.environment ?? ''))?.[1];
    return fromTemplate(path.join(at, artifact.properties.templateFile), stack, region && region !== 'unknown-region' ? region : undefined);
  });
}

/** Every stack of a cloud assembly, nested assemblies (stages) included. */
function stackArtifacts(dir: string): Array<{ dir: string; stack: string; artifact: Json }> {
  const manifest = readJson(path.join(dir, 'manifest.json'));
  return Object.entries<Json>(manifest.artifacts ?? {}).flatMap(([id, artifact]) => {
    if (artifact.type === 'cdk:cloud-assembly') return stackArtifacts(path.join(dir, artifact.properties.directoryName));
    // ROS CDK writes the same cloud assembly with its own stack type and no environment.
    if (artifact.type !== 'aws:cloudformation:stack' && artifact.type !== 'aliyun:ros:stack') return [];
    return [{ dir, stack: artifact.displayName ?? id, artifact }];
  });
}

/** Every CapacitySpendLimit recorded in the cloud assemblies among `places`, per stack it covers. */
export function findSpendLimits(places: string[]): SpendLimitFound[] {
  return places.filter(p => existsSync(path.join(p, 'manifest.json'))).flatMap(dir => stackArtifacts(dir).flatMap(({ dir: at, stack, artifact }) =>
    // aws-cdk-lib writes a stack's metadata into the manifest, or into a file beside it that the manifest names.
    [artifact.metadata ?? {}, artifact.additionalMetadataFile ? readJson(path.join(at, artifact.additionalMetadataFile)) : {}]
      .flatMap(metadata => Object.values<Json[]>(metadata).flat())
      .filter(entry => entry?.type === SPEND_LIMIT_METADATA)
      .map(entry => ({ stack, scope: String(entry.data.scope), maxTotalUpfrontFee: Number(entry.data.maxTotalUpfrontFee), currencyCode: String(entry.data.currencyCode) }))));
}

function fromDirectory(dir: string): FoundReservation[] {
  return readdirSync(dir).filter(f => f.endsWith('.template.json')).sort()
    .flatMap(f => fromTemplate(path.join(dir, f), f.replace(/\.template\.json$/, '')));
}

function fromTemplate(file: string, stack: string, region?: string): FoundReservation[] {
  const resources: Record<string, Json> = readJson(file).Resources ?? {};
  return Object.entries(resources).flatMap(([logicalId, resource]): FoundReservation[] => {
    const { ServiceToken: _token, ...properties } = resource.Properties ?? {};
    if (resource.Type === AWS_TYPE) return [{ cloud: 'aws', stack, logicalId, region, properties }];
    if (resource.Type === TRAINING_PLAN_TYPE) return [{ cloud: 'sagemaker', stack, logicalId, region, properties }];
    if (resource.Type === ROS_TYPE && Array.isArray(properties.Parameters?.ZoneIds ?? undefined)) {
      return [{ cloud: 'alicloud', stack, logicalId, region, properties: properties.Parameters }];
    }
    return [];
  });
}

/**
 * Replaces `{ Ref: Name }` with a value the user gave (`--parameters Name=Value`) and names every
 * other token by its property: a token is reported, never guessed.
 */
export function resolveTokens(properties: Json, parameters: Record<string, string>): { properties: Json; unresolved: string[] } {
  const unresolved: string[] = [];
  const resolve = (value: unknown, where: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${where}[${i}]`));
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
        const ref = (value as Json).Ref;
        if (typeof ref === 'string' && parameters[ref] !== undefined) return parameters[ref];
        unresolved.push(`${where} is ${JSON.stringify(value)}${typeof ref === 'string' ? ` (pass --parameters ${ref}=VALUE to plan with a value)` : ''}`);
        return undefined;
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, where ? `${where}.${k}` : k)]));
    }
    return value;
  };
  return { properties: resolve(properties, '') as Json, unresolved };
}

/** Bad input to the plan itself (a path, a flag): exit 1 with this one line. */
export class PlanInputError extends Error {}

function readJson(file: string): Json {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PlanInputError(`cannot read ${file} as a template: ${(error as Error).message}`);
  }
}
