import { allowAll, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { SELLER } from './common.js';

/** Retries, sequential and concurrent, of one purchase and of one signed x402 payment. */
export const retryStorm = defineScenario({
  id: 'retry-storm',
  title: 'Retry storm',
  summary:
    "An agent's HTTP client retries one checkout ten times with the same idempotency key (some at once), and re-sends one signed x402 payment four times to a facilitator that does not check replays. Each is charged once; the same key with another amount is a conflict.",
  policy: {
    id: 'shop',
    rules: [allowAll()],
    budgets: [dailyBudget(500, 'USD', { scope: 'agent' }), dailyBudget(50, 'USDC', { scope: 'agent' })],
  },
  async script(ctx) {
    const shop = await ctx.acp({ merchantId: 'acme-data' });
    const key = 'order-2026-11-02-0001';
    const items = [{ id: 'sku-report', quantity: 1 }];
    await shop.checkout('buyer-bot', items, { idempotencyKey: key });
    for (let i = 0; i < 4; i++) await shop.checkout('buyer-bot', items, { idempotencyKey: key });
    await Promise.all(
      Array.from({ length: 5 }, () => shop.checkout('buyer-bot', items, { idempotencyKey: key })),
    );
    // Same key, different purchase: refused as a conflict, never charged.
    await shop.checkout('buyer-bot', [{ id: 'sku-report', quantity: 2 }], { idempotencyKey: key });

    const x402 = await ctx.x402({
      name: 'api.x402',
      guard: 'seller',
      routes: { '/premium': { price: '1.50', payTo: SELLER } },
      replayProtection: false, // the facilitator would settle a replay again: only Bursar stops it
    });
    const agent = await x402.agent('buyer-bot', { balance: '20' });
    const paid = await agent.buy('/premium');
    const payment = paid.purchase.payment;
    if (!payment) throw new Error('the first x402 purchase was not paid');
    for (let i = 0; i < 4; i++) await agent.buy('/premium', { reusePayment: payment });
    ctx.fact('orders', shop.merchant.ledger.chargeCount());
    ctx.fact('x402Settles', x402.sandbox.facilitator.settlementsOf(payment).length);
  },
  expect: {
    allowed: 2,
    blocked: 5,
    replayed: 9,
    charged: { USD: '120.00', USDC: '1.50' },
    reasons: ['ERR_BURSAR_IDEMPOTENCY_CONFLICT', 'replay'],
    check: (o) => {
      const problems: string[] = [];
      if (o.facts.orders !== 1) problems.push(`expected one ACP order, got ${String(o.facts.orders)}`);
      if (o.facts.x402Settles !== 1)
        problems.push(`expected one x402 settlement, got ${String(o.facts.x402Settles)}`);
      return problems;
    },
  },
});
