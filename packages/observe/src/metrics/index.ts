export { type BursarMetrics, createMetrics, MetricsOptions } from './create-metrics.js';
export type { HoldResult, MetricsRecorder } from './metrics-recorder.js';
export { HOLD_LATENCY_BUCKETS_MS, otelRecorder } from './otel-recorder.js';
