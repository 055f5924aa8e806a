import { ManualClock, Money } from '@bursar/core';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentPayload } from '@x402/core/types';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_ASSET } from './constants.js';
import { startX402Sandbox, type X402Sandbox, type X402SandboxOptions } from './x402-sandbox.js';

const PAY_TO = '0x00000000000000000000000000000000000000aa';
const routes = { '/weather': { price: '0.25', payTo: PAY_TO } };
const rails: X402Sandbox[] = [];

async function rail(options: Partial<X402SandboxOptions> = {}): Promise<X402Sandbox> {
  const r = await startX402Sandbox({ seed: 1, routes, ...options });
  rails.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(rails.splice(0).map((r) => r.close()));
});

describe('x402 sandbox rail: the real 402 flow', () => {
  it('answers 402, then serves and settles a signed payment exactly once', async () => {
    const r = await rail();
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(200);
    expect(res.requests).toBe(2);
    expect(res.settlement?.success).toBe(true);
    expect(res.settlement?.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.ledger.total('USDC').toDecimalString()).toBe('0.250000');
    expect(r.ledger.chargeCount()).toBe(1);
    expect(r.facilitator.chain.balance(buyer.wallet.address).toDecimalString()).toBe('0.750000');
    expect(r.facilitator.chain.balance(PAY_TO).equals(Money.parse('0.25', 'USDC'))).toBe(true);
    expect(r.seller.deliveries()).toEqual([
      expect.objectContaining({
        outcome: 'delivered',
        status: 200,
        transaction: res.settlement?.transaction,
      }),
    ]);
  });

  it('advertises exact atomic requirements in PAYMENT-REQUIRED', async () => {
    const r = await rail();
    const probe = await fetch(r.seller.urlOf('/weather'));
    expect(probe.status).toBe(402);
    const required = decodePaymentRequiredHeader(probe.headers.get('payment-required') ?? '');
    expect(required.accepts[0]).toMatchObject({
      scheme: 'bursar-sandbox',
      amount: '250000',
      asset: SANDBOX_ASSET,
      payTo: PAY_TO,
    });
    expect(r.ledger.chargeCount()).toBe(0);
  });

  it('refuses a payer without funds: 402 insufficient_funds, nothing charged', async () => {
    const r = await rail();
    const buyer = await r.buyer('poor', { balance: '0.10' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(402);
    expect(res.paymentRequired?.error).toBe('insufficient_funds');
    expect(r.ledger.chargeCount()).toBe(0);
  });

  it('rejects a tampered payment (value lowered after signing) as invalid_signature', async () => {
    const r = await rail();
    const buyer = await r.buyer('agent', { balance: '1' });
    const first = await buyer.purchase(r.seller.urlOf('/weather'));
    const payment = structuredClone(first.payment) as PaymentPayload;
    const auth = (payment.payload as { authorization: { value: string; nonce: string } }).authorization;
    auth.value = '1';
    const res = await buyer.purchase(r.seller.urlOf('/weather'), { reusePayment: payment });
    expect(res.status).toBe(402);
    expect(res.paymentRequired?.error).toBe('invalid_signature');
    expect(r.ledger.chargeCount()).toBe(1);
  });

  it('refuses a replayed payment with replay protection on', async () => {
    const r = await rail();
    const buyer = await r.buyer('agent', { balance: '1' });
    const first = await buyer.purchase(r.seller.urlOf('/weather'));
    const again = await buyer.purchase(r.seller.urlOf('/weather'), { reusePayment: first.payment! });
    expect(again.status).toBe(402);
    expect(again.paymentRequired?.error).toBe('nonce_already_used');
    expect(r.ledger.chargeCount()).toBe(1);
    expect(r.ledger.entries({ duplicate: true })).toHaveLength(0);
  });

  it('charges a replayed payment again without replay protection, and the ledger shows the duplicate', async () => {
    const r = await rail({ replayProtection: false });
    const buyer = await r.buyer('agent', { balance: '1' });
    const first = await buyer.purchase(r.seller.urlOf('/weather'));
    const again = await buyer.purchase(r.seller.urlOf('/weather'), { reusePayment: first.payment! });
    expect(again.status).toBe(200);
    expect(r.ledger.chargeCount()).toBe(2);
    expect(r.ledger.entries({ duplicate: true })).toHaveLength(1);
    expect(r.facilitator.settlementsOf(first.payment!)).toHaveLength(2);
    expect(r.ledger.total('USDC').toDecimalString()).toBe('0.500000');
  });

  it('settlement_pending: the seller retries once and the retry reconciles without a second charge', async () => {
    const r = await rail({ facilitatorFaults: { settle: ['pending'] } });
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(200);
    expect(r.facilitator.calls().settle).toBe(2);
    expect(r.ledger.chargeCount()).toBe(1);
    expect(res.settlement?.transaction).toBe(r.ledger.entries()[0]?.reference);
  });

  it('settle timeout: the buyer gets 502 and nothing moves', async () => {
    const r = await rail({ timeoutMs: 500, facilitatorFaults: { settle: ['timeout'], hangMs: 1_500 } });
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(502);
    await r.facilitator.idle();
    expect(r.ledger.chargeCount()).toBe(0);
    expect(r.seller.deliveries()[0]?.outcome).toBe('facilitator_error');
  });

  it('late settle: the client times out (502), then the settle completes and money moves', async () => {
    const r = await rail({ timeoutMs: 500, facilitatorFaults: { settle: ['late'], hangMs: 1_500 } });
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(502);
    await r.facilitator.idle();
    expect(r.facilitator.settlementsOf(res.payment!)).toHaveLength(1);
    expect(r.ledger.total('USDC').toDecimalString()).toBe('0.250000');
  });

  it('settle error: 402 with the facilitator reason, nothing charged', async () => {
    const r = await rail({ facilitatorFaults: { settle: 'error' } });
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(402);
    expect(r.ledger.chargeCount()).toBe(0);
    expect(r.seller.deliveries()[0]).toMatchObject({
      outcome: 'settle_failed',
      reason: 'unexpected_settle_error',
    });
  });

  it('verify faults: invalid and error answer 402, a verify timeout answers 502; nothing is charged', async () => {
    const r = await rail({
      timeoutMs: 500,
      facilitatorFaults: { verify: ['invalid', 'error', 'timeout'], hangMs: 1_500 },
    });
    const buyer = await r.buyer('agent', { balance: '1' });
    const url = r.seller.urlOf('/weather');
    const invalid = await buyer.purchase(url);
    expect(invalid.status).toBe(402);
    expect(invalid.paymentRequired?.error).toBe('injected_invalid');
    expect((await buyer.purchase(url)).status).toBe(402);
    expect((await buyer.purchase(url)).status).toBe(502);
    expect((await buyer.purchase(url)).status).toBe(200);
    await r.facilitator.idle();
    expect(r.ledger.chargeCount()).toBe(1);
    expect(r.facilitator.calls().injected).toBe(3);
  });

  it('failureRate 1: every facilitator call fails with 503 and nothing is charged', async () => {
    const r = await rail({ facilitatorFaults: { failureRate: 1 } });
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(402);
    expect(r.ledger.chargeCount()).toBe(0);
  });

  it('a resource that fails with 500 after payment: charged, not delivered', async () => {
    const r = await rail({ resourceFaults: { failAfterSettle: 1 } });
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(500);
    expect(res.settlement).toBeUndefined();
    expect(r.ledger.chargeCount()).toBe(1);
    expect(r.seller.deliveries()[0]).toMatchObject({ outcome: 'failed_after_payment', status: 500 });
    const refund = r.facilitator.chain.refund(r.ledger.entries()[0]!.reference);
    expect(refund.amount.toDecimalString()).toBe('0.250000');
    expect(r.ledger.net('USDC').isZero()).toBe(true);
    expect(r.facilitator.chain.balance(buyer.wallet.address).toDecimalString()).toBe('1.000000');
  });

  it('a resource that fails before settlement: 500 and nothing charged', async () => {
    const r = await rail({ resourceFaults: { failBeforeSettle: 1 } });
    const buyer = await r.buyer('agent', { balance: '1' });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(500);
    expect(r.ledger.chargeCount()).toBe(0);
  });

  it('rejects an authorization that expired before it reached the facilitator', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const r = await rail({ clock });
    const buyer = await r.buyer('agent', { balance: '1' });
    const probe = await fetch(r.seller.urlOf('/weather'));
    const required = decodePaymentRequiredHeader(probe.headers.get('payment-required') ?? '');
    const payment = await buyer.client.createPaymentPayload(required);
    clock.advance(61_000);
    const res = await buyer.purchase(r.seller.urlOf('/weather'), { reusePayment: payment });
    expect(res.status).toBe(402);
    expect(res.paymentRequired?.error).toBe('authorization_expired');
    expect(r.ledger.chargeCount()).toBe(0);
  });

  it('lets a pre-sign hook refuse: nothing is signed or sent', async () => {
    const r = await rail();
    const buyer = await r.buyer('agent', {
      balance: '1',
      configure: (client) => {
        client.onBeforePaymentCreation(async () => ({ abort: true, reason: 'over_budget' }));
      },
    });
    const res = await buyer.purchase(r.seller.urlOf('/weather'));
    expect(res.status).toBe(402);
    expect(res.payment).toBeUndefined();
    expect(res.error).toContain('over_budget');
    expect(r.facilitator.calls().verify).toBe(0);
  });

  it('replays byte for byte with the same seed, even for concurrent purchases', async () => {
    const run = async (seed: number) => {
      const r = await startX402Sandbox({ seed, routes });
      try {
        const buyers = await Promise.all(['a', 'b', 'c'].map((n) => r.buyer(n, { balance: '1' })));
        const results = await Promise.all(
          buyers.flatMap((b) =>
            [1, 2].map((i) => b.purchase(r.seller.urlOf('/weather'), { key: `${b.wallet.name}-${i}` })),
          ),
        );
        return {
          addresses: buyers.map((b) => b.wallet.address),
          nonces: results.map((x) => x.nonce),
          txs: [...r.ledger.entries().map((e) => e.reference)].sort(),
          total: r.ledger.total('USDC').toDecimalString(),
        };
      } finally {
        await r.close();
      }
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a).toEqual(b);
    expect(a.total).toBe('1.500000');
    expect(c.nonces).not.toEqual(a.nonces);
    expect(c.addresses).not.toEqual(a.addresses);
  });

  it('validates options with typed errors', async () => {
    await expect(
      startX402Sandbox({ routes: { weather: { price: '1', payTo: PAY_TO } } }),
    ).rejects.toMatchObject({
      code: 'ERR_BURSAR_INVALID_OPTIONS',
    });
    await expect(startX402Sandbox({ routes, facilitatorFaults: { latencyMs: 500 } })).rejects.toMatchObject({
      code: 'ERR_BURSAR_INVALID_OPTIONS',
    });
  });
});
