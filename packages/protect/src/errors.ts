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
} as const;
export type ProtectErrorCode = (typeof ProtectErrorCode)[keyof typeof ProtectErrorCode];
