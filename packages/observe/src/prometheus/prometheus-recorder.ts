import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HoldResult, MetricsRecorder } from '../metrics/metrics-recorder.js';

/** Options of {@link prometheusRecorder}. */
export interface PrometheusRecorderOptions {
  /** The prom-client registry your `/metrics` endpoint serves. */
  registry: Registry;
  /** Metric name prefix (default `bursar_`). */
  prefix?: string;
  /** Hold latency buckets in seconds. */
  holdBuckets?: number[];
}

const DEFAULT_HOLD_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * A `MetricsRecorder` for prom-client: `bursar_decisions_total{outcome}`,
 * `bursar_spend_total{currency,protocol}`, `bursar_hold_duration_seconds{result}`,
 * `bursar_approvals_pending` and `bursar_alerts_total{kind,severity}`, registered in `registry`
 * (reused if already there, so calling it twice is safe).
 *
 * @example
 * import { Registry } from 'prom-client';
 * import { createMetrics } from '@bursar/observe';
 * import { prometheusRecorder } from '@bursar/observe/prometheus';
 * const registry = new Registry();
 * createMetrics({ bus, prometheus: prometheusRecorder({ registry }) });
 * // GET /metrics → res.end(await registry.metrics())
 */
export function prometheusRecorder(options: PrometheusRecorderOptions): MetricsRecorder {
  const registry = options?.registry;
  if (typeof registry?.getSingleMetric !== 'function') {
    throw new TypeError('prometheusRecorder needs { registry } (a prom-client Registry)');
  }
  const prefix = options.prefix ?? 'bursar_';
  const existing = <T>(name: string): T | undefined =>
    registry.getSingleMetric(prefix + name) as T | undefined;
  const decisions =
    existing<Counter<'outcome'>>('decisions_total') ??
    new Counter({
      name: `${prefix}decisions_total`,
      help: 'Policy decisions by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
  const spend =
    existing<Counter<'currency' | 'protocol'>>('spend_total') ??
    new Counter({
      name: `${prefix}spend_total`,
      help: 'Executed spend in major units of the currency label',
      labelNames: ['currency', 'protocol'],
      registers: [registry],
    });
  const holds =
    existing<Histogram<'result'>>('hold_duration_seconds') ??
    new Histogram({
      name: `${prefix}hold_duration_seconds`,
      help: 'Time from a hold being placed to its capture, release or expiry',
      labelNames: ['result'],
      buckets: options.holdBuckets ?? DEFAULT_HOLD_BUCKETS_S,
      registers: [registry],
    });
  const pending =
    existing<Gauge>('approvals_pending') ??
    new Gauge({
      name: `${prefix}approvals_pending`,
      help: 'Approvals waiting for a person',
      registers: [registry],
    });
  const alerts =
    existing<Counter<'kind' | 'severity'>>('alerts_total') ??
    new Counter({
      name: `${prefix}alerts_total`,
      help: 'Alerts raised',
      labelNames: ['kind', 'severity'],
      registers: [registry],
    });
  return {
    decision: (outcome) => decisions.inc({ outcome }),
    spend: (currency, amount, protocol) => spend.inc({ currency, protocol: protocol ?? 'none' }, amount),
    holdLatency: (ms: number, result: HoldResult) => holds.observe({ result }, ms / 1000),
    approvalsPending: (delta) => pending.inc(delta),
    alert: (kind, severity) => alerts.inc({ kind, severity }),
  };
}
