import { NormalizedSchema } from '@smithy/core/schema';

/**
 * An official AWS model of a JSON-protocol service, as its @aws-sdk/client-* package ships it (its
 * Smithy schemas), read the way the JSON 1.1 protocol uses it: members by their own names, lists as
 * arrays, timestamps as epoch seconds. Emulators and handlers are checked against it, never against
 * each other.
 */
type Schema = NormalizedSchema;

export interface JsonProtocolModelOptions {
  /** The client package's name, for messages. */
  readonly packageName: string;
  /** Enumerations the model names, by member: a value the emulator sends must be one the SDK lists. */
  readonly enums?: Record<string, Record<string, string>>;
  /** Members whose model is free text though the docs name values: not checked as enums. */
  readonly freeTextParents?: readonly string[];
}

export interface JsonProtocolModel {
  /** Every key of an answer the emulator sent, against the model of `action`'s output. */
  answerKeysNotInModel(action: string, answer: Record<string, unknown>): string[];
  /** A request key the emulator reads (top level), against the model of `action`'s input. */
  requestKeyInModel(action: string, key: string): string | undefined;
  /** A property path the handler read from an SDK output (e.g. TrainingPlanOfferings.UpfrontFee): is it a member there? */
  outputPathInModel(action: string, path: string[]): string | undefined;
}

function member(schema: Schema, name: string): Schema | undefined {
  for (const [n, m] of schema.structIterator()) if (n === name) return m;
  return undefined;
}

/** The model of the client module `sdk` (e.g. `import * as sm from '@aws-sdk/client-sagemaker'`). */
export function jsonProtocolModel(sdk: object, options: JsonProtocolModelOptions): JsonProtocolModel {
  const ENUMS = options.enums ?? {};
  const FREE_TEXT_PARENTS = new Set(options.freeTextParents ?? []);
  function operation(action: string): unknown[] {
    const op = (sdk as Record<string, unknown[]>)[`${action}$`];
    if (!op) throw new Error(`${options.packageName} has no operation ${action}`);
    return op;
  }
  const inputOf = (action: string): Schema => NormalizedSchema.of((operation(action)[4] as () => never)());
  const outputOf = (action: string): Schema => NormalizedSchema.of((operation(action)[5] as () => never)());

  /** Every key of a JSON value the emulator sent or read, checked against `schema` (and its enums and timestamps). */
  function keysNotInModel(schema: Schema, value: unknown, path: string, parent = ''): string[] {
    if (value === null || value === undefined) return [];
    if (schema.isListSchema()) {
      if (!Array.isArray(value)) return [`${path}: the model has a list, got ${typeof value}`];
      return value.flatMap((v, i) => keysNotInModel(schema.getValueSchema(), v, `${path}[${i}]`, parent));
    }
    if (schema.isTimestampSchema()) return typeof value === 'number' ? [] : [`${path}: a timestamp goes as epoch seconds, got ${JSON.stringify(value)}`];
    if (schema.isStructSchema()) {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: the model has a structure, got ${JSON.stringify(value)}`];
      return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
        const m = member(schema, key);
        return m ? keysNotInModel(m, child, `${path}.${key}`, key) : [`${path}.${key} is not in the model`];
      });
    }
    const values = ENUMS[parent.replace(/\[\d+\]$/, '')];
    if (values && typeof value === 'string' && !FREE_TEXT_PARENTS.has(path.split('.').slice(-2)[0].replace(/\[\d+\]$/, '')) && !Object.values(values).includes(value)) {
      return [`${path}: '${value}' is not a value the model lists`];
    }
    return [];
  }

  return {
    answerKeysNotInModel: (action, answer) => keysNotInModel(outputOf(action), answer, action),
    requestKeyInModel: (action, key) => (member(inputOf(action), key) ? undefined : `${action}: the emulator reads '${key}', which is not in the request model`),
    outputPathInModel(action, path) {
      let schema = outputOf(action);
      for (const part of path) {
        while (schema.isListSchema()) schema = schema.getValueSchema();
        const m = schema.isStructSchema() ? member(schema, part) : undefined;
        if (!m) return `${action}: the handler reads ${path.join('.')}, but ${part} is not a member there`;
        schema = m;
      }
      return undefined;
    },
  };
}
