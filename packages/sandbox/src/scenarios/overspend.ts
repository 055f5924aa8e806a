import { allowAll, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { SELLER } from './common.js';

/** An agent keeps buying past its daily budget: the extra payments are never signed. */
export const overspend = defineScenario({
  id: 'overspend',
  title: 'Overspend',
  summary:
    'An agent buys a 1.25 USDC report six times against a 5 USDC daily budget: four are paid, the last two are refused before signing, and the budget alerts fire at 80% and 100%.',
  policy: {
    id: 'reports',
    rules: [allowAll()],
    budgets: [dailyBudget(5, 'USDC', { id: 'daily-usdc', scope: 'agent' })],
  },
  async script(ctx) {
    const rail = await ctx.x402({
      name: 'reports.sandbox',
      guard: 'buyer',
      routes: { '/report': { price: '1.25', payTo: SELLER } },
    });
    const agent = await rail.agent('report-bot', { balance: '50' });
    for (let i = 0; i < 6; i++) {
      await agent.buy('/report');
      // Past the alerts' budget-check interval, so each payment's effect on the budget is read.
      await ctx.advance(15_000);
    }
    await ctx.alerts.checkBudgets();
  },
  expect: {
    allowed: 4,
    blocked: 2,
    charged: { USDC: '5' },
    reasons: ['budget_exceeded'],
    alerts: ['budget_threshold'],
    check: (o) => {
      const alerts = o.alerts.filter((a) => a.kind === 'budget_threshold');
      return alerts.some((a) => a.severity === 'critical') ? [] : ['expected a critical (100%) budget alert'];
    },
  },
});
