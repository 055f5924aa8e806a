import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type Decision, EventBus, ManualClock } from '@bursar/core';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keys, T0 } from '../__fixtures__/logs.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { FrozenMemoryAuditStore } from '../stores/frozen-memory-audit-store.js';
import { exportJsonl } from './export-jsonl.js';
import { formatExportLine, toExportRow } from './export-row.js';
import { verifyJsonlFile } from './verify-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bursar-export-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A log with one approved 2,400 USDC payment and a few small ones, checkpointed every 4 records. */
async function paymentLog() {
  const clock = new ManualClock(T0);
  const bus = new EventBus();
  const log = new ProvenanceLog({ clock, signer: { privateKey: keys.privateKey }, checkpointEvery: 4 });
  log.attach(bus);
  const facts = {
    agentId: 'research-bot',
    intentId: 'int_big',
    amount: '2400.00',
    currency: 'USDC',
    recipient: 'https://api.example.com',
  };
  const decision: Decision = {
    outcome: 'require_approval',
    reasons: [
      {
        code: 'approval_required',
        message: 'over 100 USDC',
        outcome: 'require_approval',
        source: 'rule',
        ruleId: 'approve-above-100',
      },
    ],
    policies: [{ id: 'production', version: '1', hash: 'c'.repeat(64) }],
    intentId: 'int_big',
    intentHash: 'd'.repeat(64),
    agentId: 'research-bot',
    evaluatedAt: T0,
    approvalId: 'apr_big',
  };
  bus.emit('intent.received', { at: clock.now(), ...facts });
  clock.advance(15);
  bus.emit('decision.made', { at: clock.now(), ...facts, decision });
  clock.advance(60_000);
  bus.emit('approval.resolved', {
    at: clock.now(),
    ...facts,
    approvalId: 'apr_big',
    status: 'approved',
    approvers: ['alice@example.com'],
    channel: 'slack',
    reason: 'invoice 42',
  });
  clock.advance(800);
  bus.emit('payment.settled', { at: clock.now(), ...facts, transaction: '0xfeed', source: 'facilitator' });
  for (let i = 0; i < 6; i++) {
    clock.advance(1000);
    bus.emit('intent.received', {
      at: clock.now(),
      agentId: 'bot-2',
      intentId: `int_${i}`,
      amount: '1.50',
      currency: 'USDC',
    });
  }
  await log.head();
  return log;
}

describe('exportJsonl', () => {
  it('writes one compliance row per record, with the full record, and the file verifies', async () => {
    const log = await paymentLog();
    const path = join(dir, 'audit.jsonl');
    const result = await exportJsonl({ from: log, to: path });
    expect(result).toMatchObject({ records: 12, checkpoints: 2, head: { seq: 12 } });
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    expect(result.bytes).toBe(Buffer.byteLength(`${lines.join('\n')}\n`));
    const decision = JSON.parse(lines[1]!);
    expect(decision).toMatchObject({
      seq: 2,
      time: '2026-01-05T12:00:00.015Z',
      event: 'decision.made',
      agent: 'research-bot',
      payment: 'int_big',
      amount: '2400.00',
      currency: 'USDC',
      recipient: 'https://api.example.com',
      decision: 'require_approval',
      rule: 'approve-above-100',
      reason: 'over 100 USDC',
      durationMs: 15,
      record: { seq: 2, type: 'decision.made' },
    });
    expect(decision.hash).toBe(decision.record.hash);
    expect(JSON.parse(lines[2]!)).toMatchObject({
      event: 'approval.resolved',
      decision: 'approved',
      approver: 'alice@example.com',
      channel: 'slack',
      reason: 'invoice 42',
      durationMs: 60_015,
    });
    expect(Object.keys(decision)).toEqual([
      'seq',
      'time',
      'event',
      'agent',
      'payment',
      'amount',
      'currency',
      'recipient',
      'decision',
      'rule',
      'reason',
      'durationMs',
      'prevHash',
      'hash',
      'record',
    ]);
    expect(
      await verifyJsonlFile({ path, publicKey: keys.publicKey, checkpoints: log.checkpoints() }),
    ).toMatchObject({
      ok: true,
      format: 'export',
      records: 12,
      checkpoints: 2,
      signatures: 'verified',
      anchorsChecked: 2,
    });
  });

  it('exports a store to a stream, with backpressure, leaving the stream open', async () => {
    const log = await paymentLog();
    const store = new FrozenMemoryAuditStore();
    for (const r of await log.records()) await store.append(r);
    const out = new PassThrough({ highWaterMark: 64 });
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const result = await exportJsonl({ from: store, to: out, pageSize: 3 });
    expect(out.writableEnded).toBe(false);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(result.records);
    expect(text.split('\n')[0]).toBe(formatExportLine((await store.read({ limit: 1 }))[0]!));
  });

  it('rejects bad arguments', async () => {
    await expect(exportJsonl({ from: {} as never, to: join(dir, 'x') })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }),
    );
    await expect(exportJsonl({ from: new ProvenanceLog(), to: 42 as never })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }),
    );
  });
});

describe('verifyJsonlFile', () => {
  async function exported() {
    const log = await paymentLog();
    const path = join(dir, 'audit.jsonl');
    await exportJsonl({ from: log, to: path });
    return { log, path, text: await readFile(path, 'utf8') };
  }

  it('catches an edit to a flattened field even though the record is intact', async () => {
    const { path, text } = await exported();
    await writeFile(
      path,
      text.replace(
        '"amount":"2400.00","currency":"USDC","recipient"',
        '"amount":"24.00","currency":"USDC","recipient"',
      ),
    );
    expect(await verifyJsonlFile({ path })).toMatchObject({
      ok: false,
      line: 1,
      reason: 'edited',
      message: expect.stringContaining('compliance fields'),
    });
  });

  it('catches an edit to the record, a removed line and a cut-off last line', async () => {
    const { path, text } = await exported();
    const lines = text.trimEnd().split('\n');
    await writeFile(path, text.replace('"transaction":"0xfeed"', '"transaction":"0xbeef"'));
    expect(await verifyJsonlFile({ path })).toMatchObject({ ok: false, line: 4, reason: 'edited' });
    await writeFile(path, `${[...lines.slice(0, 5), ...lines.slice(6)].join('\n')}\n`);
    expect(await verifyJsonlFile({ path })).toMatchObject({ ok: false, line: 6, reason: 'deleted' });
    await writeFile(path, text.slice(0, text.length - 20));
    expect(await verifyJsonlFile({ path })).toMatchObject({ ok: false, line: 12, reason: 'malformed' });
    await writeFile(path, `${lines[0]}\n\n${lines.slice(1).join('\n')}\n`);
    expect(await verifyJsonlFile({ path })).toMatchObject({ ok: false, line: 2, reason: 'malformed' });
  });

  it('catches any single flipped byte (property)', async () => {
    const { path, text } = await exported();
    const bytes = Buffer.from(text, 'utf8');
    const lineOf = (offset: number) => bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bytes.length - 2 }),
        fc.integer({ min: 1, max: 255 }),
        async (offset, xor) => {
          const tampered = Buffer.from(bytes);
          tampered[offset]! ^= xor;
          await writeFile(path, tampered);
          const result = await verifyJsonlFile({ path, publicKey: keys.publicKey });
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.line).toBeLessThanOrEqual(lineOf(offset) + 1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('throws when the file cannot be read', async () => {
    await expect(verifyJsonlFile({ path: join(dir, 'missing.jsonl') })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }),
    );
  });

  it('accepts CRLF line endings and an empty file', async () => {
    const { path, text } = await exported();
    await writeFile(path, text.replace(/\n/g, '\r\n'));
    expect(await verifyJsonlFile({ path })).toMatchObject({ ok: true, records: 12 });
    await writeFile(path, '');
    expect(await verifyJsonlFile({ path })).toMatchObject({ ok: true, records: 0, format: 'empty' });
  });
});

describe('toExportRow', () => {
  it('leaves out what a record does not say and never reads outside it', () => {
    const row = toExportRow({
      seq: 7,
      at: 8.64e15 + 1,
      type: 'control.changed',
      data: { actor: 'ops', kind: 'kill_switch', reasons: 'not-an-array', durationMs: 'x' },
      prevHash: 'p',
      hash: 'h',
    });
    expect(row).toEqual({
      seq: 7,
      time: '8640000000000001',
      event: 'control.changed',
      approver: 'ops',
      prevHash: 'p',
      hash: 'h',
      record: expect.objectContaining({ seq: 7 }),
    });
  });
});
