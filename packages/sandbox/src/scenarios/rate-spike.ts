import { allowAll, dailyBudget, rateLimit } from '@bursar/control';
import { Money } from '@bursar/core';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE } from './common.js';

/** A looping agent fires micro-payments: the rate limit stops it, the alerts say so. */
export const rateSpike = defineScenario({
  id: 'rate-spike',
  title: 'Rate spike',
  summary:
    'An agent stuck in a loop pays a translation API every 5 seconds. Five payments a minute are allowed; the rest are refused, a rate-spike and a repeated-denials alert fire once each, and the agent may pay again a minute later.',
  policy: {
    id: 'velocity',
    rules: [allowAll()],
    budgets: [dailyBudget(100, 'USD', { scope: 'agent' })],
    rateLimits: [rateLimit({ id: 'five-per-minute', maxCount: 5, window: 'rolling:1m', scope: 'agent' })],
  },
  setup: {
    alerts: [
      { type: 'rate_spike', windowMs: MINUTE, maxCount: 4 },
      { type: 'policy_violation', denies: 3, windowMs: 10 * MINUTE },
    ],
  },
  async script(ctx) {
    const ap2 = ctx.ap2();
    const mandate = ap2.openMandate({
      holder: 'loop-bot',
      currency: 'USD',
      payees: ['https://translate.example.com'],
      maxAmount: '5',
      budget: '100',
      expiresAt: ctx.clock.now() + 86_400_000,
    });
    const amounts: string[] = [];
    for (let i = 0; i < 12; i++) {
      // The loop's amounts vary with the seed; the limit does not.
      const cents = ctx.rng.int(10, 99);
      const amount = `0.${String(cents).padStart(2, '0')}`;
      amounts.push(amount);
      await ap2.pay('loop-bot', mandate, 'https://translate.example.com', amount);
      await ctx.advance(5_000);
    }
    await ctx.advance(2 * MINUTE);
    await ap2.pay('loop-bot', mandate, 'https://translate.example.com', '0.50');
    ctx.fact('amounts', amounts);
  },
  expect: {
    allowed: 6,
    blocked: 7,
    reasons: ['rate_limit_exceeded'],
    alerts: ['rate_spike', 'policy_violation'],
    check: (o) => {
      const problems: string[] = [];
      const spikes = o.alerts.filter((a) => a.kind === 'rate_spike').length;
      if (spikes !== 1) problems.push(`expected one de-duplicated rate-spike alert, got ${spikes}`);
      const want = [...(o.facts.amounts as string[]).slice(0, 5), '0.50'];
      const allowed = o.lines.filter((l) => l.outcome === 'allowed').map((l) => l.amount ?? '');
      const same =
        allowed.length === want.length &&
        allowed.every((a, i) => Money.parse(a, 'USD').equals(Money.parse(want[i] as string, 'USD')));
      if (!same) {
        problems.push(
          `expected ${want.join(', ')} allowed (the first five and the one after the pause), got ${allowed.join(', ')}`,
        );
      }
      return problems;
    },
  },
});
