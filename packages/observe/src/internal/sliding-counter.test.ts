import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingCounter } from './sliding-counter.js';

describe('SlidingCounter', () => {
  it('counts and sums within the window and forgets what slid out', () => {
    const c = new SlidingCounter(60_000, 6, true);
    c.add(0, 5n);
    c.add(30_000, 7n);
    expect([c.count(59_999), c.sum(59_999)]).toEqual([2, 12n]);
    expect([c.count(60_000), c.sum(60_000)]).toEqual([1, 7n]);
    c.add(20_000, 1n); // late but still in the window
    expect(c.count(70_000)).toBe(2);
    expect(c.count(10_000_000)).toBe(0);
  });
});

/** The same window with bigint slots throughout: what the number-first sums must agree with. */
class BigintWindow {
  readonly slotMs: number;
  readonly counts: number[];
  readonly sums: bigint[];
  last = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number, slots: number) {
    this.slotMs = Math.max(1, Math.ceil(windowMs / slots));
    this.counts = new Array<number>(slots).fill(0);
    this.sums = new Array<bigint>(slots).fill(0n);
  }

  advance(t: number): void {
    const s = Math.floor(t / this.slotMs);
    const n = this.counts.length;
    for (let k = Math.max(this.last + 1, s - n + 1); k <= s; k++) {
      const i = ((k % n) + n) % n;
      this.counts[i] = 0;
      this.sums[i] = 0n;
    }
    if (s > this.last) this.last = s;
  }

  add(t: number, amount: bigint): void {
    this.advance(t);
    const s = Math.floor(t / this.slotMs);
    const n = this.counts.length;
    if (s <= this.last - n) return;
    const i = ((s % n) + n) % n;
    this.counts[i]! += 1;
    this.sums[i]! += amount;
  }

  total(t: number): [number, bigint] {
    this.advance(t);
    return [this.counts.reduce((a, b) => a + b, 0), this.sums.reduce((a, b) => a + b, 0n)];
  }
}

describe('SlidingCounter sums', () => {
  it('stay exact across 2^53, in and out of the window', () => {
    const amount = fc.oneof(
      fc.bigInt({ min: 0n, max: 10_000n }),
      fc.bigInt({ min: 2n ** 52n, max: 2n ** 53n + 10n }),
      fc.constantFrom(BigInt(Number.MAX_SAFE_INTEGER), 2n ** 53n, 2n ** 64n),
    );
    const step = fc.record({ dt: fc.integer({ min: -20_000, max: 70_000 }), amount, limit: amount });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const c = new SlidingCounter(60_000, 6, true);
        const ref = new BigintWindow(60_000, 6);
        let t = 1_000_000;
        for (const { dt, amount, limit } of steps) {
          t = Math.max(0, t + dt);
          c.add(t, amount);
          ref.add(t, amount);
          const [count, sum] = ref.total(t);
          expect(c.count(t)).toBe(count);
          expect(c.sum(t)).toBe(sum);
          expect(c.sumAbove(t, limit)).toBe(sum > limit);
        }
      }),
      { seed: 53, verbose: true },
    );
  });

  it('go back to numbers once the window is empty', () => {
    const c = new SlidingCounter(60_000, 6, true);
    c.add(0, 2n ** 60n);
    c.add(1, 1n);
    expect(c.sum(1)).toBe(2n ** 60n + 1n);
    expect(c.sumAbove(1, 2n ** 60n)).toBe(true);
    c.add(200_000, 3n);
    expect(c.sum(200_000)).toBe(3n);
    expect(c.sumAbove(200_000, 2n)).toBe(true);
    expect(c.sumAbove(200_000, 3n)).toBe(false);
  });
});
