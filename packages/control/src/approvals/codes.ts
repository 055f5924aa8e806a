/**
 * Error codes of the approval workflow. Every one is thrown as a core `BursarError`
 * (`BursarError.hasCode(e, ApprovalErrorCode.MISMATCH)`); the HTTP status an integration
 * should answer with is on the error's `status`.
 */
export const ApprovalErrorCode = {
  /** No approval request with this id (HTTP 404). */
  NOT_FOUND: 'ERR_BURSAR_APPROVAL_NOT_FOUND',
  /** The intent given to `complete` is not the one the request is bound to (HTTP 409). */
  MISMATCH: 'ERR_BURSAR_APPROVAL_MISMATCH',
  /** The approval was already turned into a final decision: it is single-use (HTTP 409). */
  CONSUMED: 'ERR_BURSAR_APPROVAL_CONSUMED',
  /** A vote or cancel on a request that is no longer pending (HTTP 409). */
  NOT_PENDING: 'ERR_BURSAR_APPROVAL_NOT_PENDING',
  /** The approver is the requesting agent or one of its owners (HTTP 403). */
  SELF_APPROVAL: 'ERR_BURSAR_APPROVAL_SELF_APPROVAL',
  /** The approver is not an approver of the request's current level (HTTP 403). */
  NOT_ALLOWED: 'ERR_BURSAR_APPROVAL_NOT_ALLOWED',
  /** The approver already voted at this level: quorum needs distinct approvers (HTTP 409). */
  DUPLICATE_VOTE: 'ERR_BURSAR_APPROVAL_DUPLICATE_VOTE',
  /** The manager is not attached to a `PolicyEngine` yet (pass it as the engine's `approvals`). */
  NOT_ATTACHED: 'ERR_BURSAR_APPROVAL_NOT_ATTACHED',
  /** The manager was closed. */
  CLOSED: 'ERR_BURSAR_APPROVAL_CLOSED',
  /** The terminal channel's input is not a TTY: nobody can answer the prompt (fails closed). */
  NO_TTY: 'ERR_BURSAR_APPROVAL_NO_TTY',
  /** A channel got no answer in time (terminal prompt timeout). */
  TIMEOUT: 'ERR_BURSAR_APPROVAL_TIMEOUT',
  /** A webhook could not be delivered after every retry. */
  DELIVERY_FAILED: 'ERR_BURSAR_APPROVAL_DELIVERY_FAILED',
} as const;
export type ApprovalErrorCode = (typeof ApprovalErrorCode)[keyof typeof ApprovalErrorCode];
