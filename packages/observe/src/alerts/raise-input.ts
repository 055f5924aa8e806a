import type { AlertSeverity } from './alert-rules.js';

/** An alert before de-duplication: what `SpendAlerts.raise()` and the rules produce. */
export interface RaiseInput {
  /** Rule type or your own kind (`budget_threshold`, `custom:payout`, …). */
  kind: string;
  severity: AlertSeverity;
  message: string;
  agentId?: string;
  /** Alerts with the same key are sent once per cool-down. */
  dedupKey: string;
  /** JSON-safe facts behind the alert (amounts as decimal strings). */
  facts: Record<string, unknown>;
  /** Quiet period for this key (default: the rule's or the global cool-down). */
  cooldownMs?: number;
  /** Silence the key until this time instead (e.g. the end of a budget window). */
  quietUntil?: number;
}
