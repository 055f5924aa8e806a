import { allowAll, blockAbove, dailyBudget, requireApprovalAbove } from '@bursar/control';
import { Money } from '@bursar/core';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE } from './common.js';

/** Purchases over 100 USD wait for an approver bot, bound to the exact purchase. */
export const approvalRequired = defineScenario({
  id: 'approval-required',
  title: 'Approval required',
  summary:
    'Purchases above 100 USD go to an approver bot: it approves a 120 USD report, rejects 750 USD of GPU hours (re-asking at once is refused by the cool-down), and leaves a 300 USD booking for a human, whose budget stays held.',
  policy: {
    id: 'procurement',
    rules: [blockAbove(5000, 'USD'), requireApprovalAbove(100, 'USD'), allowAll()],
    budgets: [dailyBudget(2000, 'USD', { id: 'daily-usd', scope: 'agent' })],
  },
  setup: {
    approver: {
      name: 'finance-bot',
      // A rules service standing in for a person: known catalogue items up to 500 USD.
      handler: (request) => {
        if (request.recipient !== 'acme-data' || !request.amount || !request.currency) return undefined; // a human's call
        return Money.parse(request.amount, request.currency).lte(Money.parse('500', request.currency))
          ? { approve: true, reason: 'catalogue item within the team limit' }
          : { approve: false, reason: 'over the team limit without a ticket' };
      },
    },
  },
  async script(ctx) {
    const shop = await ctx.acp({
      merchantId: 'acme-data',
      products: {
        'sku-dataset': { title: 'Dataset licence', unitAmount: 4_500 },
        'sku-report': { title: 'Market report', unitAmount: 12_000 },
        'sku-gpu-hour': { title: 'GPU hour', unitAmount: 250 },
      },
    });
    await shop.checkout('procure-bot', [{ id: 'sku-dataset', quantity: 1 }]);
    await ctx.advance(MINUTE);
    await shop.checkout('procure-bot', [{ id: 'sku-report', quantity: 1 }]);
    await ctx.advance(MINUTE);
    await shop.checkout('procure-bot', [{ id: 'sku-gpu-hour', quantity: 300 }]);
    await ctx.advance(MINUTE);
    // The agent asks again, unchanged, hoping for another answer: the cool-down refuses it.
    await shop.checkout('procure-bot', [{ id: 'sku-gpu-hour', quantity: 300 }]);
    await ctx.advance(MINUTE);
    const travel = ctx.ap2();
    const mandate = travel.openMandate({
      holder: 'procure-bot',
      currency: 'USD',
      payees: ['hotel.example'],
      maxAmount: '500',
      budget: '500',
      expiresAt: ctx.clock.now() + 86_400_000,
    });
    await travel.pay('procure-bot', mandate, 'hotel.example', '300.00');
    const [status] = await ctx.engine.getBudgetStatus({ agentId: 'procure-bot' });
    ctx.fact('held', status?.held);
  },
  expect: {
    allowed: 2,
    pending: 1,
    blocked: 2,
    charged: { USD: '165.00' },
    reasons: ['approved', 'approval_rejected', 'approval_cooldown'],
    check: (o) =>
      o.facts.held === '300.00'
        ? []
        : [`expected 300.00 USD held for the pending booking, got ${String(o.facts.held)}`],
  },
});
