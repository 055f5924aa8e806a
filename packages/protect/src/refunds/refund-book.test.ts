import { ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { T0 } from '../__fixtures__/logs.js';
import { disputeAndRefund, RefundRail, refundSetup, settle, usdc } from '../__fixtures__/refunds.js';
import { DisputeManager } from '../disputes/dispute-manager.js';
import { ProtectErrorCode } from '../errors.js';
import { KeyedQueue } from '../internal/keyed-queue.js';
import { RecoveryManager } from '../recovery/recovery-manager.js';
import { RefundBook } from './refund-book.js';

const code = (c: string, details?: Record<string, unknown>) =>
  expect.objectContaining({ code: c, ...(details ? { details: expect.objectContaining(details) } : {}) });

describe('RefundBook', () => {
  it('holds at most maxPayments, forgetting the least recently changed payment with nothing in flight', async () => {
    const { disputes, refunds } = refundSetup({ log: false, maxPayments: 2 });
    const open = await disputes.open({ payment: { paymentId: 'p1', amount: usdc('10') }, reason: 'x' });
    await disputeAndRefund(disputes, { paymentId: 'p2', settled: '10', refund: '4' });
    await disputeAndRefund(disputes, { paymentId: 'p3', settled: '10', refund: '4' });
    // p1 has an unresolved dispute, so p2 (idle, least recently changed) went.
    expect(refunds.size).toBe(2);
    expect(refunds.get('p1')?.openDispute).toBe(open.id);
    expect(refunds.get('p2')).toBeUndefined();
    expect(refunds.get('p3')?.refunded.format()).toBe('4.00 USDC');
  });

  it('never forgets a payment with a recovery short of success', async () => {
    const { recovery, rail, refunds } = refundSetup({ log: false, maxPayments: 1 });
    rail.down = true;
    expect((await recovery.recoverUndelivered({ paymentId: 'p1', amount: usdc('5') })).status).toBe('failed');
    rail.down = false;
    await recovery.recoverUndelivered({ paymentId: 'p2', amount: usdc('5') });
    expect(refunds.get('p1')?.recovered.format()).toBe('5.00 USDC');
    await recovery.recoverUndelivered({ paymentId: 'p1', amount: usdc('5') });
    await recovery.recoverUndelivered({ paymentId: 'p3', amount: usdc('5') });
    expect(refunds.size).toBe(1);
    expect(refunds.get('p1')).toBeUndefined();
  });

  it('with a log, reads a forgotten payment back: its first statement and its refunds', async () => {
    const setup = refundSetup({ maxPayments: 1 });
    const log = setup.log!;
    await settle(log, 'p1', '24');
    await settle(log, 'p2', '24');
    const resolved = await disputeAndRefund(setup.disputes, { paymentId: 'p1', settled: '20', refund: '15' });
    await setup.recovery.recoverDispute(resolved);
    await setup.recovery.recoverUndelivered({ paymentId: 'p1', amount: usdc('3') });
    await disputeAndRefund(setup.disputes, { paymentId: 'p2', settled: '24', refund: '1' });
    expect(setup.refunds.get('p1')).toBeUndefined();

    await expect(
      setup.disputes.open({ payment: { paymentId: 'p1', amount: usdc('24') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'pinned' }));
    const rest = await setup.disputes.open({ payment: { paymentId: 'p1', amount: usdc('20') }, reason: 'x' });
    expect(rest.amount.format()).toBe('2.00 USDC'); // 20 − 15 granted − 3 recovered
    expect(setup.refunds.get('p1')).toMatchObject({ granted: usdc('15'), recovered: usdc('3') });
  });

  it('with a log, the limits hold across a restart (new book and managers on the same log)', async () => {
    const first = refundSetup();
    const log = first.log!;
    await settle(log, 'p1', '24');
    const resolved = await disputeAndRefund(first.disputes, { paymentId: 'p1', settled: '24', refund: '20' });
    await first.recovery.recoverDispute(resolved);

    const rail = new RefundRail();
    const disputes = new DisputeManager({ clock: new ManualClock(T0), provenance: log });
    const recovery = new RecoveryManager({
      executor: rail.executor,
      provenance: log,
      refunds: disputes.refunds,
      sleep: async () => undefined,
    });
    await expect(recovery.recoverUndelivered({ paymentId: 'p1', amount: usdc('5') })).rejects.toThrow(
      code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED),
    );
    // The dispute's recovery again: the log shows it succeeded, so it is not executed again.
    const key = first.recovery.list()[0]!.idempotencyKey;
    await expect(recovery.recoverDispute(resolved)).rejects.toThrow(
      code(ProtectErrorCode.ALREADY_RECOVERED, { idempotencyKey: key }),
    );
    expect(rail.calls).toHaveLength(0);
    await recovery.recoverUndelivered({ paymentId: 'p1', amount: usdc('4') });
    expect(disputes.refunds.get('p1')).toMatchObject({ granted: usdc('20'), recovered: usdc('4') });
    expect(disputes.refunds.get('p1')?.remaining.isZero()).toBe(true);
  });

  it('a payment nobody stated anything about is unknown', () => {
    const refunds = new RefundBook();
    expect(refunds.get('p1')).toBeUndefined();
    expect(refunds.size).toBe(0);
    expect(refunds.provenance).toBeUndefined();
  });
});

describe('KeyedQueue', () => {
  it('runs one task at a time per key, in order, keys independently, and forgets idle keys', async () => {
    const q = new KeyedQueue();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a1 = q.run('a', async () => {
      events.push('a1 start');
      await gate;
      events.push('a1 end');
      throw new Error('a1 failed');
    });
    const a2 = q.run('a', async () => {
      events.push('a2');
      return 2;
    });
    const b1 = q.run('b', async () => {
      events.push('b1');
      return 1;
    });
    expect(events).toEqual(['a1 start', 'b1']); // idle keys start at once
    await b1;
    release();
    await expect(a1).rejects.toThrow('a1 failed');
    expect(await a2).toBe(2);
    expect(events).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
    await Promise.resolve();
    expect(q.size).toBe(0);
  });
});
