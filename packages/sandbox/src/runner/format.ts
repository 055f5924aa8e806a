/**
 * Decimal text with zeros past the cents trimmed, for display only (`2.850000` → `2.85`,
 * `40` → `40.00`). Exact: works on the digits, never through a float.
 */
export function shortAmount(amount: string): string {
  const [whole, frac = ''] = amount.split('.');
  return `${whole}.${frac.replace(/0+$/, '').padEnd(2, '0')}`;
}
