import { BursarError, ErrorCode } from '../errors/index.js';

/**
 * The only source of time in Bursar. Windows, expiry and circuit breakers read it;
 * nothing calls `Date.now()` directly, so tests can drive time exactly.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/**
 * A clock that moves only when told to.
 *
 * @example
 * const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
 * clock.advance(60_000); // one minute later
 */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number | Date | string = 0) {
    this.#now = ManualClock.#toMs(start);
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` (never backwards). */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `ManualClock.advance needs a finite, non-negative number of ms; got ${ms}`,
      );
    }
    this.#now += ms;
    return this.#now;
  }

  /** Sets the time. Going backwards is allowed, to test clock skew. */
  set(time: number | Date | string): number {
    this.#now = ManualClock.#toMs(time);
    return this.#now;
  }

  static #toMs(time: number | Date | string): number {
    const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : time.getTime();
    if (!Number.isFinite(ms)) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `ManualClock needs a valid time; got ${String(time)}`,
      );
    }
    return ms;
  }
}
