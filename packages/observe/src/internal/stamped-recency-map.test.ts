import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecencyMap } from './recency-map.js';
import { StampedRecencyMap } from './stamped-recency-map.js';

describe('StampedRecencyMap', () => {
  it('keeps and evicts exactly the keys RecencyMap does (property)', () => {
    const op = fc.record({
      kind: fc.constantFrom('get', 'set', 'set', 'peek', 'delete', 'evict'),
      key: fc.integer({ min: 0, max: 9 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 120 }), (capacity, ops) => {
        const evictedA: number[] = [];
        const evictedB: number[] = [];
        const a = new RecencyMap<number, { id: number }>(capacity, (k) => evictedA.push(k));
        const b = new StampedRecencyMap<number, { id: number; recency: number }>(capacity, (k) =>
          evictedB.push(k),
        );
        let next = 0;
        for (const { kind, key } of ops) {
          if (kind === 'set') {
            next++;
            a.set(key, { id: next });
            b.set(key, { id: next, recency: 0 });
          } else if (kind === 'get') expect(b.get(key)?.id).toBe(a.get(key)?.id);
          else if (kind === 'peek') expect(b.peek(key)?.id).toBe(a.peek(key)?.id);
          else if (kind === 'delete') expect(b.delete(key)).toBe(a.delete(key));
          else expect(b.evictOldest()).toBe(a.evictOldest());
          expect(b.size).toBe(a.size);
          expect(b.has(key)).toBe(a.has(key));
        }
        expect(evictedB).toEqual(evictedA);
        expect(b.evicted).toBe(a.evicted);
        expect([...b.entries()].map(([k, v]) => [k, v.id])).toEqual(
          [...a.entries()].map(([k, v]) => [k, v.id]),
        );
      }),
      { seed: 85, verbose: true },
    );
  });
});
