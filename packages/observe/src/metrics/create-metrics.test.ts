import { EventBus } from '@bursar/core';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { captured, decision } from '../__fixtures__/events.js';
import { prometheusRecorder } from '../prometheus/prometheus-recorder.js';
import { type BursarMetrics, createMetrics } from './create-metrics.js';

/** A reader that collects on demand (no timers). */
class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const T0 = Date.parse('2026-03-02T10:00:00Z');
const running: BursarMetrics[] = [];
const providers: MeterProvider[] = [];
afterEach(async () => {
  for (const m of running.splice(0)) m.close();
  for (const p of providers.splice(0)) await p.shutdown();
});

/** Drives a small lifecycle: 3 decisions, 2 holds (one captured after 250 ms, one released), spend, approvals. */
function drive(bus: EventBus) {
  bus.emit('decision.made', decision(T0, 'allow'));
  bus.emit('decision.made', decision(T0, 'allow'));
  bus.emit('decision.made', decision(T0, 'deny'));
  bus.emit('hold.placed', { at: T0, agentId: 'bot', holdId: 'h1', amount: '10.00', currency: 'USD' });
  bus.emit('hold.placed', { at: T0, agentId: 'bot', holdId: 'h2', amount: '5.00', currency: 'USD' });
  bus.emit('hold.captured', captured(T0 + 250, { holdId: 'h1', amount: '10.00', captured: '7.50' }));
  bus.emit('payment.settled', {
    at: T0 + 300,
    agentId: 'bot',
    holdId: 'h1',
    amount: '7.50',
    currency: 'USD',
  });
  bus.emit('hold.released', { at: T0 + 1000, agentId: 'bot', holdId: 'h2', amount: '5.00', currency: 'USD' });
  bus.emit('payment.settled', { at: T0, agentId: 'bot', amount: '0.25', currency: 'usdc', protocol: 'x402' });
  bus.emit('approval.requested', {
    at: T0,
    agentId: 'bot',
    approvalId: 'a1',
    expiresAt: T0 + 1,
    reasons: [],
  });
  bus.emit('approval.requested', {
    at: T0,
    agentId: 'bot',
    approvalId: 'a2',
    expiresAt: T0 + 1,
    reasons: [],
  });
  bus.emit('approval.resolved', {
    at: T0,
    agentId: 'bot',
    approvalId: 'a1',
    status: 'approved',
    approvers: ['ops'],
  });
  bus.emit('approval.resolved', {
    at: T0,
    agentId: 'bot',
    approvalId: 'zz',
    status: 'approved',
    approvers: ['ops'],
  });
  bus.emit('alert.raised', {
    at: T0,
    alertId: 'x',
    kind: 'circuit_open',
    severity: 'critical',
    message: 'm',
    dedupKey: 'k',
    facts: {},
  });
}

describe('createMetrics', () => {
  it('records decisions, spend, hold latency, pending approvals and alerts through OpenTelemetry', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    providers.push(provider);
    const bus = new EventBus();
    running.push(createMetrics({ bus, meter: provider.getMeter('test') }));
    drive(bus);
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const points = (name: string) => all.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
    const value = (name: string, attrs: Record<string, string>) =>
      points(name).find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))?.value;

    expect(value('bursar.decisions', { outcome: 'allow' })).toBe(2);
    expect(value('bursar.decisions', { outcome: 'deny' })).toBe(1);
    expect(value('bursar.spend', { currency: 'USD', protocol: 'x402' })).toBe(7.5);
    expect(value('bursar.spend', { currency: 'USDC', protocol: 'x402' })).toBe(0.25);
    expect(points('bursar.spend')).toHaveLength(2);
    expect(value('bursar.approvals.pending', {})).toBe(1);
    expect(value('bursar.alerts', { kind: 'circuit_open', severity: 'critical' })).toBe(1);
    const latency = points('bursar.hold.duration') as DataPoint<Histogram>[];
    const byResult = Object.fromEntries(latency.map((p) => [p.attributes.result, p.value]));
    expect(byResult.captured).toMatchObject({ count: 1, sum: 250 });
    expect(byResult.released).toMatchObject({ count: 1, sum: 1000 });
  });

  it('fills a prom-client registry for users who scrape', async () => {
    const registry = new Registry();
    const bus = new EventBus();
    running.push(createMetrics({ bus, otel: false, prometheus: prometheusRecorder({ registry }) }));
    drive(bus);
    // Registering twice reuses the metrics instead of throwing.
    expect(() => prometheusRecorder({ registry })).not.toThrow();
    const json = await registry.getMetricsAsJSON();
    const metric = (name: string) => json.find((m) => m.name === name)!;
    const value = (name: string, labels: Record<string, string>) =>
      metric(name).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    expect(value('bursar_decisions_total', { outcome: 'allow' })).toBe(2);
    expect(value('bursar_spend_total', { currency: 'USD', protocol: 'x402' })).toBe(7.5);
    expect(value('bursar_approvals_pending', {})).toBe(1);
    const sum = metric('bursar_hold_duration_seconds').values.find(
      (v) =>
        (v as { metricName?: string }).metricName === 'bursar_hold_duration_seconds_sum' &&
        v.labels.result === 'captured',
    );
    expect(sum?.value).toBe(0.25);
    expect(value('bursar_alerts_total', { kind: 'circuit_open', severity: 'critical' })).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('bursar_decisions_total{outcome="deny"} 1');
  });

  it('stops measuring after close() and survives a failing recorder', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const errors: unknown[] = [];
    const m = createMetrics({
      bus,
      otel: false,
      onError: (e) => errors.push(e),
      recorders: [
        {
          decision: (o) => {
            seen.push(o);
            throw new Error('recorder down');
          },
          spend: () => {},
          holdLatency: () => {},
          approvalsPending: () => {},
          alert: () => {},
        },
      ],
    });
    bus.emit('decision.made', decision(T0, 'flag'));
    m.close();
    bus.emit('decision.made', decision(T0, 'deny'));
    expect(seen).toEqual(['flag']);
    expect(errors).toHaveLength(1);
  });

  it('validates its options', () => {
    expect(() => createMetrics({} as never)).toThrow(/bus/);
  });
});
