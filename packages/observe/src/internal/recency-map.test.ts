import { describe, expect, it } from 'vitest';
import { RecencyMap } from './recency-map.js';

describe('RecencyMap', () => {
  it('evicts the least recently used keys past its capacity', () => {
    const m = new RecencyMap<string, number>(4);
    for (const k of ['a', 'b', 'c', 'd']) m.set(k, 1);
    m.set('e', 1);
    m.set('f', 1);
    m.get('c'); // old enough to be refreshed
    m.set('g', 1);
    expect([...m.entries()].map(([k]) => k).sort()).toEqual(['c', 'e', 'f', 'g']);
    expect(m.evicted).toBe(3);
  });
});
