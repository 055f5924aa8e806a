/**
 * Error codes of `@bursar/observe`, on top of core's `ErrorCode`. Codes never change meaning
 * once published.
 */
export const ObserveErrorCode = {
  /** A query names a combination of dimensions (or a granularity) that no index keeps. */
  UNSUPPORTED_QUERY: 'ERR_BURSAR_OBSERVE_UNSUPPORTED_QUERY',
  /** A payment fed to the tracker is not valid (the tracker is unchanged). */
  INVALID_PAYMENT: 'ERR_BURSAR_OBSERVE_INVALID_PAYMENT',
  /** A webhook alert delivery failed after every retry. */
  WEBHOOK_DELIVERY: 'ERR_BURSAR_OBSERVE_WEBHOOK_DELIVERY',
  /** Reading budget status for a `budget_threshold` rule failed. */
  BUDGET_STATUS: 'ERR_BURSAR_OBSERVE_BUDGET_STATUS',
  /** An alert sink threw or rejected. */
  SINK_FAILED: 'ERR_BURSAR_OBSERVE_SINK_FAILED',
} as const;
export type ObserveErrorCode = (typeof ObserveErrorCode)[keyof typeof ObserveErrorCode];
