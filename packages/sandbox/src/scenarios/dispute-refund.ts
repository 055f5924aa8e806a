import { allowAll, dailyBudget } from '@bursar/control';
import { Money } from '@bursar/core';
import { DisputeManager, RecoveryManager } from '@bursar/protect';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE } from './common.js';

/** A paid report never arrives: a dispute with evidence, a partial refund, executed once. */
export const disputeRefund = defineScenario({
  id: 'dispute-refund',
  title: 'Dispute and refund',
  summary:
    "A 120 USD report is paid but never delivered. The dispute attaches the payment's provenance chain, is resolved with an 80 USD partial refund, and the refund is executed exactly once although the merchant fails twice; an over-refund is refused.",
  policy: {
    id: 'purchasing',
    rules: [allowAll()],
    budgets: [dailyBudget(1000, 'USD', { scope: 'agent' })],
  },
  async script(ctx) {
    const shop = await ctx.acp({ merchantId: 'acme-data' });
    const dataset = await shop.checkout('analyst-bot', [{ id: 'sku-dataset', quantity: 1 }]);
    await ctx.advance(MINUTE);
    const report = await shop.checkout('analyst-bot', [{ id: 'sku-report', quantity: 1 }]);
    const orderId = report.answer?.reference;
    const intentId = report.decision?.intentId;
    if (!orderId || !intentId || !dataset.answer?.reference)
      throw new Error('the purchases did not go through');
    await ctx.advance(60 * MINUTE);

    const disputes = new DisputeManager({ provenance: ctx.provenance, clock: ctx.clock });
    const settled = { paymentId: intentId, amount: Money.parse('120.00', 'USD') };
    const opened = await disputes.open({
      payment: settled,
      amount: Money.parse('120.00', 'USD'),
      reason: 'the report was never delivered',
    });
    await disputes.addEvidence(opened.id, { kind: 'note', description: 'no download in the seller logs' });
    // Refunding more than was paid is refused with a typed error, and changes nothing.
    try {
      await disputes.resolve(opened.id, {
        resolution: 'partially_refunded',
        refundAmount: Money.parse('150.00', 'USD'),
        resolvedBy: 'finance@sandbox',
      });
      ctx.fact('overRefund', 'accepted');
    } catch (error) {
      ctx.fact('overRefund', (error as { code?: string }).code ?? 'error');
    }
    const resolved = await disputes.resolve(opened.id, {
      resolution: 'partially_refunded',
      refundAmount: Money.parse('80.00', 'USD'),
      resolvedBy: 'finance@sandbox',
    });

    let attempts = 0;
    const refundKeys = new Set<string>();
    const recovery = new RecoveryManager({
      clock: ctx.clock,
      provenance: ctx.provenance,
      maxAttempts: 5,
      backoff: { initialMs: 1_000, factor: 2, maxMs: 10_000 },
      sleep: async (ms) => {
        ctx.clock.advance(ms); // back-off on the scenario's clock
      },
      executor: async (action) => {
        attempts++;
        if (attempts <= 2) throw new Error('merchant refund API unavailable');
        refundKeys.add(action.idempotencyKey);
        const entry = shop.merchant.refund(orderId, action.amount);
        return { reference: entry.reference };
      },
    });
    const first = await recovery.recoverDispute(resolved);
    const again = await recovery.recoverDispute(resolved); // a retry of a finished recovery
    const final = disputes.get(opened.id);
    const chain = final?.evidence.find((e) => e.kind === 'provenance') as { records?: unknown[] } | undefined;
    ctx.fact('dispute', {
      state: final?.state,
      resolution: final?.resolution,
      refund: resolved.refundAmount?.toDecimalString(),
      evidenceRecords: chain?.records?.length ?? 0,
    });
    ctx.fact('recovery', { status: first.status, again: again.status, attempts, keys: refundKeys.size });
    ctx.recorder.annotate(
      report.line,
      `disputed (not delivered): ${final?.resolution} ${resolved.refundAmount?.format()} by finance@sandbox; ` +
        `refund ${first.status} after ${attempts} attempts, retried recovery: ${again.status}, ${refundKeys.size} refund`,
    );
  },
  expect: {
    allowed: 2,
    charged: { USD: '85.00' }, // 45 + 120 − 80
    check: (o) => {
      const problems: string[] = [];
      if (o.facts.overRefund !== 'ERR_BURSAR_REFUND_EXCEEDS_SETTLED') {
        problems.push(
          `an over-refund must be refused with ERR_BURSAR_REFUND_EXCEEDS_SETTLED, got ${String(o.facts.overRefund)}`,
        );
      }
      const recovery = o.facts.recovery as {
        status?: string;
        again?: string;
        attempts?: number;
        keys?: number;
      };
      if (
        recovery?.status !== 'succeeded' ||
        recovery.again !== 'succeeded' ||
        recovery.attempts !== 3 ||
        recovery.keys !== 1
      ) {
        problems.push(`expected one refund after two failures, got ${JSON.stringify(recovery)}`);
      }
      const dispute = o.facts.dispute as { evidenceRecords?: number } | undefined;
      if (!dispute || (dispute.evidenceRecords ?? 0) < 3)
        problems.push("the evidence should carry the payment's provenance chain");
      if (o.refunded.USD !== '80.00')
        problems.push(`expected 80.00 USD refunded, got ${String(o.refunded.USD)}`);
      return problems;
    },
  },
});
