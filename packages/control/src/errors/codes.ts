import { ErrorCode } from '@bursar/core';

/**
 * Error codes thrown by `@bursar/control`. The core codes it uses are repeated here so one
 * import names every code this package can throw; the package adds the policy-file codes.
 */
export const ControlErrorCode = {
  /** A policy failed validation; `issues` point at the offending paths. */
  INVALID_POLICY: ErrorCode.INVALID_POLICY,
  /** Engine or helper options failed validation. */
  INVALID_OPTIONS: ErrorCode.INVALID_OPTIONS,
  /** The intent failed validation. */
  INVALID_INTENT: ErrorCode.INVALID_INTENT,
  /** A method argument is malformed (capture amount, kill-switch target …). */
  INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
  /** A capture amount is not a valid amount of the hold's currency. */
  INVALID_AMOUNT: ErrorCode.INVALID_AMOUNT,
  /** The same idempotency key was used with a different intent (HTTP 409). */
  IDEMPOTENCY_CONFLICT: ErrorCode.IDEMPOTENCY_CONFLICT,
  /** The first call with this idempotency key is still running (HTTP 409). */
  IDEMPOTENCY_IN_PROGRESS: ErrorCode.IDEMPOTENCY_IN_PROGRESS,
  /** No hold with this id (HTTP 404). */
  HOLD_NOT_FOUND: ErrorCode.HOLD_NOT_FOUND,
  /** The hold was already captured, released or expired (HTTP 409). */
  HOLD_NOT_ACTIVE: ErrorCode.HOLD_NOT_ACTIVE,
  /** A capture asked for more than the hold holds. */
  CAPTURE_EXCEEDS_HOLD: ErrorCode.CAPTURE_EXCEEDS_HOLD,
  /** An operator-only method was called without a capability this engine accepts (HTTP 403). */
  UNAUTHORIZED: ErrorCode.UNAUTHORIZED,
  /** `removePolicy` named a policy that is not loaded (HTTP 404). */
  POLICY_NOT_FOUND: 'ERR_BURSAR_POLICY_NOT_FOUND',
  /** A policy file could not be read or parsed as JSON/YAML. */
  POLICY_FILE: 'ERR_BURSAR_POLICY_FILE',
} as const;
export type ControlErrorCode = (typeof ControlErrorCode)[keyof typeof ControlErrorCode];
