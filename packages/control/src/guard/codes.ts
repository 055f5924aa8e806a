import { ErrorCode } from '@bursar/core';

/**
 * Error codes thrown by `guard()`, `protectTools()` and the HTTP integrations. Match on
 * these (`BursarError.hasCode(e, IntegrationErrorCode.POLICY_DENIED)`), never on messages.
 */
export const IntegrationErrorCode = {
  /** The policy denied the call (HTTP 403); the error carries the decision. */
  POLICY_DENIED: ErrorCode.POLICY_DENIED,
  /**
   * An idempotency key was replayed for a call that was already allowed: the engine
   * returned the first decision, so the call is not run a second time (HTTP 409).
   */
  IDEMPOTENCY_REPLAYED: 'ERR_BURSAR_IDEMPOTENCY_REPLAYED',
  /** Options of `guard`, `protectTools`, `policyMiddleware` or `policyPlugin` failed validation. */
  INVALID_OPTIONS: ErrorCode.INVALID_OPTIONS,
  /** `protectTools` was given something that is not a tool it can wrap. */
  INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
} as const;
export type IntegrationErrorCode = (typeof IntegrationErrorCode)[keyof typeof IntegrationErrorCode];
