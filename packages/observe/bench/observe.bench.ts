/**
 * Per-payment cost of record + alerts + anomaly at 1k, 100k and 1M recorded payments
 * (wall-clock p50 and p99, CPU time, bytes allocated), and memory after 1M payments across
 * 1,000 agents × 100 recipients.
 *
 * Run with `pnpm bench` (tsx --expose-gc, so heap figures are measured after a full GC).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GCProfiler } from 'node:v8';
import {
  type BudgetStatus,
  type BudgetStatusSource,
  EventBus,
  type HoldEvent,
  ManualClock,
  parseIntent,
} from '@bursar/core';
import { bench } from '@bursar/core/testing';
import { AnomalyDetector, callbackSink, SpendAlerts, SpendTracker } from '../src/index.js';

const AGENTS = 1000;
const RECIPIENTS = 100;
const STEP_MS = 500; // one payment every 0.5 s: 1M payments span ~5.8 days
const START = Date.parse('2026-03-02T00:00:00Z');

const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Bytes allocated on the JS heap while `run` runs: what the collections in between freed plus
 * the growth of the heap. Less sensitive to other processes than wall-clock time.
 */
async function allocated(run: () => Promise<unknown>): Promise<number> {
  const profiler = new GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  await run();
  const after = process.memoryUsage().heapUsed;
  let freed = 0;
  for (const gc of profiler.stop().statistics) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  }
  return freed + after - before;
}

/** Deterministic pseudo-random stream (xorshift32). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const agentIds = Array.from({ length: AGENTS }, (_, i) => `agent-${i}`);
const recipientIds = Array.from({ length: RECIPIENTS }, (_, i) => `https://api-${i}.example.com/v1`);

class InstantBudgets implements BudgetStatusSource {
  async getBudgetStatus(query?: { agentId?: string }): Promise<BudgetStatus[]> {
    return [
      {
        policyId: 'p',
        budgetId: 'daily',
        kind: 'amount',
        currency: 'USD',
        window: 'daily',
        scope: `agent:${query?.agentId}`,
        limit: '100000.00',
        spent: '10.00',
        held: '0.00',
        remaining: '99990.00',
      },
    ];
  }
}

function system(withAlerts: boolean) {
  const clock = new ManualClock(START);
  const bus = new EventBus();
  const tracker = new SpendTracker({ clock, bus });
  let detector: AnomalyDetector | undefined;
  let alerts: SpendAlerts | undefined;
  let sent = 0;
  if (withAlerts) {
    detector = new AnomalyDetector({ clock });
    detector.attach(tracker);
    alerts = new SpendAlerts({
      clock,
      bus,
      tracker,
      detector,
      budgets: new InstantBudgets(),
      rules: [
        { type: 'budget_threshold', percents: [80, 100] },
        { type: 'large_transaction', minAmount: { USD: '1000' } },
        { type: 'rate_spike', maxCount: 20, maxAmount: { USD: '2000' } },
        { type: 'new_recipient' },
        { type: 'anomaly' },
        { type: 'policy_violation' },
        { type: 'circuit_open' },
      ],
      sinks: [callbackSink(() => void sent++)],
    });
  }
  const next = rng(0x9e3779b9);
  let n = 0;
  const event = (): HoldEvent => {
    const r = next();
    n++;
    clock.set(START + n * STEP_MS);
    // One payment in a thousand is an outlier, so alert and anomaly paths run too.
    const outlier = r % 1000 === 7;
    const dollars = outlier ? 5000 : 50 + (r % 41);
    return {
      at: clock.now(),
      agentId: agentIds[(r >>> 8) % AGENTS]!,
      holdId: `hold_${n}`,
      captured: `${dollars}.${String((r >>> 20) % 100).padStart(2, '0')}`,
      currency: 'USD',
      recipient: recipientIds[(r >>> 18) % RECIPIENTS]!,
      protocol: 'x402',
    };
  };
  const pay = () => bus.emit('hold.captured', event());
  const close = async () => {
    await alerts?.flush();
    await alerts?.close();
    tracker.close();
  };
  return { clock, tracker, detector, alerts, pay, close, sent: () => sent };
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Fills a system with `count` payments, letting queued async work (budget reads) run as it goes. */
async function fill(s: ReturnType<typeof system>, count: number) {
  for (let i = 0; i < count; i++) {
    s.pay();
    if (i % 1000 === 999) await drain();
  }
  await drain();
}

// Memory is measured in child processes (same flags), each with a fresh heap, so nothing
// left over from another run can blur the figure.
const mode = process.argv[2];
if (mode === '--memory') {
  const withAlerts = process.argv[3] === 'full';
  const before = heap();
  let s: ReturnType<typeof system> | undefined = system(withAlerts);
  await fill(s, 1_000_000);
  const used = heap() - before;
  const st = s.tracker.stats();
  const d = s.detector?.stats();
  console.log(
    JSON.stringify({
      used,
      series: st.series,
      buckets: st.buckets,
      recent: st.recent,
      baselines: d?.baselines ?? 0,
    }),
  );
  await s.close();
  s = undefined;
  process.exit(0);
}
const measureMemory = (kind: 'tracker' | 'full') =>
  JSON.parse(
    execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--memory', kind], {
      encoding: 'utf8',
    }).trim(),
  ) as { used: number; series: number; buckets: number; recent: number; baselines: number };
const memory: string[] = [];
if (!gc) memory.push('note: run with --expose-gc for exact heap figures');
const trackerOnly = measureMemory('tracker');
const full = measureMemory('full');
memory.push(
  `memory after 1,000,000 payments across ${AGENTS} agents × ${RECIPIENTS} recipients, tracker only: ` +
    `${mb(trackerOnly.used)} for ${trackerOnly.series.toLocaleString('en-US')} series, ` +
    `${trackerOnly.buckets.toLocaleString('en-US')} buckets and ${trackerOnly.recent.toLocaleString('en-US')} recent payments ` +
    `= ${Math.round(trackerOnly.used / trackerOnly.series)} bytes per active series (buckets included), ` +
    `${Math.round(trackerOnly.used / trackerOnly.buckets)} bytes per bucket (series overhead included)`,
  `memory after 1,000,000 payments, tracker + detector + alerts: ${mb(full.used)} ` +
    `(detector baselines: ${full.baselines.toLocaleString('en-US')}; detector + alerts ≈ ${mb(full.used - trackerOnly.used)})`,
);

// Warm the JIT on a throwaway system so every level is measured with optimised code.
{
  const warm = system(true);
  await fill(warm, 30_000);
  await warm.close();
}

const results: Array<{ level: number; p99: number; p50: number; cpu: number; bytes: number }> = [];
for (const level of [1_000, 100_000, 1_000_000]) {
  const s = system(true);
  await fill(s, level);
  heap();
  const cpu0 = process.cpuUsage();
  let r: Awaited<ReturnType<typeof bench>> | undefined;
  const bytes = await allocated(async () => {
    r = await bench(
      `observe: record + alerts + anomaly per payment at ${level.toLocaleString('en-US')} recorded`,
      (i) => {
        s.pay();
        // Every 1,000th call also runs queued budget reads, so they are paid for, not deferred.
        if (i % 1000 === 999) return drain();
        return undefined;
      },
      { iterations: 20_000, warmup: 2_000 },
    );
  });
  const cpu = process.cpuUsage(cpu0);
  const calls = r!.iterations + 2_000;
  results.push({
    level,
    p99: r!.p99,
    p50: r!.p50,
    cpu: (cpu.user + cpu.system) / calls,
    bytes: bytes / calls,
  });
  if (level === 1_000_000) {
    const intent = parseIntent({
      agentId: agentIds[1]!,
      amount: '72.50',
      currency: 'USD',
      recipient: recipientIds[2]!,
      protocol: 'x402',
    });
    const detector = s.detector!;
    await bench(
      'observe: anomaly signals for an intent at 1,000,000 recorded',
      () => detector.signals(intent, { now: s.clock.now() }),
      { iterations: 100_000 },
    );
    console.log(`alerts sent during the run: ${s.sent()}`);
  }
  await s.close();
}
const base = results[0]!;
for (const r of results) {
  console.log(
    `p99 at ${r.level.toLocaleString('en-US')}: ${(r.p99 / 1000).toFixed(2)} µs (p50 ${(r.p50 / 1000).toFixed(2)} µs, ` +
      `${(r.p99 / base.p99).toFixed(2)}× the 1k p99; CPU time ${r.cpu.toFixed(2)} µs and ` +
      `${Math.round(r.bytes).toLocaleString('en-US')} bytes allocated per payment)`,
  );
}
for (const line of memory) console.log(line);
const load = loadavg()[0]!;
console.log(`load average during the run: ${load.toFixed(2)} on ${availableParallelism()} cores`);
