import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentPayments } from './recent-payments.js';
import type { SpendRecord } from './spend-record.js';

const rec = (at: number, holdId: string | undefined) => ({ at, holdId }) as SpendRecord;

describe('RecentPayments hold ids', () => {
  it('knows a hold id exactly while its payment is in the ring (capacity and age)', () => {
    const op = fc.record({
      hold: fc.option(fc.constantFrom('h1', 'h2', 'h3', 'h4'), { nil: undefined }),
      dt: fc.nat(40),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const maxAgeMs = 50;
        const recent = new RecentPayments(capacity, maxAgeMs);
        // The model: what the tracker does — skip a payment whose hold id is known, else push it.
        const kept: SpendRecord[] = [];
        let now = 0;
        for (const { hold, dt } of ops) {
          now += dt;
          // Between pushes the ring is pruned lazily, so it knows exactly what `kept` holds.
          if (hold !== undefined) {
            expect(recent.hasHold(hold)).toBe(kept.some((k) => k.holdId === hold));
            if (recent.hasHold(hold)) continue;
          }
          const r = rec(now, hold);
          recent.push(r, now);
          kept.push(r);
          while (kept.length > capacity) kept.shift();
          while (kept.length > 0 && kept[0]!.at < now - maxAgeMs) kept.shift();
          for (const h of ['h1', 'h2', 'h3', 'h4'])
            expect(recent.hasHold(h)).toBe(kept.some((k) => k.holdId === h));
        }
      }),
      { seed: 7, verbose: true },
    );
  });
});
