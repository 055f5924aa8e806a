import {
  BursarError,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  MemorySpendStore,
  sha256Hex,
} from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { pay, setup, wrapStore } from '../__fixtures__/engine.js';
import type { PolicyInput } from '../policy/schema.js';

const policy: PolicyInput = {
  id: 'p',
  rules: [{ action: 'allow' }],
  budgets: [{ window: 'daily', maxAmount: 100, currency: 'USDC' }],
};

async function errorOf(promise: Promise<unknown>): Promise<BursarError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!BursarError.isInstance(e)) throw new Error(`expected a BursarError, got ${String(e)}`);
  return e;
}

describe('idempotency keys', () => {
  it('the same key returns the same decision and hold and never holds twice', async () => {
    const { engine, events } = setup({}, policy);
    const first = await engine.authorize(pay({ amount: 60, idempotencyKey: 'order-1' }));
    const again = await engine.authorize(pay({ amount: 60, idempotencyKey: 'order-1' }));
    expect(first.outcome).toBe('allow');
    expect(first.replayed).toBeUndefined();
    expect(again).toEqual({ ...first, replayed: true });
    // Derived from the length-prefixed (agent, key) pair, so a crash cannot make a retry hold twice.
    expect(first.holdId).toBe(`hold_${sha256Hex('12:research-bot:order-1').slice(0, 32)}`);
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '60.000000' });
    expect(events.filter((e) => e.type === 'hold.placed')).toHaveLength(1);
    // Concurrent repeats: one decides, the others are told it is in progress or replay it.
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => engine.authorize(pay({ amount: 60, idempotencyKey: 'order-2' }))),
    );
    const decided = results.filter((r) => r.status === 'fulfilled');
    expect(decided.length).toBeGreaterThanOrEqual(1);
    for (const r of results) {
      if (r.status === 'rejected')
        expect(BursarError.hasCode(r.reason, 'ERR_BURSAR_IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    }
    // order-2 could not fit (60 + 60 > 100): denied once, and the denial is what repeats.
    const replay = await engine.authorize(pay({ amount: 60, idempotencyKey: 'order-2' }));
    expect(replay).toMatchObject({ outcome: 'deny', replayed: true });
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '60.000000' });
  });

  it('the same key with a different intent is a conflict (409)', async () => {
    const { engine } = setup({}, policy);
    await engine.authorize(pay({ amount: 10, idempotencyKey: 'k' }));
    const e = await errorOf(engine.authorize(pay({ amount: 11, idempotencyKey: 'k' })));
    expect([e.code, e.status]).toEqual(['ERR_BURSAR_IDEMPOTENCY_CONFLICT', 409]);
    // Keys are per agent: another agent may use the same key.
    expect((await engine.authorize(pay({ agentId: 'other', amount: 11, idempotencyKey: 'k' }))).outcome).toBe(
      'allow',
    );
  });

  it('a key still being decided answers 409 in progress', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const inner = new MemorySpendStore();
    const slow = wrapStore(inner, {
      placeHold: async (req) => {
        await gate;
        return inner.placeHold(req);
      },
    });
    const { engine } = setup({ stores: { spend: slow } }, policy);
    const first = engine.authorize(pay({ idempotencyKey: 'slow' }));
    await new Promise((r) => setImmediate(r));
    const e = await errorOf(engine.authorize(pay({ idempotencyKey: 'slow' })));
    expect([e.code, e.status]).toEqual(['ERR_BURSAR_IDEMPOTENCY_IN_PROGRESS', 409]);
    const conflict = await errorOf(engine.authorize(pay({ amount: 2, idempotencyKey: 'slow' })));
    expect(conflict.code).toBe('ERR_BURSAR_IDEMPOTENCY_CONFLICT');
    release();
    expect((await first).outcome).toBe('allow');
  });

  it('after a crash between hold and record, a retry finds the hold instead of holding again', async () => {
    const spend = new MemorySpendStore();
    const flaky: IdempotencyStore = wrapStore(new MemoryIdempotencyStore(), {
      complete: async () => {
        throw new Error('connection lost');
      },
    });
    const errors: string[] = [];
    const { engine } = setup(
      { stores: { spend, idempotency: flaky }, onError: (_e, c) => errors.push(c.operation) },
      policy,
    );
    const first = await engine.authorize(pay({ amount: 60, idempotencyKey: 'crash' }));
    expect(first.outcome).toBe('allow');
    expect(errors).toEqual(['idempotency.complete']);
    // A fresh engine on the same spend store (a restarted process) retries with the same key.
    const { engine: restarted } = setup({ stores: { spend } }, policy);
    const retry = await restarted.authorize(pay({ amount: 60, idempotencyKey: 'crash' }));
    expect(retry.holdId).toBe(first.holdId);
    expect(retry.outcome).toBe('allow');
    expect((await restarted.getBudgetStatus())[0]).toMatchObject({ held: '60.000000' });
  });

  it('an internal error abandons the key so that a retry decides again', async () => {
    const inner = new MemorySpendStore();
    let fail = true;
    const spend = wrapStore(inner, {
      placeHold: async (req) => {
        if (fail) throw new Error('store down');
        return inner.placeHold(req);
      },
    });
    const { engine } = setup({ stores: { spend } }, policy);
    const failed = await engine.authorize(pay({ idempotencyKey: 'retry-me' }));
    expect(failed.reasons.map((r) => r.code)).toEqual(['internal_error']);
    fail = false;
    const retried = await engine.authorize(pay({ idempotencyKey: 'retry-me' }));
    expect(retried).toMatchObject({ outcome: 'allow' });
    expect(retried.replayed).toBeUndefined();
  });

  it('replays are copies: changing one does not change the stored decision', async () => {
    const { engine } = setup({}, policy);
    await engine.authorize(pay({ idempotencyKey: 'copy' }));
    const a = await engine.authorize(pay({ idempotencyKey: 'copy' }));
    a.outcome = 'deny';
    a.reasons.length = 0;
    const b = await engine.authorize(pay({ idempotencyKey: 'copy' }));
    expect(b.outcome).toBe('allow');
    expect(b.reasons.length).toBeGreaterThan(0);
  });
});
