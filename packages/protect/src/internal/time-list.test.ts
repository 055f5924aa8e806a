import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Float64Column, Int32Column, ValueColumn } from './chunked-columns.js';
import { TimeList } from './time-list.js';

/** The model: one sorted array, inserted into after every entry with a time ≤ the new one. */
class ModelList {
  readonly entries: { at: number; seq: number }[] = [];
  add(at: number, seq: number): void {
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.at > at) i--;
    this.entries.splice(i, 0, { at, seq });
  }
  range(from: number, to: number): number[] {
    return this.entries.filter((e) => from <= e.at && e.at < to).map((e) => e.seq);
  }
}

describe('TimeList', () => {
  it('keeps seqs in time order (ties in insertion order) across chunk splits, as one sorted array would', () => {
    // Small chunks: runs in time order cross chunk boundaries, steps back insert into full chunks.
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) },
      { weight: 1, arbitrary: fc.integer({ min: -40, max: -1 }) },
    );
    const bound = fc.oneof(
      fc.integer({ min: -300, max: 400 }),
      fc.constantFrom(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 9 }),
        fc.array(step, { minLength: 0, maxLength: 300, size: 'max' }),
        fc.array(fc.tuple(bound, bound), { minLength: 1, maxLength: 20 }),
        (chunk, steps, ranges) => {
          const list = new TimeList(chunk);
          const model = new ModelList();
          let at = 0;
          steps.forEach((d, seq) => {
            at += d;
            list.add(at, seq + 1);
            model.add(at, seq + 1);
          });
          expect(list.size).toBe(steps.length);
          expect(list.range(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY)).toEqual(
            model.range(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
          );
          for (const [from, to] of ranges) expect(list.range(from, to)).toEqual(model.range(from, to));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('returns nothing for an empty list or an empty range', () => {
    const list = new TimeList();
    expect(list.range(0, 10)).toEqual([]);
    list.add(5, 1);
    expect(list.range(5, 5)).toEqual([]);
    expect(list.range(6, 1)).toEqual([]);
    expect(list.range(5, 6)).toEqual([1]);
  });
});

describe('chunked columns', () => {
  it('read back what was written, across chunks, with unwritten slots at their zero value', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
          {
            maxLength: 200,
          },
        ),
        (writes) => {
          const f = new Float64Column();
          const n = new Int32Column();
          const v = new ValueColumn<string>();
          const model = new Map<number, number>();
          for (const [i, x] of writes) {
            f.set(i, x / 3);
            n.set(i, x);
            v.set(i, `v${x}`);
            model.set(i, x);
          }
          const top = Math.max(0, ...writes.map(([i]) => i));
          for (let i = 0; i <= top; i += 97) {
            const x = model.get(i);
            if (writes.length === 0) break;
            expect(f.get(i)).toBe(x === undefined ? 0 : x / 3);
            expect(n.get(i)).toBe(x ?? 0);
            expect(v.get(i)).toBe(x === undefined ? undefined : `v${x}`);
          }
          for (const [i, x] of model) {
            expect(f.get(i)).toBe(x / 3);
            expect(n.get(i)).toBe(x);
            expect(v.get(i)).toBe(`v${x}`);
          }
        },
      ),
    );
  });
});
