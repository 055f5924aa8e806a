import { generateKeyPairSync } from 'node:crypto';
import {
  type AuditRecord,
  type Decision,
  ErrorCode,
  EventBus,
  ManualClock,
  MemoryAuditStore,
} from '@bursar/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keys, T0 } from '../__fixtures__/logs.js';
import { SlowSharedStore, TamperableAuditStore } from '../__fixtures__/stores.js';
import { GENESIS_HASH, recordHash } from '../chain/record-hash.js';
import { FrozenMemoryAuditStore } from '../stores/frozen-memory-audit-store.js';
import { ProvenanceLog } from './provenance-log.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const code = (c: string) => expect.objectContaining({ code: c });

describe('ProvenanceLog: append', () => {
  it('hash-links records from the genesis hash and hands out frozen records', async () => {
    const clock = new ManualClock(T0);
    const log = new ProvenanceLog({ clock });
    const a = await log.append('note', { agentId: 'bot', text: 'first' });
    clock.advance(5);
    const b = await log.append('note', { agentId: 'bot', text: 'second', n: 10n });
    expect(a).toEqual({
      seq: 1,
      at: T0,
      type: 'note',
      data: { agentId: 'bot', text: 'first' },
      prevHash: GENESIS_HASH,
      hash: recordHash({
        seq: 1,
        at: T0,
        type: 'note',
        data: { agentId: 'bot', text: 'first' },
        prevHash: GENESIS_HASH,
      }),
    });
    expect(b).toMatchObject({ seq: 2, at: T0 + 5, prevHash: a.hash, data: { n: '10' } });
    const [first] = await log.records();
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first!.data)).toBe(true);
    expect(() => {
      (first as { hash: string }).hash = 'forged';
    }).toThrow(TypeError);
    expect(() => {
      (first!.data as { text: string }).text = 'forged';
    }).toThrow(TypeError);
    expect((await log.records())[0]).toMatchObject({ hash: a.hash, data: { text: 'first' } });
    expect(await log.verify()).toMatchObject({ ok: true, records: 2, head: { seq: 2, hash: b.hash } });
  });

  it('copies data at call time', async () => {
    const log = new ProvenanceLog({ clock: new ManualClock(T0) });
    const data = { agentId: 'bot', tags: ['a'] };
    const pending = log.append('note', data);
    data.tags.push('b');
    data.agentId = 'mallory';
    expect((await pending).data).toEqual({ agentId: 'bot', tags: ['a'] });
  });

  it('rejects bad input with a typed error and appends nothing', async () => {
    const log = new ProvenanceLog({ clock: new ManualClock(T0) });
    await expect(log.append('checkpoint', {})).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    await expect(log.append('', {})).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    await expect(log.append('note', [] as never)).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    await expect(log.append('note', { x: Number.NaN })).rejects.toThrow(code(ErrorCode.NOT_CANONICAL));
    await expect(log.append('note', { f: () => 1 })).rejects.toThrow(code(ErrorCode.NOT_CANONICAL));
    expect(await log.records()).toHaveLength(0);
    const broken = new ProvenanceLog({ clock: { now: () => Number.NaN } });
    await expect(broken.append('note', {})).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
  });

  it('serialises concurrent appends in call order, on sync and async stores', async () => {
    for (const store of [new FrozenMemoryAuditStore(), new SlowSharedStore(), new MemoryAuditStore()]) {
      const log = new ProvenanceLog({ clock: new ManualClock(T0), store });
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => log.append('note', { i })));
      expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(results.map((r) => r.data.i)).toEqual(Array.from({ length: 60 }, (_, i) => i));
      expect(await log.verify()).toMatchObject({ ok: true, records: 60 });
    }
  });

  it('shares a store with another writer: re-reads the head on conflict and retries', async () => {
    const store = new SlowSharedStore();
    const a = new ProvenanceLog({ clock: new ManualClock(T0), store });
    const b = new ProvenanceLog({ clock: new ManualClock(T0), store });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => [
        a.append('note', { writer: 'a', i, intentId: `int_${i}` }),
        b.append('note', { writer: 'b', i, intentId: `int_${i}` }),
      ]).flat(),
    );
    expect(store.conflicts).toBeGreaterThan(0);
    const all = await store.read();
    expect(all).toHaveLength(40);
    expect(await a.verify()).toMatchObject({ ok: true, records: 40 });
    // Each writer learned the other's records while catching up: one payment, both writers.
    await b.sync();
    expect((await b.chain('int_3')).map((r) => r.data.writer).sort()).toEqual(['a', 'b']);
  });

  it('shares an in-memory store with another log in the same process', async () => {
    const store = new FrozenMemoryAuditStore();
    const a = new ProvenanceLog({ clock: new ManualClock(T0), store });
    const b = new ProvenanceLog({ clock: new ManualClock(T0), store });
    for (let i = 0; i < 5; i++) {
      await a.append('note', { writer: 'a', i });
      await b.append('note', { writer: 'b', i });
    }
    expect((await store.read()).map((r) => `${r.data.writer}${r.data.i}`)).toEqual([
      'a0',
      'b0',
      'a1',
      'b1',
      'a2',
      'b2',
      'a3',
      'b3',
      'a4',
      'b4',
    ]);
    expect(await b.verify()).toMatchObject({ ok: true, records: 10 });
  });

  it('gives up after maxAppendRetries conflicts', async () => {
    const store = new MemoryAuditStore();
    const log = new ProvenanceLog({ clock: new ManualClock(T0), store, maxAppendRetries: 0 });
    await log.append('note', {});
    // Someone else appends behind the log's back.
    const head = (await store.head())!;
    const body = { seq: 2, at: T0, type: 'note', data: {}, prevHash: head.hash };
    await store.append({ ...body, hash: recordHash(body) });
    await expect(log.append('note', {})).rejects.toThrow(code(ErrorCode.CONFLICT));
    const patient = new ProvenanceLog({ clock: new ManualClock(T0), store });
    expect(await patient.append('note', {})).toMatchObject({ seq: 3 });
  });

  it('continues an existing log and indexes what it finds', async () => {
    const store = new MemoryAuditStore();
    const first = new ProvenanceLog({ clock: new ManualClock(T0), store });
    await first.append('intent.received', { agentId: 'bot', intentId: 'int_1' });
    const second = new ProvenanceLog({ clock: new ManualClock(T0 + 10), store });
    expect(await second.append('payment.settled', { agentId: 'bot', intentId: 'int_1' })).toMatchObject({
      seq: 2,
    });
    expect((await second.chain('int_1')).map((r) => r.type)).toEqual(['intent.received', 'payment.settled']);
  });

  it('validates options', () => {
    expect(() => new ProvenanceLog({ bogus: 1 } as never)).toThrow(code(ErrorCode.INVALID_OPTIONS));
    expect(() => new ProvenanceLog({ store: {} as never })).toThrow(code(ErrorCode.INVALID_OPTIONS));
    expect(() => new ProvenanceLog({ checkpointEvery: 10 })).toThrow(code(ErrorCode.INVALID_OPTIONS));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => new ProvenanceLog({ signer: { privateKey: rsa.privateKey } })).toThrow(
      code(ErrorCode.INVALID_OPTIONS),
    );
    expect(() => new ProvenanceLog({ signer: { privateKey: 'not a pem' } })).toThrow(
      code(ErrorCode.INVALID_OPTIONS),
    );
  });
});

describe('ProvenanceLog: checkpoints', () => {
  it('signs every N records and on demand, and publishes each', async () => {
    const published: unknown[] = [];
    const log = new ProvenanceLog({
      clock: new ManualClock(T0),
      signer: { privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, keyId: 'k1' },
      checkpointEvery: 3,
      onCheckpoint: (cp) => {
        published.push(cp);
      },
    });
    for (let i = 0; i < 7; i++) await log.append('note', { i });
    const onDemand = await log.checkpoint();
    const records = await log.records();
    expect(records.map((r) => r.type)).toEqual([
      'note',
      'note',
      'note',
      'checkpoint',
      'note',
      'note',
      'note',
      'checkpoint',
      'note',
      'checkpoint',
    ]);
    expect(onDemand).toMatchObject({ seq: 9, hash: records[8]!.hash, keyId: 'k1', alg: 'Ed25519' });
    expect(published).toEqual(log.checkpoints());
    expect(log.checkpoints().map((c) => c.seq)).toEqual([3, 7, 9]);
    expect(records[3]!.data).toEqual(log.checkpoints()[0]);
    expect(await log.verify()).toMatchObject({
      ok: true,
      records: 10,
      checkpoints: 3,
      signatures: 'verified',
      anchorsChecked: 4,
    });
    expect(log.keyId).toBe('k1');
  });

  it('needs a signer and something to sign', async () => {
    await expect(new ProvenanceLog().checkpoint()).rejects.toThrow(code(ErrorCode.INVALID_OPTIONS));
    const log = new ProvenanceLog({ signer: { privateKey: keys.privateKey }, checkpointEvery: 0 });
    await expect(log.checkpoint()).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
  });

  it('reports a failing publication hook without failing the append', async () => {
    const errors: unknown[] = [];
    const log = new ProvenanceLog({
      clock: new ManualClock(T0),
      signer: { privateKey: keys.privateKey },
      checkpointEvery: 1,
      onCheckpoint: async () => {
        throw new Error('anchor service down');
      },
      onError: (error, context) => errors.push([context.operation, (error as Error).message]),
    });
    expect(await log.append('note', {})).toMatchObject({ seq: 1 });
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual([['publish', 'anchor service down']]);
    expect(await log.records()).toHaveLength(2);
  });
});

describe('ProvenanceLog: verify against its store', () => {
  it('finds edits made in the store behind its back, and truncation of what it wrote', async () => {
    const store = new TamperableAuditStore();
    const log = new ProvenanceLog({
      clock: new ManualClock(T0),
      store,
      signer: { privateKey: keys.privateKey },
      checkpointEvery: 4,
    });
    for (let i = 0; i < 10; i++) await log.append('payment.settled', { agentId: 'bot', amount: `${i}.00` });
    expect(await log.verify()).toMatchObject({ ok: true, records: 12 });

    const original = store.records[4]!;
    store.records[4] = { ...original, data: { ...original.data, amount: '2400.00' } };
    expect(await log.verify()).toMatchObject({ ok: false, seq: 5, reason: 'edited' });
    store.records[4] = original;

    store.records = store.records.slice(0, 11);
    expect(await log.verify()).toMatchObject({ ok: false, seq: 12, reason: 'truncated' });
    // A fresh reader with no published checkpoint cannot tell (the documented limit).
    const stranger = new ProvenanceLog({ store });
    expect(await stranger.verify()).toMatchObject({ ok: true, records: 11 });
    expect(
      await stranger.verify({ checkpoints: log.checkpoints(), publicKey: keys.publicKey }),
    ).toMatchObject({
      ok: true,
    });
    store.records = store.records.slice(0, 7);
    expect(await stranger.verify({ checkpoints: log.checkpoints() })).toMatchObject({
      ok: false,
      reason: 'truncated',
      seq: 8,
    });
    expect(await log.verify({ trustLocal: false })).toMatchObject({ ok: true, records: 7 });
  });
});

function decision(overrides: Partial<Decision> = {}): Decision {
  return {
    outcome: 'require_approval',
    reasons: [
      {
        code: 'approval_required',
        message: 'over 100 USDC needs approval',
        outcome: 'require_approval',
        source: 'rule',
        ruleId: 'approve-above-100',
        policyId: 'production',
      },
    ],
    policies: [{ id: 'production', version: '3', hash: 'a'.repeat(64) }],
    intentId: 'int_1',
    intentHash: 'b'.repeat(64),
    agentId: 'research-bot',
    evaluatedAt: T0,
    holdId: 'hold_1',
    approvalId: 'apr_1',
    ...overrides,
  };
}

describe('ProvenanceLog: events and queries', () => {
  function setup() {
    const clock = new ManualClock(T0);
    const bus = new EventBus();
    const errors: unknown[] = [];
    const log = new ProvenanceLog({ clock, onError: (e, ctx) => errors.push({ e, ctx }) });
    const detach = log.attach(bus);
    const facts = {
      agentId: 'research-bot',
      intentId: 'int_1',
      amount: '2400.00',
      currency: 'USDC',
      recipient: 'https://api.example.com/v1/chat',
      protocol: 'x402',
    };
    const step = (ms: number) => clock.advance(ms);
    return { clock, bus, log, detach, errors, facts, step };
  }

  async function settle() {
    await new Promise((r) => setImmediate(r));
  }

  it('turns one payment’s lifecycle into one chain, findable by any of its ids', async () => {
    const { bus, log, facts, step } = setup();
    bus.emit('intent.received', { at: T0, ...facts });
    step(10);
    bus.emit('decision.made', { at: T0 + 10, ...facts, decision: decision() });
    bus.emit('hold.placed', { at: T0 + 10, ...facts, holdId: 'hold_1' });
    bus.emit('approval.requested', {
      at: T0 + 10,
      ...facts,
      approvalId: 'apr_1',
      expiresAt: T0 + 60_000,
      reasons: [],
    });
    step(90_000);
    bus.emit('approval.resolved', {
      at: T0 + 90_010,
      agentId: 'research-bot',
      approvalId: 'apr_1',
      status: 'approved',
      approvers: ['alice@example.com'],
      channel: 'slack',
      reason: 'expected invoice',
      finalOutcome: 'allow',
    });
    step(500);
    bus.emit('payment.settled', {
      at: T0 + 90_510,
      agentId: 'research-bot',
      holdId: 'hold_1',
      amount: '2400.00',
      currency: 'USDC',
      transaction: '0xabc',
      source: 'facilitator',
    });
    bus.emit('hold.captured', {
      at: T0 + 90_510,
      agentId: 'research-bot',
      holdId: 'hold_1',
      captured: '2400.00',
    });
    bus.emit('alert.raised', {
      at: T0,
      alertId: 'al_1',
      kind: 'large',
      severity: 'info',
      message: 'x',
      dedupKey: 'd',
      facts: {},
    });
    await settle();

    const chain = await log.chain('int_1');
    expect(chain.map((r) => r.type)).toEqual([
      'intent.received',
      'decision.made',
      'hold.placed',
      'approval.requested',
      'approval.resolved',
      'payment.settled',
      'hold.captured',
    ]);
    expect(await log.chain('hold_1')).toEqual(chain);
    expect(await log.chain('apr_1')).toEqual(chain);
    expect(chain[1]!.data).toMatchObject({
      outcome: 'require_approval',
      policies: [{ id: 'production', version: '3', hash: 'a'.repeat(64) }],
      reasons: [expect.objectContaining({ ruleId: 'approve-above-100' })],
      holdId: 'hold_1',
      approvalId: 'apr_1',
      eventAt: T0 + 10,
      durationMs: 10,
    });
    expect(chain[4]!.data).toMatchObject({
      approvers: ['alice@example.com'],
      channel: 'slack',
      durationMs: 90_010,
    });
    expect(chain[5]!.data).toMatchObject({ source: 'facilitator', transaction: '0xabc', durationMs: 90_510 });
    expect(Object.isFrozen(chain)).toBe(true);
    expect(await log.completeness('hold_1')).toMatchObject({
      paymentId: 'int_1',
      status: 'settled',
      missing: [],
      anomalies: [],
      complete: true,
    });
    expect(await log.verify()).toMatchObject({ ok: true, records: 7 });
  });

  it('answers: which payments did an agent make in a range, and what did an approver approve', async () => {
    const { bus, log, step } = setup();
    for (let i = 0; i < 5; i++) {
      bus.emit('intent.received', {
        at: 0,
        agentId: i % 2 ? 'bot-b' : 'bot-a',
        intentId: `int_${i}`,
        amount: '1.00',
        currency: 'USDC',
      });
      bus.emit('approval.resolved', {
        at: 0,
        agentId: 'bot-a',
        intentId: `int_${i}`,
        approvalId: `apr_${i}`,
        status: 'approved',
        approvers: i === 3 ? ['bob'] : ['alice', 'bob'],
      });
      step(1000);
    }
    await settle();
    const payments = await log.agentPayments({ agentId: 'bot-a', from: T0 + 1000, to: T0 + 4000 });
    expect(payments.map((p) => p.paymentId)).toEqual(['int_1', 'int_2', 'int_3']);
    expect(payments[0]!.records.map((r) => r.type)).toEqual(['intent.received', 'approval.resolved']);
    expect((await log.agentRecords({ agentId: 'bot-b' })).map((r) => r.data.intentId)).toEqual([
      'int_1',
      'int_3',
    ]);
    expect((await log.approvalsBy({ approver: 'alice' })).map((r) => r.data.approvalId)).toEqual([
      'apr_0',
      'apr_1',
      'apr_2',
      'apr_4',
    ]);
    expect(await log.approvalsBy({ approver: 'bob', from: T0 + 3000, to: T0 + 3001 })).toHaveLength(1);
    expect(await log.agentPayments({ agentId: 'nobody' })).toEqual([]);
  });

  it('keeps the agent index in time order when the clock steps back', async () => {
    const { clock, log } = setup();
    await log.append('note', { agentId: 'bot', n: 1 });
    clock.set(T0 - 5000);
    await log.append('note', { agentId: 'bot', n: 2 });
    clock.set(T0 + 5000);
    await log.append('note', { agentId: 'bot', n: 3 });
    expect((await log.agentRecords({ agentId: 'bot' })).map((r) => r.data.n)).toEqual([2, 1, 3]);
    expect(
      (await log.agentRecords({ agentId: 'bot', from: T0 - 1, to: T0 + 1 })).map((r) => r.data.n),
    ).toEqual([1]);
  });

  it('flags a payment that settled without a decision', async () => {
    const { bus, log } = setup();
    bus.emit('intent.received', { at: T0, agentId: 'bot', intentId: 'int_9' });
    bus.emit('payment.settled', {
      at: T0,
      agentId: 'bot',
      intentId: 'int_9',
      amount: '5.00',
      currency: 'USDC',
    });
    await settle();
    expect(await log.completeness('int_9')).toMatchObject({
      status: 'settled',
      missing: ['decision'],
      complete: false,
    });
  });

  it('never throws into the bus: failures go to onError, or to listener.error', async () => {
    const { bus, log, errors, facts } = setup();
    expect(() =>
      bus.emit('intent.received', { at: T0, ...facts, amount: Number.NaN as never }),
    ).not.toThrow();
    bus.emit('intent.received', { at: T0, ...facts, intentId: 'int_ok' });
    await settle();
    expect(errors).toEqual([
      {
        e: expect.objectContaining({ code: ErrorCode.NOT_CANONICAL }),
        ctx: { operation: 'event', event: 'intent.received' },
      },
    ]);
    expect((await log.records()).map((r) => r.data.intentId)).toEqual(['int_ok']);

    const bus2 = new EventBus();
    const seen: unknown[] = [];
    bus2.on('listener.error', (e) => {
      seen.push(e);
    });
    const quiet = new ProvenanceLog({ clock: new ManualClock(T0) });
    quiet.attach(bus2);
    // A misbehaving emitter: a symbol is not JSON data.
    bus2.emit('payment.failed', { at: T0, agentId: 'bot', reason: Symbol('s') as never });
    await settle();
    expect(seen).toEqual([
      { event: 'payment.failed', error: expect.objectContaining({ code: ErrorCode.NOT_CANONICAL }) },
    ]);
    expect(await quiet.records()).toHaveLength(0);
  });

  it('stops recording once detached, and records only the chosen events', async () => {
    const { bus, log, detach } = setup();
    bus.emit('control.changed', { at: T0, kind: 'kill_switch', actor: 'ops@example.com', target: 'bot' });
    detach();
    bus.emit('intent.received', { at: T0, agentId: 'bot', intentId: 'int_x' });
    const only = log.attach(bus, { events: ['payment.settled'] });
    bus.emit('intent.received', { at: T0, agentId: 'bot', intentId: 'int_y' });
    bus.emit('payment.settled', { at: T0, agentId: 'bot', intentId: 'int_y', amount: '1', currency: 'USDC' });
    only();
    await settle();
    expect((await log.records()).map((r) => r.type)).toEqual(['control.changed', 'payment.settled']);
  });

  it('keeps records appended while a slow store is busy in order with event records', async () => {
    const store = new SlowSharedStore();
    const bus = new EventBus();
    const log = new ProvenanceLog({ clock: new ManualClock(T0), store });
    log.attach(bus);
    const manual = log.append('note', { intentId: 'int_1', agentId: 'bot' });
    bus.emit('intent.received', { at: T0, agentId: 'bot', intentId: 'int_1' });
    await manual;
    await log.head();
    expect((await log.chain('int_1')).map((r) => r.type)).toEqual(['note', 'intent.received']);
    expect(await log.verify()).toMatchObject({ ok: true, records: 2 });
  });
});

describe('FrozenMemoryAuditStore', () => {
  it('copies records it did not build itself', async () => {
    const store = new FrozenMemoryAuditStore();
    const body = { seq: 1, at: T0, type: 'note', data: { x: 1 }, prevHash: GENESIS_HASH };
    const record: AuditRecord = { ...body, hash: recordHash(body) };
    await store.append(record);
    (record.data as { x: number }).x = 2;
    expect((await store.read())[0]!.data).toEqual({ x: 1 });
    expect(store.size).toBe(1);
  });
});
