import { GRANULARITIES, type Timeline } from './granularity.js';

/**
 * The bucket of each granularity that the last payment fell in, remembered as `[start, end)`.
 * Payments arrive mostly in time order, so the next one usually falls in the same minute, hour
 * and day, and its bucket starts cost two comparisons each instead of calendar arithmetic (a
 * day look-up per hour or day bucket in a zone other than UTC). Bucket boundaries depend only
 * on the instant and the zone, so an instant inside the remembered range has exactly that
 * bucket; any other instant (the clock passed the end, or a late payment) is looked up and
 * becomes the remembered bucket. Indexed by granularity code (0 minute, 1 hour, 2 day). Internal.
 */
export class BucketCursor {
  readonly #timeline: Timeline;
  // Empty ranges at first ([+∞, −∞)), so the first look-up computes.
  readonly #starts = new Float64Array(3).fill(Number.POSITIVE_INFINITY);
  readonly #ends = new Float64Array(3).fill(Number.NEGATIVE_INFINITY);

  constructor(timeline: Timeline) {
    this.#timeline = timeline;
  }

  /** Start of the bucket of granularity `code` that contains `t`; `end(code)` is then its end. */
  start(code: number, t: number): number {
    const start = this.#starts[code]!;
    if (t >= start && t < this.#ends[code]!) return start;
    const g = GRANULARITIES[code]!;
    const s = this.#timeline.start(g, t);
    this.#starts[code] = s;
    this.#ends[code] = this.#timeline.end(g, s);
    return s;
  }

  /** End of the bucket the last `start(code, …)` returned. */
  end(code: number): number {
    return this.#ends[code]!;
  }
}
