import type { BursarEventMap, EventBus, HoldEvent } from '@bursar/core';
import { type Meter, metrics } from '@opentelemetry/api';
import { z } from 'zod';
import { defaultOnError, parseOptions, safeReport } from '../internal/index.js';
import type { HoldResult, MetricsRecorder } from './metrics-recorder.js';
import { otelRecorder } from './otel-recorder.js';

/** Options of {@link createMetrics}. */
export const MetricsOptions = z.strictObject({
  /** The lifecycle bus to measure. */
  bus: z.custom<EventBus<BursarEventMap>>((v) => typeof (v as EventBus | undefined)?.on === 'function', {
    message: 'must be an EventBus',
  }),
  /** OpenTelemetry meter (default: the global meter provider's `@bursar/observe` meter). */
  meter: z
    .custom<Meter>((v) => typeof (v as Meter | undefined)?.createCounter === 'function', {
      message: 'must be a Meter',
    })
    .optional(),
  /** Turn the OpenTelemetry recorder off (e.g. Prometheus only). Default true. */
  otel: z.boolean().default(true),
  /** A Prometheus recorder from `@bursar/observe/prometheus` (`prometheusRecorder({ registry })`). */
  prometheus: z
    .custom<MetricsRecorder>((v) => typeof (v as MetricsRecorder | undefined)?.decision === 'function', {
      message: 'must be a MetricsRecorder',
    })
    .optional(),
  /** More recorders of your own. */
  recorders: z
    .array(
      z.custom<MetricsRecorder>((v) => typeof (v as MetricsRecorder | undefined)?.decision === 'function', {
        message: 'must be a MetricsRecorder',
      }),
    )
    .default([]),
  /** Open holds and approvals remembered for latency and the pending gauge (default 100,000). */
  maxTracked: z.number().int().positive().default(100_000),
  onError: z
    .custom<(error: unknown, context: string) => void>((v) => typeof v === 'function', {
      message: 'must be a function',
    })
    .optional(),
});
/** What callers pass to {@link createMetrics}. */
export type MetricsOptions = z.input<typeof MetricsOptions>;

/** A running metrics subscription. */
export interface BursarMetrics {
  /** The recorders in use. */
  readonly recorders: readonly MetricsRecorder[];
  /** Unsubscribes from the bus. */
  close(): void;
}

/**
 * Measures the lifecycle bus: decisions by outcome, executed spend by currency, hold latency
 * (placed → captured / released / expired), approvals pending and alerts — through
 * OpenTelemetry and, optionally, a Prometheus registry. Spend follows the tracker's rule:
 * `hold.captured`, plus `payment.settled` without a hold id.
 *
 * @example
 * const m = createMetrics({ bus, meter: meterProvider.getMeter('payments') });
 * // Prometheus: createMetrics({ bus, prometheus: prometheusRecorder({ registry }) })
 * m.close();
 */
export function createMetrics(options: MetricsOptions): BursarMetrics {
  const o = parseOptions(MetricsOptions, options, 'createMetrics');
  const onError = o.onError ?? defaultOnError;
  const recorders: MetricsRecorder[] = [];
  if (o.otel) recorders.push(otelRecorder(o.meter ?? metrics.getMeter('@bursar/observe')));
  if (o.prometheus) recorders.push(o.prometheus);
  recorders.push(...o.recorders);
  const each = (context: string, run: (r: MetricsRecorder) => void) => {
    for (const r of recorders) {
      try {
        run(r);
      } catch (error) {
        safeReport(onError, error, `metrics recorder failed on ${context}`);
      }
    }
  };
  const placed = new Map<string, number>();
  const pending = new Set<string>();
  // Bounded memory: past the cap the oldest open hold / approval is forgotten.
  const trim = (c: Map<string, number> | Set<string>): string | undefined => {
    if (c.size <= o.maxTracked) return undefined;
    const oldest = c.keys().next();
    if (oldest.done) return undefined;
    c.delete(oldest.value);
    return oldest.value;
  };
  const resolved = (e: HoldEvent, result: HoldResult) => {
    const at = placed.get(e.holdId);
    if (at === undefined) return;
    placed.delete(e.holdId);
    each('hold latency', (r) => r.holdLatency(Math.max(0, e.at - at), result));
  };
  const spend = (currency: string, amount: string, protocol: string | undefined) => {
    const value = Number(amount);
    if (!Number.isFinite(value) || value <= 0) return;
    each('spend', (r) => r.spend(currency.toUpperCase(), value, protocol));
  };
  const bus = o.bus;
  const offs = [
    bus.on('decision.made', (e) => each('decision', (r) => r.decision(e.decision.outcome))),
    bus.on('hold.placed', (e) => {
      placed.set(e.holdId, e.at);
      trim(placed);
    }),
    bus.on('hold.captured', (e) => {
      resolved(e, 'captured');
      const amount = e.captured ?? e.amount;
      if (amount !== undefined && e.currency !== undefined) spend(e.currency, amount, e.protocol);
    }),
    bus.on('hold.released', (e) => resolved(e, 'released')),
    bus.on('hold.expired', (e) => resolved(e, 'expired')),
    bus.on('payment.settled', (e) => {
      if (e.holdId === undefined) spend(e.currency, e.amount, e.protocol);
    }),
    bus.on('approval.requested', (e) => {
      if (pending.has(e.approvalId)) return;
      pending.add(e.approvalId);
      each('approvals pending', (r) => r.approvalsPending(1));
      // A forgotten approval leaves the gauge now, so it cannot stay counted forever.
      if (trim(pending) !== undefined) each('approvals pending', (r) => r.approvalsPending(-1));
    }),
    bus.on('approval.resolved', (e) => {
      if (!pending.delete(e.approvalId)) return;
      each('approvals pending', (r) => r.approvalsPending(-1));
    }),
    bus.on('alert.raised', (e) => each('alert', (r) => r.alert(e.kind, e.severity))),
  ];
  return {
    recorders,
    close() {
      for (const off of offs.splice(0)) off();
    },
  };
}
