import { allowAll, blockAbove, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE, SELLER } from './common.js';

/** Three x402 API calls, each authorized before it is signed, captured when it settles. */
export const basicPayment = defineScenario({
  id: 'basic-payment',
  title: 'Basic payment',
  summary:
    'A research agent pays three x402 APIs; each price is authorized against its budget before anything is signed, and captured when the seller settles.',
  policy: {
    id: 'research',
    version: '2026-11-02',
    rules: [blockAbove(50, 'USDC'), allowAll()],
    budgets: [dailyBudget(10, 'USDC', { id: 'daily-usdc', scope: 'agent' })],
  },
  async script(ctx) {
    const rail = await ctx.x402({
      name: 'api.sandbox',
      guard: 'buyer',
      routes: {
        '/v1/chat': { price: '0.25', payTo: SELLER },
        '/v1/search': { price: '0.10', payTo: SELLER },
        '/v1/report': { price: '2.50', payTo: SELLER },
      },
    });
    const agent = await rail.agent('research-bot', { balance: '20' });
    for (const path of ['/v1/chat', '/v1/search', '/v1/report']) {
      await agent.buy(path);
      await ctx.advance(MINUTE);
    }
    const [status] = await ctx.engine.getBudgetStatus({ agentId: 'research-bot' });
    ctx.fact('budgetRemaining', status?.remaining);
  },
  expect: {
    allowed: 3,
    blocked: 0,
    charged: { USDC: '2.85' },
    check: (o) =>
      o.facts.budgetRemaining === '7.150000'
        ? []
        : [`budget left ${String(o.facts.budgetRemaining)}, expected 7.150000`],
  },
});
