/**
 * Provenance costs: append p99 in memory (target ≤ 5 µs), verification of a 1,000,000-record
 * log (target ≤ 5 s), and, for scale, the JSONL file store and an offline file verification.
 *
 * Run: pnpm --filter @bursar/protect bench
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, ManualClock } from '@bursar/core';
import { bench } from '@bursar/core/bench';
import { exportJsonl, JsonlFileAuditStore, ProvenanceLog, verifyJsonlFile } from '../src/index.js';

const { privateKey } = generateKeyPairSync('ed25519');
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** The records one payment leaves: intent, decision, hold, settlement, capture. */
const STAGES = [
  'intent.received',
  'decision.made',
  'hold.placed',
  'payment.settled',
  'hold.captured',
] as const;
const typeOf = (i: number) => STAGES[i % STAGES.length]!;
const POLICY_HASH = 'a'.repeat(64);
const RECIPIENT = 'https://api.example.com/v1/chat';

/** Record data as an integration passes it (object literals: spreading would time V8, not Bursar). */
function data(i: number): Record<string, unknown> {
  const payment = Math.floor(i / STAGES.length);
  const agentId = `agent-${payment % 50}`;
  const intentId = `int_${payment}`;
  if (i % STAGES.length === 1) {
    return {
      agentId,
      intentId,
      amount: '25.000000',
      currency: 'USDC',
      recipient: RECIPIENT,
      outcome: 'allow',
      reasons: [
        { code: 'allowed', message: 'allowAll', outcome: 'allow', source: 'rule', ruleId: 'allow-all' },
      ],
      policies: [{ id: 'production', version: '1', hash: POLICY_HASH }],
    };
  }
  return { agentId, intentId, amount: '25.000000', currency: 'USDC', recipient: RECIPIENT };
}

function flat(i: number): Record<string, unknown> {
  return {
    agentId: `agent-${i % 50}`,
    intentId: `int_${i >> 2}`,
    amount: '25.000000',
    currency: 'USDC',
    recipient: RECIPIENT,
  };
}

function settled(i: number) {
  return {
    at: T0 + i,
    agentId: `agent-${i % 50}`,
    intentId: `int_${i}`,
    amount: '25.000000',
    currency: 'USDC',
    recipient: RECIPIENT,
    source: 'facilitator',
  };
}

/** One BENCH line for a single timed run (p50 = p99 = the total). */
function once(name: string, items: number, ms: number): void {
  const ns = Math.round(ms * 1e6);
  console.log(
    `BENCH ${JSON.stringify({ name, iterations: 1, opsPerSec: Math.round(items / (ms / 1000)), p50: ns, p99: ns, mean: ns })}`,
  );
}

// 1. Append in memory, signed checkpoints every 1000 records included: first flat records
//    (intent, hold, settlement), then the full lifecycle mix where one record in five is a
//    decision carrying its reasons and policy references.
{
  const clock = new ManualClock(T0);
  const log = new ProvenanceLog({ clock, signer: { privateKey }, checkpointEvery: 1000 });
  await bench(
    'provenance append, flat records (memory, p99 target ≤ 5 µs)',
    (i) => log.append('payment.settled', flat(i)),
    {
      iterations: 100_000,
      warmup: 20_000,
    },
  );
}
{
  const clock = new ManualClock(T0);
  const log = new ProvenanceLog({ clock, signer: { privateKey }, checkpointEvery: 1000 });
  await bench(
    'provenance append, lifecycle mix with decisions (memory)',
    (i) => log.append(typeOf(i), data(i)),
    {
      iterations: 100_000,
      warmup: 20_000,
    },
  );
}

// 1b. The same through the event bus (attach → onAny → record), for scale.
{
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const log = new ProvenanceLog({ clock, signer: { privateKey }, checkpointEvery: 1000 });
  log.attach(bus);
  await bench('provenance record from a bus event (memory)', (i) => bus.emit('payment.settled', settled(i)), {
    iterations: 50_000,
    warmup: 10_000,
  });
}

// 2. Verify a 1,000,000-record log (1,000 Ed25519 checkpoint signatures among them).
{
  const clock = new ManualClock(T0);
  const log = new ProvenanceLog({ clock, signer: { privateKey }, checkpointEvery: 1000 });
  // 999,001 records + a checkpoint after every 1,000 of them = 1,000,000 records.
  for (let i = 0; i < 999_001; i++) {
    clock.advance(1);
    await log.append(typeOf(i), data(i));
  }
  const head = (await log.head())!;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await log.verify();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!result.ok || result.records !== head.seq || head.seq !== 1_000_000)
    throw new Error(`verify failed: ${JSON.stringify(result)}`);
  console.log(
    `verify of ${result.records.toLocaleString('en-US')} records (${result.checkpoints} signed checkpoints): ${(ms / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (target ≤ 5 s)`,
  );
  once(`verify 1M records, total ${(ms / 1000).toFixed(2)} s (target ≤ 5 s)`, result.records, ms);
}

// 3. For scale: the JSONL file store (fsync never / always) and an offline verification of an export.
{
  const dir = await mkdtemp(join(tmpdir(), 'bursar-protect-bench-'));
  try {
    for (const fsync of ['never', 'always'] as const) {
      const store = new JsonlFileAuditStore({ path: join(dir, `store-${fsync}.jsonl`), fsync });
      const log = new ProvenanceLog({ store, clock: new ManualClock(T0) });
      await bench(`provenance append (JSONL file, fsync ${fsync})`, (i) => log.append(typeOf(i), data(i)), {
        iterations: fsync === 'always' ? 2_000 : 20_000,
        warmup: fsync === 'always' ? 200 : 2_000,
      });
      await store.close();
    }
    const clock = new ManualClock(T0);
    const log = new ProvenanceLog({ clock, signer: { privateKey }, checkpointEvery: 1000 });
    for (let i = 0; i < 100_000; i++) {
      clock.advance(1);
      await log.append(typeOf(i), data(i));
    }
    const path = join(dir, 'export.jsonl');
    let t0 = performance.now();
    const exported = await exportJsonl({ from: log, to: path });
    once('export 100k records to JSONL', exported.records, performance.now() - t0);
    t0 = performance.now();
    const checked = await verifyJsonlFile({ path, publicKey: log.publicKey! });
    if (!checked.ok) throw new Error(`file verify failed: ${JSON.stringify(checked)}`);
    once('verify a 100k-record export file offline', checked.records, performance.now() - t0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
