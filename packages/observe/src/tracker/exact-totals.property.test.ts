import { ManualClock, Money } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SpendFilter } from './spend-query.js';
import { SpendTracker } from './spend-tracker.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

interface Ev {
  at: number;
  agentId: string;
  recipient: string | undefined;
  currency: 'USD' | 'USDC';
  minor: bigint;
}

const step = fc.record({
  advance: fc.oneof(fc.integer({ min: 0, max: 90 * MIN }), fc.integer({ min: 0, max: 2 * DAY })),
  lateBy: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 * HOUR })),
  agentId: fc.constantFrom('a', 'b', 'c'),
  recipient: fc.option(fc.constantFrom('r1', 'r2', 'r3'), { nil: undefined }),
  currency: fc.constantFrom<'USD' | 'USDC'>('USD', 'USDC'),
  minor: fc.bigInt({ min: 1n, max: 10n ** 20n }),
});

const filterArb = fc.constantFrom<SpendFilter>(
  {},
  { agentId: 'a' },
  { recipient: 'r2' },
  { agentId: 'b', recipient: 'r1' },
  { agentId: 'c', currency: 'usdc' },
);

/**
 * The tracker's totals over any range must equal a brute-force sum over every recorded payment
 * in the range the tracker says it covered. Random streams mix in-order and late payments, long
 * idle gaps (so minute and hour buckets expire between writes) and three time zones, one with a
 * half-hour offset and two with DST changes inside the generated span.
 */
describe('SpendTracker totals equal a brute-force reference (property)', () => {
  it('on random event streams and random ranges', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata'),
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.array(
          fc.tuple(
            filterArb,
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
          ),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        (timeZone, steps, queries) => {
          const start = Date.parse('2026-03-06T20:17:00Z');
          const clock = new ManualClock(start);
          const tracker = new SpendTracker({
            clock,
            timeZone,
            retention: { minute: 2 * HOUR, hour: DAY, day: 30 * DAY },
          });
          const recorded: Ev[] = [];
          for (const s of steps) {
            clock.advance(s.advance);
            const ev: Ev = {
              at: clock.now() - s.lateBy,
              agentId: s.agentId,
              recipient: s.recipient,
              currency: s.currency,
              minor: s.minor,
            };
            tracker.record({
              agentId: ev.agentId,
              amount: Money.fromMinor(ev.minor, ev.currency),
              at: ev.at,
              recipient: ev.recipient,
            });
            recorded.push(ev);
          }
          const span = clock.now() - start + DAY;
          for (const [filter, a, b] of queries) {
            const from = Math.floor(start - DAY + Math.min(a, b) * span);
            const to = Math.floor(start - DAY + Math.max(a, b) * span) + 1;
            const result = tracker.totals({ ...filter, from, to });
            if (!result.truncated) expect(result.from).toBeLessThanOrEqual(from);
            expect(result.to).toBeGreaterThanOrEqual(to);
            const expected = new Map<string, { sum: bigint; count: number; max: bigint }>();
            for (const ev of recorded) {
              if (ev.at < result.from || ev.at >= result.to) continue;
              if (filter.agentId !== undefined && ev.agentId !== filter.agentId) continue;
              if (filter.recipient !== undefined && ev.recipient !== filter.recipient) continue;
              if (filter.currency !== undefined && ev.currency !== filter.currency.toUpperCase()) continue;
              const acc = expected.get(ev.currency) ?? { sum: 0n, count: 0, max: 0n };
              acc.sum += ev.minor;
              acc.count++;
              if (ev.minor > acc.max) acc.max = ev.minor;
              expected.set(ev.currency, acc);
            }
            const got = new Map(result.totals.map((t) => [t.currency, t]));
            expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
            for (const [currency, exp] of expected) {
              const t = got.get(currency)!;
              expect(t.total.minor).toBe(exp.sum);
              expect(t.count).toBe(exp.count);
              expect(t.largest?.amount.minor).toBe(exp.max);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
