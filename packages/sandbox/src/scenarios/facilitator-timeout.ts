import { allowAll, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE, SELLER } from './common.js';

/** A settle that times out but lands later: counted once, reconciled, never paid twice. */
export const facilitatorTimeout = defineScenario({
  id: 'facilitator-timeout',
  title: 'Facilitator timeout',
  summary:
    "The facilitator settles a payment only after the seller gave up waiting (502). Bursar keeps the money counted instead of releasing it, an operator reconciles it from the facilitator's ledger, and the agent is charged once.",
  policy: {
    id: 'research',
    rules: [allowAll()],
    budgets: [dailyBudget(20, 'USDC', { scope: 'agent' })],
  },
  async script(ctx) {
    const rail = await ctx.x402({
      name: 'slow.x402',
      guard: 'buyer',
      routes: { '/analysis': { price: '2.00', payTo: SELLER } },
      // The first settle answers after the seller's 300 ms timeout, and still moves the money.
      facilitatorFaults: { settle: ['late'], hangMs: 700 },
      timeoutMs: 300,
    });
    const agent = await rail.agent('research-bot', { balance: '10' });
    const first = await agent.buy('/analysis');
    ctx.fact('firstStatus', first.purchase.status);
    await rail.sandbox.facilitator.idle(); // the late settle lands
    await ctx.advance(MINUTE);
    // The operator's reconciliation job: ask the facilitator's ledger what really happened.
    const reconciled: string[] = [];
    for (const pending of agent.guard?.pending() ?? []) {
      if (!pending.paymentId || !first.purchase.nonce) continue;
      const settled = rail.sandbox.facilitator.settlementsOf(first.purchase.nonce);
      await agent.guard?.reconcile(pending.paymentId, {
        settled: settled.length > 0,
        ...(settled[0] ? { transaction: settled[0].reference } : {}),
      });
      reconciled.push(settled.length > 0 ? 'settled' : 'not settled');
    }
    ctx.recorder.annotate(first.line, `reconciled: ${reconciled.join(', ') || 'nothing pending'}`);
    ctx.fact('reconciled', reconciled);
    await ctx.advance(MINUTE);
    await agent.buy('/analysis'); // the facilitator is healthy again
    const [status] = await ctx.engine.getBudgetStatus({ agentId: 'research-bot' });
    ctx.fact('spent', status?.spent);
  },
  expect: {
    allowed: 2,
    pending: 0,
    charged: { USDC: '4' },
    check: (o) => {
      const problems: string[] = [];
      if (o.facts.firstStatus === 200)
        problems.push('the first purchase should have timed out at the seller');
      if (JSON.stringify(o.facts.reconciled) !== '["settled"]') {
        problems.push(
          `expected one payment reconciled as settled, got ${JSON.stringify(o.facts.reconciled)}`,
        );
      }
      if (o.facts.spent !== '4.000000')
        problems.push(`expected 4 USDC spent once each, got ${String(o.facts.spent)}`);
      return problems;
    },
  },
});
