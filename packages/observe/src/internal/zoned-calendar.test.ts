import { describe, expect, it } from 'vitest';
import { ZonedCalendar } from './zoned-calendar.js';

const iso = (t: number) => new Date(t).toISOString();

describe('ZonedCalendar', () => {
  it('gives UTC days and hours without Intl', () => {
    const c = new ZonedCalendar();
    const t = Date.parse('2026-03-02T10:17:05Z');
    expect(iso(c.day(t).start)).toBe('2026-03-02T00:00:00.000Z');
    expect(iso(c.hourStart(t))).toBe('2026-03-02T10:00:00.000Z');
    expect(c.localHour(t)).toBe(10);
  });

  it('handles a half-hour zone', () => {
    const c = new ZonedCalendar('Asia/Kolkata');
    const t = Date.parse('2026-03-02T20:00:00Z'); // 01:30 on 3 March in India
    const d = c.day(t);
    expect([iso(d.start), iso(d.end)]).toEqual(['2026-03-02T18:30:00.000Z', '2026-03-03T18:30:00.000Z']);
    expect(iso(c.hourStart(t))).toBe('2026-03-02T19:30:00.000Z');
    expect(c.localHour(t)).toBe(1);
  });

  it('handles the autumn DST change (a 25-hour day) and the wall-clock hour after it', () => {
    const c = new ZonedCalendar('America/New_York');
    const t = Date.parse('2026-11-01T12:00:00Z'); // 07:00 EST, after the change at 06:00 UTC
    const d = c.day(t);
    expect([iso(d.start), iso(d.end)]).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
    expect(d.transitionAt && iso(d.transitionAt)).toBe('2026-11-01T06:00:00.000Z');
    expect(c.localHour(t)).toBe(7);
    expect(c.localHour(Date.parse('2026-11-01T05:30:00Z'))).toBe(1); // 01:30 EDT
    expect(c.localHour(Date.parse('2026-11-01T06:30:00Z'))).toBe(1); // 01:30 EST, the repeated hour
    expect(iso(c.hourEnd(Date.parse('2026-11-02T04:00:00Z')))).toBe('2026-11-02T05:00:00.000Z');
  });

  it('starts a day whose midnight is skipped at its first instant', () => {
    // Chile moves clocks from 24:00 to 01:00 on 6 September 2026: that day starts at 01:00 (UTC−3).
    const c = new ZonedCalendar('America/Santiago');
    const d = c.day(Date.parse('2026-09-06T15:00:00Z'));
    expect(iso(d.start)).toBe('2026-09-06T04:00:00.000Z');
    expect(c.localHour(d.start)).toBe(1);
  });

  it('rejects unknown zones', () => {
    expect(() => new ZonedCalendar('Atlantis/Capital')).toThrow(/Unknown IANA time zone/);
  });
});

describe('ZonedCalendar: the remembered last day', () => {
  it('answers instants outside it from the right day, also at its exact end and across a DST change', () => {
    // Adelaide (UTC+10:30 → +9:30 on 5 April 2026): a half-hour zone with a 25-hour day.
    const c = new ZonedCalendar('Australia/Adelaide');
    const start = Date.parse('2026-04-04T13:30:00Z');
    const end = Date.parse('2026-04-05T14:30:00Z');
    const day = (t: number) => [iso(c.day(t).start), iso(c.day(t).end)];
    expect(day(start + 1000)).toEqual([iso(start), iso(end)]);
    expect(day(end - 1)).toEqual([iso(start), iso(end)]);
    // The remembered day ends here: the next instant is the next day, the one before is the previous.
    expect(iso(c.day(end).start)).toBe(iso(end));
    expect(iso(c.day(start - 1).end)).toBe(iso(start));
    expect(day(start)).toEqual([iso(start), iso(end)]);
    expect(c.localHour(Date.parse('2026-04-04T16:00:00Z'))).toBe(2); // 02:30 ACDT
    expect(c.localHour(Date.parse('2026-04-04T17:00:00Z'))).toBe(2); // 02:30 ACST, the repeated hour
    expect(iso(c.hourStart(end + 5 * 60_000))).toBe(iso(end));
    expect(iso(c.hourStart(end - 1))).toBe('2026-04-05T13:30:00.000Z');
  });
});
