import { allowAll, budget, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE } from './common.js';

/** Per-agent budgets inside a team budget: whichever is tighter decides. */
export const multiAgent = defineScenario({
  id: 'multi-agent',
  title: 'Multi-agent budgets',
  summary:
    "Three agents share a company: each has 30 USD a day, and the research team (two of them) 50 USD a day together. A payment is refused by whichever budget it would break first — its own or the team's — and the report names it.",
  policy: {
    id: 'teams',
    agentGroups: { research: ['research-*'], ops: ['ops-*'] },
    rules: [allowAll()],
    budgets: [
      dailyBudget(30, 'USD', { id: 'per-agent', scope: 'agent' }),
      budget({
        id: 'research-team',
        scope: 'agent_group',
        group: 'research',
        window: 'daily',
        maxAmount: 50,
        currency: 'USD',
      }),
    ],
  },
  async script(ctx) {
    const ap2 = ctx.ap2();
    const mandateFor = (holder: string) =>
      ap2.openMandate({
        holder,
        currency: 'USD',
        payees: ['https://data.example.com', 'https://compute.example.com'],
        maxAmount: '100',
        budget: '100',
        expiresAt: ctx.clock.now() + 86_400_000,
      });
    const alice = mandateFor('research-alice');
    const bob = mandateFor('research-bob');
    const carol = mandateFor('ops-carol');
    const steps: Array<[string, typeof alice, string, string]> = [
      ['research-alice', alice, 'https://data.example.com', '25.00'], // alice 25, team 25
      ['research-bob', bob, 'https://compute.example.com', '20.00'], // bob 20, team 45
      ['research-alice', alice, 'https://data.example.com', '10.00'], // alice would be 35 > 30
      ['research-bob', bob, 'https://compute.example.com', '10.00'], // team would be 55 > 50
      ['ops-carol', carol, 'https://compute.example.com', '28.00'], // not in the team: only her 30
      ['research-bob', bob, 'https://data.example.com', '5.00'], // team exactly 50
    ];
    for (const [agent, mandate, payee, amount] of steps) {
      await ap2.pay(agent, mandate, payee, amount);
      await ctx.advance(MINUTE);
    }
    const status = await ctx.engine.getBudgetStatus({ agentId: 'research-bob' });
    ctx.fact(
      'bob',
      status.map((s) => ({ budget: s.budgetId, spent: s.spent, remaining: s.remaining })),
    );
  },
  expect: {
    allowed: 4,
    blocked: 2,
    charged: { USD: '78.00' },
    reasons: ['budget_exceeded'],
    check: (o) => {
      const problems: string[] = [];
      const blocked = o.lines.filter((l) => l.outcome === 'blocked');
      if (blocked[0]?.agentId !== 'research-alice' || !blocked[0].reason.includes('per-agent')) {
        problems.push(`alice's refusal should name her own budget: ${blocked[0]?.reason}`);
      }
      if (blocked[1]?.agentId !== 'research-bob' || !blocked[1].reason.includes('research-team')) {
        problems.push(`bob's refusal should name the team budget: ${blocked[1]?.reason}`);
      }
      const team = (o.facts.bob as Array<{ budget: string; remaining: string }>).find(
        (b) => b.budget === 'research-team',
      );
      if (team?.remaining !== '0.00')
        problems.push(`the team budget should be used up, got ${JSON.stringify(team)}`);
      return problems;
    },
  },
});
