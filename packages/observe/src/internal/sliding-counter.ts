/**
 * Counts (and optionally sums) events in a sliding window of `windowMs`, kept as `slots`
 * equal sub-buckets in a ring: O(1) per event, fixed memory, exact to one slot. Internal.
 */
export class SlidingCounter {
  readonly #slotMs: number;
  readonly #counts: Uint32Array;
  readonly #sums: bigint[] | undefined;
  #last = Number.NEGATIVE_INFINITY;
  #count = 0;
  #sum = 0n;

  constructor(windowMs: number, slots: number, withSums = false) {
    this.#slotMs = Math.max(1, Math.ceil(windowMs / slots));
    this.#counts = new Uint32Array(slots);
    this.#sums = withSums ? new Array<bigint>(slots).fill(0n) : undefined;
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
    if (this.#sums) {
      this.#sums[i]! += amount;
      this.#sum += amount;
    }
  }

  /** Events in the window ending at `t`. */
  count(t: number): number {
    this.#advance(Math.floor(t / this.#slotMs));
    return this.#count;
  }

  /** Sum in the window ending at `t` (0n unless built with sums). */
  sum(t: number): bigint {
    this.#advance(Math.floor(t / this.#slotMs));
    return this.#sum;
  }

  #advance(s: number): void {
    if (s <= this.#last) return;
    const n = this.#counts.length;
    if (s - this.#last >= n) {
      this.#counts.fill(0);
      if (this.#sums) this.#sums.fill(0n);
      this.#count = 0;
      this.#sum = 0n;
    } else {
      for (let k = this.#last + 1; k <= s; k++) {
        const i = ((k % n) + n) % n;
        this.#count -= this.#counts[i]!;
        this.#counts[i] = 0;
        if (this.#sums) {
          this.#sum -= this.#sums[i]!;
          this.#sums[i] = 0n;
        }
      }
    }
    this.#last = s;
  }
}
