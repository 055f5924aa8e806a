import type { Decision, ParsedIntent } from '@bursar/core';

/**
 * What an integration needs of an approval workflow: `ApprovalManager` from this package
 * has these methods (any object of this shape works, e.g. a client of a remote service).
 */
export interface ApprovalGate {
  /** The agent-safe view of a request, or undefined when there is none. */
  get(approvalId: string): Promise<ApprovalStatusView | undefined>;
  /** Resolves when the request is no longer pending, or on timeout with the current view. */
  waitFor(
    approvalId: string,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<ApprovalStatusView>;
  /**
   * Turns an approval into the final decision for exactly this intent (same hash), once.
   * Throws a 409 error on a mismatching intent or an already consumed approval.
   */
  complete(approvalId: string, intent: ParsedIntent): Promise<Decision>;
}

/** The fields of an approval view that integrations read (the real view has more). */
export interface ApprovalStatusView {
  id: string;
  /** `pending | approved | rejected | expired | consumed`. */
  status: string;
  agentId: string;
}

/** True for an object with the methods of {@link ApprovalGate}. */
export function isApprovalGate(value: unknown): value is ApprovalGate {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.get === 'function' && typeof v.waitFor === 'function' && typeof v.complete === 'function';
}
