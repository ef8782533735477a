/**
 * Run-time types of construct props, for JavaScript callers (and tsx, which does not type-check).
 * TypeScript checks props at compile time and jsii checks them for Python, Java, .NET and Go; plain
 * JavaScript passes whatever it is given, so a missing ceiling or a string where a class belongs would
 * otherwise reach the template as "undefined" or vanish. Pure: no CDK imports.
 */

/** What one prop must be. `instance` names the class (and how to make one) for the message. */
export type PropKind =
  | { readonly type: 'number' | 'string' | 'boolean' | 'date' | 'string-array' | 'string-map' }
  | { readonly type: 'instance'; readonly is: (value: unknown) => boolean; readonly example: string }
  | { readonly type: 'one-of'; readonly values: readonly string[] }
  | { readonly type: 'any-of'; readonly kinds: readonly PropKind[] };

export interface PropSpec {
  readonly kind: PropKind;
  /** Set when the prop is required; the message says what to give, e.g. `maxUpfrontFee: 6500`. */
  readonly required?: string;
}

/**
 * One line per problem: a missing required prop, a prop of the wrong type, or a prop the construct
 * does not know (a typo such as `previewonly` would otherwise be dropped, and the block bought).
 */
export function propTypeErrors(props: unknown, specs: Record<string, PropSpec>): string[] {
  if (props === null || typeof props !== 'object' || Array.isArray(props)) {
    return [`props must be an object, got ${describe(props)}`];
  }
  const given = props as Record<string, unknown>;
  const errors: string[] = [];
  for (const key of Object.keys(given)) {
    if (!(key in specs) && given[key] !== undefined) {
      const near = closest(key, Object.keys(specs));
      errors.push(`unknown prop '${key}'${near ? `; did you mean '${near}'?` : `; the props are ${Object.keys(specs).join(', ')}`}`);
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const value = given[name];
    if (value === undefined || value === null) {
      if (spec.required) errors.push(`${name} is required: ${spec.required}`);
      continue;
    }
    if (!matches(value, spec.kind)) errors.push(`${name} must be ${expected(spec.kind)}, got ${describe(value)}${hint(value, spec.kind)}`);
  }
  return errors;
}

function matches(value: unknown, kind: PropKind): boolean {
  switch (kind.type) {
    case 'number': return typeof value === 'number';
    case 'string': return typeof value === 'string';
    case 'boolean': return typeof value === 'boolean';
    case 'date': return value instanceof Date;
    case 'string-array': return Array.isArray(value) && value.every(v => typeof v === 'string');
    case 'string-map': return typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every(v => typeof v === 'string');
    case 'instance': return kind.is(value);
    case 'one-of': return typeof value === 'string' && kind.values.includes(value);
    case 'any-of': return kind.kinds.some(k => matches(value, k));
  }
}

function expected(kind: PropKind): string {
  switch (kind.type) {
    case 'number': return 'a number';
    case 'string': return 'a string';
    case 'boolean': return 'true or false';
    case 'date': return 'a Date';
    case 'string-array': return 'an array of strings';
    case 'string-map': return 'an object of string values';
    case 'instance': return `${kind.example}`;
    case 'one-of': return `one of ${kind.values.map(v => `'${v}'`).join(', ')}`;
    case 'any-of': return kind.kinds.map(expected).join(' or ');
  }
}

function hint(value: unknown, kind: PropKind): string {
  if (kind.type === 'number' && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return '; write it without quotes';
  if (kind.type === 'boolean' && (value === 'true' || value === 'false')) return '; write it without quotes';
  if (kind.type === 'string-array' && typeof value === 'string') return `; write ['${value}']`;
  return '';
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Date) return 'a Date';
  if (typeof value === 'function') return 'a function';
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** The known prop one typo away (case, or up to two edits), if any. */
function closest(key: string, known: string[]): string | undefined {
  const scored = known.map(k => ({ k, d: k.toLowerCase() === key.toLowerCase() ? 0 : distance(k.toLowerCase(), key.toLowerCase()) }));
  const best = scored.sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 2 ? best.k : undefined;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}
