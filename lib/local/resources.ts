import { createHash } from 'crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { localVendor } from './modules';

/** The built handler bundles (npm run build), as Lambda and FC load them. */
export const ASSETS = path.join(__dirname, '..', '..', 'assets');

export interface RehearsalOptions {
  /** Deliver every Create twice, as Lambda/ROS retries may. @default true */
  readonly redeliver?: boolean;
  /** Progress lines. @default no output */
  readonly progress?: (line: string) => void;
}

export type Json = Record<string, any>;

/** Custom resources of a type in a synthesized template, with the properties a handler would receive. */
export function findResources(templatePath: string, type: string, keep: (props: Json) => boolean = () => true): Array<{ logicalId: string; properties: Json }> {
  const template = JSON.parse(readFileSync(templatePath, 'utf8'));
  return Object.entries<Json>(template.Resources ?? {})
    .filter(([, r]) => r.Type === type && keep(r.Properties ?? {}))
    .map(([logicalId, r]) => ({ logicalId, properties: resolveLiterals(r.Properties ?? {}, logicalId) }));
}

/** Keeps literal values; drops the ServiceToken (wiring, not input); refuses other unresolved tokens. */
function resolveLiterals(properties: Json, logicalId: string): Json {
  const resolve = (value: unknown, where: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${where}[${i}]`));
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
        throw new Error(`cannot rehearse ${logicalId}: ${where} is ${JSON.stringify(value)}, which only resolves in a real deployment; use literal values in the rehearsed app`);
      }
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, `${where}.${k}`)]));
    }
    return value;
  };
  const { ServiceToken: _token, ...rest } = properties;
  return resolve(rest, 'Properties') as Json;
}

/**
 * A built handler bundle, loaded as Lambda and FC load it: a directory's index.js, or the index.js of
 * a code zip (unpacked once into the temporary directory, then required like any file, so that the
 * host's module system, a test runner's included, loads it).
 */
export function loadBundle<T>(file: string): T {
  let entry = file;
  if (file.endsWith('.zip')) {
    const zip = readFileSync(file);
    entry = path.join(tmpdir(), `cdk-capacity-reservations-${createHash('sha256').update(zip).digest('hex').slice(0, 16)}`, 'index.js');
    if (!existsSync(entry)) {
      mkdirSync(path.dirname(entry), { recursive: true });
      // Written aside and renamed: another process may be unpacking the same zip.
      writeFileSync(`${entry}.${process.pid}`, localVendor().unzipSync(zip)['index.js']);
      renameSync(`${entry}.${process.pid}`, entry);
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a built bundle, loaded by path as Lambda/FC load it
  return require(entry) as T;
}

let unmuted: typeof console.log | undefined;

export function quietly<T>(work: () => Promise<T>): Promise<T> {
  // The handlers log JSON lines for CloudWatch / SLS; the rehearsal prints its own progress instead.
  const original = console.log;
  unmuted ??= original;
  console.log = () => undefined;
  return work().finally(() => {
    console.log = original;
    if (console.log === unmuted) unmuted = undefined;
  });
}

/** The caller's progress callback, heard even while the handlers' logs are muted (`progress: console.log` works). */
export function progressOf(options: RehearsalOptions): (line: string) => void {
  return line => {
    if (!options.progress) return;
    const muted = console.log;
    if (unmuted) console.log = unmuted;
    try {
      options.progress(line);
    } finally {
      console.log = muted;
    }
  };
}
