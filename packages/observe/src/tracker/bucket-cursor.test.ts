import { ManualClock, Money } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { ZonedCalendar } from '../internal/index.js';
import { BucketCursor } from './bucket-cursor.js';
import { GRANULARITIES, Timeline } from './granularity.js';
import { SpendTracker } from './spend-tracker.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const iso = (t: number) => new Date(t).toISOString();

// Adelaide is UTC+10:30 in summer and UTC+9:30 in winter. Summer time ends on 5 April 2026 at
// 03:00 local (16:30 UTC): clocks go back to 02:00, so that local day lasts 25 hours.
const ZONE = 'Australia/Adelaide';
const DAY_START = Date.parse('2026-04-04T13:30:00Z'); // 5 April, 00:00 ACDT
const DAY_END = Date.parse('2026-04-05T14:30:00Z'); // 6 April, 00:00 ACST

describe('BucketCursor: cached bucket starts', () => {
  it('agrees with the calendar across bucket ends and a DST change in a half-hour zone', () => {
    const timeline = new Timeline(new ZonedCalendar(ZONE));
    const cursor = new BucketCursor(timeline);
    const check = (t: number) => {
      for (let code = 0; code < 3; code++) {
        const g = GRANULARITIES[code]!;
        const want = timeline.start(g, t);
        expect(iso(cursor.start(code, t)), `${g} of ${iso(t)}`).toBe(iso(want));
        expect(iso(cursor.end(code)), `${g} end of ${iso(t)}`).toBe(iso(timeline.end(g, want)));
      }
    };
    // In time order, every 7 minutes for two days (many hour ends, two day ends, the change).
    for (let t = DAY_START - 5 * HOUR; t < DAY_END + 20 * HOUR; t += 7 * MIN) check(t);
    // Exactly at and just before bucket ends, where a stale cache would answer wrongly.
    for (const t of [DAY_END - 1, DAY_END, DAY_END - 1, Date.parse('2026-04-04T16:30:00Z') - 1]) check(t);
    for (const t of [Date.parse('2026-04-04T16:30:00Z'), DAY_START - 1, DAY_START]) check(t);
    // Out of order, as late payments arrive.
    for (let i = 0; i < 300; i++) check(DAY_START + ((i * 7919 * MIN) % (40 * HOUR)) - 3 * HOUR);
  });

  it('puts payments in the right hour and day buckets as a manual clock runs through the change', () => {
    const clock = new ManualClock(DAY_START - 2 * HOUR);
    const tracker = new SpendTracker({ clock, timeZone: ZONE });
    const calendar = new ZonedCalendar(ZONE);
    const perHour = new Map<number, number>();
    // One payment every 20 minutes, each amount 1.00 USD.
    for (let t = DAY_START - 2 * HOUR; t < DAY_END + 2 * HOUR; t += 20 * MIN) {
      clock.set(t);
      tracker.record({ agentId: 'a', amount: Money.parse('1.00', 'USD'), recipient: 'r' });
      const hour = calendar.hourStart(t);
      perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
    }
    clock.advance(MIN);
    const hours = tracker.series({ granularity: 'hour', from: DAY_START - 2 * HOUR, currency: 'USD' });
    const points = hours.currencies[0]!.points.filter((p) => p.count > 0);
    expect(points.map((p) => [iso(p.start), p.count])).toEqual(
      [...perHour].map(([start, count]) => [iso(start), count]),
    );
    // The local day of 5 April: 25 hour buckets, 75 payments, bounded by local midnights.
    const day = tracker.series({ granularity: 'day', from: DAY_START, to: DAY_START + 1, currency: 'USD' })
      .currencies[0]!.points[0]!;
    expect([iso(day.start), iso(day.end), day.count]).toEqual([iso(DAY_START), iso(DAY_END), 75]);
    expect(points.filter((p) => p.start >= DAY_START && p.start < DAY_END)).toHaveLength(25);
    // The hour after the change starts at 02:00 ACST, one hour after 02:00 ACDT (its twin).
    expect(points.map((p) => iso(p.start))).toContain('2026-04-04T16:30:00.000Z');
    expect(points.map((p) => iso(p.start))).toContain('2026-04-04T15:30:00.000Z');
  });
});
