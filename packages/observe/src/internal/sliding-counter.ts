/** Sums stay plain numbers while every one is a safe integer (exact, no allocation per add). */
const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_BIG = BigInt(SAFE);

/**
 * Counts (and optionally sums) events in a sliding window of `windowMs`, kept as `slots`
 * equal sub-buckets in a ring: O(1) per event, fixed memory, exact to one slot. Internal.
 *
 * Sums are exact. They are kept as numbers while the window's total is a safe integer — so
 * adding a payment allocates nothing — and as bigints from the first add that would pass
 * 2^53 until the window empties again. Slot sums are never larger than the total, so they are
 * safe whenever it is.
 */
export class SlidingCounter {
  readonly #slotMs: number;
  readonly #counts: Uint32Array;
  /** Per slot sums while {@link #big} is undefined (numbers, each a safe integer). */
  readonly #sums: number[] | undefined;
  /** Per slot sums once the total passed 2^53 (undefined until then). */
  #big: bigint[] | undefined = undefined;
  #last = Number.NEGATIVE_INFINITY;
  #count = 0;
  /** Total of the window: a safe integer while {@link #big} is undefined. */
  #sum = 0;
  #bigSum = 0n;

  constructor(windowMs: number, slots: number, withSums = false) {
    this.#slotMs = Math.max(1, Math.ceil(windowMs / slots));
    this.#counts = new Uint32Array(slots);
    this.#sums = withSums ? new Array<number>(slots).fill(0) : undefined;
  }

  /** Adds one event (and `amount` to the sum) at time `t`. Events older than the window are ignored. */
  add(t: number, amount = 0n): void {
    const s = Math.floor(t / this.#slotMs);
    this.#advance(s);
    const n = this.#counts.length;
    if (s <= this.#last - n) return;
    const i = ((s % n) + n) % n;
    this.#counts[i]! += 1;
    this.#count++;
    const sums = this.#sums;
    if (sums === undefined) return;
    if (this.#big === undefined) {
      if (amount >= 0n && amount <= SAFE_BIG) {
        const total = this.#sum + Number(amount);
        if (total <= SAFE) {
          sums[i]! += Number(amount);
          this.#sum = total;
          return;
        }
      }
      this.#toBig();
    }
    this.#big![i]! += amount;
    this.#bigSum += amount;
  }

  /** Events in the window ending at `t`. */
  count(t: number): number {
    this.#advance(Math.floor(t / this.#slotMs));
    return this.#count;
  }

  /** Sum in the window ending at `t` (0n unless built with sums). */
  sum(t: number): bigint {
    this.#advance(Math.floor(t / this.#slotMs));
    return this.#big === undefined ? BigInt(this.#sum) : this.#bigSum;
  }

  /** Is the sum in the window ending at `t` above `limit`? Exact, without building a bigint. */
  sumAbove(t: number, limit: bigint): boolean {
    this.#advance(Math.floor(t / this.#slotMs));
    // A number compared with a bigint is compared exactly.
    return this.#big === undefined ? this.#sum > limit : this.#bigSum > limit;
  }

  /** Moves the sums to bigints (from the add that would take the total past 2^53). */
  #toBig(): void {
    this.#big = this.#sums!.map((x) => BigInt(x));
    this.#bigSum = BigInt(this.#sum);
  }

  #advance(s: number): void {
    if (s <= this.#last) return;
    const n = this.#counts.length;
    const sums = this.#sums;
    if (s - this.#last >= n) {
      this.#counts.fill(0);
      this.#count = 0;
      if (sums !== undefined) {
        sums.fill(0);
        this.#sum = 0;
        // Empty again: back to numbers.
        this.#big = undefined;
        this.#bigSum = 0n;
      }
    } else {
      const big = this.#big;
      for (let k = this.#last + 1; k <= s; k++) {
        const i = ((k % n) + n) % n;
        this.#count -= this.#counts[i]!;
        this.#counts[i] = 0;
        if (big !== undefined) {
          this.#bigSum -= big[i]!;
          big[i] = 0n;
        } else if (sums !== undefined) {
          this.#sum -= sums[i]!;
          sums[i] = 0;
        }
      }
    }
    this.#last = s;
  }
}
