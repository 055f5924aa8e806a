/**
 * Regression: the seller guard builds `payment.settled` / `payment.failed` only when someone
 * listens (and provenance records only when a log is configured). Whether anyone listens is
 * asked at each emit, never remembered: a payment that started while nobody listened still
 * emits to a listener that subscribed before it settled or failed.
 */
import { allowAll, dailyBudget, PolicyEngine } from '@bursar/control';
import type { BursarEventMap } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { directFlow } from '../__fixtures__/direct-flow.js';
import { createX402Guard } from './x402-guard.js';

async function setup() {
  const engine = new PolicyEngine();
  engine.loadPolicy({
    id: 'sales',
    rules: [allowAll()],
    budgets: [dailyBudget(50, 'USDC', { scope: 'agent' })],
  });
  const guard = createX402Guard({ engine, onError: () => {} });
  const flow = await directFlow({ attach: (s) => guard.attach(s) });
  return { engine, guard, flow };
}

describe('lifecycle events are built only when listened to, and asked for at each emit', () => {
  it('a payment verified while nobody listened emits payment.settled to a listener added before settling', async () => {
    const { engine, guard, flow } = await setup();
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$1');
    const payload = await flow.sign(wallet, req);
    expect(engine.events.listenerCount('payment.settled')).toBe(0);
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);

    const settled: BursarEventMap['payment.settled'][] = [];
    engine.events.on('payment.settled', (e) => {
      settled.push(e);
    });
    expect((await flow.server.settlePayment(payload, req)).success).toBe(true);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({
      agentId: wallet.address.toLowerCase(),
      amount: '1.000000',
      currency: 'USDC',
      source: 'facilitator',
      facilitator: 'local',
      paymentId: guard.paymentIdOf(payload),
    });
  });

  it('a payment verified while nobody listened emits payment.failed to a listener added before it failed', async () => {
    const { engine, guard, flow } = await setup();
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    const other = flow.scheme.ledger.createWallet(0n);
    const req = await flow.requirementsFor('$1');
    const payload = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);

    const failed: BursarEventMap['payment.failed'][] = [];
    engine.events.on('payment.failed', (e) => {
      failed.push(e);
    });
    // The payer spends the money elsewhere between verify and settle: a definite failure.
    flow.scheme.ledger.transfer({
      from: wallet.address,
      to: other.address,
      value: '1000000',
      asset: req.asset,
      network: req.network,
      nonce: 'elsewhere',
      validBefore: '9999999999',
    });
    expect(await flow.server.settlePayment(payload, req)).toMatchObject({ success: false });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      agentId: wallet.address.toLowerCase(),
      amount: '1.000000',
      reason: 'settle_failed',
      paymentId: guard.paymentIdOf(payload),
    });
  });

  it('a listener removed mid-payment gets nothing, and the payment still settles and is charged', async () => {
    const { engine, flow } = await setup();
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$1');
    const payload = await flow.sign(wallet, req);
    const settled: unknown[] = [];
    const off = engine.events.on('payment.settled', (e) => {
      settled.push(e);
    });
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);
    off();
    expect((await flow.server.settlePayment(payload, req)).success).toBe(true);
    expect(settled).toHaveLength(0);
    expect((await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() }))[0]).toMatchObject({
      spent: '1.000000',
    });
  });
});
