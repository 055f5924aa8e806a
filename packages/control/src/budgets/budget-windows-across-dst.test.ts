import { ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { pay, reason, setup } from '../__fixtures__/engine.js';

const HOUR = 3_600_000;

/**
 * One engine (so the remembered window and the counter keys of each scope are reused) on a
 * manual clock, walked hour by hour across both DST changes of Los Angeles: a daily budget
 * must reset at every local midnight, including after the 23-hour and the 25-hour day.
 */
describe('a daily budget on one engine across DST changes', () => {
  for (const [from, days] of [
    ['2026-03-06T08:00:00Z', 4], // 2026-03-08 lasts 23 hours
    ['2026-10-30T07:00:00Z', 4], // 2026-11-01 lasts 25 hours
  ] as const) {
    it(`resets at each local midnight from ${from}`, async () => {
      const clock = new ManualClock(from);
      const { engine } = setup(
        { clock, timeZone: 'America/Los_Angeles' },
        {
          id: 'p',
          rules: [{ action: 'allow' }],
          budgets: [{ id: 'day', window: 'daily', maxAmount: 5, currency: 'USDC' }],
        },
      );
      const allowedPerDay = new Map<number, number>();
      const lengths = new Map<number, number>();
      const end = Date.parse(from) + days * 24 * HOUR;
      for (let t = Date.parse(from) + 1_000; t < end; t += HOUR) {
        clock.set(t);
        const d = await engine.authorize(pay({ amount: '1' }));
        const r = reason(d, d.outcome === 'allow' ? 'budget_within_limit' : 'budget_exceeded');
        const windowEnd = r.details!.windowEnd as number;
        // The window end is a local midnight, after `t`, at most 25 hours away.
        expect(windowEnd).toBeGreaterThan(t);
        expect(windowEnd - t).toBeLessThanOrEqual(25 * HOUR);
        const local = new Intl.DateTimeFormat('en-US', {
          timeZone: 'America/Los_Angeles',
          hourCycle: 'h23',
          hour: 'numeric',
          minute: 'numeric',
        }).format(windowEnd);
        expect(local).toBe('00:00');
        const [status] = await engine.getBudgetStatus();
        expect(status!.windowEnd).toBe(windowEnd);
        lengths.set(windowEnd, windowEnd - status!.windowStart!);
        if (d.outcome === 'allow') {
          allowedPerDay.set(windowEnd, (allowedPerDay.get(windowEnd) ?? 0) + 1);
          await engine.capture(d.holdId!);
        } else {
          expect(r.spent).toBe('5.000000');
        }
      }
      // Every local day allowed exactly five payments (the walk may end inside the last one).
      const perDay = [...allowedPerDay.values()];
      expect(perDay.length).toBeGreaterThanOrEqual(days);
      expect(perDay.slice(0, days - 1)).toEqual(Array(days - 1).fill(5));
      const hours = [...lengths.values()].map((ms) => ms / HOUR);
      expect(hours).toContain(from.startsWith('2026-03') ? 23 : 25);
      expect(hours.every((h) => h === 24 || h === 23 || h === 25)).toBe(true);
    });
  }

  it('a clock set back into the previous day counts against that day again', async () => {
    const clock = new ManualClock('2026-03-08T07:30:00Z'); // 2026-03-07 23:30 in Los Angeles
    const { engine } = setup(
      { clock, timeZone: 'America/Los_Angeles' },
      {
        id: 'p',
        rules: [{ action: 'allow' }],
        budgets: [{ window: 'daily', maxAmount: 5, currency: 'USDC' }],
      },
    );
    const spend = async (amount: string) => {
      const d = await engine.authorize(pay({ amount }));
      if (d.holdId) await engine.capture(d.holdId);
      return d.outcome;
    };
    expect(await spend('5')).toBe('allow');
    clock.set('2026-03-08T08:00:00Z'); // local midnight: a new day
    expect(await spend('5')).toBe('allow');
    clock.set('2026-03-08T07:59:00Z'); // back to the first day, which is spent
    expect(await spend('1')).toBe('deny');
    clock.set('2026-03-08T09:00:00Z'); // the second day is spent too
    expect(await spend('1')).toBe('deny');
  });
});
