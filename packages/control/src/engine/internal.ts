import type { Decision, Reason } from '@bursar/core';

/**
 * The engine entry point `ApprovalManager.complete` uses to re-check an approved intent. A
 * symbol, not a method name: it is not part of the package's public API.
 */
export const RECHECK_APPROVED: unique symbol = Symbol('bursar.recheckApproved');

/** An approved intent, decided again, with the risk its rules would add. */
export interface ApprovedRecheck {
  /** What `evaluate(intent, { holdId })` answers: no side effects yet. */
  decision: Decision;
  /**
   * Adds the risk points of the rules that applied, atomically against each threshold, as
   * `authorize` does for an allowed action. Resolves with a deny reason (and adds nothing)
   * when a threshold would be crossed or the store fails.
   */
  addRisk(): Promise<Reason | undefined>;
  /** Takes back what `addRisk` added (the approval could not be consumed after all). */
  undoRisk(): Promise<void>;
}
