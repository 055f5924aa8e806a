/**
 * Error codes specific to `@bursar/x402`, in the same `ERR_BURSAR_*` namespace as core's
 * `ErrorCode`. Codes never change meaning once published.
 */
export const X402ErrorCode = {
  /** A facilitator's circuit is open (or every facilitator is unavailable): the call was not sent. */
  CIRCUIT_OPEN: 'ERR_BURSAR_X402_CIRCUIT_OPEN',
  /** `attach()` was called twice on the same resource server or client. */
  ALREADY_ATTACHED: 'ERR_BURSAR_X402_ALREADY_ATTACHED',
  /** `reconcile()` named a payment that is not waiting for reconciliation. */
  NOT_PENDING: 'ERR_BURSAR_X402_NOT_PENDING',
} as const;
export type X402ErrorCode = (typeof X402ErrorCode)[keyof typeof X402ErrorCode];
