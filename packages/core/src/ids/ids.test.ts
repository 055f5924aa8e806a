import { describe, expect, it } from 'vitest';
import { newHoldId, newId, newIntentId } from './ids.js';

describe('newId', () => {
  it('a million ids (across many refills of the random pool) are distinct, 32 hex digits each', () => {
    const seen = new Set<string>();
    const shape = /^hold_[0-9a-f]{32}$/;
    for (let i = 0; i < 1_000_000; i++) {
      const id = newHoldId();
      if (!shape.test(id)) throw new Error(`id ${i} is malformed: ${id}`);
      seen.add(id);
    }
    expect(seen.size).toBe(1_000_000);
  });

  it('keeps the prefix, and ids of different kinds come from the same stream without repeats', () => {
    const a = newIntentId();
    const b = newId('apr');
    expect(a).toMatch(/^int_[0-9a-f]{32}$/);
    expect(b).toMatch(/^apr_[0-9a-f]{32}$/);
    expect(a.slice(4)).not.toBe(b.slice(4));
  });

  it('never reuses random bytes: consecutive ids do not overlap', () => {
    // A pool offset that advanced by 8 bytes instead of 16 would make id n's second half
    // id n+1's first half.
    const ids = Array.from({ length: 10_000 }, () => newHoldId().slice(5));
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i - 1]!.slice(16)).not.toBe(ids[i]!.slice(0, 16));
    }
  });
});
