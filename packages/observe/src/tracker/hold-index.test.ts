import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HoldIndex } from './hold-index.js';

const POSITIONS = 40;

type Op = { kind: 'set'; pos: number; key: string } | { kind: 'delete'; pos: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    pos: fc.integer({ min: 0, max: POSITIONS - 1 }),
    key: fc.stringMatching(/^[a-d]{0,3}$/),
  }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.integer({ min: 0, max: POSITIONS - 1 }) }),
);

/**
 * Runs `ops` against the index and a Map model (position → key), as the ring uses it: a
 * position is forgotten before it is written, and a key is held by one position at a time.
 * `hash` may be a poor one, to force long probe runs, wrap-around and backward shifts.
 */
function check(ops: Op[], hash: (index: HoldIndex, key: string) => number): void {
  const index = new HoldIndex(POSITIONS, 12345);
  const model = new Map<number, string>();
  const held = (key: string) => [...model].find(([, k]) => k === key)?.[0] ?? -1;
  for (const o of ops) {
    if (o.kind === 'delete') {
      index.delete(o.pos);
      model.delete(o.pos);
    } else {
      if (held(o.key) >= 0) continue; // the tracker never records a hold id twice
      index.delete(o.pos);
      model.delete(o.pos);
      index.set(o.pos, o.key, hash(index, o.key));
      model.set(o.pos, o.key);
    }
    expect(index.size).toBe(model.size);
    for (const key of ['', 'a', 'b', 'ab', 'ba', 'abc', 'dd', 'cab', 'ddd']) {
      expect(index.find(key, hash(index, key))).toBe(held(key));
    }
    for (const [, key] of model) expect(index.find(key, hash(index, key))).toBe(held(key));
  }
}

describe('HoldIndex', () => {
  it('finds exactly the keys a Map model holds, through sets, deletes and growth (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => check(ops, (index, key) => index.hash(key))),
      { numRuns: 300 },
    );
  });

  it('stays exact when every key collides, or only a few hash values exist (property)', () => {
    // Runs wrap around the end of the table and deletes shift entries back across it.
    const hashes = [
      () => -1,
      (_: HoldIndex, key: string) => key.length * 5 + 11,
      (_: HoldIndex, key: string) => Math.imul(key.charCodeAt(0) || 0, 0x3fff_ffff),
      // Homes at the table's last slot and its first two: every run wraps around.
      (_: HoldIndex, key: string) => ((key.charCodeAt(key.length - 1) || 0) % 3) - 1,
    ];
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2, 3), fc.array(op, { maxLength: 200 }), (h, ops) =>
        check(ops, hashes[h]!),
      ),
      { numRuns: 600 },
    );
  });

  it('hashes the same key alike and depends on the seed', () => {
    const a = new HoldIndex(10, 1);
    const b = new HoldIndex(10, 2);
    expect(a.hash('hold_123')).toBe(a.hash(`hold_${123}`));
    expect(a.hash('hold_123')).not.toBe(b.hash('hold_123'));
    expect(a.hash('hold_123')).not.toBe(a.hash('hold_124'));
  });

  it('ignores deletes of positions that hold nothing, also beyond the ones used so far', () => {
    const index = new HoldIndex(1000, 7);
    index.delete(999);
    index.set(3, 'x', index.hash('x'));
    index.delete(500);
    expect([index.size, index.find('x', index.hash('x'))]).toEqual([1, 3]);
    index.delete(3);
    expect([index.size, index.find('x', index.hash('x'))]).toEqual([0, -1]);
  });
});
