/**
 * Exact decimal money: amounts are plain decimal text as the clouds write them ("1.5360000000"),
 * held as a whole number of units of 10^-scale. Products and comparisons are exact (BigInt), so a
 * ceiling check never rounds in the buyer's disfavour; only `toMoneyText` rounds, and only up.
 * Pure: no SDK or CDK imports (the handlers bundle it).
 */

const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;

/** An exact non-negative decimal: `units` × 10^-`scale`. */
export interface ExactDecimal {
  readonly units: bigint;
  readonly scale: number;
}

/** Reads plain decimal text exactly; undefined for anything else (signs, exponents, blanks, hex). */
export function readDecimal(text: string): ExactDecimal | undefined {
  if (!PLAIN_DECIMAL.test(text)) return undefined;
  const [whole, fraction = ''] = text.split('.');
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

/** A whole number (an instance count, hours) as an exact decimal. */
export function wholeDecimal(n: number): ExactDecimal {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a whole non-negative number: ${n}`);
  return { units: BigInt(n), scale: 0 };
}

export function multiplyDecimals(...factors: ExactDecimal[]): ExactDecimal {
  return factors.reduce((product, f) => ({ units: product.units * f.units, scale: product.scale + f.scale }), { units: BigInt(1), scale: 0 });
}

export function addDecimals(...terms: ExactDecimal[]): ExactDecimal {
  const scale = Math.max(0, ...terms.map(t => t.scale));
  return { units: terms.reduce((sum, t) => sum + rescale(t, scale), BigInt(0)), scale };
}

/** Negative, zero or positive as `a` is below, equal to or above `b`; exact at any scale. */
export function compareDecimals(a: ExactDecimal, b: ExactDecimal): number {
  const scale = Math.max(a.scale, b.scale);
  const difference = rescale(a, scale) - rescale(b, scale);
  return difference === BigInt(0) ? 0 : difference < BigInt(0) ? -1 : 1;
}

/** `a` × `numerator` / `denominator`, rounded up at `scale` decimals: for per-hour rates over seconds. */
export function scaleDecimalUp(a: ExactDecimal, numerator: number, denominator: number, scale: number): ExactDecimal {
  const top = rescale(a, Math.max(a.scale, scale)) * BigInt(numerator);
  const bottom = BigInt(denominator) * BigInt(10) ** BigInt(Math.max(a.scale, scale) - scale);
  return { units: (top + bottom - BigInt(1)) / bottom, scale };
}

/** The amount as decimal text with `decimals` places, rounded up (a cost shown is never below the cost). */
export function toMoneyText(a: ExactDecimal, decimals = 2): string {
  let units = a.units;
  if (a.scale > decimals) {
    const divisor = BigInt(10) ** BigInt(a.scale - decimals);
    units = (units + divisor - BigInt(1)) / divisor;
  } else {
    units = units * BigInt(10) ** BigInt(decimals - a.scale);
  }
  const digits = units.toString().padStart(decimals + 1, '0');
  return decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** The amount as exact decimal text, without trailing zeros in the fraction. */
export function toExactText(a: ExactDecimal): string {
  if (a.scale === 0) return a.units.toString();
  const digits = a.units.toString().padStart(a.scale + 1, '0');
  const fraction = digits.slice(-a.scale).replace(/0+$/, '');
  return fraction ? `${digits.slice(0, -a.scale)}.${fraction}` : digits.slice(0, -a.scale);
}

function rescale(a: ExactDecimal, scale: number): bigint {
  return a.units * BigInt(10) ** BigInt(scale - a.scale);
}
