import { allowAll, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE, SELLER } from './common.js';

/** One daily budget, spent across x402, ACP and AP2 in the same currency. */
export const multiProtocol = defineScenario({
  id: 'multi-protocol',
  title: 'Multi-protocol budget',
  summary:
    'One agent pays over x402, an ACP checkout and an AP2 mandate, all in USDC against one 100 USDC daily budget: whichever rail asks, the budget is the same and stops at exactly 100.',
  policy: {
    id: 'one-budget',
    rules: [allowAll()],
    budgets: [dailyBudget(100, 'USDC', { id: 'daily-usdc', scope: 'agent' })],
  },
  async script(ctx) {
    const x402 = await ctx.x402({
      name: 'data.x402',
      guard: 'buyer',
      routes: { '/dataset': { price: '40', payTo: SELLER }, '/sample': { price: '5', payTo: SELLER } },
    });
    const shop = await ctx.acp({
      merchantId: 'gpu-cloud',
      currency: 'usdc',
      products: { 'gpu-hour': { title: 'GPU hour', unitAmount: 3_500_000 } }, // 3.50 USDC
    });
    const ap2 = ctx.ap2();
    const mandate = ap2.openMandate({
      holder: 'ops-bot',
      currency: 'USDC',
      payees: ['https://labels.example.com'],
      maxAmount: '50',
      budget: '200',
      expiresAt: ctx.clock.now() + 86_400_000,
    });
    const agent = await x402.agent('ops-bot', { balance: '500' });
    await agent.buy('/dataset'); // 40
    await ctx.advance(MINUTE);
    await shop.checkout('ops-bot', [{ id: 'gpu-hour', quantity: 10 }]); // 35
    await ctx.advance(MINUTE);
    await ap2.pay('ops-bot', mandate, 'https://labels.example.com', '20'); // 95 in all
    await ctx.advance(MINUTE);
    await ap2.pay('ops-bot', mandate, 'https://labels.example.com', '10'); // would be 105: refused
    await ctx.advance(MINUTE);
    await agent.buy('/sample'); // exactly 100
    const [status] = await ctx.engine.getBudgetStatus({ agentId: 'ops-bot' });
    ctx.fact('budget', { spent: status?.spent, remaining: status?.remaining });
  },
  expect: {
    allowed: 4,
    blocked: 1,
    charged: { USDC: '100' },
    reasons: ['budget_exceeded'],
    check: (o) => {
      const rails = Object.keys(o.chargedByRail).sort().join(',');
      const problems =
        rails === 'acp,ap2,x402' ? [] : [`expected charges on acp, ap2 and x402, got ${rails}`];
      const budget = o.facts.budget as { spent?: string; remaining?: string } | undefined;
      if (budget?.spent !== '100.000000' || budget.remaining !== '0.000000') {
        problems.push(`expected the budget fully spent, got ${JSON.stringify(budget)}`);
      }
      return problems;
    },
  },
});
