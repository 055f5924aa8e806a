import { AssetRegistry, BursarError, Money } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isZeroAmount, plainMinor, readAmount } from './read-amount.js';

const assets = new AssetRegistry();
assets.register({ symbol: 'PTS', decimals: 0 });

function outcome(read: () => Money): { minor: bigint; symbol: string } | { error: string; code: string } {
  try {
    const m = read();
    return { minor: m.minor, symbol: m.asset.symbol };
  } catch (error) {
    return { error: (error as Error).message, code: BursarError.isInstance(error) ? error.code : 'none' };
  }
}

const plainText = fc
  .tuple(
    fc.stringMatching(/^[0-9]{0,18}$/),
    fc.option(fc.stringMatching(/^[0-9]{0,20}$/), { nil: undefined }),
  )
  .map(([whole, frac]) => (frac === undefined ? whole : `${whole}.${frac}`));
const anyText = fc.stringMatching(/^[-+ .0-9eE]{0,22}$/);

describe('readAmount reads amounts exactly as Money.parse does', () => {
  it('on random decimal texts, valid or not (property)', () => {
    fc.assert(
      fc.property(fc.oneof(plainText, anyText), fc.constantFrom('USD', 'USDC', 'ETH', 'PTS'), (text, cur) => {
        const asset = assets.require(cur);
        expect(outcome(() => readAmount(text, asset, { assets }))).toEqual(
          outcome(() => Money.parse(text, asset, { assets })),
        );
      }),
      { numRuns: 5000 },
    );
  });

  it('also for numbers and non-amounts, which always go to Money.parse', () => {
    const usd = assets.require('USD');
    for (const value of [25.1, 0.1, -1, Number.NaN, 1e21, null, undefined, {}]) {
      expect(outcome(() => readAmount(value, usd, { assets }))).toEqual(
        outcome(() => Money.parse(value as number, usd, { assets })),
      );
    }
  });

  it('takes its fast path only for plain texts with safe minor units', () => {
    expect(plainMinor('25.10', 2)).toBe(2510);
    expect(plainMinor('001.5', 2)).toBe(150);
    expect(plainMinor('1500', 6)).toBe(1_500_000_000);
    expect(plainMinor('0.000000000001', 18)).toBe(1_000_000);
    expect(plainMinor('9007199254740991', 0)).toBe(Number.MAX_SAFE_INTEGER);
    expect(plainMinor('0', 36)).toBe(0);
    // Declined: the caller falls back to Money.parse.
    for (const [text, decimals] of [
      ['9007199254740992', 0],
      ['0.000000000000000001', 18], // valid, but longer than the fast path reads
      ['9007199254.740992', 6],
      ['1', 36],
      ['1.120', 2],
      ['1.', 2],
      ['.5', 2],
      ['-1', 2],
      ['+1', 2],
      [' 1', 2],
      ['1e3', 2],
      ['1.2.3', 2],
      ['', 2],
    ] as const) {
      expect(plainMinor(text, decimals), text).toBe(-1);
    }
  });
});

describe('isZeroAmount', () => {
  it('agrees with /^0*(\\.0*)?$/ on texts of zeros, points and digits', () => {
    const regex = /^0*(\.0*)?$/;
    const text = fc.string({ unit: fc.constantFrom('0', '.', '1', '9', ' ', '-', 'e'), maxLength: 8 });
    fc.assert(
      fc.property(fc.oneof(text, fc.constantFrom<unknown>(0, 5, 0.5, null)), (value) => {
        expect(isZeroAmount(value), String(value)).toBe(regex.test(String(value)));
      }),
      { seed: 11, verbose: true },
    );
    for (const zero of ['', '0', '0.00', '.', '0.', '.0', '000']) expect(isZeroAmount(zero)).toBe(true);
    for (const other of ['0.01', '1', '..', '0..0', ' 0', '0e0']) expect(isZeroAmount(other)).toBe(false);
  });
});
