import type { AuditRecord, Money } from '@bursar/core';
import type { CompletenessReport } from '../provenance/completeness.js';

/** Where a dispute stands. The only path is `open → evidence → resolved`. */
export type DisputeState = 'open' | 'evidence' | 'resolved';

/** How a resolved dispute ended. */
export type DisputeResolution = 'refunded' | 'partially_refunded' | 'rejected';

/** The settled payment a dispute is about. */
export interface SettledPayment {
  /** The payment's id (its intent id, so the dispute joins the payment's provenance chain). */
  paymentId: string;
  /**
   * What was settled. The payment's first statement is pinned in the refund book; a later,
   * different one is `ERR_BURSAR_SETTLEMENT_MISMATCH`. With a provenance log it may not exceed
   * what the log shows settled.
   */
  amount: Money;
  /**
   * Refunds made outside the refund book so far (not by disputes or recoveries that share it). The
   * book keeps the largest declaration: a smaller one later never gives refunded money back.
   */
  refunded?: Money;
}

/** A piece of evidence. */
export interface DisputeEvidence {
  /** `provenance` for the chain attached automatically; anything else for user evidence. */
  readonly kind: string;
  readonly description?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly submittedBy?: string;
  /** Epoch ms. */
  readonly at: number;
}

/** The payment's provenance chain, attached when a dispute first moves to `evidence`. */
export interface ProvenanceEvidence extends DisputeEvidence {
  readonly kind: 'provenance';
  /** Every record of the payment, frozen, each with its hash and its predecessor's hash. */
  readonly records: readonly AuditRecord[];
  /** Stages present and missing. */
  readonly completeness: CompletenessReport;
  /** The log's head when the chain was taken: pins the records to one state of the log. */
  readonly head: { seq: number; hash: string } | null;
}

/** One state change. */
export interface DisputeTransition {
  readonly from: DisputeState | null;
  readonly to: DisputeState;
  readonly at: number;
  readonly actor?: string;
}

/** A dispute, as a frozen snapshot (every change makes a new one). */
export interface Dispute {
  readonly id: string;
  readonly paymentId: string;
  readonly state: DisputeState;
  readonly resolution?: DisputeResolution;
  /** The disputed amount. */
  readonly amount: Money;
  /** What was settled. */
  readonly settled: Money;
  /** Refunds made before this dispute opened (outside, earlier disputes' refunds, recoveries). */
  readonly refundedBefore: Money;
  /** The refund granted (zero when rejected); set once resolved. */
  readonly refundAmount?: Money;
  readonly reason: string;
  readonly openedBy?: string;
  readonly resolvedBy?: string;
  readonly note?: string;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly evidence: readonly DisputeEvidence[];
  readonly history: readonly DisputeTransition[];
}
