import { ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { codes, pay, reason, setup } from '../__fixtures__/engine.js';

/**
 * Within a bucket the engine reuses the counter check it planned last for a scope when the
 * amount is the same (and always for rate limits). These guard that nothing of one intent
 * leaks into the next: each reason shows its own amount, and buckets still roll.
 */
describe('counter checks reused within a bucket', () => {
  const policy = {
    id: 'p',
    rules: [{ action: 'allow' as const }],
    budgets: [{ id: 'day', scope: 'agent' as const, window: 'daily', maxAmount: 100, currency: 'USDC' }],
    rateLimits: [{ id: 'hour', scope: 'agent' as const, window: 'hourly', maxCount: 3 }],
  };

  it('carry each intent its own amount, whatever was planned before', async () => {
    const clock = new ManualClock('2026-03-04T12:00:00Z');
    const { engine } = setup({ clock }, policy);
    const seen: Array<[string, string, string]> = [];
    for (const amount of ['10', '20', '10', '10']) {
      clock.advance(1_000);
      // An evaluate and a status in between plan the same scope with other amounts.
      await engine.evaluate(pay({ amount: '99' }));
      await engine.getBudgetStatus({ agentId: 'research-bot' });
      const d = await engine.authorize(pay({ amount }));
      if (d.outcome === 'allow') await engine.capture(d.holdId!);
      const r = d.reasons.find((x) => x.budgetId === 'day')!;
      seen.push([d.outcome, r.details!.requested as string, r.remaining!]);
    }
    expect(seen).toEqual([
      ['allow', '10.000000', '90.000000'],
      ['allow', '20.000000', '70.000000'],
      ['allow', '10.000000', '60.000000'],
      // The fourth in the hour: the rate limit refuses; the budget alone would have passed.
      ['deny', '10.000000', '50.000000'],
    ]);
    const status = await engine.getBudgetStatus({ agentId: 'research-bot' });
    expect(status.map((s) => [s.budgetId, s.spent])).toEqual([
      ['day', '40.000000'],
      ['hour', '3'],
    ]);
  });

  it('keep agents apart and start afresh in the next bucket', async () => {
    const clock = new ManualClock('2026-03-04T12:59:00Z');
    const { engine } = setup({ clock }, policy);
    for (let i = 0; i < 3; i++) expect((await engine.authorize(pay({ amount: '1' }))).outcome).toBe('allow');
    const fourth = await engine.authorize(pay({ amount: '1' }));
    expect(codes(fourth)).toContain('rate_limit_exceeded');
    expect(reason(fourth, 'rate_limit_exceeded').retryAfterMs).toBe(60_000);
    expect((await engine.authorize(pay({ agentId: 'other-bot', amount: '1' }))).outcome).toBe('allow');
    clock.set('2026-03-04T13:00:00Z');
    const next = await engine.authorize(pay({ amount: '1' }));
    expect(next.outcome).toBe('allow');
    expect(reason(next, 'rate_limit_within_limit').remaining).toBe('2');
    expect(reason(next, 'budget_within_limit').remaining).toBe('96.000000');
  });
});
