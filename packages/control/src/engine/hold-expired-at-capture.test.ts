import { BursarError, ErrorCode } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { pay, setup, T0 } from '../__fixtures__/engine.js';
import type { PolicyInput } from '../policy/schema.js';

const policy: PolicyInput = {
  id: 'p',
  rules: [{ action: 'allow' }],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 100, currency: 'USDC' }],
};

async function notActive(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(BursarError.hasCode(error, ErrorCode.HOLD_NOT_ACTIVE), String(error)).toBe(true);
}

describe('a hold that expired before anyone swept it', () => {
  it('capture emits hold.expired exactly once, returns the amount, then throws HOLD_NOT_ACTIVE', async () => {
    const { engine, clock, events } = setup({ holdTtlMs: 60_000 }, policy);
    const d = await engine.authorize(pay({ amount: 40 }));
    clock.set(T0 + 60_000);
    await notActive(engine.capture(d.holdId!));
    await notActive(engine.capture(d.holdId!, { amount: '1' }));
    await notActive(engine.release(d.holdId!));
    const expired = events.filter((e) => e.type === 'hold.expired').map((e) => e.payload);
    expect(expired).toEqual([
      expect.objectContaining({
        holdId: d.holdId,
        amount: '40.000000',
        currency: 'USDC',
        returned: '40.000000',
      }),
    ]);
    expect(events.some((e) => e.type === 'hold.captured' || e.type === 'hold.released')).toBe(false);
    expect((await engine.getHold(d.holdId!))?.state).toBe('expired');
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ spent: '0.000000', held: '0.000000' });
    // A later sweep has nothing left to report.
    expect(await engine.expireHolds()).toEqual([]);
    expect(events.filter((e) => e.type === 'hold.expired')).toHaveLength(1);
  });

  it('release emits hold.expired exactly once before throwing HOLD_NOT_ACTIVE', async () => {
    const { engine, clock, events } = setup({ holdTtlMs: 60_000 }, policy);
    const d = await engine.authorize(pay({ amount: 25 }));
    clock.set(T0 + 90_000);
    await notActive(engine.release(d.holdId!));
    await notActive(engine.release(d.holdId!));
    expect(
      events.filter((e) => e.type === 'hold.expired').map((e) => (e.payload as { holdId: string }).holdId),
    ).toEqual([d.holdId]);
  });

  it('a hold already expired by a sweep is not reported again by capture', async () => {
    const { engine, clock, events } = setup({ holdTtlMs: 60_000 }, policy);
    const d = await engine.authorize(pay({ amount: 25 }));
    clock.set(T0 + 60_000);
    expect((await engine.expireHolds()).map((h) => h.holdId)).toEqual([d.holdId]);
    await notActive(engine.capture(d.holdId!));
    expect(events.filter((e) => e.type === 'hold.expired')).toHaveLength(1);
  });
});
