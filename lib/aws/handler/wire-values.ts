/**
 * Readers of CloudFormation's all-strings properties, for every handler's request parser: strict
 * (Number('') is 0 and Number('0x10') is 16, so numbers go through a parser that refuses them), and
 * each bad value adds its message to `errors`, so that one failure names every bad property.
 */
export function wireReaders(errors: Array<string | undefined>) {
  const text = (raw: unknown): string | undefined => (raw === undefined || raw === '' ? undefined : String(raw));
  const number = (name: string, raw: unknown, parse: (text: string) => number | undefined, fallback?: number): number => {
    const given = text(raw);
    if (given === undefined) {
      if (fallback !== undefined) return fallback;
      errors.push(`${name} is required`);
      return NaN;
    }
    const value = parse(given);
    if (value === undefined) errors.push(`${name} must be a plain number, got '${given}'`);
    return value ?? NaN;
  };
  const flag = (name: string, raw: string | undefined): boolean => {
    if (raw === undefined || raw === '' || raw === 'false') return false;
    if (raw === 'true') return true;
    errors.push(`${name} must be true or false, got '${raw}'`);
    return false;
  };
  const date = (raw: string | undefined): Date | undefined => (raw ? new Date(raw) : undefined);
  return { text, number, flag, date };
}
