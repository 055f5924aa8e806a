import { ManualClock, Money } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.js';

const usd = (v: string) => Money.parse(v, 'USD');

describe('Ledger', () => {
  it('sums charges and refunds exactly, per currency, case-insensitively', () => {
    const ledger = new Ledger({ rail: 'acp', clock: new ManualClock(1_000) });
    ledger.record({ kind: 'charge', amount: usd('0.10'), payee: 'm', reference: 'o1' });
    ledger.record({ kind: 'charge', amount: usd('0.20'), payee: 'm', reference: 'o2' });
    ledger.record({ kind: 'charge', amount: Money.parse('1', 'EUR'), payee: 'm', reference: 'o3' });
    ledger.record({ kind: 'refund', amount: usd('0.05'), payee: 'b', reference: 'r1', refundOf: 'o2' });
    expect(ledger.total('usd').toDecimalString()).toBe('0.30');
    expect(ledger.refunded('USD').toDecimalString()).toBe('0.05');
    expect(ledger.net('USD').toDecimalString()).toBe('0.25');
    expect(ledger.total('EUR').toDecimalString()).toBe('1.00');
    expect(ledger.currencies()).toEqual(['USD', 'EUR']);
    expect(ledger.entries({ kind: 'charge', currency: 'usd' }).map((e) => e.reference)).toEqual(['o1', 'o2']);
    expect(ledger.entries()[0]?.at).toBe(1_000);
    expect(ledger.refundable('o2').toDecimalString()).toBe('0.15');
  });

  it('refuses refunds beyond the charge, of unknown charges, and non-positive amounts, changing nothing', () => {
    const ledger = new Ledger({ rail: 'ap2' });
    ledger.record({ kind: 'charge', amount: usd('1.00'), payee: 'p', reference: 'c1' });
    expect(() =>
      ledger.record({ kind: 'refund', amount: usd('1.01'), payee: 'h', reference: 'r', refundOf: 'c1' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_BURSAR_SANDBOX_REFUND_EXCEEDS_CHARGE' }));
    expect(() =>
      ledger.record({ kind: 'refund', amount: usd('1'), payee: 'h', reference: 'r', refundOf: 'nope' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_BURSAR_SANDBOX_UNKNOWN_REFERENCE' }));
    expect(() => ledger.record({ kind: 'charge', amount: usd('0'), payee: 'p', reference: 'z' })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_AMOUNT' }),
    );
    expect(ledger.entries()).toHaveLength(1);
  });

  it('total equals the exact sum of what was recorded (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { maxLength: 50 }), (amounts) => {
        const ledger = new Ledger({ rail: 'x402' });
        for (const [i, m] of amounts.entries()) {
          ledger.record({
            kind: 'charge',
            amount: Money.fromMinor(m, 'USDC'),
            payee: 'p',
            reference: `t${i}`,
          });
        }
        expect(ledger.total('USDC').minor).toBe(amounts.reduce((a, b) => a + b, 0n));
        expect(ledger.chargeCount()).toBe(amounts.length);
      }),
    );
  });

  it('notifies listeners and serialises exactly', () => {
    const ledger = new Ledger({ rail: 'x402' });
    const seen: string[] = [];
    const off = ledger.onEntry((e) => seen.push(e.reference));
    ledger.record({
      kind: 'charge',
      amount: Money.parse('0.000001', 'USDC'),
      payee: 'p',
      reference: 't1',
      duplicate: true,
    });
    off();
    ledger.record({ kind: 'charge', amount: Money.parse('2', 'USDC'), payee: 'p', reference: 't2' });
    expect(seen).toEqual(['t1']);
    expect(ledger.toJSON()[0]).toMatchObject({ amount: '0.000001', currency: 'USDC', duplicate: true });
    expect(ledger.entries({ duplicate: true })).toHaveLength(1);
  });
});
