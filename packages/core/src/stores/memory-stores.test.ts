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

describe('MemorySpendStore records', () => {
  const T = Date.parse('2026-03-04T12:00:00Z');
  const check = (key: string, amount: bigint, kind: 'amount' | 'count' = 'amount') => ({
    limitId: `limit-${key}`,
    kind,
    key,
    sumKeys: [key],
    limit: 1_000n,
    amount,
    retainUntil: T + 86_400_000,
  });
  const place = (store: MemorySpendStore, holdId: string, amount: bigint, meta?: Record<string, unknown>) =>
    store.placeHoldSync({
      holdId,
      amount,
      checks: [check('day', amount), check('rate', 1n, 'count')],
      now: T,
      expiresAt: T + 60_000,
      ...(meta ? { meta } : {}),
    });

  it('hands out frozen records that never change: a resolved hold is a new record', async () => {
    const store = new MemorySpendStore();
    const meta = { agentId: 'bot', amount: '0.000007' };
    const placed = place(store, 'h1', 7n, meta);
    if (!placed.ok) throw new Error('refused');
    meta.agentId = 'changed by the caller';
    const held = placed.hold;
    expect(Object.isFrozen(held) && Object.isFrozen(held.counters) && Object.isFrozen(held.meta)).toBe(true);
    expect(held.counters.every((c) => Object.isFrozen(c))).toBe(true);
    expect(held.meta).toEqual({ agentId: 'bot', amount: '0.000007' });

    const captured = await store.captureHold('h1', { amount: 5n, now: T + 1 });
    expect(captured).toMatchObject({
      holdId: 'h1',
      state: 'captured',
      amount: 7n,
      captured: 5n,
      resolvedAt: T + 1,
    });
    expect(Object.isFrozen(captured)).toBe(true);
    // What was handed out before still describes the hold as it was then.
    expect(held.state).toBe('held');
    expect('resolvedAt' in held).toBe(false);
    expect(await store.getHold('h1')).toEqual(captured);
    expect(Object.keys(captured)).toEqual([
      'holdId',
      'state',
      'amount',
      'captured',
      'counters',
      'createdAt',
      'expiresAt',
      'meta',
      'resolvedAt',
    ]);
    expect(() => {
      (captured as { state: string }).state = 'held';
    }).toThrow(TypeError);
  });

  it('holds on one counter keep their own amounts, and capture moves exactly theirs', async () => {
    const store = new MemorySpendStore();
    for (const [id, amount] of [
      ['a', 10n],
      ['b', 10n],
      ['c', 30n],
      ['d', 10n],
    ] as const) {
      if (!place(store, id, amount).ok) throw new Error(`refused ${id}`);
    }
    const amounts = async (id: string) => (await store.getHold(id))!.counters.map((c) => [c.key, c.amount]);
    expect(await amounts('a')).toEqual([
      ['day', 10n],
      ['rate', 1n],
    ]);
    expect(await amounts('c')).toEqual([
      ['day', 30n],
      ['rate', 1n],
    ]);
    expect(await amounts('d')).toEqual([
      ['day', 10n],
      ['rate', 1n],
    ]);
    await store.captureHold('c', { now: T + 1 });
    await store.releaseHold('a', { now: T + 1 });
    const counters = await store.getCounters(['day', 'rate']);
    expect(counters.get('day')).toEqual({ used: 30n, held: 20n });
    expect(counters.get('rate')).toEqual({ used: 1n, held: 2n });
  });

  it('the synchronous forms do what the async ones do, throwing where those reject', async () => {
    const store = new MemorySpendStore();
    place(store, 'h', 3n);
    expect(store.captureHoldSync('h', { now: T + 1 })).toEqual(await store.getHold('h'));
    expect(() => store.captureHoldSync('h', { now: T + 2 })).toThrow(/already captured/);
    await expect(store.captureHold('h', { now: T + 2 })).rejects.toThrow(/already captured/);
    expect(() => store.captureHoldSync('nope', { now: T })).toThrow(/No hold nope/);

    const agents = new MemoryAgentStateStore();
    expect(agents.getAgentSync('bot')).toEqual(await agents.getAgent('bot'));
    expect(agents.listKillSwitchesSync()).toEqual([]);
    await agents.setKillSwitch({ scope: 'global', engaged: true, actor: 'ops', now: T });
    await agents.setSuspended({ agentId: 'bot', suspended: true, actor: 'ops', now: T });
    expect(agents.listKillSwitchesSync()).toEqual(await agents.listKillSwitches());
    expect(agents.listKillSwitchesSync()).toHaveLength(1);
    expect(agents.getAgentSync('bot')).toEqual(await agents.getAgent('bot'));
    expect(agents.getAgentSync('bot').suspended).toBe(true);
  });
});
