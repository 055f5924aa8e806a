import { ErrorCode, ManualClock, Money } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { T0 } from '../__fixtures__/logs.js';
import { disputeAndRefund, RefundRail, refundSetup, settle, usdc } from '../__fixtures__/refunds.js';
import { DisputeManager } from '../disputes/dispute-manager.js';
import { ProtectErrorCode } from '../errors.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { RecoveryManager } from '../recovery/recovery-manager.js';
import { RefundBook } from './refund-book.js';

const code = (c: string, details?: Record<string, unknown>) =>
  expect.objectContaining({ code: c, ...(details ? { details: expect.objectContaining(details) } : {}) });

/** Everything a rejected call must leave as it was. */
async function state(setup: ReturnType<typeof refundSetup>, paymentId: string) {
  return JSON.stringify({
    disputes: setup.disputes.list(),
    recoveries: setup.recovery.list(),
    book: setup.refunds.get(paymentId) ?? null,
    records: setup.log ? (await setup.log.records()).length : 0,
    calls: setup.rail.calls.length,
  });
}

describe('one payment is never refunded beyond what settled', () => {
  for (const withLog of [false, true]) {
    it(`the audit's repro (24, then 48, then 96 stated) refunds 24 in total (${withLog ? 'with' : 'without'} a log)`, async () => {
      const setup = refundSetup({ log: withLog });
      const { disputes, refunds } = setup;
      if (setup.log) await settle(setup.log, 'pay_1', '24');

      const first = await disputeAndRefund(disputes, { paymentId: 'pay_1', settled: '24' });
      expect(first.refundAmount!.format()).toBe('24.00 USDC');
      for (const stated of ['48', '96']) {
        const before = await state(setup, 'pay_1');
        await expect(disputeAndRefund(disputes, { paymentId: 'pay_1', settled: stated })).rejects.toThrow(
          code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'pinned' }),
        );
        expect(await state(setup, 'pay_1')).toBe(before);
      }
      const granted = disputes
        .list({ paymentId: 'pay_1' })
        .reduce((sum, d) => sum.add(d.refundAmount ?? usdc('0')), usdc('0'));
      expect(granted.format()).toBe('24.00 USDC');
      expect(refunds.get('pay_1')).toMatchObject({
        settled: usdc('24'),
        refunded: usdc('24'),
        remaining: usdc('0'),
      });
    });
  }

  it('a partial refund leaves exactly the rest, and only at the pinned amount', async () => {
    const { disputes, refunds } = refundSetup({ log: false });
    await disputeAndRefund(disputes, { paymentId: 'pay_1', settled: '24', amount: '10' });
    await expect(
      disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('48') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH));
    const rest = await disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' });
    expect(rest.amount.format()).toBe('14.00 USDC');
    expect(rest.refundedBefore.format()).toBe('10.00 USDC');
    expect(refunds.get('pay_1')?.openDispute).toBe(rest.id);
  });

  it('rejects a settled statement in another currency, and accepts the same currency in any case', async () => {
    const setup = refundSetup({ log: false });
    const { disputes } = setup;
    const d = await disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' });
    await disputes.addEvidence(d.id, { kind: 'note' });
    await disputes.resolve(d.id, { resolution: 'rejected' });
    const before = await state(setup, 'pay_1');
    await expect(
      disputes.open({ payment: { paymentId: 'pay_1', amount: Money.parse('24', 'USD') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'currency' }));
    expect(await state(setup, 'pay_1')).toBe(before);
    const again = await disputes.open({
      payment: { paymentId: 'pay_1', amount: Money.parse('24', 'usdc') },
      reason: 'x',
    });
    expect(again.amount.format()).toBe('24.00 USDC');
  });
});

describe('the provenance log bounds what settled', () => {
  it('rejects a dispute on a payment the log shows no settlement for', async () => {
    const setup = refundSetup();
    await setup.log!.append('intent.received', { intentId: 'pay_1', amount: '24', currency: 'USDC' });
    const before = await state(setup, 'pay_1');
    await expect(
      setup.disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'not_settled' }));
    expect(await state(setup, 'pay_1')).toBe(before);
    expect(setup.refunds.size).toBe(0);
  });

  it('rejects a stated amount above what the log shows, and pins a smaller one', async () => {
    const setup = refundSetup();
    await settle(setup.log!, 'pay_1', '24');
    await expect(
      setup.disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24.000001') }, reason: 'x' }),
    ).rejects.toThrow(
      code(ProtectErrorCode.SETTLEMENT_MISMATCH, {
        reason: 'above_logged',
        logged: { amount: '24.000000', currency: 'USDC' },
      }),
    );
    const d = await setup.disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('20') }, reason: 'x' });
    expect(d.amount.format()).toBe('20.00 USDC');
    expect(setup.refunds.get('pay_1')?.settled.format()).toBe('20.00 USDC');
  });

  it('rejects a settlement the log shows in another currency', async () => {
    const setup = refundSetup();
    await settle(setup.log!, 'pay_1', '24', { currency: 'EURC' });
    await expect(
      setup.disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'currency' }));
  });

  it('reads payment.settled, charged x402.settled and hold.captured, strongest first, never adding them up', async () => {
    const cases: [string, () => Promise<void>, string][] = [];
    const setup = refundSetup();
    const log = setup.log!;
    cases.push(['hold', () => settle(log, 'p_hold', '30', { type: 'hold.captured' }), '30']);
    cases.push(['x402', () => settle(log, 'p_x402', '12', { type: 'x402.settled' }), '12']);
    cases.push([
      'x402 not charged',
      () =>
        log
          .append('x402.settled', { paymentId: 'p_dup', charged: false, amount: '99', currency: 'USDC' })
          .then(() => undefined),
      '',
    ]);
    cases.push([
      'all three',
      async () => {
        await settle(log, 'p_all', '30', { type: 'hold.captured' });
        await settle(log, 'p_all', '24', { type: 'x402.settled' });
        await settle(log, 'p_all', '24');
      },
      '24',
    ]);
    cases.push([
      'settled twice',
      async () => {
        await settle(log, 'p_twice', '24');
        await settle(log, 'p_twice', '20');
      },
      '20',
    ]);
    const ids = ['p_hold', 'p_x402', 'p_dup', 'p_all', 'p_twice'];
    for (const [i, [, write]] of cases.entries()) {
      await write();
      const paymentId = ids[i]!;
      // A statement of 1000 is always above the log: the error names what the log shows.
      const error = await setup.disputes
        .open({ payment: { paymentId, amount: usdc('1000') }, reason: 'x' })
        .catch((e: unknown) => e);
      const expected = cases[i]![2];
      if (expected === '') {
        expect(error).toMatchObject({ details: { reason: 'not_settled' } });
      } else {
        expect(error).toMatchObject({
          details: { reason: 'above_logged', logged: { amount: usdc(expected).toDecimalString() } },
        });
      }
    }
  });

  it('checks its own log even when the book it was given has none', async () => {
    const log = new ProvenanceLog({ clock: new ManualClock(T0) });
    const disputes = new DisputeManager({ provenance: log, refunds: new RefundBook() });
    await expect(
      disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'not_settled' }));
    await settle(log, 'pay_1', '24');
    await expect(
      disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('25') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'above_logged' }));
    expect(
      (await disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' })).state,
    ).toBe('open');
  });
});

describe('disputes and recoveries share one refund ledger', () => {
  for (const withLog of [false, true]) {
    it(`an undelivered refund and a dispute refund of one payment never exceed settled (${withLog ? 'with' : 'without'} a log)`, async () => {
      const setup = refundSetup({ log: withLog });
      const { disputes, recovery, rail, refunds } = setup;
      if (setup.log) await settle(setup.log, 'pay_1', '24');

      // Undelivered first: the whole payment comes back, so no dispute can refund anything.
      const undelivered = await recovery.recoverUndelivered({
        paymentId: 'pay_1',
        amount: usdc('24'),
        settled: usdc('24'),
      });
      expect(undelivered.status).toBe('succeeded');
      const before = await state(setup, 'pay_1');
      await expect(
        disputes.open({
          payment: { paymentId: 'pay_1', amount: usdc('24') },
          amount: usdc('1'),
          reason: 'x',
        }),
      ).rejects.toThrow(code(ProtectErrorCode.DISPUTE_EXCEEDS_SETTLED));
      await expect(
        disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' }),
      ).rejects.toThrow(code(ErrorCode.INVALID_AMOUNT));
      expect(await state(setup, 'pay_1')).toBe(before);
      expect(rail.total('pay_1').format()).toBe('24.00 USDC');
      expect(refunds.get('pay_1')?.remaining.isZero()).toBe(true);
    });
  }

  it('a dispute opened before an undelivered refund cannot be resolved with a refund after it', async () => {
    const setup = refundSetup();
    const { disputes, recovery, rail } = setup;
    await settle(setup.log!, 'pay_1', '24');
    const d = await disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' });
    await disputes.addEvidence(d.id, { kind: 'note' });
    await recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('20') });
    await expect(disputes.resolve(d.id, { resolution: 'refunded' })).rejects.toThrow(
      code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED, { refundable: { amount: '4.000000', currency: 'USDC' } }),
    );
    const partial = await disputes.resolve(d.id, {
      resolution: 'partially_refunded',
      refundAmount: usdc('4'),
    });
    expect((await recovery.recoverDispute(partial)).status).toBe('succeeded');
    expect(rail.total('pay_1').format()).toBe('24.00 USDC');
  });

  it('refuses an undelivered recovery beyond what disputes and earlier recoveries left', async () => {
    const setup = refundSetup({ log: false });
    const { disputes, recovery, rail, refunds } = setup;
    const resolved = await disputeAndRefund(disputes, { paymentId: 'pay_1', settled: '24', amount: '10' });
    await recovery.recoverDispute(resolved);
    const before = await state(setup, 'pay_1');
    await expect(recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('14.01') })).rejects.toThrow(
      code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED, {
        refunded: { amount: '10.000000', currency: 'USDC' },
        remaining: { amount: '14.000000', currency: 'USDC' },
      }),
    );
    expect(await state(setup, 'pay_1')).toBe(before);
    await recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('4'), kind: 'credit' });
    await recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('10') });
    await expect(
      recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('0.000001'), reason: 'more' }),
    ).rejects.toThrow(code(ErrorCode.IDEMPOTENCY_CONFLICT));
    expect(rail.total('pay_1').format()).toBe('24.00 USDC');
    expect(refunds.get('pay_1')).toMatchObject({
      granted: usdc('10'),
      recovered: usdc('14'),
      remaining: usdc('0'),
    });
  });

  it('lets a dispute grant be taken once: a refund and a credit of it cannot both run', async () => {
    const { disputes, recovery, rail } = refundSetup({ log: false });
    const resolved = await disputeAndRefund(disputes, { paymentId: 'pay_1', settled: '24' });
    expect((await recovery.recoverDispute(resolved)).status).toBe('succeeded');
    await expect(recovery.recoverDispute(resolved, { kind: 'credit' })).rejects.toThrow(
      code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED),
    );
    expect(rail.calls).toHaveLength(1);
  });

  it('counts a dispute from a manager that does not share the book as a refund of its own', async () => {
    const { disputes, recovery, rail } = refundSetup({ log: false });
    const shared = await disputeAndRefund(disputes, { paymentId: 'pay_1', settled: '24' });
    await recovery.recoverDispute(shared);
    const elsewhere = await disputeAndRefund(new DisputeManager(), { paymentId: 'pay_1', settled: '24' });
    await expect(recovery.recoverDispute(elsewhere)).rejects.toThrow(
      code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED),
    );
    const inflated = await disputeAndRefund(new DisputeManager(), { paymentId: 'pay_1', settled: '96' });
    await expect(recovery.recoverDispute(inflated)).rejects.toThrow(
      code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'pinned' }),
    );
    expect(rail.total('pay_1').format()).toBe('24.00 USDC');
  });

  it('pins what a recovery states, checks it against the book’s log, and counts declared outside refunds', async () => {
    const setup = refundSetup();
    const { recovery, disputes } = setup;
    await expect(recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('5') })).rejects.toThrow(
      code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'not_settled' }),
    );
    await settle(setup.log!, 'pay_1', '24');
    await expect(
      recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('5'), settled: usdc('30') }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'above_logged' }));
    // No statement: the log says 24 settled. 20 refunded elsewhere leaves 4.
    await expect(
      recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('5'), refunded: usdc('20') }),
    ).rejects.toThrow(code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED));
    expect(setup.refunds.get('pay_1')).toBeUndefined();
    await recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('4'), refunded: usdc('20') });
    expect(setup.refunds.get('pay_1')).toMatchObject({
      settled: usdc('24'),
      outside: usdc('20'),
      remaining: usdc('0'),
    });
    // A smaller declaration later never gives the refunded money back.
    await expect(
      disputes.open({
        payment: { paymentId: 'pay_1', amount: usdc('24'), refunded: usdc('0') },
        amount: usdc('1'),
        reason: 'x',
      }),
    ).rejects.toThrow(code(ProtectErrorCode.DISPUTE_EXCEEDS_SETTLED));
    await expect(
      recovery.recoverUndelivered({
        paymentId: 'pay_1',
        amount: usdc('1'),
        settled: usdc('23'),
        kind: 'credit',
      }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'pinned' }));
  });

  it('without a log, an undelivered recovery that states nothing takes its amount as the whole payment', async () => {
    const { recovery, disputes } = refundSetup({ log: false });
    await recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('24') });
    await expect(
      disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('96') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.SETTLEMENT_MISMATCH, { reason: 'pinned' }));
    await expect(
      recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('24'), kind: 'credit' }),
    ).rejects.toThrow(code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED));
  });

  it('keeps a failed recovery counted, and its retry with the same key counts once', async () => {
    const { recovery, rail, refunds } = refundSetup({ log: false });
    rail.down = true;
    const failed = await recovery.recoverUndelivered({
      paymentId: 'pay_1',
      amount: usdc('24'),
      settled: usdc('24'),
    });
    expect(failed.status).toBe('failed');
    // Its money may have moved: nothing else may take it.
    await expect(
      recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('24'), kind: 'credit' }),
    ).rejects.toThrow(code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED));
    rail.down = false;
    const retried = await recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('24') });
    expect(retried).toMatchObject({ status: 'succeeded', idempotencyKey: failed.idempotencyKey });
    expect(refunds.get('pay_1')).toMatchObject({ recovered: usdc('24'), remaining: usdc('0') });
    expect(rail.total('pay_1').format()).toBe('24.00 USDC');
  });

  it('validates the new inputs and options', async () => {
    const { recovery } = refundSetup({ log: false });
    await expect(
      recovery.recoverUndelivered({ paymentId: 'p', amount: usdc('1'), settled: usdc('0') }),
    ).rejects.toThrow(code(ErrorCode.INVALID_AMOUNT));
    await expect(
      recovery.recoverUndelivered({ paymentId: 'p', amount: usdc('1'), settled: Money.parse('5', 'USD') }),
    ).rejects.toThrow(code(ErrorCode.ASSET_MISMATCH));
    await expect(
      recovery.recoverUndelivered({ paymentId: 'p', amount: usdc('1'), refunded: 3 as never }),
    ).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    await expect(recovery.recoverUndelivered(null as never)).rejects.toThrow(
      code(ErrorCode.INVALID_ARGUMENT),
    );
    expect(() => new RefundBook({ maxPayments: 0 })).toThrow(code(ErrorCode.INVALID_OPTIONS));
    expect(() => new RefundBook({ provenance: {} as never })).toThrow(code(ErrorCode.INVALID_OPTIONS));
    expect(() => new DisputeManager({ refunds: {} as never })).toThrow(code(ErrorCode.INVALID_OPTIONS));
    expect(
      () => new RecoveryManager({ executor: new RefundRail().executor, refunds: new Map() as never }),
    ).toThrow(code(ErrorCode.INVALID_OPTIONS));
  });
});
