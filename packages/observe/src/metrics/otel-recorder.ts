import type { Meter } from '@opentelemetry/api';
import type { HoldResult, MetricsRecorder } from './metrics-recorder.js';

/** Bucket bounds of the hold latency histogram, in ms (a hold lives from ms to minutes). */
export const HOLD_LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000,
];

/**
 * Records through an OpenTelemetry `Meter`: `bursar.decisions` (counter, attribute `outcome`),
 * `bursar.spend` (counter, `currency`, `protocol`), `bursar.hold.duration` (histogram, ms,
 * `result`), `bursar.approvals.pending` (up-down counter) and `bursar.alerts` (counter, `kind`,
 * `severity`).
 */
export function otelRecorder(meter: Meter): MetricsRecorder {
  const decisions = meter.createCounter('bursar.decisions', {
    description: 'Policy decisions by outcome',
    unit: '{decision}',
  });
  const spend = meter.createCounter('bursar.spend', {
    description: 'Executed spend in major units of the currency attribute',
    unit: '{currency_unit}',
  });
  const holds = meter.createHistogram('bursar.hold.duration', {
    description: 'Time from a hold being placed to its capture, release or expiry',
    unit: 'ms',
    advice: { explicitBucketBoundaries: HOLD_LATENCY_BUCKETS_MS },
  });
  const pending = meter.createUpDownCounter('bursar.approvals.pending', {
    description: 'Approvals waiting for a person',
    unit: '{approval}',
  });
  const alerts = meter.createCounter('bursar.alerts', { description: 'Alerts raised', unit: '{alert}' });
  return {
    decision: (outcome) => decisions.add(1, { outcome }),
    spend: (currency, amount, protocol) =>
      spend.add(amount, protocol === undefined ? { currency } : { currency, protocol }),
    holdLatency: (ms: number, result: HoldResult) => holds.record(ms, { result }),
    approvalsPending: (delta) => pending.add(delta),
    alert: (kind, severity) => alerts.add(1, { kind, severity }),
  };
}
