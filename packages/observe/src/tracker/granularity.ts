import { mod, type ZonedCalendar } from '../internal/index.js';

/** Bucket sizes the tracker keeps. Hours and days follow the tracker's time zone. */
export type Granularity = 'minute' | 'hour' | 'day';

/** Every granularity, finest first. */
export const GRANULARITIES: readonly Granularity[] = ['minute', 'hour', 'day'];

/** The longest a bucket of each granularity can be (days may last 25 h around DST). */
export const MAX_BUCKET_MS: Readonly<Record<Granularity, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 26 * 3_600_000,
};

/** Bucket boundaries: minutes from the epoch, hours and days from local midnight. Internal. */
export class Timeline {
  readonly calendar: ZonedCalendar;

  constructor(calendar: ZonedCalendar) {
    this.calendar = calendar;
  }

  start(g: Granularity, t: number): number {
    switch (g) {
      case 'minute':
        return t - mod(t, 60_000);
      case 'hour':
        return this.calendar.hourStart(t);
      default:
        return this.calendar.dayStart(t);
    }
  }

  /** End of the bucket of granularity `g` that starts at `start`. */
  end(g: Granularity, start: number): number {
    switch (g) {
      case 'minute':
        return start + 60_000;
      case 'hour':
        return this.calendar.hourEnd(start);
      default:
        return this.calendar.dayEnd(start);
    }
  }
}
