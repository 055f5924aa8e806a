/**
 * Wall-clock arithmetic in an IANA time zone with nothing but `Intl.DateTimeFormat`. Every
 * instant is epoch ms; the server's own zone is never consulted.
 */

/** Local date and time of an instant in a zone. `weekday`: 0 = Monday … 6 = Sunday. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's canonical name, or undefined when `zone` is not an IANA zone this runtime knows. */
export function canonicalTimeZone(zone: string): string | undefined {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > 64) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Local date and time of `t` in `zone`. */
export function wallTime(zone: string, t: number): WallTime {
  const parts = formatter(zone).formatToParts(t);
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const p of parts) {
    switch (p.type) {
      case 'year':
        year = Number(p.value);
        break;
      case 'month':
        month = Number(p.value);
        break;
      case 'day':
        day = Number(p.value);
        break;
      case 'hour':
        hour = Number(p.value);
        break;
      case 'minute':
        minute = Number(p.value);
        break;
      case 'second':
        second = Number(p.value);
        break;
    }
  }
  // getUTCDay: 0 = Sunday; shift so that Monday is 0.
  const weekday = (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
  return { year, month, day, hour, minute, second, weekday };
}

/** The zone's offset from UTC at `t`, in ms (local = utc + offset). */
export function zoneOffset(zone: string, t: number): number {
  const w = wallTime(zone, t);
  const seconds = Math.floor(t / 1000) * 1000;
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - seconds;
}

/**
 * The first instant whose local time in `zone` is at or after the wall time
 * `year-month-day hour:00` (month and day may overflow, as with `Date.UTC`). Across a DST
 * gap this is the end of the gap; across an overlap it is the first occurrence.
 */
export function instantOfWall(zone: string, year: number, month: number, day: number, hour = 0): number {
  const wall = Date.UTC(year, month - 1, day, hour);
  const t1 = wall - zoneOffset(zone, wall);
  const t2 = wall - zoneOffset(zone, t1);
  const t3 = wall - zoneOffset(zone, t2);
  let best = Number.POSITIVE_INFINITY;
  for (const t of [t1, t2, t3]) {
    if (t + zoneOffset(zone, t) >= wall && t < best) best = t;
  }
  return Number.isFinite(best) ? best : Math.max(t1, t2, t3);
}

/** Calendar units with a start and end in a zone. */
export type CalendarUnit = 'hourly' | 'daily' | 'weekly' | 'monthly';

const HOUR = 3_600_000;
const boundsCache = new Map<string, { start: number; end: number }>();

/**
 * Start (inclusive) and end (exclusive) of the calendar hour, day, week (Monday first) or
 * month containing `t`, in `zone`. DST-aware: a local day may last 23 or 25 hours. The last
 * answer per zone and unit is cached, so a call inside the same window costs a map lookup.
 */
export function calendarBounds(zone: string, unit: CalendarUnit, t: number): { start: number; end: number } {
  const cacheKey = `${zone}|${unit}`;
  const cached = boundsCache.get(cacheKey);
  if (cached && cached.start <= t && t < cached.end) return cached;
  const bounds = computeBounds(zone, unit, t);
  boundsCache.set(cacheKey, bounds);
  return bounds;
}

function computeBounds(zone: string, unit: CalendarUnit, t: number): { start: number; end: number } {
  if (unit === 'hourly') {
    // Offsets change on whole local hours (or half hours), so the local hour starts where
    // the wall time's minutes and seconds are zero.
    const local = t + zoneOffset(zone, t);
    const start = t - (((local % HOUR) + HOUR) % HOUR);
    return { start, end: start + HOUR };
  }
  const w = wallTime(zone, t);
  if (unit === 'daily') {
    return {
      start: instantOfWall(zone, w.year, w.month, w.day),
      end: instantOfWall(zone, w.year, w.month, w.day + 1),
    };
  }
  if (unit === 'weekly') {
    const monday = w.day - w.weekday;
    return {
      start: instantOfWall(zone, w.year, w.month, monday),
      end: instantOfWall(zone, w.year, w.month, monday + 7),
    };
  }
  return {
    start: instantOfWall(zone, w.year, w.month, 1),
    end: instantOfWall(zone, w.year, w.month + 1, 1),
  };
}

const QUARTER = 900_000;
const clockCache = new Map<string, { quarter: number; weekday: number; hour: number }>();

/**
 * Local weekday (0 = Monday) and hour of `t` in `zone`. Every zone offset in use is a whole
 * number of quarter hours, so the answer is constant within a UTC quarter hour and cached.
 */
export function localWeekdayHour(zone: string, t: number): { weekday: number; hour: number } {
  const quarter = Math.floor(t / QUARTER);
  const cached = clockCache.get(zone);
  if (cached && cached.quarter === quarter) return cached;
  const w = wallTime(zone, t);
  const entry = { quarter, weekday: w.weekday, hour: w.hour };
  clockCache.set(zone, entry);
  return entry;
}
