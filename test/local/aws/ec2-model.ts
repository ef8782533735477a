import * as ec2 from '@aws-sdk/client-ec2';
import { NormalizedSchema } from '@smithy/core/schema';

/**
 * The official EC2 model, as @aws-sdk/client-ec2 ships it (its Smithy schemas), read the way the
 * EC2 Query protocol uses it: requests flatten members to `Name.1.Member`, answers are XML elements
 * named by each member's xmlName, lists hold `item` elements.
 */
type Schema = NormalizedSchema;

function schemaOf(name: string): Schema {
  const raw = (ec2 as unknown as Record<string, unknown>)[`${name}$`];
  if (!raw) throw new Error(`@aws-sdk/client-ec2 has no schema ${name}`);
  return NormalizedSchema.of(raw as never);
}

/** The operation's output schema, or undefined where the model says it answers nothing (Unit). */
function outputOf(action: string): Schema | undefined {
  const operation = (ec2 as unknown as Record<string, unknown[]>)[`${action}$`];
  if (!operation) throw new Error(`@aws-sdk/client-ec2 has no operation ${action}`);
  const output = (operation[5] as () => unknown)();
  return output === 'unit' ? undefined : NormalizedSchema.of(output as never);
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const uncapitalize = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** The members of a structure, by the name the Query protocol puts on the wire. */
function members(schema: Schema, wireName: (name: string, traits: Record<string, unknown>) => string): Map<string, { name: string; schema: Schema }> {
  const found = new Map<string, { name: string; schema: Schema }>();
  for (const [name, member] of schema.structIterator()) found.set(wireName(name, member.getMergedTraits() as Record<string, unknown>), { name, schema: member });
  return found;
}

const queryName = (name: string, traits: Record<string, unknown>) => String(traits.ec2QueryName ?? (traits.xmlName ? capitalize(String(traits.xmlName)) : capitalize(name)));
const xmlName = (name: string, traits: Record<string, unknown>) => String(traits.xmlName ?? uncapitalize(name));

/** A request parameter as the emulator reads it (e.g. TagSpecification.1.Tag.2.Key): is it in the model of `action`'s input? */
export function requestParameterInModel(action: string, parameter: string): string | undefined {
  let schema = schemaOf(`${action}Request`);
  // (Input structures are named <Action>Request throughout the EC2 model.)
  const parts = parameter.split('.');
  for (let i = 0; i < parts.length; i++) {
    if (schema.isListSchema()) {
      if (!/^\d+$/.test(parts[i])) return `${parameter}: '${parts[i]}' where the model has a list index`;
      schema = schema.getValueSchema();
      continue;
    }
    if (!schema.isStructSchema()) return `${parameter}: '${parts[i]}' under a ${parts.slice(0, i).join('.')} that has no members`;
    const member = members(schema, queryName).get(parts[i]);
    if (!member) return `${parameter}: no member '${parts[i]}' in ${action}Request at ${parts.slice(0, i).join('.') || 'the top'}`;
    schema = member.schema;
  }
  return undefined;
}

/** Every element of an answer the emulator sent, checked against the model of `action`'s output. */
export function answerElementsNotInModel(action: string, answer: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const walk = (schema: Schema, value: unknown, path: string) => {
    if (value === null || typeof value !== 'object') return;
    if (schema.isListSchema()) {
      for (const [key, items] of Object.entries(value)) {
        if (key !== 'item') problems.push(`${path}.${key}: a list holds 'item' elements`);
        for (const item of [items].flat()) walk(schema.getValueSchema(), item, `${path}.item`);
      }
      return;
    }
    if (!schema.isStructSchema()) return;
    const byXml = members(schema, xmlName);
    for (const [key, child] of Object.entries(value)) {
      if (key.startsWith('@_') || (path === action && key === 'requestId')) continue;
      const member = byXml.get(key);
      if (!member) problems.push(`${path}.${key} is not in ${action}Result`);
      else walk(member.schema, child, `${path}.${key}`);
    }
  };
  const output = outputOf(action);
  if (output) {
    walk(output, answer, action);
  } else {
    // A Unit answer: EC2 documents only its acknowledgement, <return>true</return>.
    const extra = Object.keys(answer).filter(k => !k.startsWith('@_') && k !== 'requestId' && k !== 'return');
    problems.push(...extra.map(k => `${action}.${k}: the model says ${action} answers nothing`));
  }
  return problems;
}

/** A property path the handler read from an SDK output (e.g. CapacityReservations.Tags.Key): is it a member there? */
export function outputPathInModel(action: string, path: string[]): string | undefined {
  const output = outputOf(action);
  if (!output) return `${action}: the handler reads ${path.join('.')}, but the model says ${action} answers nothing`;
  let schema = output;
  for (const part of path) {
    while (schema.isListSchema()) schema = schema.getValueSchema();
    if (!schema.isStructSchema()) return `${action}: ${path.join('.')} goes below a value that has no members`;
    const member = members(schema, name => name).get(part);
    if (!member) return `${action}: the handler reads ${path.join('.')}, but ${part} is not a member of ${action}Result`;
    schema = member.schema;
  }
  return undefined;
}

/**
 * Enumerated values the model gives by name: where an answer holds one, it must be one the model
 * lists for that member. (A block state is not a reservation state: the model has a shorter list.)
 */
const ENUMS: Array<{ parent: string; child: string; values: Record<string, string>; name: string }> = [
  { parent: 'capacityBlockSet', child: 'state', values: ec2.CapacityBlockResourceState, name: 'CapacityBlockResourceState' },
  { parent: 'capacityReservationSet', child: 'state', values: ec2.CapacityReservationState, name: 'CapacityReservationState' },
  { parent: 'capacityReservation', child: 'state', values: ec2.CapacityReservationState, name: 'CapacityReservationState' },
  { parent: 'capacityBlockStatusSet', child: 'interconnectStatus', values: ec2.CapacityBlockInterconnectStatus, name: 'CapacityBlockInterconnectStatus' },
];

export function enumValuesNotInModel(action: string, answer: unknown): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, parent: string) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) { value.forEach(v => walk(v, parent)); return; }
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const rule = ENUMS.find(e => e.parent === parent && e.child === key);
      if (rule && typeof child === 'string' && !Object.values(rule.values).includes(child)) {
        problems.push(`${action}: ${parent}.${key} '${child}' is not a ${rule.name}`);
      }
      // List items sit under 'item': they keep the list's name as their parent.
      walk(child, key === 'item' ? parent : key);
    }
  };
  walk(answer, action);
  return problems;
}
