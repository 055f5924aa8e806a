import { describe, expect, it } from 'vitest';
import { codes, pay, setup } from '../__fixtures__/engine.js';
import { createOperator } from '../operator/index.js';
import type { PolicyInput } from '../policy/schema.js';
import type { PolicyEngine } from './policy-engine.js';

const policy: PolicyInput = {
  id: 'p',
  rules: [{ action: 'require_approval' }],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 100, currency: 'USDC' }],
  strikes: { max: 1, window: '1h' },
};

describe('the approval hook', () => {
  it('attach() is called once by the constructor with the engine', () => {
    const seen: PolicyEngine[] = [];
    const { engine } = setup({ approvals: { attach: (e) => seen.push(e), requested: () => undefined } });
    expect(seen).toEqual([engine]);
  });

  it('a deny answer denies, releases the hold, and records no strike', async () => {
    const { engine, events } = setup(
      {
        approvals: {
          requested: () => ({
            deny: { code: 'approval_cooldown', message: 'wait', outcome: 'deny', source: 'approval' },
          }),
        },
      },
      policy,
    );
    const d = await engine.authorize(pay({ amount: 40 }));
    expect(d.outcome).toBe('deny');
    expect(d.holdId).toBeUndefined();
    expect(codes(d)[0]).toBe('approval_cooldown');
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '0.000000' });
    expect((await engine.getAgentStatus('research-bot')).suspended).toBe(false);
    expect(events.map((e) => e.type)).not.toContain('hold.placed');
  });

  it('evaluate({ holdId }) leaves the intent’s own hold out of its budget check', async () => {
    const { engine } = setup({}, policy);
    const intent = pay({ amount: 60 });
    const d = await engine.authorize(intent);
    expect(d.outcome).toBe('require_approval');
    expect((await engine.evaluate(intent)).outcome).toBe('deny'); // 60 held + 60 > 100
    const again = await engine.evaluate(intent, { holdId: d.holdId! });
    expect(again.outcome).toBe('require_approval');
    expect(again.reasons.find((r) => r.code === 'budget_within_limit')).toMatchObject({ held: '0.000000' });
    // A released hold is not left out twice.
    await engine.release(d.holdId!);
    expect((await engine.evaluate(intent, { holdId: d.holdId! })).outcome).toBe('require_approval');
    await expect(engine.evaluate(intent, { holdId: '' })).rejects.toMatchObject({
      code: 'ERR_BURSAR_INVALID_ARGUMENT',
    });
  });

  it('acceptsOperator() answers for accepted capabilities only', () => {
    const { engine, operator } = setup();
    expect(engine.acceptsOperator(operator)).toBe(true);
    expect(engine.acceptsOperator(createOperator({ actor: 'x' }))).toBe(false);
    expect(engine.acceptsOperator({ ...operator })).toBe(false);
  });
});
