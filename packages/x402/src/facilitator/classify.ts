import type { SettleResponse, VerifyResponse } from '@x402/core/types';

/** The three calls of a facilitator. */
export type FacilitatorOperation = 'verify' | 'settle' | 'supported';

/**
 * Did the request take effect?
 * - `not_sent`: it never reached the facilitator (circuit open, connection refused, DNS): safe to send elsewhere.
 * - `rejected`: the facilitator answered that it did not happen.
 * - `unknown`: it may have happened (timeout, connection lost after sending, malformed answer,
 *   `settlement_pending`). A settle with an unknown outcome is NEVER retried or sent elsewhere.
 */
export type Delivery = 'not_sent' | 'rejected' | 'unknown';

/** How a failed facilitator call is treated by breakers, failover and the seller guard. */
export interface FailureClass {
  operation: FacilitatorOperation;
  /** True when the failure says the facilitator is unhealthy (it counts against its breaker). */
  facilitatorFault: boolean;
  delivery: Delivery;
  /** Whether the same call may be tried again or on the next facilitator. */
  retryable: boolean;
  /** Short machine-readable cause (`timeout`, `connection_refused`, `http_503`, the facilitator's reason, …). */
  cause: string;
}

/** Errors codes (anywhere in the `cause` chain) meaning the request never left this process. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_INVALID_URL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_BURSAR_X402_CIRCUIT_OPEN',
]);

/** Facilitator answers whose money outcome is still open. */
const PENDING_REASONS = new Set(['settlement_pending']);

/**
 * Reasons in a `success: false` / `isValid: false` answer that blame the facilitator (its
 * node, RPC or internals) rather than the payment. Everything else is the payment's own fault
 * and does not count against a breaker.
 */
export function defaultIsFacilitatorFaultReason(reason: string | undefined): boolean {
  if (!reason) return false;
  return /unexpected|internal|unavailable|rpc|timeout|overload|rate_limit|facilitator_error/i.test(reason);
}

function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as Error).name === 'string'
    ? (error as Error).name
    : '';
}

function findCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function statusOf(error: unknown): number | undefined {
  const s = (error as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * Classifies an error thrown by a facilitator call. Works on the error classes of
 * `@x402/core` by name, so a second copy of the package classifies the same way.
 *
 * @example
 * classifyFacilitatorError('settle', new FacilitatorTimeoutError('settle', 5000));
 * // { delivery: 'unknown', retryable: false, facilitatorFault: true, cause: 'timeout', … }
 */
export function classifyFacilitatorError(
  operation: FacilitatorOperation,
  error: unknown,
  isFaultReason: (reason: string | undefined) => boolean = defaultIsFacilitatorFaultReason,
): FailureClass {
  const name = errorName(error);
  const code = findCode(error);
  let delivery: Delivery;
  let fault: boolean;
  let cause: string;
  if (name === 'FacilitatorTimeoutError' || name === 'TimeoutError' || name === 'AbortError') {
    delivery = 'unknown';
    fault = true;
    cause = 'timeout';
  } else if (code !== undefined && NOT_SENT_CODES.has(code)) {
    delivery = 'not_sent';
    fault = code !== 'ERR_BURSAR_X402_CIRCUIT_OPEN';
    cause = code === 'ERR_BURSAR_X402_CIRCUIT_OPEN' ? 'circuit_open' : code.toLowerCase();
  } else if (name === 'SettleError' || name === 'VerifyError') {
    // The facilitator answered with a body: it said what happened.
    const reason =
      (error as { errorReason?: string }).errorReason ?? (error as { invalidReason?: string }).invalidReason;
    const status = statusOf(error) ?? 0;
    const pending = reason !== undefined && PENDING_REASONS.has(reason);
    delivery = pending ? 'unknown' : 'rejected';
    // Status alone says little: @x402/core wraps every `success: false` answer as a 500.
    fault = status === 429 || isFaultReason(reason);
    cause = reason ?? `http_${status}`;
  } else if (name === 'FacilitatorResponseError') {
    // Malformed answer: the facilitator did something, we cannot tell what.
    delivery = 'unknown';
    fault = true;
    cause = 'malformed_response';
  } else {
    // fetch failures after connecting, non-JSON 5xx, thrown in-process facilitators: no proof
    // that nothing happened.
    delivery = 'unknown';
    fault = true;
    const status = /\((\d{3})\)/.exec(error instanceof Error ? error.message : '')?.[1];
    cause = status ? `http_${status}` : code ? code.toLowerCase() : 'error';
  }
  return {
    operation,
    facilitatorFault: fault,
    delivery,
    retryable: operation === 'settle' ? delivery === 'not_sent' : fault || delivery === 'not_sent',
    cause,
  };
}

/**
 * Classifies a facilitator ANSWER. Returns `null` for a healthy answer: success, or a payment
 * that is invalid on its own merits (that is the facilitator doing its job). A `success: false`
 * or `isValid: false` answer whose reason blames the facilitator is a fault; `settlement_pending`
 * is an unknown outcome.
 */
export function classifyFacilitatorResult(
  operation: 'verify' | 'settle',
  result: VerifyResponse | SettleResponse,
  isFaultReason: (reason: string | undefined) => boolean = defaultIsFacilitatorFaultReason,
): FailureClass | null {
  if (operation === 'verify') {
    const r = result as VerifyResponse;
    if (r.isValid) return null;
    if (!isFaultReason(r.invalidReason)) return null;
    return {
      operation,
      facilitatorFault: true,
      delivery: 'rejected',
      retryable: true,
      cause: r.invalidReason ?? 'invalid',
    };
  }
  const r = result as SettleResponse;
  if (r.success) return null;
  const pending = r.errorReason !== undefined && PENDING_REASONS.has(r.errorReason);
  const fault = isFaultReason(r.errorReason);
  if (!pending && !fault) return null;
  return {
    operation,
    facilitatorFault: fault,
    delivery: pending ? 'unknown' : 'rejected',
    retryable: false,
    cause: r.errorReason ?? 'settle_failed',
  };
}

/** True when a settle failure may still move money: count it (capture the hold), never charge again. */
export function isAmbiguousSettleFailure(error: unknown): boolean {
  return classifyFacilitatorError('settle', error).delivery === 'unknown';
}
