import { Money } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { refundSetup, settle, usdc } from '../__fixtures__/refunds.js';
import type { Dispute } from '../disputes/dispute.js';

type Op =
  | { t: 'open'; p: number; stated: string | null; amount: string | null; refunded: string | null }
  | { t: 'resolve'; p: number; resolution: 'refunded' | 'partially_refunded' | 'rejected'; refund: string }
  | {
      t: 'undelivered';
      p: number;
      amount: string;
      stated: string | null;
      kind: 'refund' | 'credit';
      fail: boolean;
    }
  | { t: 'recoverDispute'; p: number; kind: 'refund' | 'credit'; fail: boolean };

const PAYMENTS = ['pay_0', 'pay_1', 'pay_2'];
const amount = fc.oneof(
  fc.integer({ min: 1, max: 60 }).map(String),
  fc.integer({ min: 1, max: 60_000_000 }).map((n) => Money.fromMinor(n, 'USDC').toDecimalString()),
);
const p = fc.integer({ min: 0, max: PAYMENTS.length - 1 });
const kind = fc.constantFrom('refund' as const, 'credit' as const);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('open' as const),
    p,
    stated: fc.option(amount),
    amount: fc.option(amount),
    refunded: fc.option(amount, { freq: 4 }),
  }),
  fc.record({
    t: fc.constant('resolve' as const),
    p,
    resolution: fc.constantFrom('refunded' as const, 'partially_refunded' as const, 'rejected' as const),
    refund: amount,
  }),
  fc.record({
    t: fc.constant('undelivered' as const),
    p,
    amount,
    stated: fc.option(amount),
    kind,
    fail: fc.boolean(),
  }),
  fc.record({ t: fc.constant('recoverDispute' as const), p, kind, fail: fc.boolean() }),
);
/** Per payment: what truly settled, and whether the log shows it. */
const world = fc.record({
  withLog: fc.boolean(),
  settled: fc.tuple(amount, amount, amount),
  logged: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
});

interface World {
  withLog: boolean;
  settled: [string, string, string];
  logged: [boolean, boolean, boolean];
}

/** A call under test, and what must happen before it (not part of the call). */
interface Call {
  before?: () => Promise<unknown>;
  run: () => Promise<unknown>;
}

function build(w: World) {
  const setup = refundSetup({ log: w.withLog });
  return {
    setup,
    async init() {
      if (!setup.log) return;
      for (const [i, id] of PAYMENTS.entries()) if (w.logged[i]) await settle(setup.log, id, w.settled[i]!);
    },
    /** One call, or undefined when the op does not apply (no dispute to resolve or recover). */
    call(o: Op): Call | undefined {
      const id = PAYMENTS[o.p]!;
      const { disputes, recovery, rail } = setup;
      const truth = w.settled[o.p]!;
      switch (o.t) {
        case 'open':
          return {
            run: () =>
              disputes.open({
                payment: {
                  paymentId: id,
                  amount: usdc(o.stated ?? truth),
                  ...(o.refunded !== null ? { refunded: usdc(o.refunded) } : {}),
                },
                ...(o.amount !== null ? { amount: usdc(o.amount) } : {}),
                reason: 'x',
              }),
          };
        case 'resolve': {
          const active = disputes.list({ paymentId: id }).find((d) => d.state !== 'resolved');
          if (!active) return undefined;
          return {
            before: async () => {
              if (disputes.get(active.id)?.state === 'open')
                await disputes.addEvidence(active.id, { kind: 'note' });
            },
            run: () =>
              disputes.resolve(active.id, {
                resolution: o.resolution,
                ...(o.resolution === 'partially_refunded' ? { refundAmount: usdc(o.refund) } : {}),
              }),
          };
        }
        case 'undelivered':
          return {
            run: () => {
              rail.down = o.fail;
              return recovery.recoverUndelivered({
                paymentId: id,
                amount: usdc(o.amount),
                kind: o.kind,
                ...(o.stated !== null ? { settled: usdc(o.stated) } : {}),
              });
            },
          };
        case 'recoverDispute': {
          const resolved = disputes
            .list({ paymentId: id, state: 'resolved' })
            .filter((d) => d.refundAmount && !d.refundAmount.isZero())
            .at(-1);
          if (!resolved) return undefined;
          return {
            run: () => {
              rail.down = o.fail;
              return recovery.recoverDispute(resolved, { kind: o.kind });
            },
          };
        }
      }
    },
    async snapshot(): Promise<string> {
      return JSON.stringify({
        disputes: setup.disputes.list(),
        recoveries: setup.recovery.list(),
        book: PAYMENTS.map((id) => setup.refunds.get(id) ?? null),
        records: setup.log ? (await setup.log.records()).length : 0,
        calls: setup.rail.calls.length,
      });
    },
    /** The limits, judged from the managers' own state and the rail, not only from the book. */
    check(pinned: Map<string, Money>) {
      for (const [i, id] of PAYMENTS.entries()) {
        const book = setup.refunds.get(id);
        if (!book) {
          expect(setup.disputes.list({ paymentId: id })).toEqual([]);
          continue;
        }
        const pin = pinned.get(id) ?? book.settled;
        pinned.set(id, pin);
        expect(book.settled.equals(pin)).toBe(true); // the first statement stays pinned
        if (setup.log) {
          expect(w.logged[i]).toBe(true); // nothing is disputed or recovered that the log shows unsettled
          expect(pin.lte(usdc(w.settled[i]!))).toBe(true);
        }
        const granted = setup.disputes
          .list({ paymentId: id })
          .reduce((sum: Money, d: Dispute) => sum.add(d.refundAmount ?? usdc('0')), usdc('0'));
        const recoveries = setup.recovery.list({ paymentId: id });
        const undelivered = recoveries
          .filter((r) => r.cause === 'undelivered')
          .reduce((sum, r) => sum.add(r.amount), usdc('0'));
        expect(granted.add(undelivered).add(book.outside).lte(pin)).toBe(true);
        expect(setup.rail.total(id).lte(pin)).toBe(true);
        for (const d of setup.disputes.list({ paymentId: id })) {
          const drawn = recoveries
            .filter((r) => r.disputeId === d.id)
            .reduce((sum, r) => sum.add(r.amount), usdc('0'));
          expect(drawn.lte(d.refundAmount ?? usdc('0'))).toBe(true);
        }
        expect(book.refunded.lte(pin)).toBe(true);
      }
    },
  };
}

describe('refund limits (property)', () => {
  it('any sequence of opens, resolves and recoveries: total refunded ≤ the pinned (or logged) settled amount, and a rejected call changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(world, fc.array(op, { minLength: 1, maxLength: 30 }), async (w, ops) => {
        const m = build(w);
        await m.init();
        const pinned = new Map<string, Money>();
        for (const o of ops) {
          const call = m.call(o);
          if (!call) continue;
          await call.before?.();
          const before = await m.snapshot();
          const rejected = await call.run().then(
            () => false,
            () => true,
          );
          if (rejected) expect(await m.snapshot()).toBe(before);
          m.check(pinned);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the same, with the calls of each batch racing one another', async () => {
    await fc.assert(
      fc.asyncProperty(
        world,
        fc.array(fc.array(op, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        async (w, batches) => {
          const m = build(w);
          await m.init();
          const pinned = new Map<string, Money>();
          for (const batch of batches) {
            const calls = batch.map((o) => m.call(o)).filter((c) => c !== undefined);
            await Promise.allSettled(calls.map((c) => (c.before?.() ?? Promise.resolve()).then(c.run)));
            m.check(pinned);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
