/**
 * Error codes added by `@bursar/protect`, on top of core's `ErrorCode`. Thrown as core
 * `BursarError`s; match on `code`, never on the message.
 */
export const ProtectErrorCode = {
  /** A dispute or recovery was asked to move to a state its current state cannot reach. */
  INVALID_TRANSITION: 'ERR_BURSAR_INVALID_TRANSITION',
  /** A refund would exceed what was settled minus the refunds already made. */
  REFUND_EXCEEDS_SETTLED: 'ERR_BURSAR_REFUND_EXCEEDS_SETTLED',
  /** A disputed amount exceeds what was settled minus the refunds already made. */
  DISPUTE_EXCEEDS_SETTLED: 'ERR_BURSAR_DISPUTE_EXCEEDS_SETTLED',
  /**
   * A stated settled amount contradicts what is known: the amount or currency pinned by the
   * payment's first statement, or the provenance log (no settlement recorded, another currency,
   * or less settled than stated). `details.reason` says which.
   */
  SETTLEMENT_MISMATCH: 'ERR_BURSAR_SETTLEMENT_MISMATCH',
  /**
   * The refund book forgot this payment's refund ledger (after its retention, or beyond
   * `maxPayments`) and has no provenance log that holds all of it, so it cannot tell what is
   * still refundable: the refund, dispute or recovery is refused (fail closed).
   */
  REFUND_HISTORY_EVICTED: 'ERR_BURSAR_REFUND_HISTORY_EVICTED',
  /**
   * The recovery already succeeded (the book, or its provenance log, says so) and this manager no
   * longer holds its record (evicted after `resolvedRetentionMs`, or run by another manager).
   * It is not executed again.
   */
  ALREADY_RECOVERED: 'ERR_BURSAR_ALREADY_RECOVERED',
  /**
   * The refund book holds `maxPayments` payments it cannot forget without losing refund history
   * (no provenance log to read it back from, and `maxEvicted` forgotten payments already): a
   * payment it does not hold yet is refused until some are forgotten.
   */
  REFUND_BOOK_FULL: 'ERR_BURSAR_REFUND_BOOK_FULL',
} as const;
export type ProtectErrorCode = (typeof ProtectErrorCode)[keyof typeof ProtectErrorCode];
