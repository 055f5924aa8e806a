/** What Bursar decided. Ordered by restrictiveness: deny > require_approval > flag > allow. */
export type Outcome = 'allow' | 'deny' | 'require_approval' | 'flag';

export const OUTCOMES: readonly Outcome[] = ['allow', 'flag', 'require_approval', 'deny'];

const SEVERITY: Record<Outcome, number> = { allow: 0, flag: 1, require_approval: 2, deny: 3 };

/** Restrictiveness rank of an outcome (allow 0 … deny 3). */
export function outcomeSeverity(outcome: Outcome): number {
  return SEVERITY[outcome];
}

/** The most restrictive of the outcomes; `allow` for none. */
export function mostRestrictive(...outcomes: Outcome[]): Outcome {
  let worst: Outcome = 'allow';
  for (const o of outcomes) if (SEVERITY[o] > SEVERITY[worst]) worst = o;
  return worst;
}

/** What produced a reason. */
export type ReasonSource =
  | 'rule'
  | 'default'
  | 'budget'
  | 'rate_limit'
  | 'risk'
  | 'strike'
  | 'kill_switch'
  | 'agent'
  | 'signal'
  | 'approval'
  | 'idempotency'
  | 'system';

/** One thing that fired. JSON-safe: amounts are exact decimal strings. */
export interface Reason {
  /** Stable, machine-readable code (`budget_exceeded`, `recipient_blocked`, `internal_error`, …). */
  code: string;
  /** What a person reads. */
  message: string;
  /** The outcome this reason argues for. */
  outcome: Outcome;
  source: ReasonSource;
  policyId?: string;
  ruleId?: string;
  budgetId?: string;
  /** Limit, spent (captured), held and remaining in the window, as decimal strings. */
  limit?: string;
  spent?: string;
  held?: string;
  remaining?: string;
  currency?: string;
  /** For rate limits: when another attempt can succeed. */
  retryAfterMs?: number;
  /** Extra facts (score, threshold, …). */
  details?: Record<string, unknown>;
}

/** Which policy (and exactly which content) decided. */
export interface PolicyRef {
  id: string;
  version: string;
  /** SHA-256 of the policy's canonical JSON. */
  hash: string;
}

/** The answer to an intent. JSON-safe, so it can be stored, hashed and sent. */
export interface Decision {
  outcome: Outcome;
  /** Every rule, budget, limit and signal that fired, most restrictive first. */
  reasons: Reason[];
  policies: PolicyRef[];
  intentId: string;
  intentHash: string;
  agentId: string;
  /** Epoch ms. */
  evaluatedAt: number;
  /** Set by `authorize` when budget was held. */
  holdId?: string;
  /** Set by `authorize` when a human must decide. */
  approvalId?: string;
  /** True when this decision was returned from an earlier call with the same idempotency key. */
  replayed?: boolean;
}

/** Sorts reasons most restrictive first, keeping the original order among equals. */
export function sortReasons(reasons: readonly Reason[]): Reason[] {
  return reasons
    .map((r, i) => [r, i] as const)
    .sort((a, b) => SEVERITY[b[0].outcome] - SEVERITY[a[0].outcome] || a[1] - b[1])
    .map(([r]) => r);
}
