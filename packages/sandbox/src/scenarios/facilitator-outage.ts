import { allowAll, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { SELLER } from './common.js';

/** A failing facilitator trips the seller's circuit breaker: fast failures, then recovery. */
export const facilitatorOutage = defineScenario({
  id: 'facilitator-outage',
  title: 'Facilitator outage',
  summary:
    "The seller's facilitator fails three verifications in a row: the circuit opens, the next request fails fast without calling it, a circuit-open alert fires, and after the reset time one probe closes the circuit again. No failed request keeps a hold or moves money.",
  policy: {
    id: 'seller',
    rules: [allowAll()],
    budgets: [dailyBudget(50, 'USDC', { scope: 'agent' })],
  },
  async script(ctx) {
    const rail = await ctx.x402({
      name: 'weather.x402',
      guard: 'seller',
      routes: { '/forecast': { price: '0.50', payTo: SELLER } },
      facilitatorFaults: { verify: ['error', 'error', 'error'] },
      breaker: { failureThreshold: 3, resetTimeoutMs: 30_000 },
    });
    const agent = await rail.agent('weather-bot', { balance: '10' });
    for (let i = 0; i < 4; i++) {
      await agent.buy('/forecast');
      await ctx.advance(1_000);
    }
    ctx.fact('verifyCallsWhileOpen', rail.sandbox.facilitator.calls().verify);
    ctx.fact('stateWhileOpen', rail.facilitator?.health()[0]?.state);
    await ctx.advance(30_000); // the breaker lets one probe through
    await agent.buy('/forecast');
    ctx.fact('stateAfter', rail.facilitator?.health()[0]?.state);
    const [status] = await ctx.engine.getBudgetStatus({ agentId: 'weather-bot' });
    ctx.fact('held', status?.held);
  },
  expect: {
    allowed: 1,
    failed: 4,
    charged: { USDC: '0.50' },
    alerts: ['circuit_open'],
    check: (o) => {
      const problems: string[] = [];
      if (o.facts.verifyCallsWhileOpen !== 3) {
        problems.push(
          `the open circuit should fail fast: expected 3 verify calls, got ${String(o.facts.verifyCallsWhileOpen)}`,
        );
      }
      if (o.facts.stateWhileOpen !== 'open')
        problems.push(`expected an open circuit, got ${String(o.facts.stateWhileOpen)}`);
      if (o.facts.stateAfter !== 'closed')
        problems.push(`expected the probe to close it, got ${String(o.facts.stateAfter)}`);
      if (o.facts.held !== '0.000000')
        problems.push(`no failed request may keep a hold, held ${String(o.facts.held)}`);
      return problems;
    },
  },
});
