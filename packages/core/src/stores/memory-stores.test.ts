import { describe, expect, it } from 'vitest';
import { checkConcurrentHolds } from '../testing/concurrency.js';
import { storeConformance } from '../testing/conformance.js';
import { NaiveSpendStore } from '../testing/naive-spend-store.js';
import { MemorySpendStore } from './memory-spend-store.js';
import {
  MemoryAgentStateStore,
  MemoryApprovalStore,
  MemoryAuditStore,
  MemoryIdempotencyStore,
} from './memory-stores.js';

storeConformance({
  name: 'memory',
  factories: {
    spend: () => new MemorySpendStore(),
    idempotency: () => new MemoryIdempotencyStore(),
    approvals: () => new MemoryApprovalStore(),
    audit: () => new MemoryAuditStore(),
    agents: () => new MemoryAgentStateStore(),
  },
});

describe('the conformance concurrency check', () => {
  it('catches a naive read-then-write store overspending', async () => {
    const result = await checkConcurrentHolds(new NaiveSpendStore(), { holds: 300, amount: 7n, limit: 500n });
    expect(result.overspent).toBe(true);
    expect(result.accepted).toBeGreaterThan(71);
    expect(result.committed > 500n).toBe(true);
  });

  it('passes the memory store', async () => {
    const result = await checkConcurrentHolds(new MemorySpendStore(), {
      holds: 300,
      amount: 7n,
      limit: 500n,
    });
    expect(result).toMatchObject({ overspent: false, accepted: 71, doubleResolved: 0 });
  });
});

describe('MemorySpendStore retention', () => {
  it('forgets old window buckets and resolved holds, so memory does not grow with history', async () => {
    const store = new MemorySpendStore({ resolvedRetentionMs: 1_000 });
    const day = 86_400_000;
    for (let i = 0; i < 500; i++) {
      const now = i * day;
      const key = `budget:day:${i}`;
      const r = await store.placeHold({
        holdId: `h${i}`,
        amount: 1n,
        checks: [
          {
            limitId: 'b',
            kind: 'amount',
            key,
            sumKeys: [key],
            limit: 10n,
            amount: 1n,
            retainUntil: now + day,
          },
        ],
        now,
        expiresAt: now + 60_000,
      });
      expect(r.ok).toBe(true);
      await store.captureHold(`h${i}`, { now });
    }
    const stats = store.stats();
    expect(stats.counters).toBeLessThanOrEqual(3);
    expect(stats.holds).toBeLessThanOrEqual(2);
  });
});
