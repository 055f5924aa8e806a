/**
 * Error codes of `@bursar/sandbox`, beside core's `ErrorCode`. Codes never change meaning
 * once published.
 */
export const SandboxErrorCode = {
  /** A rail was used after `close()`. */
  CLOSED: 'ERR_BURSAR_SANDBOX_CLOSED',
  /** A ledger reference (transaction, order, payment) does not exist. */
  UNKNOWN_REFERENCE: 'ERR_BURSAR_SANDBOX_UNKNOWN_REFERENCE',
  /** A refund asked for more than is left of the charge. */
  REFUND_EXCEEDS_CHARGE: 'ERR_BURSAR_SANDBOX_REFUND_EXCEEDS_CHARGE',
  /** `--scenario` or `runScenarios({ only })` named a scenario that does not exist. */
  UNKNOWN_SCENARIO: 'ERR_BURSAR_SANDBOX_UNKNOWN_SCENARIO',
  /** An HTTP call to a mock rail failed below the protocol (connection refused, bad JSON). */
  TRANSPORT: 'ERR_BURSAR_SANDBOX_TRANSPORT',
} as const;
export type SandboxErrorCode = (typeof SandboxErrorCode)[keyof typeof SandboxErrorCode];
