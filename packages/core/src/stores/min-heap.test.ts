import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.js';

describe('MinHeap', () => {
  it('pops every pushed item, earliest time first, under random interleavings (property)', () => {
    const op = fc.oneof(fc.integer({ min: -5, max: 50 }), fc.constant('pop' as const));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = new MinHeap<number>();
        // What the heap should hold: item id -> time.
        const model = new Map<number, number>();
        let next = 0;
        const popAndCheck = () => {
          const earliest = Math.min(...model.values());
          expect(heap.peekAt()).toBe(earliest);
          const id = heap.pop()!;
          expect(model.get(id)).toBe(earliest);
          model.delete(id);
        };
        for (const o of ops) {
          if (o !== 'pop') {
            heap.push(o, next);
            model.set(next++, o);
          } else if (model.size === 0) {
            expect(heap.pop()).toBeUndefined();
          } else {
            popAndCheck();
          }
          expect(heap.size).toBe(model.size);
        }
        while (model.size > 0) popAndCheck();
        expect(heap.size).toBe(0);
      }),
    );
  });

  it('keeps epoch-ms times exact and pops a long ascending stream in order', () => {
    const heap = new MinHeap<string>();
    const t0 = Date.parse('2026-03-04T00:00:00Z');
    for (let i = 0; i < 10_000; i++) heap.push(t0 + i * 1.5, `h${i}`);
    heap.push(t0 - 1, 'first');
    expect(heap.peek()).toBe('first');
    expect(heap.pop()).toBe('first');
    for (let i = 0; i < 10_000; i++) {
      expect(heap.peekAt()).toBe(t0 + i * 1.5);
      expect(heap.pop()).toBe(`h${i}`);
    }
    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
  });
});
