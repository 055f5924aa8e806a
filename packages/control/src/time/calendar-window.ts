import { type CalendarUnit, calendarBounds } from './zoned-time.js';

/** Start (inclusive) and end (exclusive) of a window, epoch ms. */
export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

const NONE: WindowBounds = { start: 0, end: 0 };

/**
 * One zone's calendar hour, day, week or month, remembering the window it last answered
 * until asked about a time outside it. A compiled budget asks on every decision: inside one
 * window that costs two comparisons, not zone arithmetic or a lookup under a built key. A
 * time outside the window (the next window, or an earlier one from a clock set back) is
 * computed afresh, so the answer is always the window containing `t`, DST included.
 */
export class CalendarWindow {
  readonly zone: string;
  readonly unit: CalendarUnit;
  #current: WindowBounds = NONE;

  constructor(zone: string, unit: CalendarUnit) {
    this.zone = zone;
    this.unit = unit;
  }

  /** The window containing `t`. */
  at(t: number): WindowBounds {
    const c = this.#current;
    if (c.start <= t && t < c.end) return c;
    this.#current = calendarBounds(this.zone, this.unit, t);
    return this.#current;
  }
}
