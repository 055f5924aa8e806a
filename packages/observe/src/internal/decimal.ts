import { BursarError, ErrorCode } from '@bursar/core';

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/** An exact decimal: `digits × 10^-scale`. Internal. */
export interface Decimal {
  digits: bigint;
  scale: number;
}

/** Reads a plain decimal string (`"12.50"`, `"-3"`) exactly. */
export function parseDecimal(text: string, what = 'value'): Decimal {
  const m = typeof text === 'string' ? DECIMAL.exec(text.trim()) : null;
  if (!m) {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      `${what} must be a decimal string; got ${JSON.stringify(text)}`,
    );
  }
  const [, sign, whole = '', frac = ''] = m;
  const digits = BigInt(whole + frac);
  return { digits: sign ? -digits : digits, scale: frac.length };
}

/**
 * True when `text` is a plain decimal with nothing around it (`"12.50"`, `"-3"`): a subset of
 * what {@link parseDecimal} accepts (it also trims whitespace), checked without allocating.
 * `Number(text)` of such a text is the correctly rounded value of the exact decimal.
 */
export function isPlainDecimal(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const n = text.length;
  let i = n > 0 && text.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  const intStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  if (i === intStart) return false;
  if (i === n) return true;
  if (text.charCodeAt(i) !== 46 /* . */) return false;
  const fracStart = ++i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  return i === n && i > fracStart;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `a × x` compared with `b × y`, exactly: -1, 0 or 1. */
export function compareProducts(a: Decimal, x: Decimal, b: Decimal, y: Decimal): -1 | 0 | 1 {
  const left = a.digits * x.digits;
  const leftScale = a.scale + x.scale;
  const right = b.digits * y.digits;
  const rightScale = b.scale + y.scale;
  const scale = Math.max(leftScale, rightScale);
  const l = left * 10n ** BigInt(scale - leftScale);
  const r = right * 10n ** BigInt(scale - rightScale);
  return l < r ? -1 : l > r ? 1 : 0;
}

/** `100 × part / whole` rounded down to one decimal place, as text (`"83.3"`); `null` when whole is 0. */
export function percentText(part: Decimal, whole: Decimal): string | null {
  if (whole.digits === 0n) return null;
  const scale = Math.max(part.scale, whole.scale);
  const p = part.digits * 10n ** BigInt(scale - part.scale);
  const w = whole.digits * 10n ** BigInt(scale - whole.scale);
  const tenths = (p * 1000n) / w;
  const negative = tenths < 0n;
  const abs = negative ? -tenths : tenths;
  return `${negative ? '-' : ''}${abs / 10n}.${abs % 10n}`;
}
