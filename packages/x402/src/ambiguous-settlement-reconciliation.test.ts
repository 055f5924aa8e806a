/**
 * Regression: a settle (or a buyer's payment) whose outcome is unknown must keep counting
 * against the budget until it is reconciled — however long that takes. The engine's holds
 * expire after `holdTtlMs`, so the guards capture the hold as soon as the outcome is unknown;
 * reconciling then records the outcome without capturing twice, and "not settled" leaves the
 * budget consumed (`budgetReturned: false`) instead of re-charging or silently returning it.
 *
 * End to end on the real libraries: `@x402/express` + `@x402/fetch`, an HTTP facilitator on
 * 127.0.0.1 whose settle answers too late (or never), and `@bursar/control`'s PolicyEngine.
 */
import { allowAll, dailyBudget, PolicyEngine } from '@bursar/control';
import { ManualClock } from '@bursar/core';
import { x402Client } from '@x402/core/client';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingFetch, eventually, type Flow, SELLER, startFlow } from './__fixtures__/x402-flow.js';
import { guardX402Client, type X402ClientGuard } from './buyer/index.js';
import { createX402Guard, type X402Guard } from './seller/index.js';
import { createTestScheme } from './testing/index.js';

const HOLD_TTL_MS = 60_000;

let flow: Flow | undefined;
afterEach(async () => {
  await flow?.close();
  flow = undefined;
});

function engineWith(clock: ManualClock, scope: 'agent' | 'global' = 'agent') {
  const engine = new PolicyEngine({ clock, holdTtlMs: HOLD_TTL_MS });
  engine.loadPolicy({ id: 'p', rules: [allowAll()], budgets: [dailyBudget(1, 'USDC', { scope })] });
  const counts = { captured: 0, released: 0, expired: 0, settled: [] as Array<Record<string, unknown>> };
  const failed: Array<Record<string, unknown>> = [];
  engine.events.on('hold.captured', () => {
    counts.captured++;
  });
  engine.events.on('hold.released', () => {
    counts.released++;
  });
  engine.events.on('hold.expired', () => {
    counts.expired++;
  });
  engine.events.on('payment.settled', (e) => {
    counts.settled.push(e as unknown as Record<string, unknown>);
  });
  engine.events.on('payment.failed', (e) => {
    failed.push(e as unknown as Record<string, unknown>);
  });
  return { engine, counts, failed };
}

function recorder() {
  const records: Array<{ type: string; data: Record<string, unknown> }> = [];
  return {
    records,
    append: (type: string, data: Readonly<Record<string, unknown>>) => {
      records.push({ type, data: { ...data } });
    },
  };
}

function reasonOf(res: Response): string | undefined {
  const header = res.headers.get('payment-required');
  return header ? decodePaymentRequiredHeader(header).error : undefined;
}

async function budget(engine: PolicyEngine, agentId: string) {
  const [status] = await engine.getBudgetStatus({ agentId });
  return status;
}

describe('seller: an ambiguous settle keeps counting after the hold TTL', () => {
  async function timedOutPayment(fault: 'delay' | 'hang') {
    const clock = new ManualClock('2026-03-02T08:00:00Z');
    const { engine, counts, failed } = engineWith(clock);
    const prov = recorder();
    const guard: X402Guard = createX402Guard({ engine, clock, provenance: prov, onError: () => {} });
    flow = await startFlow({ clock, facilitatorTimeoutMs: 150, attach: (s) => guard.attach(s) });
    flow.facilitatorServer.setFault(
      'settle',
      fault === 'delay' ? { kind: 'delay', ms: 400 } : { kind: 'hang' },
    );
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    const agent = wallet.address.toLowerCase();
    const cap = capturingFetch();
    const res = await flow.buyer(wallet, undefined, cap.fetch)(`${flow.url}/weather`);
    expect(res.status).toBe(502);
    const [pending] = guard.pending();
    expect(pending).toMatchObject({ state: 'pending_reconciliation', budgetReturned: false });
    // counted at once: spent, not merely held
    expect(await budget(engine, agent)).toMatchObject({ spent: '0.010000', held: '0.000000' });
    expect(failed.at(-1)).toMatchObject({
      reason: 'settle_outcome_unknown',
      ambiguous: true,
      captured: true,
      captureSource: 'ambiguous_settlement',
      budgetReturned: false,
    });

    // long past the hold TTL, nothing expires and the budget still counts the payment
    clock.advance(HOLD_TTL_MS * 20);
    expect(await engine.expireHolds()).toEqual([]);
    expect(counts.expired).toBe(0);
    expect(await budget(engine, agent)).toMatchObject({ spent: '0.010000', held: '0.000000' });

    // a retry of the same payment is still refused, and the facilitator is not asked again
    flow.facilitatorServer.setFault('settle', null);
    const settles = flow.facilitatorServer.calls.settle;
    const retry = await fetch(`${flow.url}/weather`, { headers: { 'payment-signature': cap.headers[0]! } });
    expect(retry.status).toBe(402);
    expect(reasonOf(retry)).toBe('payment_pending_reconciliation');
    expect(flow.facilitatorServer.calls.settle).toBe(settles);
    return { engine, counts, failed, guard, prov, wallet, agent, cap, pending: pending! };
  }

  it('reconcile settled after the TTL: spent exactly once, no second capture', async () => {
    const t = await timedOutPayment('delay');
    const ledger = flow!.scheme.ledger;
    await eventually(() => ledger.settlements.length === 1, 'the late settlement');
    const tx = ledger.settlements[0]!.transaction;
    const done = await t.guard.reconcile(t.pending.paymentId, {
      settled: true,
      transaction: tx,
      actor: 'ops',
    });
    expect(done).toMatchObject({ state: 'settled', settleSource: 'reconciliation', transaction: tx });
    expect(done.budgetReturned).toBeUndefined();
    expect(t.counts.captured).toBe(1); // captured once, at the ambiguous settle
    expect(await budget(t.engine, t.agent)).toMatchObject({
      spent: '0.010000',
      held: '0.000000',
      remaining: '0.990000',
    });
    expect(t.counts.settled).toEqual([
      expect.objectContaining({ source: 'reconciliation', transaction: tx, amount: '0.010000' }),
    ]);
    await t.guard.idle();
    expect(t.prov.records.find((r) => r.type === 'x402.settle_pending_reconciliation')?.data).toMatchObject({
      ambiguous: true,
      captured: true,
      captureSource: 'ambiguous_settlement',
      capturedAmount: '0.010000',
      budgetReturned: false,
    });
    expect(t.prov.records.find((r) => r.type === 'x402.settled')?.data).toMatchObject({
      source: 'reconciliation',
      transaction: tx,
      captureSource: 'ambiguous_settlement',
      actor: 'ops',
    });
    expect(t.prov.records.find((r) => r.type === 'x402.settled')?.data.captureError).toBeUndefined();
    // the payment is now a replay; the buyer paid once
    const replay = await fetch(`${flow!.url}/weather`, {
      headers: { 'payment-signature': t.cap.headers[0]! },
    });
    expect(reasonOf(replay)).toBe('replay');
    expect(ledger.paidBy(t.wallet.address)).toBe(10_000n);
    await expect(t.guard.reconcile(t.pending.paymentId, { settled: true })).rejects.toMatchObject({
      code: 'ERR_BURSAR_X402_NOT_PENDING',
    });
  });

  it('reconcile not settled: the budget stays counted and the status says so; never re-charged', async () => {
    const t = await timedOutPayment('hang');
    expect(flow!.scheme.ledger.settlements).toHaveLength(0);
    const done = await t.guard.reconcile(t.pending.paymentId, { settled: false, actor: 'ops' });
    expect(done).toMatchObject({ state: 'not_settled', budgetReturned: false, failure: 'settle_failed' });
    expect(t.guard.pending()).toEqual([]);
    expect(t.counts).toMatchObject({ captured: 1, released: 0, expired: 0 });
    expect(t.counts.settled).toEqual([]);
    expect(await budget(t.engine, t.agent)).toMatchObject({ spent: '0.010000', held: '0.000000' });
    expect(t.failed.at(-1)).toMatchObject({ reason: 'settle_failed', budgetReturned: false });
    await t.guard.idle();
    expect(t.prov.records.find((r) => r.type === 'x402.reconciled_not_settled')?.data).toMatchObject({
      budgetReturned: false,
      capturedAmount: '0.010000',
      captureSource: 'ambiguous_settlement',
      actor: 'ops',
    });
    // presenting the same payment again neither settles nor charges the budget a second time
    const again = await fetch(`${flow!.url}/weather`, {
      headers: { 'payment-signature': t.cap.headers[0]! },
    });
    expect(again.status).toBe(402);
    expect(reasonOf(again)).toBe('replay');
    expect(flow!.scheme.ledger.settlements).toHaveLength(0);
    expect(t.counts.captured).toBe(1);
    expect(await budget(t.engine, t.agent)).toMatchObject({ spent: '0.010000', held: '0.000000' });
  });
});

describe('buyer: an unknown outcome keeps counting after the hold TTL', () => {
  async function unknownPayment(fault: 'delay' | 'hang') {
    const clock = new ManualClock('2026-03-02T08:00:00Z');
    const { engine, counts, failed } = engineWith(clock);
    flow = await startFlow({ facilitatorTimeoutMs: 150 });
    flow.facilitatorServer.setFault(
      'settle',
      fault === 'delay' ? { kind: 'delay', ms: 400 } : { kind: 'hang' },
    );
    const wallet = flow.scheme.ledger.createWallet(10_000_000n);
    let guard: X402ClientGuard | undefined;
    const pay = flow.buyer(wallet, (c) => {
      guard = guardX402Client(c, { engine, agentId: 'bot', clock, onError: () => {} });
    });
    const res = await pay(`${flow.url}/weather`);
    expect(res.status).toBe(502); // the seller's facilitator timed out on settle
    const [pending] = guard!.pending();
    expect(pending).toMatchObject({ state: 'unknown', amount: '0.010000', budgetReturned: false });
    expect(await budget(engine, 'bot')).toMatchObject({ spent: '0.010000', held: '0.000000' });
    expect(failed.at(-1)).toMatchObject({
      reason: 'settle_outcome_unknown',
      ambiguous: true,
      captured: true,
      captureSource: 'ambiguous_settlement',
      budgetReturned: false,
    });
    clock.advance(HOLD_TTL_MS * 20);
    expect(await engine.expireHolds()).toEqual([]);
    expect(await budget(engine, 'bot')).toMatchObject({ spent: '0.010000', held: '0.000000' });
    return { engine, counts, failed, guard: guard!, pending: pending! };
  }

  it('reconcile settled after the TTL: spent exactly once, no second capture', async () => {
    const t = await unknownPayment('delay');
    const done = await t.guard.reconcile(t.pending.paymentId!, { settled: true, transaction: '0xabc' });
    expect(done).toMatchObject({ state: 'settled', transaction: '0xabc' });
    expect(done.budgetReturned).toBeUndefined();
    expect(t.counts.captured).toBe(1);
    expect(await budget(t.engine, 'bot')).toMatchObject({ spent: '0.010000', held: '0.000000' });
    expect(t.counts.settled).toEqual([
      expect.objectContaining({ source: 'reconciliation', transaction: '0xabc', amount: '0.010000' }),
    ]);
    await expect(t.guard.reconcile(t.pending.paymentId!, { settled: true })).rejects.toMatchObject({
      code: 'ERR_BURSAR_X402_NOT_PENDING',
    });
  });

  it('reconcile not settled: the budget stays counted and the status says so', async () => {
    const t = await unknownPayment('hang');
    const done = await t.guard.reconcile(t.pending.paymentId!, { settled: false });
    expect(done).toMatchObject({ state: 'not_settled', budgetReturned: false, failure: 'settle_failed' });
    expect(t.guard.pending()).toEqual([]);
    expect(t.counts).toMatchObject({ captured: 1, released: 0, expired: 0 });
    expect(t.counts.settled).toEqual([]);
    expect(t.failed.at(-1)).toMatchObject({ reason: 'settle_failed', budgetReturned: false });
    expect(await budget(t.engine, 'bot')).toMatchObject({ spent: '0.010000', held: '0.000000' });
  });
});

describe('buyer: a second signing while the first outcome is unknown is refused', () => {
  it('refuses with already_paid and holds nothing more', async () => {
    const scheme = createTestScheme();
    const clock = new ManualClock('2026-03-02T08:00:00Z');
    const { engine, counts } = engineWith(clock);
    const wallet = scheme.ledger.createWallet(0n);
    const client = new x402Client().register(scheme.network, scheme.client(wallet));
    client.setSpendControls(false);
    const guard = guardX402Client(client, { engine, agentId: 'bot', clock });
    const requirements: PaymentRequirements = {
      scheme: 'bursar-test',
      network: scheme.network,
      asset: scheme.asset,
      amount: '10000',
      payTo: SELLER,
      maxTimeoutSeconds: 60,
      extra: {},
    };
    const required: PaymentRequired = {
      x402Version: 2,
      resource: { url: 'https://api.example.com/x' },
      accepts: [requirements],
    };
    const payload = await client.createPaymentPayload(required);
    await client.handlePaymentResponse({
      paymentPayload: payload,
      requirements,
      error: new Error('socket hang up'),
    });
    expect(guard.pending()).toHaveLength(1);
    clock.advance(HOLD_TTL_MS * 20);
    await expect(client.createPaymentPayload(required)).rejects.toThrow(
      /already_paid: the first payment of this request is unknown/,
    );
    expect(counts.captured).toBe(1);
    expect(await budget(engine, 'bot')).toMatchObject({ spent: '0.010000', held: '0.000000' });
  });
});
