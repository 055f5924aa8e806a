import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import {
  calendarBounds,
  canonicalTimeZone,
  instantOfWall,
  localWeekdayHour,
  wallTime,
} from './zoned-time.js';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();
const bounds = (zone: string, unit: Parameters<typeof calendarBounds>[1], t: string) => {
  const b = calendarBounds(zone, unit, at(t));
  return [iso(b.start), iso(b.end)];
};

describe('zoned time', () => {
  it('reads wall time and weekday (Monday = 0) in a zone', () => {
    expect(wallTime('America/Los_Angeles', at('2026-03-04T07:30:15Z'))).toEqual({
      year: 2026,
      month: 3,
      day: 3,
      hour: 23,
      minute: 30,
      second: 15,
      weekday: 1,
    });
    expect(localWeekdayHour('Asia/Kolkata', at('2026-03-08T18:29:59Z'))).toEqual(
      expect.objectContaining({ weekday: 6, hour: 23 }),
    );
    expect(localWeekdayHour('Asia/Kolkata', at('2026-03-08T18:30:00Z'))).toEqual(
      expect.objectContaining({ weekday: 0, hour: 0 }),
    );
  });

  it('validates IANA zones', () => {
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('utc')).toBe('UTC');
    expect(canonicalTimeZone('Not/AZone')).toBeUndefined();
    expect(canonicalTimeZone('')).toBeUndefined();
  });

  it('daily windows follow the zone, not the server', () => {
    expect(bounds('UTC', 'daily', '2026-03-04T23:59:59.999Z')).toEqual([
      '2026-03-04T00:00:00.000Z',
      '2026-03-05T00:00:00.000Z',
    ]);
    expect(bounds('UTC', 'daily', '2026-03-05T00:00:00.000Z')).toEqual([
      '2026-03-05T00:00:00.000Z',
      '2026-03-06T00:00:00.000Z',
    ]);
    expect(bounds('America/Los_Angeles', 'daily', '2026-03-04T07:59:59.999Z')).toEqual([
      '2026-03-03T08:00:00.000Z',
      '2026-03-04T08:00:00.000Z',
    ]);
    expect(bounds('Asia/Kolkata', 'daily', '2026-03-04T18:30:00Z')).toEqual([
      '2026-03-04T18:30:00.000Z',
      '2026-03-05T18:30:00.000Z',
    ]);
  });

  it('days across DST last 23 or 25 hours', () => {
    // Spring forward in Los Angeles: 2026-03-08 02:00 → 03:00.
    expect(bounds('America/Los_Angeles', 'daily', '2026-03-08T20:00:00Z')).toEqual([
      '2026-03-08T08:00:00.000Z',
      '2026-03-09T07:00:00.000Z',
    ]);
    // Fall back: 2026-11-01 02:00 → 01:00.
    expect(bounds('America/Los_Angeles', 'daily', '2026-11-01T20:00:00Z')).toEqual([
      '2026-11-01T07:00:00.000Z',
      '2026-11-02T08:00:00.000Z',
    ]);
    // Santiago skips midnight (00:00 → 01:00 on 2026-09-06): the day starts at 01:00 local.
    expect(bounds('America/Santiago', 'daily', '2026-09-06T12:00:00Z')).toEqual([
      '2026-09-06T04:00:00.000Z',
      '2026-09-07T03:00:00.000Z',
    ]);
    expect(wallTime('America/Santiago', at('2026-09-06T04:00:00Z')).hour).toBe(1);
  });

  it('finds the first instant of a wall time across gaps and overlaps', () => {
    // 02:30 does not exist in Los Angeles on 2026-03-08: the first instant after it is 03:00 PDT.
    expect(iso(instantOfWall('America/Los_Angeles', 2026, 3, 8, 2))).toBe('2026-03-08T10:00:00.000Z');
    // 01:00 happens twice on 2026-11-01: the first occurrence (PDT).
    expect(iso(instantOfWall('America/Los_Angeles', 2026, 11, 1, 1))).toBe('2026-11-01T08:00:00.000Z');
  });

  it('hourly windows, including half-hour zones and the repeated hour', () => {
    expect(bounds('UTC', 'hourly', '2026-03-04T12:59:59.999Z')).toEqual([
      '2026-03-04T12:00:00.000Z',
      '2026-03-04T13:00:00.000Z',
    ]);
    expect(bounds('Asia/Kolkata', 'hourly', '2026-03-04T12:10:00Z')).toEqual([
      '2026-03-04T11:30:00.000Z',
      '2026-03-04T12:30:00.000Z',
    ]);
    // Both 01:xx hours of the fall-back night are separate windows.
    expect(bounds('America/Los_Angeles', 'hourly', '2026-11-01T08:30:00Z')).toEqual([
      '2026-11-01T08:00:00.000Z',
      '2026-11-01T09:00:00.000Z',
    ]);
    expect(bounds('America/Los_Angeles', 'hourly', '2026-11-01T09:30:00Z')).toEqual([
      '2026-11-01T09:00:00.000Z',
      '2026-11-01T10:00:00.000Z',
    ]);
  });

  it('weeks start on Monday', () => {
    // Sunday 2026-03-08 23:59:59 UTC is still the week of Monday 2026-03-02.
    expect(bounds('UTC', 'weekly', '2026-03-08T23:59:59.999Z')).toEqual([
      '2026-03-02T00:00:00.000Z',
      '2026-03-09T00:00:00.000Z',
    ]);
    expect(bounds('UTC', 'weekly', '2026-03-09T00:00:00.000Z')).toEqual([
      '2026-03-09T00:00:00.000Z',
      '2026-03-16T00:00:00.000Z',
    ]);
    // In Los Angeles that instant is Sunday 17:00 PDT: still the week of Monday 2 March.
    expect(bounds('America/Los_Angeles', 'weekly', '2026-03-09T00:00:00.000Z')).toEqual([
      '2026-03-02T08:00:00.000Z',
      '2026-03-09T07:00:00.000Z',
    ]);
    // A week across a month and year end.
    expect(bounds('UTC', 'weekly', '2026-01-01T12:00:00Z')).toEqual([
      '2025-12-29T00:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
    ]);
  });

  it('months: lengths, leap years, year end, DST inside', () => {
    expect(bounds('UTC', 'monthly', '2024-02-29T23:59:59.999Z')).toEqual([
      '2024-02-01T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
    expect(bounds('UTC', 'monthly', '2026-12-31T23:59:59.999Z')).toEqual([
      '2026-12-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
    ]);
    expect(bounds('America/Los_Angeles', 'monthly', '2026-03-20T00:00:00Z')).toEqual([
      '2026-03-01T08:00:00.000Z',
      '2026-04-01T07:00:00.000Z',
    ]);
  });

  it('parses durations', () => {
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration(1000)).toBe(1000);
    expect(parseDuration('1000')).toBe(1000);
    expect(parseDuration('0s')).toBeUndefined();
    expect(parseDuration('1.5ms')).toBeUndefined();
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration(-5)).toBeUndefined();
  });
});
