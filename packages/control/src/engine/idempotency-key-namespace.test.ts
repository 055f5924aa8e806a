import { BursarError } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { pay, setup } from '../__fixtures__/engine.js';
import type { PolicyInput } from '../policy/schema.js';

const policy: PolicyInput = {
  id: 'p',
  rules: [{ action: 'allow' }],
  budgets: [{ window: 'daily', maxAmount: 100, currency: 'USDC' }],
};

describe('idempotency key namespace', () => {
  it('agent "a" with key "b:c" and agent "a:b" with key "c" are different records and holds', async () => {
    const { engine, events } = setup({}, policy);
    const first = await engine.authorize(pay({ agentId: 'a', amount: 10, idempotencyKey: 'b:c' }));
    const second = await engine
      .authorize(pay({ agentId: 'a:b', amount: 20, idempotencyKey: 'c' }))
      .catch((e: unknown) => e);
    expect(BursarError.isInstance(second), `second authorize threw ${String(second)}`).toBe(false);
    expect(first).toMatchObject({ outcome: 'allow', agentId: 'a' });
    expect(second).toMatchObject({ outcome: 'allow', agentId: 'a:b' });
    expect((second as typeof first).replayed).toBeUndefined();
    expect((second as typeof first).holdId).not.toBe(first.holdId);
    expect(events.filter((e) => e.type === 'hold.placed')).toHaveLength(2);
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '30.000000' });
    // Each pair still replays its own decision.
    const again = await engine.authorize(pay({ agentId: 'a:b', amount: 20, idempotencyKey: 'c' }));
    expect(again).toMatchObject({ replayed: true, holdId: (second as typeof first).holdId });
  });
});
