import { ErrorCode, ManualClock, Money } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { T0 } from '../__fixtures__/logs.js';
import { DisputeManager } from '../disputes/dispute-manager.js';
import { ProtectErrorCode } from '../errors.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { type RecoveryAction, RecoveryManager } from './recovery-manager.js';

const usdc = (v: string) => Money.parse(v, 'USDC');
const code = (c: string) => expect.objectContaining({ code: c });

/**
 * A payment rail that deduplicates refunds by idempotency key, as real rails do. It can fail
 * the first calls, or apply the refund and then lose the response (a timeout).
 */
class FakeRail {
  readonly refunds = new Map<string, { reference: string; amount: string }>();
  calls: RecoveryAction[] = [];
  failNext = 0;
  loseResponseNext = 0;

  readonly executor = async (action: RecoveryAction): Promise<{ reference: string }> => {
    this.calls.push(action);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('rail unavailable');
    }
    let refund = this.refunds.get(action.idempotencyKey);
    if (!refund) {
      refund = { reference: `re_${this.refunds.size + 1}`, amount: action.amount.toDecimalString() };
      this.refunds.set(action.idempotencyKey, refund);
    }
    if (this.loseResponseNext > 0) {
      this.loseResponseNext--;
      throw new Error('timeout waiting for the rail');
    }
    return { reference: refund.reference };
  };
}

function setup(options: { maxAttempts?: number } = {}) {
  const clock = new ManualClock(T0);
  const rail = new FakeRail();
  const sleeps: number[] = [];
  const log = new ProvenanceLog({ clock });
  const recovery = new RecoveryManager({
    executor: rail.executor,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    maxAttempts: options.maxAttempts ?? 4,
    backoff: { initialMs: 100, factor: 2, maxMs: 250 },
    provenance: log,
  });
  return { clock, rail, sleeps, log, recovery };
}

describe('RecoveryManager', () => {
  it('retries an executor that fails twice, then succeeds: exactly one refund, one key', async () => {
    const { rail, sleeps, recovery, log } = setup();
    rail.failNext = 2;
    const r = await recovery.recoverUndelivered({ paymentId: 'int_1', amount: usdc('24.00') });
    expect(r).toMatchObject({ status: 'succeeded', reference: 're_1', kind: 'refund', cause: 'undelivered' });
    expect(r.attempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(rail.calls).toHaveLength(3);
    expect(new Set(rail.calls.map((c) => c.idempotencyKey))).toEqual(new Set([r.idempotencyKey]));
    expect(rail.refunds.size).toBe(1);
    expect([...rail.refunds.values()]).toEqual([{ reference: 're_1', amount: '24.000000' }]);
    expect(sleeps).toEqual([100, 200]);

    // Asking again never calls the rail again.
    const again = await recovery.recoverUndelivered({ paymentId: 'int_1', amount: usdc('24.00') });
    expect(again).toBe(r);
    expect(rail.calls).toHaveLength(3);
    expect((await log.chain('int_1')).map((x) => x.type)).toEqual([
      'recovery.started',
      'recovery.attempt_failed',
      'recovery.attempt_failed',
      'recovery.succeeded',
    ]);
  });

  it('does not refund twice when a refund went through but its response was lost', async () => {
    const { rail, recovery } = setup();
    rail.loseResponseNext = 1;
    const r = await recovery.recoverUndelivered({ paymentId: 'int_2', amount: usdc('5') });
    expect(r.status).toBe('succeeded');
    expect(rail.calls).toHaveLength(2);
    expect(rail.refunds.size).toBe(1);
  });

  it('shares one run between concurrent calls', async () => {
    const { rail, recovery } = setup();
    rail.failNext = 1;
    const request = { paymentId: 'int_3', amount: usdc('7') };
    const [a, b, c] = await Promise.all([
      recovery.recoverUndelivered(request),
      recovery.recoverUndelivered(request),
      recovery.recoverUndelivered(request),
    ]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(rail.calls).toHaveLength(2);
    expect(rail.refunds.size).toBe(1);
  });

  it('stops after maxAttempts, tracks status, and can be started again with the same key', async () => {
    const { rail, sleeps, recovery } = setup({ maxAttempts: 3 });
    rail.failNext = 5;
    const failed = await recovery.recoverUndelivered({
      paymentId: 'int_4',
      amount: usdc('3'),
      kind: 'credit',
    });
    expect(failed).toMatchObject({ status: 'failed', lastError: 'rail unavailable', kind: 'credit' });
    expect(failed.attempts).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
    expect(recovery.list({ status: 'failed' })).toEqual([failed]);
    const retried = await recovery.recoverUndelivered({
      paymentId: 'int_4',
      amount: usdc('3'),
      kind: 'credit',
    });
    expect(retried.status).toBe('succeeded');
    expect(retried.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(rail.calls.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(rail.refunds.size).toBe(1);
    expect(sleeps).toEqual([100, 200, 100, 200]);
    expect(recovery.get(retried.idempotencyKey)).toBe(retried);
  });

  it('gives up at once on an error that is not retryable', async () => {
    const rail = new FakeRail();
    rail.failNext = 1;
    const recovery = new RecoveryManager({
      executor: rail.executor,
      clock: new ManualClock(T0),
      sleep: async () => undefined,
      isRetryable: () => false,
    });
    const r = await recovery.recoverUndelivered({ paymentId: 'int_5', amount: usdc('1') });
    expect(r.status).toBe('failed');
    expect(rail.calls).toHaveLength(1);
  });

  it('treats a result without a reference as a failed attempt', async () => {
    let calls = 0;
    const recovery = new RecoveryManager({
      executor: async () => (++calls === 1 ? ({} as { reference: string }) : { reference: 're_ok' }),
      clock: new ManualClock(T0),
      sleep: async () => undefined,
    });
    const r = await recovery.recoverUndelivered({ paymentId: 'int_6', amount: usdc('1') });
    expect(r).toMatchObject({ status: 'succeeded', reference: 're_ok' });
    expect(r.attempts[0]).toMatchObject({ ok: false, error: 'The recovery executor returned no reference' });
  });

  it('refunds what a resolved dispute granted, keyed by the dispute', async () => {
    const { rail, recovery, clock, log } = setup();
    const disputes = new DisputeManager({ clock, provenance: log });
    await log.append('payment.settled', { intentId: 'int_7', amount: '50', currency: 'USDC' });
    const payment = { paymentId: 'int_7', amount: usdc('50') };
    const d = await disputes.open({ payment, amount: usdc('20'), reason: 'half the data was missing' });
    await expect(recovery.recoverDispute(d)).rejects.toThrow(code(ProtectErrorCode.INVALID_TRANSITION));
    await disputes.addEvidence(d.id, { kind: 'note' });
    const resolved = await disputes.resolve(d.id, {
      resolution: 'partially_refunded',
      refundAmount: usdc('12.5'),
    });
    const r = await recovery.recoverDispute(resolved);
    expect(r).toMatchObject({ status: 'succeeded', disputeId: d.id, cause: 'dispute' });
    expect(rail.calls[0]!.amount.toDecimalString()).toBe('12.500000');
    expect(r.idempotencyKey).toBe(
      RecoveryManager.keyFor({ kind: 'refund', cause: 'dispute', paymentId: 'int_7', disputeId: d.id }),
    );
    expect(await recovery.recoverDispute(resolved)).toBe(r);
    expect(rail.calls).toHaveLength(1);

    const rejected = await disputes.open({ payment, amount: usdc('1'), reason: 'x' });
    await disputes.addEvidence(rejected.id, { kind: 'note' });
    await expect(
      recovery.recoverDispute(await disputes.resolve(rejected.id, { resolution: 'rejected' })),
    ).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    expect((await log.completeness('int_7')).status).toBe('refunded');
  });

  it('rejects the same recovery with another amount, and bad requests', async () => {
    const { recovery } = setup();
    await recovery.recoverUndelivered({ paymentId: 'int_8', amount: usdc('2') });
    await expect(recovery.recoverUndelivered({ paymentId: 'int_8', amount: usdc('3') })).rejects.toThrow(
      code(ErrorCode.IDEMPOTENCY_CONFLICT),
    );
    await expect(recovery.recoverUndelivered({ paymentId: 'int_9', amount: usdc('0') })).rejects.toThrow(
      code(ErrorCode.INVALID_AMOUNT),
    );
    await expect(
      recovery.recover({
        kind: 'refund',
        cause: 'dispute',
        paymentId: 'int_9',
        amount: usdc('1'),
        reason: 'x',
      }),
    ).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    await expect(
      recovery.recover({
        kind: 'cash' as never,
        cause: 'undelivered',
        paymentId: 'int_9',
        amount: usdc('1'),
        reason: 'x',
      }),
    ).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    expect(() => new RecoveryManager({ executor: 'no' as never })).toThrow(code(ErrorCode.INVALID_OPTIONS));
    expect(() => new RecoveryManager({ executor: async () => ({ reference: 'x' }), maxAttempts: 0 })).toThrow(
      code(ErrorCode.INVALID_OPTIONS),
    );
  });

  it('never repeats a refund because recording it failed', async () => {
    const rail = new FakeRail();
    const clock = new ManualClock(T0);
    const errors: string[] = [];
    const log = new ProvenanceLog({ clock });
    const recovery = new RecoveryManager({
      executor: rail.executor,
      clock,
      sleep: async () => undefined,
      provenance: log,
      onError: (_e, ctx) => errors.push(ctx.event ?? ''),
    });
    // The audit store goes down: recording fails, yet the refund happens exactly once.
    const appendSpy = log.append.bind(log);
    let failing = true;
    Object.defineProperty(log, 'append', {
      value: (type: string, data: Record<string, unknown>) =>
        failing ? Promise.reject(new Error('audit store down')) : appendSpy(type, data),
    });
    const r = await recovery.recoverUndelivered({ paymentId: 'int_10', amount: usdc('4') });
    failing = false;
    expect(r.status).toBe('succeeded');
    expect(rail.calls).toHaveLength(1);
    expect(errors).toEqual(['recovery.started', 'recovery.succeeded']);
  });

  it('computes capped exponential backoff', () => {
    const { recovery } = setup();
    expect([1, 2, 3, 4].map((a) => recovery.backoffMs(a))).toEqual([100, 200, 250, 250]);
  });
});
