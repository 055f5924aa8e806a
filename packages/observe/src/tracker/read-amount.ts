import { type Asset, Money, type MoneyOptions } from '@bursar/core';

/**
 * Reads an amount of `asset` exactly, as `Money.parse` does, without its regular expression
 * and text-to-bigint conversion in the common case: a plain decimal text (`"25.10"`, `"1500"`)
 * with at most the asset's decimals, whose minor units are a safe integer. Everything else —
 * numbers, exponents, signs, spaces, extra (even zero) decimals, larger amounts, and every
 * invalid input — goes to `Money.parse`, which also produces the errors. Internal.
 */
export function readAmount(value: unknown, asset: Asset, options: MoneyOptions): Money {
  if (typeof value === 'string') {
    const minor = plainMinor(value, asset.decimals);
    // The caller's options, not a default `{}` made per call (the asset is given, so they only
    // say that negatives are not allowed, as in Money.parse).
    if (minor >= 0) return Money.fromMinor(minor, asset, options);
  }
  return Money.parse(value as string, asset, options);
}

/** Minor units of a plain decimal text when they are a safe integer; −1 when not (or not plain). */
export function plainMinor(text: string, decimals: number): number {
  const n = text.length;
  // Longer texts go to Money.parse: 16 digits already reach past 2^53.
  if (n === 0 || n > 17) return -1;
  let digits = 0;
  let fraction = -1; // digits after the point; −1 while there is no point
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (fraction !== -1 || i === 0 || i === n - 1) return -1;
      fraction = 0;
      continue;
    }
    if (c < 48 || c > 57) return -1;
    if (fraction !== -1 && ++fraction > decimals) return -1;
    // Exact while below 2^53; a larger result is rejected below.
    digits = digits * 10 + (c - 48);
  }
  if (digits > Number.MAX_SAFE_INTEGER) return -1;
  // 10^k is exact up to 10^22, and a product that is a safe integer is computed exactly; past
  // 10^22 only zero stays safe (0 × anything is 0).
  const minor = digits * 10 ** (decimals - (fraction === -1 ? 0 : fraction));
  return minor <= Number.MAX_SAFE_INTEGER ? minor : -1;
}

/**
 * Is a capture's amount zero (all zeros with at most one point: `''`, `'0'`, `'0.00'`, `'.'`)?
 * The same as testing `/^0*(\.0*)?$/`, without running a regular expression per payment.
 */
export function isZeroAmount(value: unknown): boolean {
  if (typeof value !== 'string') return ZERO_TEXT.test(String(value));
  let point = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 48 /* 0 */) continue;
    if (c !== 46 /* . */ || point) return false;
    point = true;
  }
  return true;
}

const ZERO_TEXT = /^0*(\.0*)?$/;
