import { ErrorCode } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { disputeAndRefund, refundSetup, settle, usdc } from '../__fixtures__/refunds.js';
import { DisputeManager } from '../disputes/dispute-manager.js';
import { ProtectErrorCode } from '../errors.js';
import { RecoveryManager } from '../recovery/recovery-manager.js';

const codeOf = (r: PromiseSettledResult<unknown>) =>
  r.status === 'rejected' ? (r.reason as { code?: string }).code : 'ok';

describe('refund limits under concurrency', () => {
  it('two managers sharing a book: concurrent opens on one payment, exactly one passes', async () => {
    const setup = refundSetup();
    await settle(setup.log!, 'pay_1', '24');
    const other = new DisputeManager({ provenance: setup.log!, refunds: setup.refunds });
    const results = await Promise.allSettled([
      setup.disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'a' }),
      other.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'b' }),
    ]);
    expect(results.map(codeOf).sort()).toEqual([ErrorCode.CONFLICT, 'ok'].sort());
    expect([...setup.disputes.list(), ...other.list()]).toHaveLength(1);
  });

  it('concurrent statements of different settled amounts: the first pins, the other is rejected', async () => {
    for (const withLog of [false, true]) {
      const setup = refundSetup({ log: withLog });
      if (setup.log) await settle(setup.log, 'pay_1', '100');
      const { disputes, recovery, refunds, rail } = setup;
      const results = await Promise.allSettled([
        disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'a' }),
        recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('50'), settled: usdc('96') }),
      ]);
      expect(results.map(codeOf)).toEqual(['ok', ProtectErrorCode.SETTLEMENT_MISMATCH]);
      expect(refunds.get('pay_1')?.settled.format()).toBe('24.00 USDC');
      expect(rail.calls).toHaveLength(0);
    }
  });

  it('concurrent recoveries of one payment (a refund and a credit of it all): exactly one is executed', async () => {
    const setup = refundSetup();
    await settle(setup.log!, 'pay_1', '24');
    const { recovery, rail } = setup;
    // A second recovery manager on the same book: the limit holds across managers too.
    const second = new RecoveryManager({
      executor: rail.executor,
      refunds: setup.refunds,
      sleep: async () => undefined,
    });
    const results = await Promise.allSettled([
      recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('24') }),
      recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('24'), kind: 'credit' }),
      second.recoverUndelivered({
        paymentId: 'pay_1',
        amount: usdc('13'),
        reason: 'partial',
        kind: 'credit',
      }),
    ]);
    expect(results.map(codeOf)).toEqual([
      'ok',
      ProtectErrorCode.REFUND_EXCEEDS_SETTLED,
      ProtectErrorCode.REFUND_EXCEEDS_SETTLED,
    ]);
    expect(rail.calls).toHaveLength(1);
    expect(rail.total('pay_1').format()).toBe('24.00 USDC');
  });

  it('a resolve and an undelivered recovery racing on one payment: only one takes the money', async () => {
    for (const recoveryFirst of [false, true]) {
      const setup = refundSetup();
      await settle(setup.log!, 'pay_1', '24');
      const { disputes, recovery, rail } = setup;
      const d = await disputes.open({ payment: { paymentId: 'pay_1', amount: usdc('24') }, reason: 'x' });
      await disputes.addEvidence(d.id, { kind: 'note' });
      const resolve = () => disputes.resolve(d.id, { resolution: 'refunded' });
      const recover = () => recovery.recoverUndelivered({ paymentId: 'pay_1', amount: usdc('24') });
      const results = await Promise.allSettled(
        recoveryFirst ? [recover(), resolve()] : [resolve(), recover()],
      );
      expect(results.map(codeOf)).toEqual(['ok', ProtectErrorCode.REFUND_EXCEEDS_SETTLED]);
      const granted = disputes.get(d.id)?.refundAmount ?? usdc('0');
      expect(granted.add(rail.total('pay_1')).format()).toBe('24.00 USDC');
      expect(setup.refunds.get('pay_1')?.remaining.isZero()).toBe(true);
    }
  });

  it('many concurrent dispute rounds and recoveries on one payment never pass 24 in total', async () => {
    const setup = refundSetup();
    await settle(setup.log!, 'pay_1', '24');
    const { disputes, recovery, rail, refunds } = setup;
    const managers = [disputes, new DisputeManager({ provenance: setup.log!, refunds })];
    const tasks: Promise<unknown>[] = [];
    for (let i = 0; i < 8; i++) {
      tasks.push(
        disputeAndRefund(managers[i % 2]!, { paymentId: 'pay_1', settled: '24', amount: '5' }).then((d) =>
          recovery.recoverDispute(d),
        ),
      );
      tasks.push(
        recovery.recoverUndelivered({
          paymentId: 'pay_1',
          amount: usdc('3'),
          reason: `r${i}`,
          kind: i % 2 ? 'credit' : 'refund',
        }),
      );
    }
    await Promise.allSettled(tasks);
    const granted = managers
      .flatMap((m) => m.list({ paymentId: 'pay_1' }))
      .reduce((sum, d) => sum.add(d.refundAmount ?? usdc('0')), usdc('0'));
    const book = refunds.get('pay_1')!;
    expect(book.granted.equals(granted)).toBe(true);
    expect(book.refunded.lte(usdc('24'))).toBe(true);
    expect(rail.total('pay_1').lte(usdc('24'))).toBe(true);
    expect(book.granted.add(book.recovered).equals(book.refunded)).toBe(true);
  });
});
