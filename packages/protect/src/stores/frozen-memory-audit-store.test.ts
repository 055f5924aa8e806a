import type { AuditRecord } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrozenMemoryAuditStore } from './frozen-memory-audit-store.js';

describe('FrozenMemoryAuditStore chunks', () => {
  it('reads across chunk boundaries exactly what one array sliced the same way would give', async () => {
    const store = new FrozenMemoryAuditStore();
    const model: AuditRecord[] = [];
    for (let seq = 1; seq <= 9_000; seq++) {
      const record = { seq, at: seq, type: 't', data: { n: seq }, prevHash: `h${seq - 1}`, hash: `h${seq}` };
      await store.append(record);
      model.push(record);
    }
    expect(store.size).toBe(9_000);
    expect(await store.head()).toEqual({ seq: 9_000, hash: 'h9000' });
    const n = fc.oneof(
      fc.integer({ min: -10, max: 9_100 }),
      fc.constantFrom(4095, 4096, 4097, 8192, 8193, Number.NaN, Number.POSITIVE_INFINITY, 0.5, 4096.7),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.option(n, { nil: undefined }),
        fc.option(n, { nil: undefined }),
        async (fromSeq, limit) => {
          const from = Math.max(1, fromSeq ?? 1);
          const lim = limit ?? Number.POSITIVE_INFINITY;
          const expected = model.slice(from - 1, Number.isFinite(lim) ? from - 1 + lim : undefined);
          const got = await store.read({
            ...(fromSeq === undefined ? {} : { fromSeq }),
            ...(limit === undefined ? {} : { limit }),
          });
          expect(got.map((r) => r.seq)).toEqual(expected.map((r) => r.seq));
        },
      ),
      { numRuns: 500 },
    );
  });
});
