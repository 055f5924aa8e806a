/** Result of a hold, as a metric attribute. */
export type HoldResult = 'captured' | 'released' | 'expired';

/**
 * Where `createMetrics` writes measurements. The OpenTelemetry recorder is built in; a
 * Prometheus one comes from `@bursar/observe/prometheus`. Write your own for anything else.
 */
export interface MetricsRecorder {
  /** One decision with its outcome (`allow`, `deny`, `require_approval`, `flag`). */
  decision(outcome: string): void;
  /** Executed spend in major units of `currency` (a float: metrics are not the ledger). */
  spend(currency: string, amount: number, protocol: string | undefined): void;
  /** Time from a hold being placed to its capture, release or expiry. */
  holdLatency(ms: number, result: HoldResult): void;
  /** Approvals waiting for a person: +1 when requested, −1 when resolved. */
  approvalsPending(delta: 1 | -1): void;
  /** One alert that went out. */
  alert(kind: string, severity: string): void;
}
