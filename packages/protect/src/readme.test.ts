import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus, Money } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  DisputeManager,
  exportJsonl,
  ProvenanceLog,
  type RecoveryAction,
  RecoveryManager,
  RefundBook,
  verifyJsonlFile,
} from './index.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('README examples', () => {
  it('quick start', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bursar-readme-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const published: Checkpoint[] = [];
    const log = new ProvenanceLog({
      signer: { privateKey, keyId: 'audit-2026' },
      checkpointEvery: 1000,
      onCheckpoint: (checkpoint) => {
        published.push(checkpoint);
      },
    });
    const bus = new EventBus();
    log.attach(bus);
    bus.emit('intent.received', {
      at: Date.now(),
      agentId: 'research-bot',
      intentId: 'int_1',
      amount: '2400.00',
      currency: 'USDC',
    });
    await log.append('note', { agentId: 'research-bot', intentId: 'int_1', text: 'reviewed by finance' });

    expect((await log.chain('int_1')).map((r) => r.type)).toEqual(['intent.received', 'note']);
    expect(await log.completeness('int_1')).toMatchObject({ status: 'in_progress', missing: [] });
    await log.checkpoint();
    expect(await log.verify()).toMatchObject({
      ok: true,
      records: 3,
      checkpoints: 1,
      signatures: 'verified',
    });

    const path = join(dir, 'audit-2026-01.jsonl');
    await exportJsonl({ from: log, to: path });
    expect(await verifyJsonlFile({ path, publicKey, checkpoints: published })).toMatchObject({
      ok: true,
      records: 3,
    });
  });

  it('disputes and recovery', async () => {
    const log = new ProvenanceLog();
    const bus = new EventBus();
    log.attach(bus);
    bus.emit('payment.settled', {
      at: Date.now(),
      agentId: 'research-bot',
      intentId: 'int_1',
      amount: '2400.00',
      currency: 'USDC',
    });
    bus.emit('payment.settled', {
      at: Date.now(),
      agentId: 'research-bot',
      intentId: 'int_7',
      amount: '25.00',
      currency: 'USDC',
    });
    const refunds: RecoveryAction[] = [];
    const rail = {
      refund: async (action: RecoveryAction) => {
        refunds.push(action);
        return `re_${refunds.length}`;
      },
    };

    const disputes = new DisputeManager({ provenance: log });
    const d = await disputes.open({
      payment: { paymentId: 'int_1', amount: Money.parse('2400', 'USDC') },
      amount: Money.parse('400', 'USDC'),
      reason: 'two of ten reports were never delivered',
    });
    await disputes.addEvidence(d.id, { kind: 'note', description: 'seller logs show timeouts' });
    const resolved = await disputes.resolve(d.id, {
      resolution: 'partially_refunded',
      refundAmount: Money.parse('250', 'USDC'),
      resolvedBy: 'finance@example.com',
    });

    const recovery = new RecoveryManager({
      executor: async (action) => ({ reference: await rail.refund(action) }),
      maxAttempts: 5,
      backoff: { initialMs: 500, factor: 2, maxMs: 30_000 },
      provenance: log,
      refunds: disputes.refunds,
    });
    await recovery.recoverUndelivered({ paymentId: 'int_7', amount: Money.parse('25', 'USDC') });
    const r = await recovery.recoverDispute(resolved);
    expect(r.status).toBe('succeeded');
    expect(refunds.map((a) => [a.paymentId, a.amount.format()])).toEqual([
      ['int_7', '25.00 USDC'],
      ['int_1', '250.00 USDC'],
    ]);
    expect(disputes.refunds.get('int_1')?.remaining.format()).toBe('2150.00 USDC');
    // The undelivered refund took all of int_7: nothing more can be refunded or credited.
    await expect(
      recovery.recoverUndelivered({ paymentId: 'int_7', amount: Money.parse('1', 'USDC'), kind: 'credit' }),
    ).rejects.toMatchObject({ code: 'ERR_BURSAR_REFUND_EXCEEDS_SETTLED' });
  });

  it('refund book', async () => {
    const log = new ProvenanceLog();
    await log.append('payment.settled', { intentId: 'int_1', amount: '2400.00', currency: 'USDC' });
    const executor = async () => ({ reference: 're_1' });
    const refunds = new RefundBook({ provenance: log });
    const disputes = new DisputeManager({ provenance: log, refunds });
    const recovery = new RecoveryManager({ executor, provenance: log, refunds });
    expect(disputes.refunds).toBe(refunds);
    expect(recovery.refunds).toBe(refunds);
    await disputes.open({
      payment: { paymentId: 'int_1', amount: Money.parse('2400', 'USDC') },
      amount: Money.parse('400', 'USDC'),
      reason: 'x',
    });
    expect(refunds.get('int_1')).toMatchObject({ openDispute: expect.any(String) });
    expect(refunds.get('int_1')?.remaining.format()).toBe('2400.00 USDC');
  });
});
