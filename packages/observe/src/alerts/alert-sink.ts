import type { AlertEvent } from '@bursar/core';

/**
 * Where alerts go. `send` may be async; a failure is reported through the `onError` of
 * `SpendAlerts` and never reaches the payment path.
 */
export interface AlertSink {
  readonly name: string;
  send(alert: AlertEvent): void | Promise<void>;
  /** Stops pending work (retries, back-off waits). */
  close?(): void | Promise<void>;
}
