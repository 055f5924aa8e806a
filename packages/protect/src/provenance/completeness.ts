import type { AuditRecord } from '@bursar/core';

/** The stages of one payment's provenance, in lifecycle order. */
export type ProvenanceStage =
  | 'intent'
  | 'decision'
  | 'approval'
  | 'execution'
  | 'settlement'
  | 'dispute'
  | 'refund';

/** Every stage, in lifecycle order. */
export const PROVENANCE_STAGES: readonly ProvenanceStage[] = [
  'intent',
  'decision',
  'approval',
  'execution',
  'settlement',
  'dispute',
  'refund',
];

/** Where a payment stands, judged from its records. */
export type PaymentStatus =
  | 'unknown'
  | 'in_progress'
  | 'denied'
  | 'awaiting_approval'
  | 'approval_rejected'
  | 'failed'
  | 'released'
  | 'settled'
  | 'disputed'
  | 'refunded';

/** Statuses after which no further stage is expected (a dispute may still follow a settlement). */
const TERMINAL: ReadonlySet<PaymentStatus> = new Set<PaymentStatus>([
  'denied',
  'approval_rejected',
  'failed',
  'released',
  'settled',
  'refunded',
]);

/** What {@link assessCompleteness} found for one payment. */
export interface CompletenessReport {
  paymentId: string;
  /** False when no record names this payment. */
  found: boolean;
  /** Seqs of the records of each stage. */
  stages: Readonly<Record<ProvenanceStage, readonly number[]>>;
  /** The decision's outcome, when a decision was recorded. */
  outcome?: string;
  status: PaymentStatus;
  /**
   * Stages that must exist because later ones do, but are absent: e.g. `decision` for a payment
   * that settled without a recorded decision, `approval` for one that settled after a
   * `require_approval` decision without an approval.
   */
  missing: ProvenanceStage[];
  /** Facts that contradict each other, e.g. `settled_after_deny`. */
  anomalies: string[];
  /** True when nothing is missing, nothing contradicts, and the payment reached a final status. */
  complete: boolean;
}

/** The stage a record type belongs to, if any. */
export function stageOf(type: string): ProvenanceStage | undefined {
  switch (type) {
    case 'intent.received':
      return 'intent';
    case 'decision.made':
      return 'decision';
    case 'approval.requested':
    case 'approval.resolved':
      return 'approval';
    case 'hold.placed':
    case 'hold.captured':
    case 'hold.released':
    case 'hold.expired':
    case 'payment.failed':
      return 'execution';
    case 'payment.settled':
      return 'settlement';
    default:
      if (type.startsWith('dispute.')) return 'dispute';
      if (type.startsWith('recovery.')) return 'refund';
      return undefined;
  }
}

/**
 * Judges one payment's chain: which stages it has, which are missing given the later stages
 * present, which facts contradict each other, and where the payment stands.
 *
 * @example
 * const report = assessCompleteness('int_1', await log.chain('int_1'));
 * if (report.missing.includes('decision')) alert('settled without a decision');
 */
export function assessCompleteness(paymentId: string, records: readonly AuditRecord[]): CompletenessReport {
  const stages: Record<ProvenanceStage, number[]> = {
    intent: [],
    decision: [],
    approval: [],
    execution: [],
    settlement: [],
    dispute: [],
    refund: [],
  };
  let outcome: string | undefined;
  let approval: string | undefined;
  let captured = false;
  let failed = false;
  let released = false;
  let disputeOpen = false;
  let refunded = false;
  for (const r of records) {
    const stage = stageOf(r.type);
    if (!stage) continue;
    stages[stage].push(r.seq);
    const d = r.data as Record<string, unknown>;
    switch (r.type) {
      case 'decision.made':
        if (typeof d.outcome === 'string') outcome = d.outcome;
        break;
      case 'approval.resolved':
        if (typeof d.status === 'string') approval = d.status;
        break;
      case 'hold.captured':
        captured = true;
        break;
      case 'hold.released':
      case 'hold.expired':
        released = true;
        break;
      case 'payment.failed':
        if (d.ambiguous !== true) failed = true;
        break;
      case 'dispute.opened':
        disputeOpen = true;
        break;
      case 'dispute.resolved':
        disputeOpen = false;
        break;
      case 'recovery.succeeded':
        refunded = true;
        break;
    }
  }
  const has = (s: ProvenanceStage) => stages[s].length > 0;
  const settled = has('settlement');
  const missing: ProvenanceStage[] = [];
  const later = (from: number) => PROVENANCE_STAGES.slice(from).some(has);
  if (!has('intent') && later(1)) missing.push('intent');
  if (!has('decision') && later(2)) missing.push('decision');
  if (outcome === 'require_approval' && (captured || settled) && approval !== 'approved') {
    missing.push('approval');
  }
  if (!settled && (has('dispute') || has('refund'))) missing.push('settlement');

  const anomalies: string[] = [];
  if (outcome === 'deny' && (captured || settled))
    anomalies.push(settled ? 'settled_after_deny' : 'captured_after_deny');
  if (approval !== undefined && approval !== 'approved' && settled)
    anomalies.push(`settled_after_approval_${approval}`);
  if (stages.settlement.length > 1) anomalies.push('settled_more_than_once');

  let status: PaymentStatus;
  if (records.length === 0) status = 'unknown';
  else if (refunded) status = 'refunded';
  else if (disputeOpen) status = 'disputed';
  else if (settled) status = 'settled';
  else if (failed) status = 'failed';
  else if (released) status = 'released';
  else if (approval !== undefined && approval !== 'approved') status = 'approval_rejected';
  else if (outcome === 'deny') status = 'denied';
  else if (outcome === 'require_approval' && approval === undefined) status = 'awaiting_approval';
  else status = 'in_progress';

  return {
    paymentId,
    found: records.length > 0,
    stages,
    ...(outcome !== undefined ? { outcome } : {}),
    status,
    missing,
    anomalies,
    complete: missing.length === 0 && anomalies.length === 0 && TERMINAL.has(status),
  };
}
