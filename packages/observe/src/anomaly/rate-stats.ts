/**
 * One agent's payment rate: a sliding count over the last `windowMs` (a ring of sub-buckets)
 * and an EWMA of the count per whole window as the baseline. O(1) per payment; idle windows
 * decay the baseline in closed form. Internal.
 */
export class RateStats {
  readonly #slotMs: number;
  readonly #windowMs: number;
  readonly #ring: Uint32Array;
  #lastSlot = Number.NEGATIVE_INFINITY;
  /** Current tumbling window number (−1 before the first payment). */
  #window = -1;
  #windowCount = 0;
  /** Baseline: expected payments per window. */
  lambda = 0;
  /** Whole windows the baseline has seen. */
  windows = 0;

  constructor(windowMs: number, slots: number) {
    this.#windowMs = windowMs;
    this.#slotMs = Math.max(1, Math.ceil(windowMs / slots));
    this.#ring = new Uint32Array(slots);
  }

  /** Payments in the sliding window ending at `t`. Pure. */
  countAt(t: number): number {
    const n = this.#ring.length;
    const s = Math.floor(t / this.#slotMs);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const abs = this.#lastSlot - k;
      if (abs > s - n && abs <= s) sum += this.#ring[((abs % n) + n) % n]!;
    }
    return sum;
  }

  /** Whole windows the baseline will have seen at `t`. Pure. */
  windowsAt(t: number): number {
    const w = Math.floor(t / this.#windowMs);
    if (this.#window < 0 || w <= this.#window) return this.windows;
    // The current window closes, then the idle ones between it and t's.
    return this.windows + (w - this.#window);
  }

  /**
   * The baseline (expected payments per window) as it will be at `t`. Pure. Separate from
   * {@link windowsAt} so that the common early exits need no result object and no EWMA roll.
   */
  lambdaAt(t: number, alpha: number): number {
    const w = Math.floor(t / this.#windowMs);
    if (this.#window < 0 || w <= this.#window) return this.lambda;
    return rolledLambda(this.lambda, this.windows, this.#windowCount, w - this.#window - 1, alpha);
  }

  add(t: number, alpha: number): void {
    const n = this.#ring.length;
    const s = Math.floor(t / this.#slotMs);
    if (s > this.#lastSlot) {
      if (s - this.#lastSlot >= n) this.#ring.fill(0);
      else for (let k = this.#lastSlot + 1; k <= s; k++) this.#ring[((k % n) + n) % n] = 0;
      this.#lastSlot = s;
    }
    if (s > this.#lastSlot - n) this.#ring[((s % n) + n) % n]! += 1;
    const w = Math.floor(t / this.#windowMs);
    if (this.#window < 0) {
      this.#window = w;
      this.#windowCount = 0;
    } else if (w > this.#window) {
      this.lambda = rolledLambda(this.lambda, this.windows, this.#windowCount, w - this.#window - 1, alpha);
      this.windows += w - this.#window;
      this.#window = w;
      this.#windowCount = 0;
    }
    if (w === this.#window) this.#windowCount++;
  }
}

/**
 * The EWMA after closing the current window (count `count`) and `gap` empty ones into it; the
 * baseline has then seen `windows + 1 + gap` windows.
 */
function rolledLambda(lambda: number, windows: number, count: number, gap: number, alpha: number): number {
  let a = windows === 0 ? 1 : Math.max(alpha, 1 / (windows + 1));
  let l = lambda + a * (count - lambda);
  let n = windows + 1;
  let rest = gap;
  // Warm-up steps (plain average) one by one, then the fixed rate in closed form.
  while (rest > 0 && 1 / (n + 1) > alpha) {
    a = 1 / (n + 1);
    l *= 1 - a;
    n++;
    rest--;
  }
  if (rest > 0) l *= (1 - alpha) ** rest;
  return l;
}
