import { BursarError, type Decision, type Reason } from '@bursar/core';
import { IntegrationErrorCode } from './codes.js';

/**
 * Thrown by a guarded function or tool when the policy denies the call (directly, or after a
 * human rejected it, the approval expired, or no approval workflow was available).
 * `code` is `ERR_BURSAR_POLICY_DENIED`, `status` 403, and `decision` is the deny decision with
 * every reason that fired.
 *
 * @example
 * try {
 *   await pay({ to: 'acct_1', amount: '500' });
 * } catch (e) {
 *   if (PolicyDeniedError.isInstance(e)) console.log(e.decision.reasons.map((r) => r.code));
 * }
 */
export class PolicyDeniedError extends BursarError {
  /** The deny decision. */
  readonly decision: Decision;
  /** For a rate-limit denial: the longest `retryAfterMs` of the exceeded limits. */
  readonly retryAfterMs: number | undefined;

  constructor(decision: Decision, options: { message?: string; cause?: unknown } = {}) {
    const first = firstDenyReason(decision);
    super(
      IntegrationErrorCode.POLICY_DENIED,
      options.message ??
        `Denied by policy: ${first ? `${first.message} (${first.code})` : 'no reason given'}`,
      {
        status: 403,
        ...(options.cause !== undefined ? { cause: options.cause } : {}),
        details: {
          agentId: decision.agentId,
          intentId: decision.intentId,
          codes: decision.reasons.filter((r) => r.outcome === 'deny').map((r) => r.code),
        },
      },
    );
    this.name = 'PolicyDeniedError';
    this.decision = decision;
    this.retryAfterMs = retryAfterMs(decision);
  }

  /** True for a policy denial, also one thrown by a second copy of this package. */
  static override isInstance(value: unknown): value is PolicyDeniedError {
    return (
      BursarError.hasCode(value, IntegrationErrorCode.POLICY_DENIED) &&
      typeof (value as { decision?: unknown }).decision === 'object'
    );
  }
}

/** The first reason that argues for `deny`, if any. */
export function firstDenyReason(decision: Decision): Reason | undefined {
  return decision.reasons.find((r) => r.outcome === 'deny');
}

/** True when a deny reason is an exceeded rate limit. */
export function isRateLimited(decision: Decision): boolean {
  return decision.reasons.some((r) => r.outcome === 'deny' && r.code === 'rate_limit_exceeded');
}

/** The longest `retryAfterMs` among exceeded rate limits (undefined when none says). */
export function retryAfterMs(decision: Decision): number | undefined {
  let longest: number | undefined;
  for (const r of decision.reasons) {
    if (r.code !== 'rate_limit_exceeded' || r.retryAfterMs === undefined) continue;
    if (longest === undefined || r.retryAfterMs > longest) longest = r.retryAfterMs;
  }
  return longest;
}

/**
 * A deny decision made from another decision (a pending approval that cannot be waited
 * for): the new reason comes first, the original reasons stay for the explanation, and the
 * hold and approval ids are dropped because the caller has released the hold.
 */
export function denyInstead(decision: Decision, reason: Omit<Reason, 'outcome'>): Decision {
  const { holdId: _hold, approvalId: _approval, replayed: _replayed, ...rest } = decision;
  return { ...rest, outcome: 'deny', reasons: [{ ...reason, outcome: 'deny' }, ...decision.reasons] };
}
