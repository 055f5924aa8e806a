import { ManualClock } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ap2CredentialProvider } from './ap2-credential-provider.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;

function provider() {
  const clock = new ManualClock(T0);
  return { clock, ap2: new Ap2CredentialProvider({ seed: 5, clock }) };
}

function open(
  ap2: Ap2CredentialProvider,
  over: Partial<Parameters<Ap2CredentialProvider['issueOpenMandate']>[0]> = {},
) {
  return ap2.issueOpenMandate({
    holder: 'travel-bot',
    currency: 'usd',
    payees: ['hotel.example', 'Airline.example'],
    minAmount: '10',
    maxAmount: '300',
    budget: '500',
    expiresAt: T0 + DAY,
    ...over,
  });
}

describe('AP2 credential provider', () => {
  it('pays within an open mandate and tracks the budget exactly', async () => {
    const { ap2 } = provider();
    const m = open(ap2);
    expect(m.mandate).toMatchObject({ type: 'open', currency: 'USD', maxAmount: '300.00', budget: '500.00' });
    const a = await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '240.10' });
    expect(a).toMatchObject({ status: 'approved', mandateId: m.mandate.id });
    expect(a.status === 'approved' && a.remaining?.toDecimalString()).toBe('259.90');
    const b = await ap2.pay({ mandate: m, payee: 'airline.example', amount: '259.90' });
    expect(b.status).toBe('approved');
    const c = await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '10' });
    expect(c).toMatchObject({ status: 'declined', code: 'budget_exceeded' });
    expect(ap2.ledger.total('USD').toDecimalString()).toBe('500.00');
    expect(ap2.status(m.mandate.id)).toMatchObject({ payments: 2 });
    expect(ap2.status(m.mandate.id).remaining.isZero()).toBe(true);
  });

  it.each([
    ['payee_not_allowed', { payee: 'hotel.example.evil', amount: '50' }],
    ['amount_below_minimum', { payee: 'hotel.example', amount: '9.99' }],
    ['amount_above_maximum', { payee: 'hotel.example', amount: '300.01' }],
    ['currency_mismatch', { payee: 'hotel.example', amount: '50', currency: 'EUR' }],
  ] as const)('declines an open-mandate payment: %s', async (code, req) => {
    const { ap2 } = provider();
    const m = open(ap2);
    expect(await ap2.pay({ mandate: m, ...req })).toMatchObject({ status: 'declined', code });
    expect(ap2.ledger.chargeCount()).toBe(0);
  });

  it('pays a closed mandate once, for its exact payee and amount', async () => {
    const { ap2 } = provider();
    const m = ap2.issueClosedMandate({
      holder: 'bot',
      currency: 'USD',
      payee: 'shop.example',
      amount: '42.50',
      expiresAt: T0 + DAY,
    });
    expect(await ap2.pay({ mandate: m, payee: 'shop.example', amount: '42.49' })).toMatchObject({
      code: 'amount_mismatch',
    });
    expect(await ap2.pay({ mandate: m, payee: 'other.example', amount: '42.50' })).toMatchObject({
      code: 'payee_not_allowed',
    });
    expect(await ap2.pay({ mandate: m, payee: 'shop.example', amount: '42.5' })).toMatchObject({
      status: 'approved',
    });
    expect(await ap2.pay({ mandate: m, payee: 'shop.example', amount: '42.50' })).toMatchObject({
      code: 'mandate_used',
    });
    expect(ap2.ledger.total('USD').toDecimalString()).toBe('42.50');
  });

  it('rejects a modified mandate, an unknown one, an expired one and a revoked one', async () => {
    const { ap2, clock } = provider();
    const m = open(ap2);
    const raised = structuredClone(m);
    raised.mandate.budget = '5000.00';
    expect(await ap2.pay({ mandate: raised, payee: 'hotel.example', amount: '100' })).toMatchObject({
      code: 'invalid_signature',
    });
    const forged = { ...structuredClone(m), signature: 'f'.repeat(64) };
    expect(await ap2.pay({ mandate: forged, payee: 'hotel.example', amount: '100' })).toMatchObject({
      code: 'invalid_signature',
    });
    const other = new Ap2CredentialProvider({ seed: 6, clock });
    expect(await other.pay({ mandate: m, payee: 'hotel.example', amount: '100' })).toMatchObject({
      code: 'unknown_mandate',
    });
    const r = open(ap2);
    ap2.revoke(r.mandate.id);
    expect(await ap2.pay({ mandate: r, payee: 'hotel.example', amount: '100' })).toMatchObject({
      code: 'mandate_revoked',
    });
    clock.advance(DAY);
    expect(await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '100' })).toMatchObject({
      code: 'mandate_expired',
    });
    expect(ap2.ledger.chargeCount()).toBe(0);
  });

  it('idempotency: the same key replays, another request under the key is declined', async () => {
    const { ap2 } = provider();
    const m = open(ap2);
    const a = await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '100', idempotencyKey: 'k' });
    const b = await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '100', idempotencyKey: 'k' });
    expect(b).toMatchObject({ status: 'approved', replayed: true });
    expect(a.status === 'approved' && b.status === 'approved' && a.paymentId === b.paymentId).toBe(true);
    expect(
      await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '101', idempotencyKey: 'k' }),
    ).toMatchObject({
      code: 'idempotency_conflict',
    });
    expect(ap2.ledger.chargeCount()).toBe(1);
  });

  it('refunds restore the budget; malformed amounts throw and change nothing', async () => {
    const { ap2 } = provider();
    const m = open(ap2);
    const a = await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '300' });
    if (a.status !== 'approved') throw new Error('expected approval');
    ap2.refund(a.paymentId, '100');
    expect(ap2.status(m.mandate.id).remaining.toDecimalString()).toBe('300.00');
    await expect(ap2.pay({ mandate: m, payee: 'hotel.example', amount: '1.001' })).rejects.toMatchObject({
      code: 'ERR_BURSAR_INVALID_AMOUNT',
    });
    expect(ap2.ledger.net('USD').toDecimalString()).toBe('200.00');
  });

  it('an injected provider failure charges nothing and the key can be retried', async () => {
    const { ap2 } = provider();
    const m = open(ap2);
    ap2.setFaults({ failureRate: 1 });
    expect(
      await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '50', idempotencyKey: 'x' }),
    ).toMatchObject({
      code: 'provider_unavailable',
    });
    ap2.setFaults({});
    expect(
      await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '50', idempotencyKey: 'x' }),
    ).toMatchObject({
      status: 'approved',
      replayed: false,
    });
  });

  it('validates mandate input with typed errors', () => {
    const { ap2 } = provider();
    expect(() => open(ap2, { maxAmount: 'lots' })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_OPTIONS' }),
    );
    expect(() => open(ap2, { minAmount: '400' })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }),
    );
    expect(() => open(ap2, { currency: 'XYZ' })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_UNKNOWN_ASSET' }),
    );
  });

  it('never charges beyond the budget under concurrent payments (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 20 }),
        async (amounts, latency) => {
          const clock = new ManualClock(T0);
          const ap2 = new Ap2CredentialProvider({
            seed: 1,
            clock,
            faults: { latencyMs: [0, Math.min(latency, 3)] },
          });
          const m = open(ap2, { minAmount: '1' });
          const results = await Promise.all(
            amounts.map((a) => ap2.pay({ mandate: m, payee: 'hotel.example', amount: String(a) })),
          );
          const approved = results.filter((r) => r.status === 'approved').length;
          expect(ap2.ledger.total('USD').minor).toBeLessThanOrEqual(50_000n);
          expect(ap2.ledger.total('USD').add(ap2.status(m.mandate.id).remaining).toDecimalString()).toBe(
            '500.00',
          );
          expect(ap2.ledger.chargeCount()).toBe(approved);
          ap2.close();
        },
      ),
      { numRuns: 25 },
    );
  });
});
