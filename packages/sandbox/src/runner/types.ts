import type { Outcome, Protocol } from '@bursar/core';

/**
 * How a line is counted in the summary: `allowed` (the money moved and was captured),
 * `pending` (waiting for a human or for reconciliation; its budget stays held), `failed`
 * (allowed by policy, but the rail did not take the money: the hold was released) or
 * `blocked` (denied; nothing held).
 */
export type LineOutcome = 'allowed' | 'pending' | 'failed' | 'blocked';

/** Every line outcome, in display order. */
export const LINE_OUTCOMES: readonly LineOutcome[] = ['allowed', 'pending', 'failed', 'blocked'];

/**
 * What became of the budget a decision held: `captured`, `released`, `expired`, still `held`,
 * `none` (nothing to hold), or `never` — the payment failed before its hold was placed (an x402
 * seller verifies a payment before holding its budget).
 */
export type HoldFate = 'captured' | 'released' | 'expired' | 'held' | 'none' | 'never';

/**
 * One payment (or attempted control change) as the engine decided it. Every field comes from
 * a real engine decision, the hold's lifecycle events, or the rail's answer.
 */
export interface PaymentLine {
  /** 1, 2, 3 … within the scenario. */
  seq: number;
  agentId: string;
  /** `payment` or a tool/control action (`policy.update`). */
  action: string;
  protocol?: Protocol;
  /** Exact decimal string; absent for actions without an amount. */
  amount?: string;
  currency?: string;
  /** Display form of the recipient (stable across runs: no ports, no random ids). */
  recipient?: string;
  /** The engine's outcome (`allow`, `flag`, `require_approval`, `deny`), after approval when one was completed. */
  decision: Outcome;
  /** The engine's first decision when an approval changed it (`require_approval`). */
  initialDecision?: Outcome;
  outcome: LineOutcome;
  /** The most restrictive reason's code and message. */
  reasonCode: string;
  reason: string;
  /** When that reason is a budget or rate limit: its figures, as the engine reported them. */
  limit?: {
    id?: string;
    limit?: string;
    spent?: string;
    held?: string;
    remaining?: string;
    currency?: string;
  };
  /** True when the engine answered from an idempotency key: no new decision, no new hold. */
  replayed: boolean;
  hold: HoldFate;
  /** What the hold committed (decimal), when captured. */
  captured?: string;
  /** What the rail did (`charged 2.50 USD`, `declined: budget_exceeded`, `502 facilitator timeout`). */
  rail?: string;
  /** Who approved, when an approval resolved it. */
  approvedBy?: string;
}

/** An alert raised during a scenario. */
export interface AlertLine {
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  agentId?: string;
}

/** Sums per currency (decimal strings). */
export type CurrencyTotals = Record<string, string>;

/** What a scenario expects; every given field is asserted. */
export interface ScenarioExpectation {
  /** Lines counted `allowed` / `pending` / `failed` / `blocked` (replays excluded). */
  allowed?: number;
  pending?: number;
  failed?: number;
  blocked?: number;
  /** Net amount the rails' ledgers really charged, per currency (exact decimals; a missing currency must be 0). */
  charged?: CurrencyTotals;
  /** Alert kinds that must have been raised. */
  alerts?: string[];
  /** Reason codes that must appear on some line. */
  reasons?: string[];
  /** Number of lines answered from an idempotency key. */
  replayed?: number;
  /**
   * Ledger entries that charged the same payment twice (default 0: any double charge fails
   * the scenario unless it expects one).
   */
  duplicateCharges?: number;
  /**
   * Whether what Bursar captured must equal what the rails charged, per currency (default
   * true). Turn it off only for a scenario where money moves outside Bursar on purpose.
   */
  capturesMatchLedger?: boolean;
  /** More assertions: return one message per failure (empty when all hold). */
  check?: (result: ScenarioOutcome) => string[] | Promise<string[]>;
}

/** What a scenario run produced, before it is compared with the expectation. */
export interface ScenarioOutcome {
  lines: PaymentLine[];
  alerts: AlertLine[];
  counts: Record<LineOutcome, number>;
  /**
   * Sums per outcome and currency (replays excluded): captured amounts for `allowed`, the
   * requested amounts for the others.
   */
  totals: Record<LineOutcome, CurrencyTotals>;
  /** What Bursar captured, per currency. */
  captured: CurrencyTotals;
  /** Net charged (charges − refunds) per currency, summed over every rail's ledger. */
  charged: CurrencyTotals;
  /** Gross charges per currency, summed over every rail's ledger. */
  grossCharged: CurrencyTotals;
  /** Refunds per currency, summed over every rail's ledger. */
  refunded: CurrencyTotals;
  /** Net charged per rail and currency. */
  chargedByRail: Record<string, CurrencyTotals>;
  /** Ledger entries that charged a payload a second time. */
  duplicateCharges: number;
  /** Facts the script chose to report (provenance verification, dispute state …). */
  facts: Record<string, unknown>;
}

/** A scenario run, compared with its expectation. */
export interface ScenarioResult extends ScenarioOutcome {
  id: string;
  title: string;
  seed: number | string;
  /** True when the outcome matched every expectation and the script did not throw. */
  passed: boolean;
  /** One message per expectation that did not hold. */
  failures: string[];
  /** The script's exception, if it threw. */
  error?: string;
  /** The policy ran: the scenario's own, or the one passed in. */
  policySource: 'scenario' | 'custom';
  /** Id, version and content hash of the policies that decided. */
  policies: Array<{ id: string; version: string; hash: string }>;
}

/** A run of several scenarios. */
export interface RunReport {
  seed: number | string;
  passed: boolean;
  scenarios: ScenarioResult[];
  counts: Record<LineOutcome, number>;
  totals: Record<LineOutcome, CurrencyTotals>;
  charged: CurrencyTotals;
  alerts: number;
}
