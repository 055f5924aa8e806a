import type { AssetRegistry, Decision, IntentInput, ParsedIntent } from '@bursar/core';
import type { EventSink } from '../internal/options.js';

/**
 * What the x402 guards need from a policy engine: `@bursar/control`'s `PolicyEngine` fits.
 * Declared structurally so any engine with these methods works.
 */
export interface X402PolicyEngine {
  /** Decides and, unless denied, holds the amount against every budget (one atomic operation). */
  authorize(intent: IntentInput | ParsedIntent): Promise<Decision>;
  /**
   * Decides without side effects: no hold, no strike, no event (optional). When present, the
   * seller guard refuses what policy would deny before verification with it, and places the
   * hold with `authorize` only once the facilitator has authenticated the payer. Without it,
   * the guard authorizes (and holds) before verification.
   */
  evaluate?(intent: IntentInput | ParsedIntent): Promise<Decision>;
  /**
   * Validates and hashes an intent once (optional). When present, the seller guard parses the
   * intent it evaluates before verification and authorizes that same parsed intent after it,
   * so `evaluate` and `authorize` must both accept what it returns (`PolicyEngine` does).
   */
  parseIntent?(intent: IntentInput): ParsedIntent;
  /** Commits a hold; `amount` (decimal string, ≤ held) captures part and returns the rest. */
  capture(holdId: string, options?: { amount?: string }): Promise<unknown>;
  /** Returns a hold to its budgets. */
  release(holdId: string): Promise<unknown>;
  /** A hold as stored (optional): lets the guard check at settle time that the hold is still active. */
  getHold?(holdId: string): Promise<{ state: string; expiresAt: number } | undefined>;
  /** The engine's lifecycle bus; the guards emit `payment.settled` / `payment.failed` on it. */
  readonly events?: EventSink;
  /** The engine's asset registry, used to map x402 assets unless the guard is given one. */
  readonly assets?: AssetRegistry;
}

/** One executed payment for a spend tracker (`@bursar/observe`'s `SpendTracker.record` fits). */
export interface SpendRecordInput {
  agentId: string;
  /** Decimal string in major units. */
  amount: string;
  currency: string;
  at: number;
  action: string;
  protocol: string;
  recipient?: string;
  network?: string;
  holdId?: string;
  intentId?: string;
  transaction?: string;
}

/** Anything that records executed payments. The tracker de-duplicates by hold id. */
export interface SpendRecorder {
  record(input: SpendRecordInput): unknown;
}

/** An append-only provenance log (`@bursar/protect`'s `ProvenanceLog` fits). */
export interface ProvenanceRecorder {
  append(type: string, data: Readonly<Record<string, unknown>>): Promise<unknown> | unknown;
}
