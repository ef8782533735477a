/** How money and instants are written in messages; shared by every handler (no SDK client behind it). */

/** A plain decimal amount as written, with at least two decimals: exact where rounding would hide a difference. */
export function decimalMoney(text: string, currency: string): string {
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(2, '0')} ${currency}`;
}

export function money(amount: number, currency: string): string {
  return Number.isFinite(amount) ? `${amount.toFixed(2)} ${currency}` : `? ${currency}`;
}

export function iso(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'unknown date' : date.toISOString().replace(/:00\.000Z$/, 'Z');
}
