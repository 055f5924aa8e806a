import { BursarError, ErrorCode } from '../errors/index.js';
import { type Asset, type AssetRegistry, defaultAssets } from './asset.js';

/** The largest amount Bursar accepts, in minor units: 2^256 − 1, the range of an on-chain token. */
export const MAX_MINOR_UNITS = (1n << 256n) - 1n;
const MAX_EXPONENT = 100;
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
const ATOMIC = /^\d+$/;

export interface MoneyOptions {
  /** Where to look the currency up; defaults to `defaultAssets`. */
  assets?: AssetRegistry;
  /** Accept negative amounts (adjustments). Payments never need this. */
  allowNegative?: boolean;
}

/** What an amount may be written as: a decimal string (`"25.00"`, `"1e-6"`) or a JS number. */
export type AmountInput = string | number;

function invalid(message: string, value: unknown, currency?: string): BursarError {
  return new BursarError(ErrorCode.INVALID_AMOUNT, message, {
    details: {
      value: typeof value === 'bigint' ? value.toString() : value,
      ...(currency ? { currency } : {}),
    },
  });
}

const POW10: bigint[] = [];
function pow10(n: number): bigint {
  let p = POW10[n];
  if (p === undefined) {
    p = 10n ** BigInt(n);
    POW10[n] = p;
  }
  return p;
}

/**
 * An exact amount of one asset, held as integer minor units (`bigint`). Immutable.
 *
 * @example
 * const a = Money.parse('25.10', 'usdc');      // 25_100_000n minor units of USDC
 * const b = a.add(Money.parse(0.9, 'USDC'));    // numbers are read through their decimal text
 * b.toDecimalString();                          // '26.000000'
 * b.format();                                   // '26.00 USDC'
 */
export class Money {
  /** Integer minor units (e.g. cents, or 10^-6 USDC). */
  readonly minor: bigint;
  readonly asset: Asset;

  private constructor(minor: bigint, asset: Asset) {
    this.minor = minor;
    this.asset = asset;
    Object.freeze(this);
  }

  /** The asset's canonical symbol. */
  get currency(): string {
    return this.asset.symbol;
  }

  get decimals(): number {
    return this.asset.decimals;
  }

  /**
   * Reads a decimal amount. Strings may use an exponent (`1.5e3`); numbers are read through
   * their shortest decimal text, so `0.1` is exactly one tenth. Rejects NaN, ±Infinity,
   * garbage, negatives (unless allowed), unsafe integers given as numbers, more non-zero
   * decimals than the asset has, and amounts beyond 2^256 − 1 minor units.
   */
  static parse(value: AmountInput, currency: string | Asset, options: MoneyOptions = {}): Money {
    const asset = resolveAsset(currency, options);
    return new Money(parseMinor(value, asset, options.allowNegative === true), asset);
  }

  /** An amount already in minor (atomic) units: a bigint, a safe integer, or a string of digits. */
  static fromMinor(
    minor: bigint | number | string,
    currency: string | Asset,
    options: MoneyOptions = {},
  ): Money {
    const asset = resolveAsset(currency, options);
    let value: bigint;
    if (typeof minor === 'bigint') {
      value = minor;
    } else if (typeof minor === 'number') {
      if (!Number.isSafeInteger(minor)) {
        throw invalid(
          `Minor units must be a safe integer; got ${minor}. Pass a bigint or a digit string`,
          minor,
          asset.symbol,
        );
      }
      value = BigInt(minor);
    } else if (typeof minor === 'string' && /^-?\d+$/.test(minor) && minor.length <= 80) {
      value = BigInt(minor);
    } else {
      throw invalid(`Minor units must be an integer; got ${JSON.stringify(minor)}`, minor, asset.symbol);
    }
    checkRange(value, minor, asset, options.allowNegative === true);
    return new Money(value, asset);
  }

  /**
   * An x402-style atomic amount: a string of digits only (`"1500000"` = 1.5 USDC).
   * Signs, decimals, exponents and whitespace are rejected.
   */
  static fromAtomic(
    atomic: string,
    currency: string | Asset,
    options: Omit<MoneyOptions, 'allowNegative'> = {},
  ): Money {
    const asset = resolveAsset(currency, options);
    if (typeof atomic !== 'string' || !ATOMIC.test(atomic) || atomic.length > 80) {
      throw invalid(
        `Atomic amount must be a string of digits; got ${JSON.stringify(atomic)}`,
        atomic,
        asset.symbol,
      );
    }
    const value = BigInt(atomic);
    checkRange(value, atomic, asset, false);
    return new Money(value, asset);
  }

  static zero(currency: string | Asset, options: MoneyOptions = {}): Money {
    return new Money(0n, resolveAsset(currency, options));
  }

  /** True when `value` is a Money (also from a second copy of this package). */
  static isMoney(value: unknown): value is Money {
    return (
      value instanceof Money ||
      (typeof value === 'object' &&
        value !== null &&
        typeof (value as Money).minor === 'bigint' &&
        typeof (value as Money).asset?.symbol === 'string')
    );
  }

  /** Sum of amounts of one asset; an empty list needs the currency. */
  static sum(values: readonly Money[], currency?: string | Asset, options: MoneyOptions = {}): Money {
    const first = values[0];
    if (!first) {
      if (currency === undefined) throw invalid('Money.sum of an empty list needs a currency', values);
      return Money.zero(currency, options);
    }
    let total = 0n;
    for (const v of values) {
      sameAsset(first, v, 'sum');
      total += v.minor;
    }
    return new Money(total, first.asset);
  }

  static max(a: Money, b: Money): Money {
    return a.compare(b) >= 0 ? a : b;
  }

  static min(a: Money, b: Money): Money {
    return a.compare(b) <= 0 ? a : b;
  }

  add(other: Money): Money {
    sameAsset(this, other, 'add');
    return new Money(this.minor + other.minor, this.asset);
  }

  /** May go below zero: a negative result means "over by". */
  subtract(other: Money): Money {
    sameAsset(this, other, 'subtract');
    return new Money(this.minor - other.minor, this.asset);
  }

  /** -1, 0 or 1. Different assets are an error, never "not equal". */
  compare(other: Money): -1 | 0 | 1 {
    sameAsset(this, other, 'compare');
    return this.minor < other.minor ? -1 : this.minor > other.minor ? 1 : 0;
  }

  equals(other: Money): boolean {
    return this.compare(other) === 0;
  }
  gt(other: Money): boolean {
    return this.compare(other) > 0;
  }
  gte(other: Money): boolean {
    return this.compare(other) >= 0;
  }
  lt(other: Money): boolean {
    return this.compare(other) < 0;
  }
  lte(other: Money): boolean {
    return this.compare(other) <= 0;
  }
  isZero(): boolean {
    return this.minor === 0n;
  }
  isNegative(): boolean {
    return this.minor < 0n;
  }

  /** The amount with every decimal place of the asset: `'25.000000'` for USDC. Parses back exactly. */
  toDecimalString(): string {
    return formatMinor(this.minor, this.asset.decimals, false);
  }

  /** Minor units as a digit string (x402 atomic form). */
  toAtomicString(): string {
    return this.minor.toString();
  }

  /**
   * Human text: trailing zeros trimmed to at least two decimals, then the symbol
   * (`'25.10 USDC'`, `'0.000001 USDC'`). Pass `{ symbol: false }` for the number only.
   */
  format(options: { symbol?: boolean } = {}): string {
    const text = formatMinor(this.minor, this.asset.decimals, true);
    return options.symbol === false ? text : `${text} ${this.asset.symbol}`;
  }

  toString(): string {
    return this.format();
  }

  /** `{ amount: '25.000000', currency: 'USDC' }`: JSON-safe and exact. */
  toJSON(): { amount: string; currency: string } {
    return { amount: this.toDecimalString(), currency: this.asset.symbol };
  }
}

function resolveAsset(currency: string | Asset, options: MoneyOptions): Asset {
  if (typeof currency === 'object' && currency !== null) return currency;
  return (options.assets ?? defaultAssets).require(currency);
}

function sameAsset(a: Money, b: Money, op: string): void {
  if (!Money.isMoney(b)) {
    throw new BursarError(ErrorCode.INVALID_ARGUMENT, `Money.${op} needs a Money; got ${typeof b}`);
  }
  if (
    a.asset !== b.asset &&
    (a.asset.symbol.toUpperCase() !== b.asset.symbol.toUpperCase() || a.asset.decimals !== b.asset.decimals)
  ) {
    throw new BursarError(
      ErrorCode.ASSET_MISMATCH,
      `Cannot ${op} ${b.asset.symbol} and ${a.asset.symbol}: amounts of different assets never mix`,
      { details: { left: a.asset.symbol, right: b.asset.symbol } },
    );
  }
}

function checkRange(value: bigint, input: unknown, asset: Asset, allowNegative: boolean): void {
  if (value < 0n && !allowNegative) {
    throw invalid(`Amount must not be negative; got ${String(input)} ${asset.symbol}`, input, asset.symbol);
  }
  if (value > MAX_MINOR_UNITS || value < -MAX_MINOR_UNITS) {
    throw invalid(
      `Amount is too large (more than 2^256 - 1 minor units of ${asset.symbol})`,
      input,
      asset.symbol,
    );
  }
}

function parseMinor(value: AmountInput, asset: Asset, allowNegative: boolean): bigint {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw invalid(`Amount must be a finite number; got ${value}`, value, asset.symbol);
    }
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      throw invalid(
        `Amount ${value} is beyond the exact range of a JS number (2^53); pass it as a decimal string`,
        value,
        asset.symbol,
      );
    }
    // Object.is keeps -0 from printing as "0" and slipping past the sign check.
    text = Object.is(value, -0) ? '0' : String(value);
  } else if (typeof value === 'string') {
    text = value;
  } else {
    throw invalid(
      `Amount must be a decimal string or a number; got ${value === null ? 'null' : typeof value}`,
      value,
      asset.symbol,
    );
  }
  if (text.length === 0 || text.length > 200) {
    throw invalid(
      `Amount must be a decimal like "25.00"; got ${JSON.stringify(text.slice(0, 40))}`,
      value,
      asset.symbol,
    );
  }
  const m = DECIMAL.exec(text);
  if (!m) {
    throw invalid(
      `Amount must be a decimal like "25.00"; got ${JSON.stringify(text.slice(0, 40))}`,
      value,
      asset.symbol,
    );
  }
  const [, sign, whole = '', frac = '', expText] = m;
  const exp = expText === undefined ? 0 : Number(expText);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > MAX_EXPONENT) {
    throw invalid(`Amount exponent ${expText} is out of range (±${MAX_EXPONENT})`, value, asset.symbol);
  }
  const digits = BigInt(whole + frac);
  // value = digits × 10^(exp − frac.length); minor = value × 10^decimals
  const shift = asset.decimals + exp - frac.length;
  let minor: bigint;
  if (shift >= 0) {
    minor = digits * pow10(shift);
  } else {
    const div = pow10(-shift);
    if (digits % div !== 0n) {
      throw invalid(
        `Amount ${text} has more decimals than ${asset.symbol} allows (${asset.decimals})`,
        value,
        asset.symbol,
      );
    }
    minor = digits / div;
  }
  if (sign === '-' && minor !== 0n) minor = -minor;
  checkRange(minor, value, asset, allowNegative);
  return minor;
}

/**
 * Formats minor units as a decimal string without building a {@link Money}: every decimal
 * place (`trim: false`, parses back exactly) or trimmed to at least two (`trim: true`).
 */
export function formatMinor(minor: bigint, decimals: number, trim = false): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  let text: string;
  if (decimals === 0) {
    text = abs.toString();
  } else {
    // Budget reasons format several amounts per decision: no regex, no padding when the
    // digits already reach past the decimal point.
    let s = abs.toString();
    if (s.length <= decimals) s = s.padStart(decimals + 1, '0');
    const point = s.length - decimals;
    let end = s.length;
    if (trim) {
      const keep = point + Math.min(2, decimals);
      while (end > keep && s.charCodeAt(end - 1) === 48 /* '0' */) end--;
    }
    text = `${s.slice(0, point)}.${s.slice(point, end)}`;
  }
  return negative ? `-${text}` : text;
}
