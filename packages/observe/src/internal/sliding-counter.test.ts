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
