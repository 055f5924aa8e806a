import type { Asset } from '@bursar/core';

/** σ of a normal distribution over its mean absolute deviation (√(π/2)). */
const MAD_TO_SIGMA = 1.2533;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Robust running statistics of payment amounts on a log scale: an exponentially weighted mean
 * and mean absolute deviation, updated in O(1). Each update is clipped to `clip` spreads
 * (a Huber step), so one executed outlier cannot drag the baseline. The exact smallest and
 * largest amounts (minor units) are kept for explanations. Internal.
 */
export class AmountStats {
  readonly asset: Asset;
  n = 0;
  /** EWMA of ln(minor + 1). */
  mean = 0;
  /** EWMA of |x − mean|. */
  dev = 0;
  /**
   * Smallest and largest amounts (minor units): numbers while they are safe integers, so the
   * comparison per payment reads a field instead of a separate bigint object, else bigint.
   * Comparisons of a number with a bigint are exact.
   */
  #min: number | bigint = 0;
  #max: number | bigint = 0;
  /** The baseline of the same key in another currency (rare; a short list). */
  next: AmountStats | undefined = undefined;
  /** Set when used again; cleared by the per-agent eviction sweep (second chance). */
  used = false;

  /** The baseline for `asset` in this list, if any. */
  static find(head: AmountStats | undefined, asset: Asset): AmountStats | undefined {
    let s = head;
    while (s !== undefined && s.asset !== asset && s.asset.symbol !== asset.symbol) s = s.next;
    return s;
  }

  /** The baseline for a currency symbol in this list, case-insensitively. */
  static findSymbol(head: AmountStats | undefined, symbol: string): AmountStats | undefined {
    const want = symbol.toUpperCase();
    let s = head;
    while (s !== undefined && s.asset.symbol.toUpperCase() !== want) s = s.next;
    return s;
  }

  constructor(asset: Asset) {
    this.asset = asset;
  }

  /** The smallest amount learned (exact minor units). */
  get min(): bigint {
    return typeof this.#min === 'bigint' ? this.#min : BigInt(this.#min);
  }

  /** The largest amount learned (exact minor units). */
  get max(): bigint {
    return typeof this.#max === 'bigint' ? this.#max : BigInt(this.#max);
  }

  /** The value the statistics work on. */
  static x(minor: bigint): number {
    return Math.log(Number(minor) + 1);
  }

  /** Estimated σ, never below `minSpread` (so a constant history never has zero spread). */
  spread(minSpread: number): number {
    return Math.max(this.dev * MAD_TO_SIGMA, minSpread);
  }

  /** How many spreads `x` lies from the mean (signed). */
  score(x: number, minSpread: number): number {
    return (x - this.mean) / this.spread(minSpread);
  }

  update(minor: bigint, alpha: number, minSpread: number, clip: number): void {
    const x = AmountStats.x(minor);
    const amount = minor <= MAX_SAFE ? Number(minor) : minor;
    if (this.n === 0) {
      this.mean = x;
      this.dev = 0;
      this.#min = amount;
      this.#max = amount;
    } else {
      // Plain averages while there are few samples, then a fixed half-life.
      const a = Math.max(alpha, 1 / (this.n + 1));
      const limit = clip * this.spread(minSpread);
      const r = x - this.mean;
      const rc = r > limit ? limit : Math.max(r, -limit);
      this.mean += a * rc;
      this.dev += a * (Math.min(Math.abs(r), limit) - this.dev);
      if (amount < this.#min) this.#min = amount;
      if (amount > this.#max) this.#max = amount;
    }
    this.n++;
  }
}
