import type { ParsedIntent } from '../intent/index.js';
import type { Outcome } from './decision.js';

/**
 * A risk signal from a pluggable scorer (anomaly detector, LLM judge, fraud feed). Signals can
 * only escalate a decision: an `allow` signal does not exist.
 */
export interface RiskSignal {
  /** Stable code, e.g. `amount_outlier`, `first_time_recipient`. */
  code: string;
  /** An explanation in words a person can act on. */
  message: string;
  outcome: Exclude<Outcome, 'allow'>;
  /** The scorer's own score (z-score, 0–100, …), for reports. */
  score?: number;
  details?: Record<string, unknown>;
}

/** Something the policy engine asks for risk signals about an intent before deciding. */
export interface RiskSignalProvider {
  readonly name: string;
  signals(
    intent: ParsedIntent,
    context: { now: number },
  ): readonly RiskSignal[] | Promise<readonly RiskSignal[]>;
}

/** Spent, held and remaining of one budget or rate limit in its current window. Decimal strings. */
export interface BudgetStatus {
  policyId: string;
  budgetId: string;
  kind: 'amount' | 'count';
  /** Absent for count limits. */
  currency?: string;
  /** `daily`, `rolling:3600000`, `lifetime`, … */
  window: string;
  /** The scope this counter belongs to, e.g. `agent:research-bot`. */
  scope: string;
  windowStart?: number;
  windowEnd?: number;
  limit: string;
  spent: string;
  held: string;
  remaining: string;
}

/** Where alerting reads budget status from (the policy engine implements it). */
export interface BudgetStatusSource {
  getBudgetStatus(query?: {
    agentId?: string;
    policyId?: string;
    budgetId?: string;
  }): Promise<BudgetStatus[]>;
}
