import { ManualClock, Money } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { AcpClient } from './acp-client.js';
import { type AcpMerchantOptions, type AcpMockMerchant, startAcpMerchant } from './acp-merchant.js';
import type { AcpAllowance } from './acp-types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const merchants: AcpMockMerchant[] = [];

async function setup(options: AcpMerchantOptions = {}) {
  const clock = new ManualClock(T0);
  const merchant = await startAcpMerchant({ seed: 3, clock, ...options });
  merchants.push(merchant);
  return { clock, merchant, acp: new AcpClient({ baseUrl: merchant.url }) };
}

afterEach(async () => {
  await Promise.all(merchants.splice(0).map((m) => m.close()));
});

const allowance = (merchant: AcpMockMerchant, over: Partial<AcpAllowance> = {}): AcpAllowance => ({
  reason: 'one_time',
  max_amount: 12_000,
  currency: 'usd',
  merchant_id: merchant.merchantId,
  expires_at: new Date(T0 + 3_600_000).toISOString(),
  ...over,
});

async function checkout(acp: AcpClient, quantity = 1) {
  const s = await acp.createCheckout({ items: [{ id: 'sku-report', quantity }] });
  if (!s.ok) throw new Error(`create failed: ${s.error.code}`);
  return s.body;
}

async function token(acp: AcpClient, a: AcpAllowance) {
  const t = await acp.delegatePayment({ allowance: a });
  if (!t.ok) throw new Error(`delegate failed: ${t.error.code}`);
  return t.body.id;
}

describe('ACP merchant mock', () => {
  it('creates, updates and completes a checkout; the ledger holds the exact charge', async () => {
    const { merchant, acp } = await setup();
    const s = await checkout(acp);
    expect(s).toMatchObject({ status: 'ready_for_payment', currency: 'usd' });
    expect(s.totals.find((t) => t.type === 'total')?.amount).toBe(12_000);
    const updated = await acp.updateCheckout(s.id, { items: [{ id: 'sku-gpu-hour', quantity: 3 }] });
    expect(updated.ok && updated.body.totals.find((t) => t.type === 'total')?.amount).toBe(750);
    const vt = await token(acp, allowance(merchant, { max_amount: 750, checkout_session_id: s.id }));
    const done = await acp.complete(s.id, { token: vt });
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect(done.body.status).toBe('completed');
    expect(done.body.order?.id).toMatch(/^ord_/);
    expect(merchant.ledger.total('USD').equals(Money.parse('7.50', 'USD'))).toBe(true);
    expect(merchant.ledger.entries()[0]).toMatchObject({
      reference: done.body.order?.id,
      payee: 'sandbox_merchant',
    });
  });

  it.each([
    ['allowance_exceeded', { max_amount: 11_999 }],
    ['currency_mismatch', { currency: 'eur' }],
    ['merchant_mismatch', { merchant_id: 'other_shop' }],
    ['checkout_session_mismatch', { checkout_session_id: 'cs_other' }],
  ] as const)('declines a token whose allowance fails: %s, nothing charged', async (code, over) => {
    const { merchant, acp } = await setup();
    const s = await checkout(acp);
    const vt = await token(acp, allowance(merchant, over));
    const res = await acp.complete(s.id, { token: vt });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ type: 'invalid_request', code, param: 'payment_data.token' });
    expect(merchant.session(s.id)?.status).toBe('ready_for_payment');
    expect(merchant.ledger.chargeCount()).toBe(0);
  });

  it('declines an expired token and a used token (single use)', async () => {
    const { merchant, acp, clock } = await setup();
    const s1 = await checkout(acp);
    const s2 = await checkout(acp);
    const vt = await token(acp, allowance(merchant));
    expect((await acp.complete(s1.id, { token: vt })).ok).toBe(true);
    const reuse = await acp.complete(s2.id, { token: vt });
    expect(!reuse.ok && reuse.error.code).toBe('token_already_used');
    const vt2 = await token(acp, allowance(merchant));
    clock.advance(3_600_000);
    const late = await acp.complete(s2.id, { token: vt2 });
    expect(!late.ok && late.error.code).toBe('token_expired');
    const unknown = await acp.complete(s2.id, { token: 'vt_nope' });
    expect(!unknown.ok && unknown.error.code).toBe('token_not_found');
    expect(merchant.ledger.chargeCount()).toBe(1);
  });

  it('cancels an open session; a completed or canceled one answers 405', async () => {
    const { merchant, acp } = await setup();
    const s = await checkout(acp);
    expect((await acp.cancel(s.id)).ok).toBe(true);
    const again = await acp.cancel(s.id);
    expect(again.status).toBe(405);
    const s2 = await checkout(acp);
    await acp.complete(s2.id, { token: await token(acp, allowance(merchant)) });
    expect((await acp.cancel(s2.id)).status).toBe(405);
    expect((await acp.updateCheckout(s2.id, { items: [{ id: 'sku-report', quantity: 2 }] })).status).toBe(
      405,
    );
  });

  it('Idempotency-Key: same request after completion returns the stored answer and charges once', async () => {
    const { merchant, acp } = await setup();
    const s = await checkout(acp);
    const vt = await token(acp, allowance(merchant));
    const first = await acp.complete(s.id, { token: vt }, { idempotencyKey: 'order-1' });
    const second = await acp.complete(s.id, { token: vt }, { idempotencyKey: 'order-1' });
    expect(first.ok && second.ok).toBe(true);
    expect(second.replayed).toBe(true);
    expect(first.ok && second.ok && second.body.order?.id).toBe(first.ok && first.body.order?.id);
    expect(merchant.ledger.chargeCount()).toBe(1);
    expect(merchant.calls().replayed).toBe(1);
  });

  it('Idempotency-Key: 409 while the same request is in flight, 422 for another body', async () => {
    const { merchant, acp } = await setup({ faults: { latencyMs: 50 } });
    const s = await checkout(acp);
    const vt = await token(acp, allowance(merchant));
    const [a, b] = await Promise.all([
      acp.complete(s.id, { token: vt }, { idempotencyKey: 'k1' }),
      acp.complete(s.id, { token: vt }, { idempotencyKey: 'k1' }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const other = await acp.complete(s.id, { token: 'vt_other' }, { idempotencyKey: 'k1' });
    expect(other.status).toBe(422);
    expect(!other.ok && other.error.code).toBe('idempotency_conflict');
    const elsewhere = await acp.cancel(s.id, { idempotencyKey: 'k1' });
    expect(elsewhere.status).toBe(422);
    expect(merchant.ledger.chargeCount()).toBe(1);
  });

  it('an injected 503 has no effect and its key may be retried', async () => {
    const { merchant, acp } = await setup();
    const s = await checkout(acp);
    const vt = await token(acp, allowance(merchant));
    merchant.setFaults({ failureRate: 1 });
    const failed = await acp.complete(s.id, { token: vt }, { idempotencyKey: 'retry-me' });
    expect(failed.status).toBe(503);
    expect(merchant.ledger.chargeCount()).toBe(0);
    merchant.setFaults({});
    const ok = await acp.complete(s.id, { token: vt }, { idempotencyKey: 'retry-me' });
    expect(ok.status).toBe(200);
    expect(ok.replayed).toBe(false);
    expect(merchant.ledger.chargeCount()).toBe(1);
  });

  it('refunds an order up to what was charged', async () => {
    const { merchant, acp } = await setup();
    const s = await checkout(acp);
    const done = await acp.complete(s.id, { token: await token(acp, allowance(merchant)) });
    const orderId = done.ok ? done.body.order!.id : '';
    merchant.refund(orderId, '20.00');
    expect(() => merchant.refund(orderId, '100.01')).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_SANDBOX_REFUND_EXCEEDS_CHARGE' }),
    );
    merchant.refund(orderId);
    expect(merchant.ledger.net('USD').isZero()).toBe(true);
    expect(() => merchant.refund('ord_missing')).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_SANDBOX_UNKNOWN_REFERENCE' }),
    );
  });

  it('requires API-Version and rejects unknown items and bad bodies', async () => {
    const { merchant, acp } = await setup();
    const raw = await fetch(`${merchant.url}/checkout_sessions`, { method: 'POST', body: '{}' });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ code: 'missing_api_version' });
    const unknown = await acp.createCheckout({ items: [{ id: 'sku-nope', quantity: 1 }] });
    expect(!unknown.ok && unknown.error).toMatchObject({ code: 'invalid_item', param: 'items[0].id' });
    const bad = await acp.createCheckout({ items: [] });
    expect(bad.status).toBe(400);
    expect((await acp.getCheckout('cs_missing')).status).toBe(404);
  });

  it('gives the same ids for the same seed', async () => {
    const ids = async () => {
      const m = await startAcpMerchant({ seed: 'same' });
      try {
        const acp = new AcpClient({ baseUrl: m.url });
        const s = await checkout(acp);
        return s.id;
      } finally {
        await m.close();
      }
    };
    expect(await ids()).toBe(await ids());
  });
});
