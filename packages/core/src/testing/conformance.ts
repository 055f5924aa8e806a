import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BursarError, ErrorCode } from '../errors/index.js';
import type { BursarStores } from '../stores/other-stores.js';
import type { CounterCheck, SpendStore } from '../stores/spend-store.js';
import { checkConcurrentHolds } from './concurrency.js';

export interface StoreConformanceOptions {
  /** Shown in test names, e.g. `postgres`. */
  name: string;
  /**
   * One factory per store your adapter implements; each makes a fresh store for one test.
   * Only the stores given here are tested.
   */
  factories: { [K in keyof BursarStores]?: () => BursarStores[K] | Promise<BursarStores[K]> };
  /** Closes connections / drops data after each test. */
  cleanup?: () => void | Promise<void>;
  /** Concurrent operations in the concurrency tests (default 300). */
  concurrency?: number;
}

const T0 = Date.parse('2026-01-05T12:00:00Z');
let unique = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${(unique++).toString(36)}`;

function amountCheck(
  key: string,
  limit: bigint,
  amount: bigint,
  extra: Partial<CounterCheck> = {},
): CounterCheck {
  return {
    limitId: extra.limitId ?? key,
    kind: 'amount',
    key,
    sumKeys: [key],
    limit,
    amount,
    retainUntil: T0 + 86_400_000,
    ...extra,
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(BursarError.isInstance(error), `expected a BursarError ${code}`).toBe(true);
  expect((error as BursarError).code).toBe(code);
}

/**
 * The one conformance suite every store adapter runs. Call it at the top level of a test file.
 *
 * @example
 * import { storeConformance } from '@bursar/core/testing';
 * storeConformance({
 *   name: 'postgres',
 *   factories: { spend: () => new PgSpendStore(pool), approvals: () => new PgApprovalStore(pool) },
 *   cleanup: () => truncateTables(pool),
 * });
 */
export function storeConformance(options: StoreConformanceOptions): void {
  const n = options.concurrency ?? 300;
  describe(`${options.name} store conformance`, () => {
    const f = options.factories;
    const stores: Partial<BursarStores> = {};
    beforeEach(async () => {
      if (f.spend) stores.spend = await f.spend();
      if (f.idempotency) stores.idempotency = await f.idempotency();
      if (f.approvals) stores.approvals = await f.approvals();
      if (f.audit) stores.audit = await f.audit();
      if (f.agents) stores.agents = await f.agents();
    });
    afterEach(async () => {
      await options.cleanup?.();
    });
    const spend = (): SpendStore => stores.spend!;

    if (f.spend)
      describe('spend holds', () => {
        it('holds within the limit and reports usage before the hold', async () => {
          const key = uid('k');
          const r = await spend().placeHold({
            holdId: uid('h'),
            amount: 300n,
            checks: [amountCheck(key, 1000n, 300n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.existing).toBe(false);
          expect(r.hold.state).toBe('held');
          expect(r.hold.amount).toBe(300n);
          expect(r.usage[0]).toMatchObject({ used: 0n, held: 0n, limit: 1000n, requested: 300n });
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 300n });
        });

        it('refuses a hold over the limit and changes nothing', async () => {
          const key = uid('k');
          await spend().placeHold({
            holdId: uid('h'),
            amount: 700n,
            checks: [amountCheck(key, 1000n, 700n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          const holdId = uid('h');
          const r = await spend().placeHold({
            holdId,
            amount: 301n,
            checks: [amountCheck(key, 1000n, 301n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          expect(r.ok).toBe(false);
          if (r.ok) return;
          expect(r.exceeded).toHaveLength(1);
          expect(r.exceeded[0]).toMatchObject({ used: 0n, held: 700n, limit: 1000n, requested: 301n });
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 700n });
          expect(await spend().getHold(holdId)).toBeUndefined();
        });

        it('allows a hold that reaches the limit exactly', async () => {
          const key = uid('k');
          const r = await spend().placeHold({
            holdId: uid('h'),
            amount: 1000n,
            checks: [amountCheck(key, 1000n, 1000n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          expect(r.ok).toBe(true);
        });

        it('is all-or-nothing across counters', async () => {
          const a = uid('a');
          const b = uid('b');
          const r = await spend().placeHold({
            holdId: uid('h'),
            amount: 50n,
            checks: [amountCheck(a, 1000n, 50n), amountCheck(b, 40n, 50n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.exceeded.map((e) => e.limitId)).toEqual([b]);
          const counters = await spend().getCounters([a, b]);
          expect(counters.get(a)).toEqual({ used: 0n, held: 0n });
          expect(counters.get(b)).toEqual({ used: 0n, held: 0n });
        });

        it('counts velocity with count counters', async () => {
          const key = uid('c');
          const check = (): CounterCheck => ({
            limitId: 'rate',
            kind: 'count',
            key,
            sumKeys: [key],
            limit: 2n,
            amount: 1n,
            retainUntil: T0 + 60_000,
          });
          const results = [];
          for (let i = 0; i < 3; i++) {
            results.push(
              await spend().placeHold({
                holdId: uid('h'),
                amount: 0n,
                checks: [check()],
                now: T0,
                expiresAt: T0 + 60_000,
              }),
            );
          }
          expect(results.map((r) => r.ok)).toEqual([true, true, false]);
        });

        it('sums every bucket of a rolling window', async () => {
          const b1 = uid('b1');
          const b2 = uid('b2');
          await spend().placeHold({
            holdId: uid('h'),
            amount: 60n,
            checks: [amountCheck(b1, 100n, 60n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          const r = await spend().placeHold({
            holdId: uid('h'),
            amount: 50n,
            checks: [{ ...amountCheck(b2, 100n, 50n), sumKeys: [b1, b2] }],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          expect(r.ok).toBe(false);
        });

        it('captures in full, in part (the rest returns) and never beyond the hold', async () => {
          const key = uid('k');
          const h1 = uid('h');
          const h2 = uid('h');
          await spend().placeHold({
            holdId: h1,
            amount: 300n,
            checks: [amountCheck(key, 1000n, 300n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          await spend().placeHold({
            holdId: h2,
            amount: 200n,
            checks: [amountCheck(key, 1000n, 200n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          await expectCode(
            spend().captureHold(h1, { amount: 301n, now: T0 }),
            ErrorCode.CAPTURE_EXCEEDS_HOLD,
          );
          expect((await spend().getHold(h1))?.state).toBe('held');
          const c1 = await spend().captureHold(h1, { now: T0 });
          expect(c1).toMatchObject({ state: 'captured', captured: 300n });
          const c2 = await spend().captureHold(h2, { amount: 120n, now: T0 });
          expect(c2).toMatchObject({ state: 'captured', captured: 120n });
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 420n, held: 0n });
        });

        it('releases everything; a resolved hold cannot be resolved again', async () => {
          const key = uid('k');
          const h = uid('h');
          await spend().placeHold({
            holdId: h,
            amount: 300n,
            checks: [amountCheck(key, 1000n, 300n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          expect(await spend().releaseHold(h, { now: T0 })).toMatchObject({
            state: 'released',
            captured: 0n,
          });
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 0n });
          await expectCode(spend().releaseHold(h, { now: T0 }), ErrorCode.HOLD_NOT_ACTIVE);
          await expectCode(spend().captureHold(h, { now: T0 }), ErrorCode.HOLD_NOT_ACTIVE);
          await expectCode(spend().captureHold(uid('missing'), { now: T0 }), ErrorCode.HOLD_NOT_FOUND);
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 0n });
        });

        it('expires holds at their time and returns the amount', async () => {
          const key = uid('k');
          const h = uid('h');
          await spend().placeHold({
            holdId: h,
            amount: 900n,
            checks: [amountCheck(key, 1000n, 900n)],
            now: T0,
            expiresAt: T0 + 1_000,
          });
          expect(await spend().expireHolds(T0 + 999)).toEqual([]);
          const expired = await spend().expireHolds(T0 + 1_000);
          expect(expired.map((x) => [x.holdId, x.state])).toEqual([[h, 'expired']]);
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 0n });
          await expectCode(spend().captureHold(h, { now: T0 + 1_001 }), ErrorCode.HOLD_NOT_ACTIVE);
        });

        it('does not count expired holds when placing a new one, and reports them', async () => {
          const key = uid('k');
          const h = uid('h');
          await spend().placeHold({
            holdId: h,
            amount: 900n,
            checks: [amountCheck(key, 1000n, 900n)],
            now: T0,
            expiresAt: T0 + 1_000,
          });
          const r = await spend().placeHold({
            holdId: uid('h'),
            amount: 900n,
            checks: [amountCheck(key, 1000n, 900n)],
            now: T0 + 2_000,
            expiresAt: T0 + 60_000,
          });
          expect(r.ok).toBe(true);
          expect(r.expired.map((x) => x.holdId)).toEqual([h]);
          await expectCode(spend().captureHold(h, { now: T0 + 2_000 }), ErrorCode.HOLD_NOT_ACTIVE);
        });

        it('an expired but unswept hold cannot be captured or released, and the next sweep reports it once', async () => {
          const key = uid('k');
          const h = uid('h');
          await spend().placeHold({
            holdId: h,
            amount: 10n,
            checks: [amountCheck(key, 1000n, 10n)],
            now: T0,
            expiresAt: T0 + 1_000,
          });
          await expectCode(spend().captureHold(h, { now: T0 + 1_000 }), ErrorCode.HOLD_NOT_ACTIVE);
          await expectCode(spend().releaseHold(h, { now: T0 + 1_000 }), ErrorCode.HOLD_NOT_ACTIVE);
          // The refusal did not expire it silently: the sweep still finds it, exactly once.
          const swept = await spend().expireHolds(T0 + 1_000);
          expect(swept.map((x) => [x.holdId, x.state, x.captured])).toEqual([[h, 'expired', 0n]]);
          expect(await spend().expireHolds(T0 + 2_000)).toEqual([]);
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 0n });
          await expectCode(spend().captureHold(h, { now: T0 + 2_000 }), ErrorCode.HOLD_NOT_ACTIVE);
        });

        it('places a hold id once: the second call returns the existing hold', async () => {
          const key = uid('k');
          const h = uid('h');
          const first = await spend().placeHold({
            holdId: h,
            amount: 100n,
            checks: [amountCheck(key, 1000n, 100n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          const again = await spend().placeHold({
            holdId: h,
            amount: 100n,
            checks: [amountCheck(key, 1000n, 100n)],
            now: T0,
            expiresAt: T0 + 60_000,
          });
          expect(first.ok && !first.existing).toBe(true);
          expect(again.ok && again.existing).toBe(true);
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 100n });
        });

        it('rejects malformed requests without holding anything', async () => {
          const key = uid('k');
          await expectCode(
            spend().placeHold({
              holdId: uid('h'),
              amount: -1n,
              checks: [amountCheck(key, 1000n, -1n)],
              now: T0,
              expiresAt: T0 + 1,
            }),
            ErrorCode.INVALID_ARGUMENT,
          );
          await expectCode(
            spend().placeHold({
              holdId: uid('h'),
              amount: 5n,
              checks: [{ ...amountCheck(key, 1000n, 5n), sumKeys: [] }],
              now: T0,
              expiresAt: T0 + 1,
            }),
            ErrorCode.INVALID_ARGUMENT,
          );
          expect((await spend().getCounters([key])).get(key)).toEqual({ used: 0n, held: 0n });
        });

        it(`never overspends under ${n} concurrent holds, and resolves each hold once`, async () => {
          const result = await checkConcurrentHolds(spend(), {
            holds: n,
            amount: 7n,
            limit: 500n,
            now: T0,
            key: uid('conc'),
          });
          expect(result.overspent).toBe(false);
          expect(result.accepted).toBe(71);
          expect(result.doubleResolved).toBe(0);
          expect(result.committed <= 500n).toBe(true);
        });
      });

    if (f.idempotency)
      describe('idempotency', () => {
        it('starts once, reports in-progress, then the completed value', async () => {
          const s = stores.idempotency!;
          const key = uid('idem');
          expect(await s.begin({ key, fingerprint: 'f1', now: T0, ttlMs: 60_000 })).toEqual({
            status: 'started',
          });
          expect(await s.begin({ key, fingerprint: 'f2', now: T0, ttlMs: 60_000 })).toEqual({
            status: 'in_progress',
            fingerprint: 'f1',
          });
          await s.complete({ key, value: { outcome: 'allow', n: 1 }, now: T0, ttlMs: 60_000 });
          expect(await s.begin({ key, fingerprint: 'f1', now: T0 + 1, ttlMs: 60_000 })).toEqual({
            status: 'completed',
            fingerprint: 'f1',
            value: { outcome: 'allow', n: 1 },
          });
        });

        it('lets exactly one of many concurrent callers start', async () => {
          const s = stores.idempotency!;
          const key = uid('idem');
          const results = await Promise.all(
            Array.from({ length: 50 }, () => s.begin({ key, fingerprint: 'f', now: T0, ttlMs: 60_000 })),
          );
          expect(results.filter((r) => r.status === 'started')).toHaveLength(1);
        });

        it('forgets abandoned and expired keys', async () => {
          const s = stores.idempotency!;
          const key = uid('idem');
          await s.begin({ key, fingerprint: 'f', now: T0, ttlMs: 1_000 });
          await s.abandon(key);
          expect((await s.begin({ key, fingerprint: 'g', now: T0, ttlMs: 1_000 })).status).toBe('started');
          await s.complete({ key, value: 1, now: T0, ttlMs: 1_000 });
          expect((await s.begin({ key, fingerprint: 'g', now: T0 + 999, ttlMs: 1_000 })).status).toBe(
            'completed',
          );
          expect((await s.begin({ key, fingerprint: 'h', now: T0 + 1_000, ttlMs: 1_000 })).status).toBe(
            'started',
          );
        });
      });

    if (f.approvals)
      describe('approvals', () => {
        const record = (id: string, state = 'pending') => ({
          id,
          state,
          version: 1,
          agentId: 'bot',
          intentHash: 'abc',
          createdAt: T0,
          expiresAt: T0 + 60_000,
          data: { note: 'x', votes: [] as string[] },
        });

        it('creates once and reads back', async () => {
          const s = stores.approvals!;
          const id = uid('apr');
          await s.create(record(id));
          expect(await s.get(id)).toMatchObject({ id, state: 'pending', version: 1, data: { note: 'x' } });
          await expectCode(s.create(record(id)), ErrorCode.CONFLICT);
          expect(await s.get(uid('none'))).toBeUndefined();
        });

        it('updates by compare-and-set: exactly one concurrent writer wins', async () => {
          const s = stores.approvals!;
          const id = uid('apr');
          await s.create(record(id));
          const wins = await Promise.all(
            Array.from({ length: 20 }, (_, i) => s.update({ ...record(id, `approved-${i}`), version: 2 }, 1)),
          );
          expect(wins.filter(Boolean)).toHaveLength(1);
          const stored = await s.get(id);
          expect(stored?.version).toBe(2);
          expect(await s.update({ ...record(id, 'late'), version: 2 }, 1)).toBe(false);
        });

        it('lists by state', async () => {
          const s = stores.approvals!;
          const a = uid('apr');
          const b = uid('apr');
          await s.create(record(a));
          await s.create(record(b, 'rejected'));
          const pending = (await s.list({ state: 'pending' })).map((r) => r.id);
          expect(pending).toContain(a);
          expect(pending).not.toContain(b);
        });

        it('lists due pending records soonest first, by dueAt (else expiresAt)', async () => {
          const s = stores.approvals!;
          const [a, b, c, d] = [uid('apr'), uid('apr'), uid('apr'), uid('apr')];
          await s.create({ ...record(a), dueAt: T0 + 10 });
          await s.create({ ...record(b), expiresAt: T0 + 5 });
          await s.create({ ...record(c), dueAt: T0 + 100 });
          await s.create({ ...record(d, 'rejected'), expiresAt: T0 });
          const ids = async (now: number, limit?: number) =>
            (await s.listDue(limit === undefined ? { now } : { now, limit }))
              .map((r) => r.id)
              .filter((id) => [a, b, c, d].includes(id));
          expect(await ids(T0 + 4)).toEqual([]);
          expect(await ids(T0 + 50)).toEqual([b, a]);
          expect(await ids(T0 + 50)).toEqual([b, a]); // still due until changed
          expect((await s.listDue({ now: T0 + 50, limit: 1 })).length).toBe(1);
          // Resolved: no longer due. Re-scheduled: due at its new time.
          expect(await s.update({ ...record(b, 'expired'), expiresAt: T0 + 5, version: 2 }, 1)).toBe(true);
          expect(await s.update({ ...record(a), dueAt: T0 + 200, version: 2 }, 1)).toBe(true);
          expect(await ids(T0 + 150)).toEqual([c]);
          expect(await ids(T0 + 250)).toEqual([c, a]);
        });
      });

    if (f.audit)
      describe('audit', () => {
        const rec = (seq: number, prevHash: string, hash: string) => ({
          seq,
          at: T0 + seq,
          type: 'test',
          data: { seq },
          prevHash,
          hash,
        });

        it('appends in order only and reads back in order', async () => {
          const s = stores.audit!;
          expect(await s.head()).toBeNull();
          await s.append(rec(1, 'genesis', 'h1'));
          await s.append(rec(2, 'h1', 'h2'));
          await expectCode(s.append(rec(2, 'h1', 'h2b')), ErrorCode.CONFLICT);
          await expectCode(s.append(rec(3, 'wrong', 'h3')), ErrorCode.CONFLICT);
          await expectCode(s.append(rec(4, 'h2', 'h4')), ErrorCode.CONFLICT);
          expect(await s.head()).toEqual({ seq: 2, hash: 'h2' });
          expect((await s.read()).map((r) => r.hash)).toEqual(['h1', 'h2']);
          expect((await s.read({ fromSeq: 2, limit: 5 })).map((r) => r.seq)).toEqual([2]);
        });

        it('hands out records that cannot change what is stored', async () => {
          const s = stores.audit!;
          await s.append(rec(1, 'genesis', 'h1'));
          const [first] = await s.read();
          try {
            (first as { hash: string }).hash = 'forged';
            (first!.data as { seq: number }).seq = 99;
          } catch {
            // frozen: fine
          }
          const [again] = await s.read();
          expect(again).toMatchObject({ hash: 'h1', data: { seq: 1 } });
        });

        it('lets one of many concurrent appends of the same seq win', async () => {
          const s = stores.audit!;
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, (_, i) => s.append(rec(1, 'genesis', `h${i}`))),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          expect(await s.read()).toHaveLength(1);
        });
      });

    if (f.agents)
      describe('agent state', () => {
        it('adds risk atomically up to the threshold', async () => {
          const s = stores.agents!;
          const key = uid('risk');
          const results = await Promise.all(
            Array.from({ length: 40 }, () =>
              s.addRisk({ key, points: 10, threshold: 100, retainUntil: T0 + 86_400_000, now: T0 }),
            ),
          );
          expect(results.filter((r) => r.ok)).toHaveLength(10);
          expect(await s.getRisk(key, T0)).toBe(100);
          await s.resetRisk(key);
          expect(await s.getRisk(key, T0)).toBe(0);
        });

        it('suspends after max strikes inside the window, and an operator resumes', async () => {
          const s = stores.agents!;
          const agentId = uid('agent');
          const a = await s.recordStrike({ agentId, now: T0, windowMs: 60_000, max: 3, actor: 'system' });
          const b = await s.recordStrike({
            agentId,
            now: T0 + 70_000,
            windowMs: 60_000,
            max: 3,
            actor: 'system',
          });
          expect([a.strikes, b.strikes]).toEqual([1, 1]);
          await s.recordStrike({ agentId, now: T0 + 71_000, windowMs: 60_000, max: 3, actor: 'system' });
          const c = await s.recordStrike({
            agentId,
            now: T0 + 72_000,
            windowMs: 60_000,
            max: 3,
            actor: 'system',
          });
          expect(c).toEqual({ strikes: 3, suspended: true, newlySuspended: true });
          expect((await s.getAgent(agentId)).suspended).toBe(true);
          const resumed = await s.setSuspended({ agentId, suspended: false, actor: 'ops', now: T0 + 80_000 });
          expect(resumed.suspended).toBe(false);
          expect(await s.getStrikes(agentId, T0 + 80_000, 60_000)).toBe(0);
        });

        it('engages, lists and disengages kill switches', async () => {
          const s = stores.agents!;
          await s.setKillSwitch({
            scope: 'agent',
            target: 'bot-1',
            engaged: true,
            actor: 'ops',
            reason: 'incident',
            now: T0,
          });
          await s.setKillSwitch({ scope: 'global', engaged: true, actor: 'ops', now: T0 });
          expect((await s.listKillSwitches()).map((k) => `${k.scope}:${k.target ?? ''}`).sort()).toEqual([
            'agent:bot-1',
            'global:',
          ]);
          await s.setKillSwitch({ scope: 'global', engaged: false, actor: 'ops', now: T0 });
          expect((await s.listKillSwitches()).map((k) => k.scope)).toEqual(['agent']);
        });
      });
  });
}
