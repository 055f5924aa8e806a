import { allowAll, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { SELLER } from './common.js';

/** Thirty purchases at once against one budget: exactly the budget is spent. */
export const concurrentBurst = defineScenario({
  id: 'concurrent-burst',
  title: 'Concurrent burst',
  summary:
    'An agent fires 30 purchases of 1 USDC at the same moment against a 10 USDC budget, with random facilitator latency. Checking and holding the budget is one atomic step, so exactly ten are signed and paid and twenty are refused before signing.',
  policy: {
    id: 'burst',
    rules: [allowAll()],
    budgets: [dailyBudget(10, 'USDC', { id: 'daily-usdc', scope: 'agent' })],
  },
  async script(ctx) {
    const rail = await ctx.x402({
      name: 'burst.x402',
      guard: 'buyer',
      routes: { '/item': { price: '1.00', payTo: SELLER } },
      facilitatorFaults: { latencyMs: [0, 20] },
    });
    const agent = await rail.agent('burst-bot', { balance: '100' });
    const results = await Promise.all(Array.from({ length: 30 }, () => agent.buy('/item')));
    ctx.fact('paid', results.filter((r) => r.purchase.ok).length);
    ctx.fact('signed', results.filter((r) => r.purchase.payment !== undefined).length);
  },
  expect: {
    allowed: 10,
    blocked: 20,
    charged: { USDC: '10' },
    reasons: ['budget_exceeded'],
    check: (o) =>
      o.facts.paid === 10 && o.facts.signed === 10
        ? []
        : [
            `expected exactly 10 payments signed and paid, got ${String(o.facts.signed)} signed, ${String(o.facts.paid)} paid`,
          ],
  },
});
