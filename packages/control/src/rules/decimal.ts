const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** An exact decimal: mantissa × 10^exponent. */
export interface Decimal {
  mantissa: bigint;
  exponent: number;
}

/** Reads a finite number (through its decimal text) or a decimal string exactly; undefined otherwise. */
export function toDecimal(value: unknown): Decimal | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    text = String(value);
  } else if (typeof value === 'string') {
    if (value.length === 0 || value.length > 100) return undefined;
    text = value.trim();
  } else {
    return undefined;
  }
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const exp = Number(m[4] ?? '0') - frac.length;
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 400) return undefined;
  const mantissa = BigInt(m[2]! + frac);
  return { mantissa: m[1] === '-' ? -mantissa : mantissa, exponent: exp };
}

/** Exact comparison of two decimals: -1, 0 or 1. */
export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  let x = a.mantissa;
  let y = b.mantissa;
  if (a.exponent > b.exponent) x *= 10n ** BigInt(a.exponent - b.exponent);
  else if (b.exponent > a.exponent) y *= 10n ** BigInt(b.exponent - a.exponent);
  return x < y ? -1 : x > y ? 1 : 0;
}
