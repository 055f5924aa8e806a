import { allowAll, dailyBudget } from '@bursar/control';
import { describe, expect, it } from 'vitest';
import { runScenario } from './run-scenarios.js';
import { defineScenario } from './scenario.js';

// The "Write your own" example of the README, as written there.
const lunchMoney = defineScenario({
  id: 'lunch-money',
  title: 'Lunch money',
  summary: 'Two 12 USD lunches against a 20 USD daily budget.',
  policy: { id: 'lunch', rules: [allowAll()], budgets: [dailyBudget(20, 'USD', { scope: 'agent' })] },
  async script(ctx) {
    const ap2 = ctx.ap2();
    const mandate = ap2.openMandate({
      holder: 'lunch-bot',
      currency: 'USD',
      payees: ['deli.example'],
      maxAmount: '15',
      budget: '50',
      expiresAt: ctx.clock.now() + 86_400_000,
    });
    await ap2.pay('lunch-bot', mandate, 'deli.example', '12.00');
    await ctx.advance(60_000);
    await ap2.pay('lunch-bot', mandate, 'deli.example', '12.00');
  },
  expect: { allowed: 1, blocked: 1, charged: { USD: '12.00' }, reasons: ['budget_exceeded'] },
});

describe('the README scenario example', () => {
  it('passes, with the amounts it claims', async () => {
    const result = await runScenario(lunchMoney, { seed: 1 });
    expect(result.failures).toEqual([]);
    expect(result.charged).toEqual({ USD: '12.00' });
    expect(result.captured).toEqual({ USD: '12.00' });
  });

  it('a script that throws fails the scenario with its message, and cleans up', async () => {
    const broken = defineScenario({
      ...lunchMoney,
      id: 'broken-script',
      async script(ctx) {
        await ctx.acp();
        throw new Error('boom');
      },
    });
    const result = await runScenario(broken, { seed: 1 });
    expect(result.passed).toBe(false);
    expect(result.error).toBe('boom');
    expect(result.failures[0]).toBe('the script failed: boom');
  });

  it('defineScenario rejects a malformed scenario with a typed error', () => {
    expect(() => defineScenario({ ...lunchMoney, id: 'Not Kebab' })).toThrow(
      expect.objectContaining({
        code: 'ERR_BURSAR_INVALID_ARGUMENT',
        message: expect.stringContaining('kebab-case'),
      }),
    );
  });
});
