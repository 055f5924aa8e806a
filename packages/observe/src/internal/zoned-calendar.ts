import { BursarError, ErrorCode } from '@bursar/core';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** One local calendar day: `[start, end)` in epoch ms and the UTC offsets that apply in it. */
export interface ZonedDay {
  readonly start: number;
  readonly end: number;
  /** Local minus UTC, in ms, at `start`. */
  readonly offset: number;
  /** First instant of a new offset inside the day (a DST change), if any. */
  readonly transitionAt: number | undefined;
  /** Offset from `transitionAt` on (equal to `offset` when there is no transition). */
  readonly offsetAfter: number;
}

/** True when `timeZone` is an IANA zone name this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Local days and hours of one IANA time zone, computed from instants (never from the server's
 * own zone). Day lookups are cached by UTC day number, and the last day found is checked
 * first, so the hot path is two comparisons.
 * Hours are 60-minute steps from local midnight, so hour buckets tile day buckets exactly,
 * also on days with a DST change. Internal.
 */
export class ZonedCalendar {
  readonly timeZone: string;
  readonly #utc: boolean;
  readonly #format: Intl.DateTimeFormat | undefined;
  readonly #days = new Map<number, ZonedDay[]>();
  /** The day found last: payments come in time order, so most look-ups hit it. */
  #lastDay: ZonedDay | undefined;

  constructor(timeZone = 'UTC') {
    if (!isValidTimeZone(timeZone)) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, `Unknown IANA time zone ${JSON.stringify(timeZone)}`);
    }
    this.timeZone = timeZone;
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
    this.#utc = resolved === 'UTC' || resolved === 'Etc/UTC' || resolved === 'Etc/GMT';
    this.#format = this.#utc
      ? undefined
      : new Intl.DateTimeFormat('en-US', {
          timeZone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        });
  }

  /** Start of the local day containing `t`. */
  dayStart(t: number): number {
    return this.#utc ? t - mod(t, DAY) : this.day(t).start;
  }

  /** End of the local day containing `t`. */
  dayEnd(t: number): number {
    return this.#utc ? t - mod(t, DAY) + DAY : this.day(t).end;
  }

  /** The local day containing instant `t`. */
  day(t: number): ZonedDay {
    if (this.#utc) {
      const start = t - mod(t, DAY);
      return { start, end: start + DAY, offset: 0, transitionAt: undefined, offsetAfter: 0 };
    }
    const last = this.#lastDay;
    if (last !== undefined && t >= last.start && t < last.end) return last;
    const u = Math.floor(t / DAY);
    let list = this.#days.get(u);
    if (list) {
      for (const d of list) {
        if (t >= d.start && t < d.end) {
          this.#lastDay = d;
          return d;
        }
      }
    }
    const d = this.#computeDay(t);
    this.#lastDay = d;
    if (this.#days.size >= 4096) this.#days.clear();
    if (!list) {
      list = [];
      this.#days.set(u, list);
    }
    list.push(d);
    return d;
  }

  /** Start of the 60-minute step (from local midnight) containing `t`. */
  hourStart(t: number): number {
    if (this.#utc) return t - mod(t, HOUR);
    const d = this.day(t);
    return d.start + Math.floor((t - d.start) / HOUR) * HOUR;
  }

  /** End of the hour bucket that starts at `start` (clipped at the end of its day). */
  hourEnd(start: number): number {
    if (this.#utc) return start - mod(start, HOUR) + HOUR;
    const d = this.day(start);
    return Math.min(start + HOUR, d.end);
  }

  /** Wall-clock hour (0–23) of `t` in this zone. */
  localHour(t: number): number {
    if (this.#utc) return Math.floor(mod(t, DAY) / HOUR);
    const d = this.day(t);
    const offset = d.transitionAt !== undefined && t >= d.transitionAt ? d.offsetAfter : d.offset;
    return Math.floor(mod(t + offset, DAY) / HOUR);
  }

  /** Local minus UTC in ms at instant `t` (whole seconds). */
  offsetAt(t: number): number {
    if (this.#utc) return 0;
    const p = this.#parts(t);
    const wall = Date.UTC(p[0], p[1] - 1, p[2], p[3], p[4], p[5]);
    return wall - (t - mod(t, 1000));
  }

  #parts(t: number): [number, number, number, number, number, number] {
    const out: [number, number, number, number, number, number] = [0, 0, 0, 0, 0, 0];
    for (const part of this.#format!.formatToParts(t)) {
      switch (part.type) {
        case 'year':
          out[0] = Number(part.value);
          break;
        case 'month':
          out[1] = Number(part.value);
          break;
        case 'day':
          out[2] = Number(part.value);
          break;
        case 'hour':
          out[3] = Number(part.value) % 24;
          break;
        case 'minute':
          out[4] = Number(part.value);
          break;
        case 'second':
          out[5] = Number(part.value);
          break;
        default:
          break;
      }
    }
    return out;
  }

  /** Local date of `t` as a sortable number yyyymmdd. */
  #dateKey(t: number): number {
    const p = this.#parts(t);
    return p[0] * 10_000 + p[1] * 100 + p[2];
  }

  /** First instant (minute precision) of the local date containing `t`. */
  #dayStart(t: number): number {
    const key = this.#dateKey(t);
    // Fast path: local midnight computed from the offset at t, checked on both sides.
    const offset = this.offsetAt(t);
    const wall = t + offset;
    const candidate = wall - mod(wall, DAY) - offset;
    if (candidate <= t && this.#dateKey(candidate) === key && this.#dateKey(candidate - MINUTE) < key) {
      return candidate;
    }
    // Midnight skipped or repeated by a DST change: search minutes for the first of this date.
    let lo = Math.floor((t - 27 * HOUR) / MINUTE);
    let hi = Math.floor(t / MINUTE);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.#dateKey(mid * MINUTE) >= key) hi = mid;
      else lo = mid + 1;
    }
    return lo * MINUTE;
  }

  #computeDay(t: number): ZonedDay {
    const start = this.#dayStart(t);
    const end = this.#dayStart(start + 26 * HOUR);
    const offset = this.offsetAt(start);
    const offsetAfter = this.offsetAt(end - 1);
    let transitionAt: number | undefined;
    if (offsetAfter !== offset) {
      let lo = start / MINUTE;
      let hi = Math.floor((end - 1) / MINUTE);
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (this.offsetAt(mid * MINUTE) === offsetAfter) hi = mid;
        else lo = mid + 1;
      }
      transitionAt = lo * MINUTE;
    }
    return { start, end, offset, transitionAt, offsetAfter };
  }
}

/** Modulo that is never negative (times before 1970 stay well-defined). */
export function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
