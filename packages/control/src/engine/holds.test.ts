import { BursarError, Money } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { pay, setup, T0 } from '../__fixtures__/engine.js';
import type { PolicyInput } from '../policy/schema.js';

const policy: PolicyInput = {
  id: 'p',
  rules: [
    { action: 'require_approval', when: { amount: { gt: 70, currency: 'USDC' } }, onMissing: 'no_match' },
    { action: 'allow' },
  ],
  budgets: [
    { id: 'day', window: 'daily', maxAmount: 100, currency: 'USDC' },
    { id: 'agent', scope: 'agent', window: 'weekly', maxAmount: 80, currency: 'USDC' },
  ],
  rateLimits: [{ id: 'calls', window: 'hourly', maxCount: 10 }],
};

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(BursarError.hasCode(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

describe('holds', () => {
  it('one hold covers every budget and rate limit the intent touches', async () => {
    const { engine } = setup({}, policy);
    const d = await engine.authorize(pay({ amount: 30 }));
    expect(d.outcome).toBe('allow');
    const hold = await engine.getHold(d.holdId!);
    expect(hold).toMatchObject({ state: 'held', amount: 30_000_000n, expiresAt: T0 + 15 * 60_000 });
    expect(hold!.counters.map((c) => [c.limitId, c.kind, c.amount])).toEqual([
      ['p/day', 'amount', 30_000_000n],
      ['p/agent', 'amount', 30_000_000n],
      ['p/calls', 'count', 1n],
    ]);
    const status = await engine.getBudgetStatus({ agentId: 'research-bot' });
    expect(status.map((s) => [s.budgetId, s.held, s.remaining])).toEqual([
      ['day', '30.000000', '70.000000'],
      ['agent', '30.000000', '50.000000'],
      ['calls', '1', '9'],
    ]);
  });

  it('a denied intent takes no hold and changes no counter', async () => {
    const { engine } = setup({}, policy);
    await engine.authorize(pay({ amount: 50 }));
    const d = await engine.authorize(pay({ amount: 31 }));
    expect(d.outcome).toBe('deny');
    expect(d.holdId).toBeUndefined();
    const status = await engine.getBudgetStatus({ agentId: 'research-bot' });
    expect(status.map((s) => s.held)).toEqual(['50.000000', '50.000000', '1']);
  });

  it('require_approval holds budget too (a pending approval keeps its money)', async () => {
    const seen: string[] = [];
    const { engine } = setup(
      {
        approvals: {
          requested: ({ decision, hold }) => {
            seen.push(`${decision.outcome}:${hold.amount}`);
            return { approvalId: 'apr_1' };
          },
        },
      },
      policy,
    );
    const d = await engine.authorize(pay({ amount: 75 }));
    expect(d).toMatchObject({ outcome: 'require_approval', approvalId: 'apr_1' });
    expect(d.holdId).toBeDefined();
    expect(seen).toEqual(['require_approval:75000000']);
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '75.000000', remaining: '25.000000' });
  });

  it('flag behaves like allow with a flag reason', async () => {
    const { engine } = setup(
      {},
      { id: 'p', rules: [{ action: 'flag', code: 'new_vendor' }], budgets: policy.budgets },
    );
    const d = await engine.authorize(pay({ amount: 5 }));
    expect(d.outcome).toBe('flag');
    expect(d.reasons[0]).toMatchObject({ code: 'new_vendor', outcome: 'flag' });
    expect(d.holdId).toBeDefined();
  });

  it('a partial capture commits part and returns the rest', async () => {
    const { engine, events } = setup({}, policy);
    const d = await engine.authorize(pay({ amount: 40 }));
    const result = await engine.capture(d.holdId!, { amount: '12.5' });
    expect(result).toEqual({
      holdId: d.holdId,
      state: 'captured',
      currency: 'USDC',
      held: '40.000000',
      captured: '12.500000',
      returned: '27.500000',
    });
    const day = (await engine.getBudgetStatus())[0]!;
    expect([day.spent, day.held, day.remaining]).toEqual(['12.500000', '0.000000', '87.500000']);
    const captured = events.find((e) => e.type === 'hold.captured')!.payload;
    expect(captured).toEqual({
      at: T0,
      agentId: 'research-bot',
      holdId: d.holdId,
      action: 'payment',
      intentId: d.intentId,
      intentHash: d.intentHash,
      amount: '40.000000',
      currency: 'USDC',
      recipient: 'https://api.example.com/v1/chat',
      protocol: 'x402',
      captured: '12.500000',
      returned: '27.500000',
    });
  });

  it('captures a Money, and rejects another currency, too much, or a second capture', async () => {
    const { engine } = setup({}, policy);
    const d = await engine.authorize(pay({ amount: 10 }));
    await rejects(engine.capture(d.holdId!, { amount: Money.parse(1, 'EUR') }), 'ERR_BURSAR_ASSET_MISMATCH');
    await rejects(engine.capture(d.holdId!, { amount: '10.000001' }), 'ERR_BURSAR_CAPTURE_EXCEEDS_HOLD');
    await rejects(engine.capture(d.holdId!, { amount: '0.0000001' }), 'ERR_BURSAR_INVALID_AMOUNT');
    expect((await engine.capture(d.holdId!, { amount: Money.parse(10, 'usdc') })).captured).toBe('10.000000');
    await rejects(engine.capture(d.holdId!), 'ERR_BURSAR_HOLD_NOT_ACTIVE');
    await rejects(engine.release(d.holdId!), 'ERR_BURSAR_HOLD_NOT_ACTIVE');
    await rejects(engine.capture('hold_nope', { amount: 1 }), 'ERR_BURSAR_HOLD_NOT_FOUND');
    await rejects(engine.release('hold_nope'), 'ERR_BURSAR_HOLD_NOT_FOUND');
    await rejects(engine.capture(''), 'ERR_BURSAR_INVALID_ARGUMENT');
  });

  it('release returns everything', async () => {
    const { engine, events } = setup({}, policy);
    const d = await engine.authorize(pay({ amount: 40 }));
    expect(await engine.release(d.holdId!)).toMatchObject({
      state: 'released',
      captured: '0.000000',
      returned: '40.000000',
    });
    const status = await engine.getBudgetStatus({ agentId: 'research-bot' });
    expect(status.map((s) => [s.spent, s.held])).toEqual([
      ['0.000000', '0.000000'],
      ['0.000000', '0.000000'],
      ['0', '0'],
    ]);
    expect(events.find((e) => e.type === 'hold.released')!.payload).toMatchObject({
      holdId: d.holdId,
      returned: '40.000000',
    });
  });

  it('holds expire after their TTL and their amount returns', async () => {
    const { engine, clock, events } = setup({ holdTtlMs: 60_000 }, policy);
    const d = await engine.authorize(pay({ amount: 70 }));
    expect((await engine.authorize(pay({ amount: 11 }))).outcome).toBe('deny');
    clock.advance(59_999);
    expect(await engine.expireHolds()).toEqual([]);
    clock.advance(1);
    const expired = await engine.expireHolds();
    expect(expired).toEqual([
      {
        holdId: d.holdId,
        state: 'expired',
        currency: 'USDC',
        held: '70.000000',
        captured: '0.000000',
        returned: '70.000000',
      },
    ]);
    expect(events.filter((e) => e.type === 'hold.expired').map((e) => e.payload)).toEqual([
      expect.objectContaining({ holdId: d.holdId, returned: '70.000000', agentId: 'research-bot' }),
    ]);
    await rejects(engine.capture(d.holdId!), 'ERR_BURSAR_HOLD_NOT_ACTIVE');
    expect((await engine.authorize(pay({ amount: 70 }))).outcome).toBe('allow');
  });

  it('expiry is also noticed by the next authorize, which emits hold.expired', async () => {
    const { engine, clock, events } = setup({ holdTtlMs: 1_000 }, policy);
    const first = await engine.authorize(pay({ amount: 70 }));
    clock.advance(1_000);
    expect((await engine.authorize(pay({ amount: 70 }))).outcome).toBe('allow');
    expect(
      events.filter((e) => e.type === 'hold.expired').map((e) => (e.payload as { holdId: string }).holdId),
    ).toEqual([first.holdId]);
  });

  it('tool calls without an amount hold only counts', async () => {
    const { engine } = setup({}, policy);
    const d = await engine.authorize({ agentId: 'bot', action: 'search' });
    expect(d.outcome).toBe('allow');
    await rejects(engine.capture(d.holdId!, { amount: 1 }), 'ERR_BURSAR_INVALID_ARGUMENT');
    expect(await engine.capture(d.holdId!)).toEqual({
      holdId: d.holdId,
      state: 'captured',
      held: '0',
      captured: '0',
      returned: '0',
    });
    expect((await engine.getBudgetStatus({ budgetId: 'calls' }))[0]).toMatchObject({ spent: '1', held: '0' });
  });

  it('emits intent.received, decision.made and hold.placed in order, with the decision', async () => {
    const { engine, events } = setup({}, policy);
    const d = await engine.authorize(pay({ amount: 5, network: 'eip155:8453' }));
    expect(events.map((e) => e.type)).toEqual(['intent.received', 'decision.made', 'hold.placed']);
    expect(events[0]!.payload).toEqual({
      at: T0,
      agentId: 'research-bot',
      action: 'payment',
      intentId: d.intentId,
      intentHash: d.intentHash,
      amount: '5.000000',
      currency: 'USDC',
      recipient: 'https://api.example.com/v1/chat',
      protocol: 'x402',
      network: 'eip155:8453',
    });
    expect(events[1]!.payload).toMatchObject({ decision: d });
    expect(events[2]!.payload).toMatchObject({ holdId: d.holdId });
  });

  it('evaluate has no side effects: no hold, no event', async () => {
    const { engine, events } = setup({}, policy);
    const d = await engine.evaluate(pay({ amount: 30 }));
    expect(d.outcome).toBe('allow');
    expect(d.holdId).toBeUndefined();
    expect(events).toEqual([]);
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '0.000000', spent: '0.000000' });
  });

  it('accepts intents parsed by the engine or by core', async () => {
    const { engine } = setup({}, policy);
    const parsed = engine.parseIntent(pay({ amount: 5 }));
    const a = await engine.authorize(parsed);
    const b = await engine.authorize(parsed);
    expect(a.intentHash).toBe(parsed.hash);
    expect(b.holdId).not.toBe(a.holdId);
    const { parseIntent } = await import('@bursar/core');
    const foreign = parseIntent(pay({ amount: 5 }));
    expect((await engine.evaluate(foreign)).intentHash).toBe(foreign.hash);
  });

  it('rejects an invalid intent with a typed error and changes nothing', async () => {
    const { engine, events } = setup({}, policy);
    await rejects(engine.authorize({ agentId: 'bot', amount: '1' } as never), 'ERR_BURSAR_INVALID_INTENT');
    await rejects(engine.authorize(pay({ amount: '-1' })), 'ERR_BURSAR_INVALID_INTENT');
    await rejects(engine.evaluate({ agentId: 'bot', extra: 1 } as never), 'ERR_BURSAR_INVALID_INTENT');
    expect(events).toEqual([]);
  });
});

describe('foreign parsed intents', () => {
  it('a tool-call intent parsed by core is validated again, not trusted', async () => {
    const { parseIntent } = await import('@bursar/core');
    const { engine } = setup({}, { id: 'p', rules: [{ action: 'allow' }] });
    const foreign = parseIntent({ agentId: 'bot', action: 'search', params: { q: 'x' } });
    expect((await engine.evaluate(foreign)).intentHash).toBe(foreign.hash);
    const forged = { ...foreign, hash: 'f'.repeat(64) };
    expect((await engine.evaluate(forged)).intentHash).toBe(foreign.hash);
  });
});
