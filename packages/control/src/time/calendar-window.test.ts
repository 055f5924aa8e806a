import { describe, expect, it } from 'vitest';
import { CalendarWindow } from './calendar-window.js';
import { type CalendarUnit, instantOfWall, wallTime } from './zoned-time.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

/** The window containing `t`, computed from wall time alone (no cache anywhere). */
function expected(zone: string, unit: CalendarUnit, t: number): { start: number; end: number } {
  const w = wallTime(zone, t);
  switch (unit) {
    case 'hourly': {
      // Every zone used here changes offset on whole hours: the local hour starts at :00.
      const start = t - ((w.minute * 60 + w.second) * 1000 + (t % 1000));
      return { start, end: start + HOUR };
    }
    case 'daily':
      return {
        start: instantOfWall(zone, w.year, w.month, w.day),
        end: instantOfWall(zone, w.year, w.month, w.day + 1),
      };
    case 'weekly':
      return {
        start: instantOfWall(zone, w.year, w.month, w.day - w.weekday),
        end: instantOfWall(zone, w.year, w.month, w.day - w.weekday + 7),
      };
    case 'monthly':
      return {
        start: instantOfWall(zone, w.year, w.month, 1),
        end: instantOfWall(zone, w.year, w.month + 1, 1),
      };
  }
}

describe('CalendarWindow (the window remembered until the clock leaves it)', () => {
  const units: CalendarUnit[] = ['hourly', 'daily', 'weekly', 'monthly'];

  for (const zone of ['America/Los_Angeles', 'Europe/Berlin', 'UTC']) {
    it(`in ${zone}, a clock stepping through both DST changes always gets the window containing it`, () => {
      const windows = units.map((u) => new CalendarWindow(zone, u));
      for (const [from, to] of [
        ['2026-03-07T00:00:00Z', '2026-04-02T00:00:00Z'],
        ['2026-10-24T00:00:00Z', '2026-11-03T00:00:00Z'],
      ] as const) {
        const previous = windows.map(() => ({ start: 0, end: 0 }));
        // Steps of 17 min 13 s: each hour is entered at a different minute.
        for (let t = at(from); t < at(to); t += 1_033_000) {
          windows.forEach((w, i) => {
            const got = w.at(t);
            expect(got.start <= t && t < got.end, `${units[i]} at ${new Date(t).toISOString()}`).toBe(true);
            expect({ start: got.start, end: got.end }).toEqual(expected(zone, units[i]!, t));
            // Windows tile time: a new window starts where the previous one ended.
            if (got.start !== previous[i]!.start && previous[i]!.end !== 0) {
              expect(got.start).toBe(previous[i]!.end);
            }
            previous[i] = got;
          });
        }
      }
    });
  }

  it('answers each side of a boundary, to the millisecond', () => {
    const day = new CalendarWindow('America/Los_Angeles', 'daily');
    // Local midnight of 2026-03-05 is 08:00 UTC.
    expect(day.at(at('2026-03-05T07:59:59.999Z'))).toEqual({
      start: at('2026-03-04T08:00:00Z'),
      end: at('2026-03-05T08:00:00Z'),
    });
    expect(day.at(at('2026-03-05T08:00:00Z'))).toEqual({
      start: at('2026-03-05T08:00:00Z'),
      end: at('2026-03-06T08:00:00Z'),
    });
  });

  it('a local day lasts 23 hours in spring and 25 in autumn; an hour repeated in autumn is two windows', () => {
    const day = new CalendarWindow('America/Los_Angeles', 'daily');
    const spring = day.at(at('2026-03-08T20:00:00Z'));
    expect(spring.end - spring.start).toBe(23 * HOUR);
    const autumn = day.at(at('2026-11-01T20:00:00Z'));
    expect(autumn.end - autumn.start).toBe(25 * HOUR);

    const hour = new CalendarWindow('America/Los_Angeles', 'hourly');
    // 01:30 local happens at 08:30 UTC (PDT) and again at 09:30 UTC (PST).
    const first = hour.at(at('2026-11-01T08:30:00Z'));
    const second = hour.at(at('2026-11-01T09:30:00Z'));
    expect(first).toEqual({ start: at('2026-11-01T08:00:00Z'), end: at('2026-11-01T09:00:00Z') });
    expect(second).toEqual({ start: at('2026-11-01T09:00:00Z'), end: at('2026-11-01T10:00:00Z') });
  });

  it('a clock set back gets the earlier window, not the remembered one', () => {
    const day = new CalendarWindow('UTC', 'daily');
    expect(day.at(at('2026-03-05T10:00:00Z')).start).toBe(at('2026-03-05T00:00:00Z'));
    expect(day.at(at('2026-03-04T23:59:59.999Z')).start).toBe(at('2026-03-04T00:00:00Z'));
    expect(day.at(at('2026-03-05T00:00:00Z')).start).toBe(at('2026-03-05T00:00:00Z'));
  });

  it('windows of different zones and units do not share answers', () => {
    const t = at('2026-03-05T03:00:00Z');
    expect(new CalendarWindow('UTC', 'daily').at(t).start).toBe(at('2026-03-05T00:00:00Z'));
    expect(new CalendarWindow('America/Los_Angeles', 'daily').at(t).start).toBe(at('2026-03-04T08:00:00Z'));
    expect(new CalendarWindow('Asia/Kolkata', 'hourly').at(t).start).toBe(at('2026-03-05T02:30:00Z'));
  });
});
