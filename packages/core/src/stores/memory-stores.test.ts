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

describe('MemoryApprovalStore retention and due index', () => {
  const record = (id: string, createdAt: number, state = 'pending') => ({
    id,
    state,
    version: 1,
    agentId: 'bot',
    intentHash: 'abc',
    createdAt,
    expiresAt: createdAt + 900_000,
    data: {},
  });

  it('forgets resolved records after the retention, so memory does not grow with history', async () => {
    const store = new MemoryApprovalStore({ resolvedRetentionMs: 3_600_000 });
    const hour = 3_600_000;
    for (let i = 0; i < 1_000; i++) {
      const now = i * hour;
      await store.create(record(`apr-${i}`, now));
      expect(await store.update({ ...record(`apr-${i}`, now, 'consumed'), version: 2 }, 1)).toBe(true);
    }
    const stats = store.stats();
    expect(stats.records).toBeLessThanOrEqual(3);
    expect(stats.dueIndex).toBeLessThanOrEqual(3);
    // Within the retention a resolved record is still readable.
    expect((await store.get('apr-999'))?.state).toBe('consumed');
    await store.listDue({ now: 999 * hour + 900_000 + hour });
    expect(await store.get('apr-999')).toBeUndefined();
  });

  it('keeps pending records however old they are (they must be expired first)', async () => {
    const store = new MemoryApprovalStore({ resolvedRetentionMs: 0 });
    await store.create(record('old', 0));
    await store.create(record('new', 10 * 86_400_000));
    expect((await store.get('old'))?.state).toBe('pending');
    expect((await store.listDue({ now: 10 * 86_400_000 })).map((r) => r.id)).toEqual(['old']);
  });

  it('defaults to 24 hours and rejects a bad retention', async () => {
    const store = new MemoryApprovalStore();
    await store.create(record('a', 0, 'rejected'));
    await store.listDue({ now: 900_000 + 86_400_000 - 1 });
    expect(await store.get('a')).toBeDefined();
    await store.listDue({ now: 900_000 + 86_400_000 });
    expect(await store.get('a')).toBeUndefined();
    expect(() => new MemoryApprovalStore({ resolvedRetentionMs: -1 })).toThrow(/resolvedRetentionMs/);
  });
});
