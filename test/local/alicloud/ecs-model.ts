import * as ecs from '@alicloud/ecs20140526';
import OpenApiUtil from '@alicloud/openapi-util';
import * as ros from '@alicloud/ros20190910';

/**
 * The official ECS model, as @alicloud/ecs20140526 ships it: every request and answer class has
 * static names() (field -> wire key) and types() (field -> 'string' | a class | { type: 'array', itemType }).
 * RPC flattens requests to `Tag.1.Key` / `PrivatePoolOptions.Ids`; answers are JSON keyed by the wire names.
 */
interface ModelClass {
  names(): Record<string, string>;
  types(): Record<string, unknown>;
}

type FieldType = unknown;

/** ECS's models, and ROS's (@alicloud/ros20190910) for GetStack, the one ROS action the handler calls. */
const ROS_ACTIONS = new Set(['GetStack']);

function modelClass(name: string): ModelClass {
  const sdk = ROS_ACTIONS.has(name.replace(/(Request|ResponseBody)$/, '')) ? ros : ecs;
  const found = (sdk as unknown as Record<string, ModelClass | undefined>)[name];
  if (!found || typeof found.names !== 'function') throw new Error(`${sdk === ros ? '@alicloud/ros20190910' : '@alicloud/ecs20140526'} has no model ${name}`);
  return found;
}

const isModel = (t: FieldType): t is ModelClass => typeof t === 'function' && typeof (t as unknown as ModelClass).names === 'function';
const isArray = (t: FieldType): t is { type: 'array'; itemType: FieldType } => typeof t === 'object' && t !== null && (t as { type?: string }).type === 'array';

/** The members of a model class by wire key. */
function byWireKey(model: ModelClass): Map<string, FieldType> {
  const types = model.types();
  return new Map(Object.entries(model.names()).map(([field, wire]) => [wire, types[field]]));
}

/** One flattened request parameter (as the emulator receives it): undefined if the model has it. */
export function requestParameterNotInModel(action: string, parameter: string): string | undefined {
  let type: FieldType = modelClass(`${action}Request`);
  for (const part of parameter.split('.')) {
    if (isArray(type)) {
      if (!/^\d+$/.test(part)) return `${action} ${parameter}: '${part}' where the model has a list index`;
      type = type.itemType;
      continue;
    }
    if (!isModel(type)) return `${action} ${parameter}: '${part}' under a scalar`;
    const member = byWireKey(type);
    if (!member.has(part)) return `${action} ${parameter}: no member '${part}' in ${action}Request`;
    type = member.get(part);
  }
  return undefined;
}

/** Flattens a handler query the way the official client sends it, then checks each parameter. */
export function queryNotInModel(action: string, query: Record<string, unknown>): string[] {
  const flat = OpenApiUtil.query(query) as Record<string, string>;
  return Object.keys(flat).map(p => requestParameterNotInModel(action, p)).filter((e): e is string => e !== undefined);
}

/** Every key of an answer body that the model of `action`'s ResponseBody does not have. */
export function answerKeysNotInModel(action: string, body: unknown): string[] {
  const problems: string[] = [];
  const walk = (type: FieldType, value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (isArray(type)) {
      if (!Array.isArray(value)) problems.push(`${path}: the model has a list`);
      else value.forEach(item => walk(type.itemType, item, `${path}[]`));
      return;
    }
    if (!isModel(type)) {
      problems.push(`${path}: the model has a scalar`);
      return;
    }
    const members = byWireKey(type);
    for (const [key, child] of Object.entries(value)) {
      if (!members.has(key)) problems.push(`${path}.${key} is not in ${action}ResponseBody`);
      else walk(members.get(key), child, `${path}.${key}`);
    }
  };
  walk(modelClass(`${action}ResponseBody`), body, action);
  return problems;
}

/** Every key path a consumer read from a recorded answer that the model does not have. */
export function readsNotInModel(action: string, reads: readonly string[][]): string[] {
  const problems: string[] = [];
  for (const path of reads) {
    let type: FieldType = modelClass(`${action}ResponseBody`);
    for (const key of path) {
      while (isArray(type)) type = type.itemType;
      if (!isModel(type) || !byWireKey(type).has(key)) {
        problems.push(`${action}: read ${path.join('.')}, but '${key}' is not in the model there`);
        break;
      }
      type = byWireKey(type).get(key);
    }
  }
  return problems;
}

/**
 * Wraps an answer so that every key read from it (at any depth, through arrays) is recorded as a
 * path of wire keys: what the handler actually reads, including keys the answer lacks.
 */
export function recordReads<T>(value: T, reads: string[][], path: string[] = []): T {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value as unknown as object, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return child;
      if (Array.isArray(target)) {
        return /^\d+$/.test(key) ? recordReads(child, reads, path) : child;
      }
      if (key in Object.prototype || key === 'toJSON' || key === 'then') return child;
      reads.push([...path, key]);
      return recordReads(child, reads, [...path, key]);
    },
  }) as T;
}
