import { describe, expect, it } from 'vitest';
import { pay, setup, T0 } from '../__fixtures__/engine.js';
import { allowAll, blockAbove, dailyBudget } from '../policy/builders.js';
import type { PolicyInput } from '../policy/schema.js';

const live: PolicyInput = { id: 'production', rules: [blockAbove(100, 'USDC'), allowAll()] };
const draft: PolicyInput = {
  id: 'production',
  version: 'draft',
  rules: [blockAbove(50, 'USDC'), allowAll()],
  budgets: [dailyBudget(100, 'USDC')],
};
const day = 86_400_000;
const history = [
  { intent: pay({ amount: 40 }), at: T0 - 3 * day },
  { intent: pay({ amount: 60 }), at: T0 - 3 * day + 1 },
  { intent: pay({ amount: 45 }), at: T0 - 2 * day },
  { intent: pay({ amount: 45 }), at: T0 - 2 * day + 1 },
  { intent: pay({ amount: 45 }), at: new Date(T0 - 2 * day + 2) },
  { intent: pay({ amount: 500 }), at: new Date(T0 - day).toISOString() },
];

describe('simulate (shadow mode)', () => {
  it('replays history against a draft and reports what changes', async () => {
    const { engine, events } = setup({}, live, { id: 'other', rules: [allowAll()] });
    const report = await engine.simulate(draft, history);
    expect(report.total).toBe(6);
    expect(report.changed).toBe(2);
    expect(report.outcomes).toEqual({
      draft: { allow: 3, flag: 0, require_approval: 0, deny: 3 },
      live: { allow: 5, flag: 0, require_approval: 0, deny: 1 },
    });
    expect(report.transitions).toEqual({ 'allow->deny': 2 });
    expect(report.results.map((r) => [r.index, r.draft?.outcome, r.live?.outcome, r.changed])).toEqual([
      [0, 'allow', 'allow', false],
      [1, 'deny', 'allow', true], // 60 is above the draft's 50
      [2, 'allow', 'allow', false],
      [3, 'allow', 'allow', false],
      [4, 'deny', 'allow', true], // the third 45 that day is over the draft's daily 100
      [5, 'deny', 'deny', false],
    ]);
    expect(report.results[4]!.draft!.reasons.map((r) => r.code)).toContain('budget_exceeded');
    expect(report.draft).toMatchObject({ id: 'production', version: 'draft' });
    expect(report.live.map((p) => p.id)).toEqual(['production', 'other']);
    // Live state untouched: no events, no budgets, same policies.
    expect(events).toEqual([]);
    expect(engine.getPolicies().map((p) => p.version)).toEqual(['1', '1']);
    expect((await engine.evaluate(pay({ amount: 60 }))).outcome).toBe('allow');
  });

  it('replays in time order, uses given captures and releases, and keeps only changes on request', async () => {
    const { engine } = setup({}, live);
    const report = await engine.simulate(
      draft,
      [
        { intent: pay({ amount: 30 }), at: T0 - 10, capture: '10' },
        { intent: pay({ amount: 50 }), at: T0 - 20, capture: false },
        { intent: pay({ amount: 50 }), at: T0 - 5 },
        pay({ amount: 50 }),
        { intent: pay({ amount: 50 }), at: T0 + 1 },
      ],
      { onlyChanged: true },
    );
    // Order: 50 released, 30 captured as 10, 50, 50 (now), 50 → 10 + 50 + 50 > 100.
    expect(report.results.map((r) => [r.index, r.draft?.outcome])).toEqual([
      [3, 'deny'],
      [4, 'deny'],
    ]);
    expect(report.changed).toBe(2);
  });

  it('reports invalid history entries and validates the draft first', async () => {
    const { engine } = setup({}, live);
    const report = await engine.simulate(draft, [{ agentId: 'x', amount: 'lots', currency: 'USDC' }, pay()]);
    expect(report.invalid).toBe(1);
    expect(report.results[0]).toMatchObject({
      index: 0,
      changed: false,
      error: { code: 'ERR_BURSAR_INVALID_INTENT' },
    });
    expect(report.results[1]!.draft!.outcome).toBe('allow');
    await expect(
      engine.simulate({ id: 'bad', rules: [{ action: 'nope' as never }] }, []),
    ).rejects.toMatchObject({
      code: 'ERR_BURSAR_INVALID_POLICY',
    });
  });
});
