import type { Asset, AuditRecord } from '@bursar/core';
import { Money } from '@bursar/core';

/** The record types that carry a payment's settled amount, strongest evidence first. */
export const SETTLEMENT_SOURCES = ['payment.settled', 'x402.settled', 'hold.captured'] as const;

/** A record type a settled amount was read from. */
export type SettlementSource = (typeof SETTLEMENT_SOURCES)[number];

/** What a payment's records say was settled. */
export type LoggedSettlement =
  | { kind: 'none' }
  | { kind: 'currency'; source: SettlementSource; currency: string }
  | { kind: 'unreadable'; source: SettlementSource; seq: number }
  | { kind: 'settled'; source: SettlementSource; amount: Money; seqs: number[] };

interface Candidate {
  seq: number;
  amount: unknown;
  currency: unknown;
}

/**
 * Reads a payment's settled amount from its records. The strongest kind of record present rules:
 * `payment.settled` (the rail's settlement), else `x402.settled` with `charged: true` (the x402
 * guard's), else `hold.captured` (`captured`, or the hold's `amount`). These are views of one
 * settlement, never added up; several records of the ruling kind (an anomaly) count as the
 * smallest of them. Amounts are read in `asset`; a record in another currency, or one that does
 * not parse, makes the whole answer `currency` or `unreadable` (fail closed).
 */
export function loggedSettlementOf(records: readonly AuditRecord[], asset: Asset): LoggedSettlement {
  for (const source of SETTLEMENT_SOURCES) {
    const candidates: Candidate[] = [];
    for (const r of records) {
      if (r.type !== source) continue;
      const d = r.data as Record<string, unknown>;
      if (source === 'x402.settled') {
        if (d.charged !== true) continue;
        candidates.push({ seq: r.seq, amount: d.amount, currency: d.currency });
      } else if (source === 'hold.captured') {
        candidates.push({ seq: r.seq, amount: d.captured ?? d.amount, currency: d.currency });
      } else {
        candidates.push({ seq: r.seq, amount: d.amount, currency: d.currency });
      }
    }
    if (candidates.length === 0) continue;
    let smallest: Money | undefined;
    for (const c of candidates) {
      if (typeof c.currency !== 'string' || c.currency.toUpperCase() !== asset.symbol.toUpperCase()) {
        return { kind: 'currency', source, currency: String(c.currency) };
      }
      const amount = readAmount(c.amount, asset);
      if (!amount) return { kind: 'unreadable', source, seq: c.seq };
      if (!smallest || amount.lt(smallest)) smallest = amount;
    }
    return { kind: 'settled', source, amount: smallest!, seqs: candidates.map((c) => c.seq) };
  }
  return { kind: 'none' };
}

/** Refunds a payment's records show: what disputes granted and what recoveries started. */
export interface LoggedRefunds {
  /** The settled amount the first `dispute.opened` stated, if any. */
  firstStatement?: Money;
  /** Refunds granted by `dispute.resolved` records, by dispute id. */
  grants: Map<string, Money>;
  /** Recoveries from `recovery.started` records, by idempotency key (`succeeded` from `recovery.succeeded`). */
  recoveries: Map<string, { amount: Money; disputeId?: string; succeeded?: boolean }>;
  /** The largest outside refund declared (`refundedOutside` of `dispute.opened` and `recovery.started`). */
  outside?: Money;
}

/**
 * Reads the refund history of one payment from its records (written by `DisputeManager` and
 * `RecoveryManager`), in `asset`. Records in another currency, or without the fields those
 * managers write, are skipped: they were not written by a manager that checked them.
 */
export function loggedRefundsOf(records: readonly AuditRecord[], asset: Asset): LoggedRefunds {
  const out: LoggedRefunds = { grants: new Map(), recoveries: new Map() };
  for (const r of records) {
    const d = r.data as Record<string, unknown>;
    if (typeof d.currency !== 'string' || d.currency.toUpperCase() !== asset.symbol.toUpperCase()) continue;
    if ((r.type === 'dispute.opened' || r.type === 'recovery.started') && d.refundedOutside !== undefined) {
      const outside = readAmount(d.refundedOutside, asset);
      if (outside && (!out.outside || outside.gt(out.outside))) out.outside = outside;
    }
    if (r.type === 'dispute.opened' && out.firstStatement === undefined) {
      const stated = readAmount(d.settledAmount, asset);
      if (stated) out.firstStatement = stated;
    } else if (r.type === 'dispute.resolved' && typeof d.disputeId === 'string') {
      const amount = readAmount(d.amount, asset);
      if (amount && !amount.isZero()) out.grants.set(d.disputeId, amount);
    } else if (r.type === 'recovery.started' && typeof d.idempotencyKey === 'string') {
      const amount = readAmount(d.amount, asset);
      if (amount && !amount.isZero() && !out.recoveries.has(d.idempotencyKey)) {
        out.recoveries.set(d.idempotencyKey, {
          amount,
          ...(d.cause === 'dispute' && typeof d.disputeId === 'string' ? { disputeId: d.disputeId } : {}),
        });
      }
    } else if (r.type === 'recovery.succeeded' && typeof d.idempotencyKey === 'string') {
      // Only a recovery this history started (and counted) is marked; its amount must match.
      const started = out.recoveries.get(d.idempotencyKey);
      const amount = readAmount(d.amount, asset);
      if (started && amount?.equals(started.amount)) started.succeeded = true;
    }
  }
  return out;
}

function readAmount(value: unknown, asset: Asset): Money | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return Money.parse(value, asset);
  } catch {
    return undefined;
  }
}
