/**
 * Reason codes the x402 guards put in an abort (`{ abort: true, reason }`), in
 * `payment.failed` events and in provenance records. A policy denial passes the engine's own
 * reason code through (`budget_exceeded`, `recipient_blocked`, `amount_above_limit`, …); these
 * are the codes the adapter adds.
 */
export const X402Reason = {
  /** The requirement's asset is not in the asset registry for its network: never mapped to 0. */
  UNKNOWN_ASSET: 'unknown_asset',
  /** The requirement's atomic amount is not a string of digits (or is out of range). */
  INVALID_AMOUNT: 'invalid_amount',
  /** The payer (and so the agent) could not be read from the payment. */
  AGENT_UNRESOLVED: 'agent_unresolved',
  /** The policy engine denied the payment without naming a reason. */
  POLICY_DENIED: 'policy_denied',
  /** The policy wants a human to approve; an x402 request cannot wait for one. */
  APPROVAL_REQUIRED: 'approval_required',
  /**
   * This signed payment (or payment id) was already settled, or already charged to the budget
   * (an ambiguous settle reconciled as not settled): it is charged once.
   */
  REPLAY: 'replay',
  /** The same payment is being verified or settled by another request right now. */
  IN_PROGRESS: 'payment_in_progress',
  /** An earlier settle of this payment had an unknown outcome; it waits for reconciliation. */
  PENDING_RECONCILIATION: 'payment_pending_reconciliation',
  /** The payment id was seen before with other terms (amount, asset, recipient, network, payer). */
  IDEMPOTENCY_CONFLICT: 'idempotency_conflict',
  /** The hold placed at verify is gone or no longer active at settle time. */
  HOLD_MISSING: 'hold_missing',
  /** Settle asks for more than was authorized at verify, or for other terms. */
  HOLD_MISMATCH: 'hold_mismatch',
  /** The facilitator said the payment is invalid. */
  VERIFY_INVALID: 'verify_invalid',
  /** The verify call itself failed (network, timeout, facilitator error). */
  VERIFY_ERROR: 'verify_error',
  /** The facilitator answered that settlement failed. */
  SETTLE_FAILED: 'settle_failed',
  /**
   * The settle outcome is unknown (timeout, connection lost, pending): the money may have moved,
   * so the hold is captured at once and the payment waits for reconciliation.
   */
  SETTLE_AMBIGUOUS: 'settle_outcome_unknown',
  /** The route handler failed or another hook aborted after verification. */
  CANCELED: 'payment_canceled',
  /** An unexpected error inside the guard: fail closed. */
  INTERNAL_ERROR: 'internal_error',
  /** Buyer: this request already paid (or its first payment's outcome is unknown). */
  ALREADY_PAID: 'already_paid',
} as const;
export type X402Reason = (typeof X402Reason)[keyof typeof X402Reason];
