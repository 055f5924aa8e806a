import { ManualClock, Money } from '@bursar/core';
import { DisputeManager } from '../disputes/dispute-manager.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { type RecoveryAction, RecoveryManager } from '../recovery/recovery-manager.js';
import { RefundBook } from '../refunds/refund-book.js';
import { T0 } from './logs.js';

export const usdc = (v: string): Money => Money.parse(v, 'USDC');

/** A rail that refunds once per idempotency key and remembers what it paid out, per payment. */
export class RefundRail {
  readonly paid = new Map<string, { paymentId: string; amount: Money }>();
  calls: RecoveryAction[] = [];
  /** The idempotency key of every call that went through, repeats included. */
  executed: string[] = [];
  /** While true, every call fails (the refund did not happen). */
  down = false;

  readonly executor = async (action: RecoveryAction): Promise<{ reference: string }> => {
    this.calls.push(action);
    // A hop, so concurrent recoveries really interleave.
    await Promise.resolve();
    if (this.down) throw new Error('rail unavailable');
    this.executed.push(action.idempotencyKey);
    if (!this.paid.has(action.idempotencyKey)) {
      this.paid.set(action.idempotencyKey, { paymentId: action.paymentId, amount: action.amount });
    }
    return { reference: `re_${this.paid.size}` };
  };

  /** Everything paid out for one payment. */
  total(paymentId: string): Money {
    let sum = usdc('0');
    for (const p of this.paid.values()) if (p.paymentId === paymentId) sum = sum.add(p.amount);
    return sum;
  }
}

/** Appends a settlement record of `type` for a payment. */
export async function settle(
  log: ProvenanceLog,
  paymentId: string,
  amount: string,
  options: { type?: 'payment.settled' | 'x402.settled' | 'hold.captured'; currency?: string } = {},
): Promise<void> {
  const type = options.type ?? 'payment.settled';
  const currency = options.currency ?? 'USDC';
  if (type === 'hold.captured') {
    await log.append(type, { intentId: paymentId, holdId: `hold_${paymentId}`, captured: amount, currency });
  } else if (type === 'x402.settled') {
    await log.append(type, { paymentId, charged: true, amount, currency, source: 'facilitator' });
  } else {
    await log.append(type, { intentId: paymentId, amount, currency, source: 'facilitator' });
  }
}

/** A dispute manager and a recovery manager sharing one refund book, with or without a log. */
export function refundSetup(
  options: {
    log?: boolean;
    maxPayments?: number;
    maxEvicted?: number;
    /** For the book and both managers. */
    resolvedRetentionMs?: number;
    /** For both managers. */
    maxResolved?: number;
  } = {},
) {
  const clock = new ManualClock(T0);
  const log = options.log === false ? undefined : new ProvenanceLog({ clock });
  const retention =
    options.resolvedRetentionMs !== undefined ? { resolvedRetentionMs: options.resolvedRetentionMs } : {};
  const maxResolved = options.maxResolved !== undefined ? { maxResolved: options.maxResolved } : {};
  const refunds = new RefundBook({
    clock,
    ...retention,
    ...(log ? { provenance: log } : {}),
    ...(options.maxPayments !== undefined ? { maxPayments: options.maxPayments } : {}),
    ...(options.maxEvicted !== undefined ? { maxEvicted: options.maxEvicted } : {}),
  });
  const rail = new RefundRail();
  const disputes = new DisputeManager({
    clock,
    refunds,
    ...retention,
    ...maxResolved,
    ...(log ? { provenance: log } : {}),
  });
  const recovery = new RecoveryManager({
    executor: rail.executor,
    clock,
    sleep: async () => undefined,
    maxAttempts: 2,
    refunds,
    ...retention,
    ...maxResolved,
    ...(log ? { provenance: log } : {}),
  });
  return { clock, log, refunds, rail, disputes, recovery };
}

/** Opens, adds evidence and resolves a dispute in one go. */
export async function disputeAndRefund(
  disputes: DisputeManager,
  input: { paymentId: string; settled: string; amount?: string; refund?: string },
) {
  const d = await disputes.open({
    payment: { paymentId: input.paymentId, amount: usdc(input.settled) },
    ...(input.amount !== undefined ? { amount: usdc(input.amount) } : {}),
    reason: 'not delivered',
  });
  await disputes.addEvidence(d.id, { kind: 'note' });
  const partial = input.refund !== undefined && !usdc(input.refund).equals(d.amount);
  return disputes.resolve(d.id, {
    resolution: partial ? 'partially_refunded' : 'refunded',
    ...(partial ? { refundAmount: usdc(input.refund!) } : {}),
  });
}
