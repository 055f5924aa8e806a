import { ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { codes, pay, reason, setup } from '../__fixtures__/engine.js';
import type { BudgetInput, PolicyInput, RateLimitInput } from '../policy/schema.js';

function budgetPolicy(budgets: BudgetInput[], rateLimits: RateLimitInput[] = []): PolicyInput {
  return {
    id: 'p',
    agentGroups: { research: ['research-*'], writers: ['writer-*', 'research-lead'] },
    rules: [{ action: 'allow' }],
    budgets,
    rateLimits,
  };
}

/** Authorizes and captures; returns the outcome. */
async function spend(engine: ReturnType<typeof setup>['engine'], amount: string | number, extra = {}) {
  const d = await engine.authorize(pay({ amount, ...extra }));
  if (d.holdId) await engine.capture(d.holdId);
  return d.outcome;
}

describe('budget windows around their boundaries', () => {
  const cases: Array<{ window: string; zone: string; last: string; next: string }> = [
    { window: 'hourly', zone: 'UTC', last: '2026-03-04T12:59:59.999Z', next: '2026-03-04T13:00:00.000Z' },
    {
      window: 'hourly',
      zone: 'Asia/Kolkata',
      last: '2026-03-04T12:29:59.999Z',
      next: '2026-03-04T12:30:00.000Z',
    },
    { window: 'daily', zone: 'UTC', last: '2026-03-04T23:59:59.999Z', next: '2026-03-05T00:00:00.000Z' },
    {
      window: 'daily',
      zone: 'America/Los_Angeles',
      last: '2026-03-05T07:59:59.999Z',
      next: '2026-03-05T08:00:00.000Z',
    },
    {
      window: 'daily',
      zone: 'America/Los_Angeles',
      last: '2026-03-09T06:59:59.999Z',
      next: '2026-03-09T07:00:00.000Z',
    },
    { window: 'weekly', zone: 'UTC', last: '2026-03-08T23:59:59.999Z', next: '2026-03-09T00:00:00.000Z' },
    {
      window: 'weekly',
      zone: 'Europe/Berlin',
      last: '2026-03-08T22:59:59.999Z',
      next: '2026-03-08T23:00:00.000Z',
    },
    { window: 'monthly', zone: 'UTC', last: '2026-03-31T23:59:59.999Z', next: '2026-04-01T00:00:00.000Z' },
    {
      window: 'monthly',
      zone: 'America/Los_Angeles',
      last: '2026-11-01T06:59:59.999Z',
      next: '2026-11-01T07:00:00.000Z',
    },
  ];
  for (const c of cases) {
    it(`${c.window} in ${c.zone} resets exactly at ${c.next}`, async () => {
      const clock = new ManualClock(Date.parse(c.last) - 1_000);
      const { engine } = setup(
        { clock, timeZone: c.zone },
        budgetPolicy([{ window: c.window, maxAmount: 10, currency: 'USDC' }]),
      );
      expect(await spend(engine, 10)).toBe('allow');
      clock.set(c.last);
      const denied = await engine.authorize(pay({ amount: '0.000001' }));
      expect(denied.outcome).toBe('deny');
      expect(reason(denied, 'budget_exceeded')).toMatchObject({
        limit: '10.000000',
        spent: '10.000000',
        remaining: '0.000000',
      });
      clock.set(c.next);
      expect(await spend(engine, 10)).toBe('allow');
      expect(await spend(engine, '0.000001')).toBe('deny');
    });
  }

  it('the engine zone defaults to UTC whatever the process zone is', async () => {
    const clock = new ManualClock('2026-03-04T23:59:59.999Z');
    const { engine } = setup({ clock }, budgetPolicy([{ window: 'daily', maxAmount: 10, currency: 'USDC' }]));
    expect(engine.timeZone).toBe('UTC');
    expect(await spend(engine, 10)).toBe('allow');
    clock.advance(1);
    expect(await spend(engine, 10)).toBe('allow');
  });

  it('a policy zone overrides the engine zone', async () => {
    const clock = new ManualClock('2026-03-05T07:59:59.999Z');
    const { engine } = setup(
      { clock },
      {
        ...budgetPolicy([{ window: 'daily', maxAmount: 10, currency: 'USDC' }]),
        timeZone: 'America/Los_Angeles',
      },
    );
    expect(await spend(engine, 10)).toBe('allow');
    clock.advance(1); // midnight in Los Angeles, 08:00 UTC
    expect(await spend(engine, 10)).toBe('allow');
  });

  it('lifetime never resets', async () => {
    const clock = new ManualClock('2026-03-04T12:00:00Z');
    const { engine } = setup(
      { clock },
      budgetPolicy([{ window: 'lifetime', maxAmount: 10, currency: 'USDC' }]),
    );
    expect(await spend(engine, 7)).toBe('allow');
    clock.set('2031-01-01T00:00:00Z');
    expect(await spend(engine, '3.000001')).toBe('deny');
    expect(await spend(engine, 3)).toBe('allow');
  });

  it('transaction windows compare the amount, without a counter', async () => {
    const { engine } = setup({}, budgetPolicy([{ window: 'transaction', maxAmount: 50, currency: 'USDC' }]));
    expect(await spend(engine, 50)).toBe('allow');
    expect(await spend(engine, 50)).toBe('allow');
    const d = await engine.authorize(pay({ amount: '50.01' }));
    expect(d.outcome).toBe('deny');
    expect(reason(d, 'transaction_limit_exceeded')).toMatchObject({
      limit: '50.000000',
      remaining: '0.000000',
    });
    expect(await engine.getBudgetStatus()).toEqual([]);
  });

  it('rolling windows count every sub-bucket the window touches (never under-count)', async () => {
    const t0 = Date.parse('2026-03-04T12:00:30Z'); // mid sub-bucket (1h / 60 = 1 min)
    const clock = new ManualClock(t0);
    const { engine } = setup(
      { clock },
      budgetPolicy([{ window: 'rolling:1h', maxAmount: 10, currency: 'USDC' }]),
    );
    expect(await spend(engine, 10)).toBe('allow');
    clock.set(t0 + 3_600_000 - 1);
    expect(await spend(engine, 1)).toBe('deny');
    // Exactly one hour later the spend is outside [now - 1h, now] but its sub-bucket still
    // overlaps the window: conservatively still counted.
    clock.set(t0 + 3_600_000);
    expect(await spend(engine, 1)).toBe('deny');
    const status = await engine.getBudgetStatus();
    expect(status[0]).toMatchObject({ window: 'rolling:3600000', spent: '10.000000', remaining: '0.000000' });
    // Once its sub-bucket has left the window, the amount is free again.
    clock.set(Date.parse('2026-03-04T13:01:00Z'));
    expect(await spend(engine, 10)).toBe('allow');
  });

  it('rate limits count authorizations per window and report when to retry', async () => {
    const clock = new ManualClock('2026-03-04T12:00:00Z');
    const { engine } = setup(
      { clock },
      budgetPolicy([], [{ scope: 'agent', window: 'hourly', maxCount: 2 }]),
    );
    expect(await spend(engine, 1)).toBe('allow');
    const held = await engine.authorize(pay());
    expect(held.outcome).toBe('allow');
    await engine.release(held.holdId!);
    // Released: the count returns.
    expect(await spend(engine, 1)).toBe('allow');
    clock.advance(60_000);
    const d = await engine.authorize(pay());
    expect(d.outcome).toBe('deny');
    expect(reason(d, 'rate_limit_exceeded')).toMatchObject({
      source: 'rate_limit',
      limit: '2',
      spent: '2',
      held: '0',
      remaining: '0',
      retryAfterMs: 59 * 60_000,
    });
    expect((await engine.authorize(pay({ agentId: 'other' }))).outcome).toBe('allow');
  });

  it('rolling rate limits report a retry time', async () => {
    const clock = new ManualClock('2026-03-04T12:00:00Z');
    const { engine } = setup({ clock }, budgetPolicy([], [{ window: 'rolling:10m', maxCount: 1 }]));
    expect(await spend(engine, 1)).toBe('allow');
    clock.advance(30_000);
    const d = await engine.authorize(pay());
    expect(reason(d, 'rate_limit_exceeded').retryAfterMs).toBe(10 * 60_000 + 10_000 - 30_000);
    clock.advance(10 * 60_000 + 10_000 - 30_000);
    expect(await spend(engine, 1)).toBe('allow');
  });
});

describe('budget scopes and currencies', () => {
  it('global, agent, group, recipient, action and agent × recipient scopes', async () => {
    const { engine } = setup(
      {},
      budgetPolicy([
        { id: 'all', window: 'daily', maxAmount: 90, currency: 'USDC' },
        { id: 'per-agent', scope: 'agent', window: 'daily', maxAmount: 30, currency: 'USDC' },
        { id: 'per-group', scope: 'agent_group', window: 'daily', maxAmount: 40, currency: 'USDC' },
        { id: 'per-recipient', scope: 'recipient', window: 'daily', maxAmount: 50, currency: 'USDC' },
        { id: 'per-action', scope: 'action', window: 'daily', maxAmount: 80, currency: 'USDC' },
        { id: 'pair', scope: 'agent_recipient', window: 'daily', maxAmount: 20, currency: 'USDC' },
      ]),
    );
    const a = { agentId: 'research-a', recipient: 'https://x.test/' };
    expect(await spend(engine, 20, a)).toBe('allow');
    const pair = await engine.authorize(pay({ ...a, amount: '0.01' }));
    expect(pair.outcome).toBe('deny');
    expect(pair.reasons.filter((r) => r.code === 'budget_exceeded').map((r) => r.budgetId)).toEqual(['pair']);
    expect(await spend(engine, 10, { ...a, recipient: 'https://y.test/' })).toBe('allow');
    const agent = await engine.authorize(pay({ ...a, recipient: 'https://z.test/', amount: '0.01' }));
    expect(agent.reasons.filter((r) => r.code === 'budget_exceeded').map((r) => r.budgetId)).toEqual([
      'per-agent',
    ]);
    // research-lead is in both groups; research-b shares the research group's 40.
    expect(await spend(engine, 10, { agentId: 'research-b', recipient: 'https://z.test/' })).toBe('allow');
    const group = await engine.authorize(
      pay({ agentId: 'research-lead', recipient: 'https://z.test/', amount: '0.01' }),
    );
    expect(group.reasons.filter((r) => r.code === 'budget_exceeded')).toEqual([
      expect.objectContaining({
        budgetId: 'per-group',
        details: expect.objectContaining({ scope: 'group:research' }),
      }),
    ]);
    expect(await spend(engine, 20, { agentId: 'writer-1', recipient: 'https://x.test/' })).toBe('allow');
    const recipient = await engine.authorize(
      pay({ agentId: 'writer-2', recipient: 'https://X.TEST/', amount: '10.01' }),
    );
    expect(recipient.reasons.filter((r) => r.code === 'budget_exceeded').map((r) => r.budgetId)).toEqual([
      'per-recipient',
    ]);
    expect(await spend(engine, 15, { agentId: 'writer-3', recipient: 'https://w.test/' })).toBe('allow');
    // 75 spent in total; an agent in no group is not counted by the group budget.
    const global = await engine.authorize(
      pay({ agentId: 'solo', recipient: 'https://v.test/', amount: '16' }),
    );
    expect(global.reasons.filter((r) => r.code === 'budget_exceeded').map((r) => r.budgetId)).toEqual([
      'all',
      'per-action',
    ]);
    expect(global.reasons.some((r) => r.budgetId === 'per-group')).toBe(false);
  });

  it('an amount budget only counts its own currency (case-insensitive)', async () => {
    // The policy says it also judges EUR: then EUR payments pass this USDC budget untouched.
    const { engine } = setup(
      {},
      {
        ...budgetPolicy([{ window: 'daily', maxAmount: 10, currency: 'usdc' }]),
        currencies: ['USDC', 'eur'],
      },
    );
    expect(await spend(engine, 10, { currency: 'USDC' })).toBe('allow');
    expect(await spend(engine, 1000, { currency: 'EUR' })).toBe('allow');
    expect(await spend(engine, '0.000001', { currency: 'Usdc' })).toBe('deny');
    // A tool call without an amount does not touch amount budgets.
    const tool = await engine.authorize({ agentId: 'bot', action: 'search' });
    expect(tool.outcome).toBe('allow');
    expect(codes(tool)).toEqual(['rule_allow']);
  });

  it('a budget `when` narrows what counts; a missing field counts', async () => {
    const { engine } = setup(
      {},
      budgetPolicy([
        { window: 'daily', maxAmount: 10, currency: 'USDC', when: { recipient: { domain: 'llm.test' } } },
      ]),
    );
    expect(await spend(engine, 10, { recipient: 'https://api.llm.test/v1' })).toBe('allow');
    expect(await spend(engine, 10, { recipient: 'https://other.test/' })).toBe('allow');
    expect(await spend(engine, 1, { recipient: 'https://eu.llm.test/' })).toBe('deny');
    expect(await spend(engine, 1, { recipient: undefined })).toBe('deny');
  });

  it('getBudgetStatus reports a `when` budget with exactly the payments it counted', async () => {
    const { engine } = setup(
      {},
      budgetPolicy([
        {
          id: 'llm',
          window: 'daily',
          scope: 'agent',
          maxAmount: 10,
          currency: 'USDC',
          when: { recipient: { domain: 'llm.test' } },
        },
      ]),
    );
    expect(await spend(engine, 4, { agentId: 'a', recipient: 'https://api.llm.test/v1' })).toBe('allow');
    expect(await spend(engine, 3, { agentId: 'a', recipient: 'https://other.test/' })).toBe('allow');
    expect(await spend(engine, 5, { agentId: 'b', recipient: 'https://other.test/' })).toBe('allow');
    const [a] = await engine.getBudgetStatus({ agentId: 'a' });
    expect(a).toMatchObject({ budgetId: 'llm', scope: 'agent:a', spent: '4.000000', remaining: '6.000000' });
    const [b] = await engine.getBudgetStatus({ agentId: 'b' });
    expect(b).toMatchObject({ budgetId: 'llm', scope: 'agent:b', spent: '0.000000', remaining: '10.000000' });
  });

  it('reasons carry limit, spent, held and remaining as decimal strings', async () => {
    const { engine } = setup(
      {},
      budgetPolicy([{ id: 'd', window: 'daily', maxAmount: '100.50', currency: 'USD' }]),
    );
    const first = await engine.authorize(pay({ amount: '40.25', currency: 'USD' }));
    await engine.capture(first.holdId!, { amount: '30.00' });
    await engine.authorize(pay({ amount: '20', currency: 'USD' }));
    const third = await engine.evaluate(pay({ amount: '10.10', currency: 'USD' }));
    expect(reason(third, 'budget_within_limit')).toEqual({
      code: 'budget_within_limit',
      message: 'Budget d (daily, global): 40.40 USD of 100.50 USD left after this intent',
      outcome: 'allow',
      source: 'budget',
      policyId: 'p',
      budgetId: 'd',
      limit: '100.50',
      spent: '30.00',
      held: '20.00',
      remaining: '40.40',
      currency: 'USD',
      details: {
        window: 'daily',
        scope: 'global',
        requested: '10.10',
        windowEnd: Date.parse('2026-03-05T00:00:00Z'),
      },
    });
    const over = await engine.evaluate(pay({ amount: '50.51', currency: 'USD' }));
    expect(reason(over, 'budget_exceeded')).toMatchObject({
      spent: '30.00',
      held: '20.00',
      remaining: '50.50',
    });
  });

  it('getBudgetStatus reports each scope asked for', async () => {
    const { engine } = setup(
      {},
      budgetPolicy(
        [
          { id: 'all', window: 'daily', maxAmount: 100, currency: 'USDC' },
          { id: 'per-agent', scope: 'agent', window: 'weekly', maxAmount: 30, currency: 'USDC' },
        ],
        [{ id: 'calls', scope: 'agent', window: 'hourly', maxCount: 5 }],
      ),
    );
    const d = await engine.authorize(pay({ amount: 12 }));
    await engine.capture(d.holdId!, { amount: 2 });
    await engine.authorize(pay({ amount: 3 }));
    expect(await engine.getBudgetStatus()).toEqual([
      {
        policyId: 'p',
        budgetId: 'all',
        kind: 'amount',
        currency: 'USDC',
        window: 'daily',
        scope: 'global',
        windowStart: Date.parse('2026-03-04T00:00:00Z'),
        windowEnd: Date.parse('2026-03-05T00:00:00Z'),
        limit: '100.000000',
        spent: '2.000000',
        held: '3.000000',
        remaining: '95.000000',
      },
    ]);
    const mine = await engine.getBudgetStatus({ agentId: 'research-bot' });
    expect(mine.map((s) => [s.budgetId, s.scope, s.spent, s.held, s.remaining])).toEqual([
      ['all', 'global', '2.000000', '3.000000', '95.000000'],
      ['per-agent', 'agent:research-bot', '2.000000', '3.000000', '25.000000'],
      ['calls', 'agent:research-bot', '1', '1', '3'],
    ]);
    expect((await engine.getBudgetStatus({ agentId: 'research-bot', budgetId: 'calls' })).length).toBe(1);
    expect(await engine.getBudgetStatus({ policyId: 'nope' })).toEqual([]);
  });
});
