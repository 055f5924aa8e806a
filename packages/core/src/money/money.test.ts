import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BursarError, ErrorCode } from '../errors/index.js';
import { AssetRegistry } from './asset.js';
import { formatMinor, MAX_MINOR_UNITS, Money } from './money.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return BursarError.isInstance(e) ? e.code : 'not-a-bursar-error';
  }
  return undefined;
}

describe('Money.parse', () => {
  it('reads decimal strings exactly into minor units', () => {
    expect(Money.parse('25.10', 'USD').minor).toBe(2510n);
    expect(Money.parse('0.000001', 'USDC').minor).toBe(1n);
    expect(Money.parse('1', 'ETH').minor).toBe(10n ** 18n);
    expect(Money.parse('007.5', 'USD').minor).toBe(750n);
  });

  it('reads JS numbers through their decimal text, never float arithmetic', () => {
    expect(Money.parse(0.1, 'USD').minor).toBe(10n);
    expect(Money.parse(19.99, 'USD').minor).toBe(1999n);
    expect(Money.parse(1.005, 'USDC').minor).toBe(1_005_000n);
    expect(Money.parse(-0, 'USD').minor).toBe(0n);
  });

  it('accepts exponent forms within range', () => {
    expect(Money.parse('1.5e3', 'USD').minor).toBe(150_000n);
    expect(Money.parse('1e-6', 'USDC').minor).toBe(1n);
    expect(Money.parse(1e-6, 'USDC').minor).toBe(1n);
    expect(Money.parse('2E+2', 'USD').minor).toBe(20_000n);
  });

  it('accepts trailing zeros beyond the asset precision (they are exact)', () => {
    expect(Money.parse('1.2300', 'USD').minor).toBe(123n);
  });

  it('compares currency symbols case-insensitively', () => {
    const a = Money.parse('1', 'usdc');
    expect(a.currency).toBe('USDC');
    expect(a.equals(Money.parse('1', 'UsDc'))).toBe(true);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['negative number', -1],
    ['negative string', '-0.01'],
    ['empty string', ''],
    ['garbage', 'ten dollars'],
    ['leading plus', '+5'],
    ['whitespace', ' 5'],
    ['comma decimal', '5,00'],
    ['bare dot', '.5'],
    ['trailing dot', '5.'],
    ['hex', '0x10'],
    ['over-precise', '1.001'],
    ['over-precise number', 0.30000000000000004],
    ['exponent overflow', '1e400'],
    ['exponent too small', '1e-400'],
    ['beyond uint256', `${MAX_MINOR_UNITS}0`],
    ['unsafe integer number', 2 ** 60],
  ])('rejects %s with ERR_BURSAR_INVALID_AMOUNT', (_name, value) => {
    expect(codeOf(() => Money.parse(value as string | number, 'USD'))).toBe(ErrorCode.INVALID_AMOUNT);
  });

  it('rejects non-string, non-number input with a message naming the type', () => {
    const error = (() => {
      try {
        Money.parse(null as unknown as string, 'USD');
      } catch (e) {
        return e as BursarError;
      }
    })();
    expect(error?.code).toBe(ErrorCode.INVALID_AMOUNT);
    expect(error?.message).toContain('null');
  });

  it('names the currency and its precision when too precise', () => {
    expect(() => Money.parse('1.001', 'USD')).toThrow(/more decimals than USD allows \(2\)/);
  });

  it('rejects unknown currencies with a hint to register them', () => {
    expect(codeOf(() => Money.parse('1', 'DOGE'))).toBe(ErrorCode.UNKNOWN_ASSET);
    expect(() => Money.parse('1', 'DOGE')).toThrow(/register it first/);
  });

  it('allows negatives only when asked', () => {
    expect(Money.parse('-1.50', 'USD', { allowNegative: true }).minor).toBe(-150n);
  });
});

describe('Money.fromAtomic / fromMinor', () => {
  it('reads x402 atomic strings', () => {
    expect(Money.fromAtomic('1500000', 'USDC').format()).toBe('1.50 USDC');
  });

  it.each(['', '-1', '1.5', '1e6', ' 1', 'abc', '0x1'])('rejects atomic %j', (value) => {
    expect(codeOf(() => Money.fromAtomic(value, 'USDC'))).toBe(ErrorCode.INVALID_AMOUNT);
  });

  it('takes bigint, safe integers and digit strings as minor units', () => {
    expect(Money.fromMinor(5n, 'USD').minor).toBe(5n);
    expect(Money.fromMinor(5, 'USD').minor).toBe(5n);
    expect(Money.fromMinor('5', 'USD').minor).toBe(5n);
    expect(codeOf(() => Money.fromMinor(1.5, 'USD'))).toBe(ErrorCode.INVALID_AMOUNT);
    expect(codeOf(() => Money.fromMinor(-1n, 'USD'))).toBe(ErrorCode.INVALID_AMOUNT);
  });
});

describe('arithmetic and formatting', () => {
  it('adds, subtracts and compares', () => {
    const a = Money.parse('10.50', 'USD');
    const b = Money.parse('0.75', 'USD');
    expect(a.add(b).toDecimalString()).toBe('11.25');
    expect(b.subtract(a).toDecimalString()).toBe('-9.75');
    expect(a.compare(b)).toBe(1);
    expect(b.lt(a)).toBe(true);
    expect(Money.max(a, b)).toBe(a);
    expect(Money.sum([a, b, b]).toDecimalString()).toBe('12.00');
  });

  it('refuses to mix assets', () => {
    const usd = Money.parse('1', 'USD');
    const eur = Money.parse('1', 'EUR');
    expect(codeOf(() => usd.add(eur))).toBe(ErrorCode.ASSET_MISMATCH);
    expect(codeOf(() => usd.compare(eur))).toBe(ErrorCode.ASSET_MISMATCH);
    expect(codeOf(() => Money.sum([usd, eur]))).toBe(ErrorCode.ASSET_MISMATCH);
  });

  it('formats for people and for machines', () => {
    const m = Money.parse('25.1', 'USDC');
    expect(m.toDecimalString()).toBe('25.100000');
    expect(m.format()).toBe('25.10 USDC');
    expect(m.format({ symbol: false })).toBe('25.10');
    expect(Money.parse('0.000001', 'USDC').format()).toBe('0.000001 USDC');
    expect(JSON.stringify(m)).toBe('{"amount":"25.100000","currency":"USDC"}');
    expect(Money.fromMinor(7n, new AssetRegistry().register({ symbol: 'PTS', decimals: 0 })).format()).toBe(
      '7 PTS',
    );
  });
});

/** formatMinor as first written (padStart, slices, a regex), kept as the reference. */
function formatMinorReference(minor: bigint, decimals: number, trim: boolean): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  let text: string;
  if (decimals === 0) {
    text = abs.toString();
  } else {
    const s = abs.toString().padStart(decimals + 1, '0');
    let whole = s.slice(0, s.length - decimals);
    let frac = s.slice(s.length - decimals);
    if (trim) {
      frac = frac.replace(/0+$/, '');
      if (frac.length < Math.min(2, decimals)) frac = frac.padEnd(Math.min(2, decimals), '0');
    }
    whole = whole || '0';
    text = frac ? `${whole}.${frac}` : whole;
  }
  return negative ? `-${text}` : text;
}

describe('formatMinor', () => {
  it('formats exactly as the reference does, for any amount, decimals and trim (property)', () => {
    const minor = fc.oneof(
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
      fc.bigInt({ min: -1000n, max: 1000n }),
      fc.constantFrom(0n, 1n, 10n, 100n, 1_000_000n, 25_000_000n, MAX_MINOR_UNITS),
    );
    fc.assert(
      fc.property(minor, fc.integer({ min: 0, max: 30 }), fc.boolean(), (m, d, trim) => {
        expect(formatMinor(m, d, trim)).toBe(formatMinorReference(m, d, trim));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps every decimal, or trims to at least two', () => {
    expect(formatMinor(25_000_000n, 6)).toBe('25.000000');
    expect(formatMinor(25_000_000n, 6, true)).toBe('25.00');
    expect(formatMinor(1n, 6, true)).toBe('0.000001');
    expect(formatMinor(-5n, 1, true)).toBe('-0.5');
    expect(formatMinor(0n, 0)).toBe('0');
  });
});

describe('money properties', () => {
  const decimals = fc.constantFrom(0, 2, 6, 18);
  it('parse(toDecimalString(m)) round-trips exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), decimals, (minor, d) => {
        const reg = new AssetRegistry({ includeDefaults: false });
        const asset = reg.register({ symbol: `T${d}`, decimals: d });
        const m = Money.fromMinor(minor, asset);
        expect(Money.parse(m.toDecimalString(), asset).minor).toBe(minor);
        expect(Money.parse(m.format({ symbol: false }), asset).minor).toBe(minor);
      }),
    );
  });

  it('adding 0.1 ten thousand times gives exactly 1000, without drift', () => {
    let total = Money.zero('USD');
    const tenth = Money.parse(0.1, 'USD');
    for (let i = 0; i < 10_000; i++) total = total.add(tenth);
    expect(total.toDecimalString()).toBe('1000.00');
    expect(total.equals(Money.parse('1000', 'USD'))).toBe(true);
  });

  it('comparison is consistent with subtraction and antisymmetric', () => {
    const amount = fc.bigInt({ min: 0n, max: 10n ** 30n }).map((n) => Money.fromMinor(n, 'USDC'));
    fc.assert(
      fc.property(amount, amount, amount, (a, b, c) => {
        expect(a.compare(b)).toBe(-b.compare(a) || 0);
        expect(Math.sign(Number(a.subtract(b).minor))).toBe(a.compare(b));
        if (a.lte(b) && b.lte(c)) expect(a.lte(c)).toBe(true);
        expect(a.add(b).subtract(b).equals(a)).toBe(true);
      }),
    );
  });

  it('any JS number with at most 2 decimals parses to its exact cents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000_000 }), (cents) => {
        const n = cents / 100;
        expect(Money.parse(n, 'USD').minor).toBe(BigInt(cents));
      }),
    );
  });
});
