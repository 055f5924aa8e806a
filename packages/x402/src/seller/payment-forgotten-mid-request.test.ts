/**
 * Regression: each request remembers the payment it claimed, so later hooks of that request
 * skip the book lookup — but only while the book still keeps that entry. A payment forgotten
 * between verify and settle (its active TTL passed) is not settled from the request's stale
 * copy: the guard looks it up again, finds nothing, and the engine's idempotency refuses a
 * second charge.
 */
import { allowAll, dailyBudget, PolicyEngine } from '@bursar/control';
import { ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { directFlow } from '../__fixtures__/direct-flow.js';
import { X402Reason } from '../errors/index.js';
import { createX402Guard } from './x402-guard.js';

describe('a payment forgotten while its request is in flight', () => {
  it('is looked up again at settle, not settled from the stale entry, and charged at most once', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T00:00:00Z'));
    const engine = new PolicyEngine({ clock });
    engine.loadPolicy({
      id: 'sales',
      rules: [allowAll()],
      budgets: [dailyBudget(50, 'USDC', { scope: 'agent' })],
    });
    const guard = createX402Guard({ engine, clock, activeTtlMs: 1_000, onError: () => {} });
    const flow = await directFlow({ attach: (s) => guard.attach(s) });
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$1');
    const first = await flow.sign(wallet, req);
    const id = guard.paymentIdOf(first);
    expect((await flow.server.verifyPayment(first, req)).isValid).toBe(true);
    expect(guard.status(id)?.state).toBe('verified');

    // Past the active TTL, another payment's bookkeeping sweeps the first one out.
    clock.advance(1_001);
    const second = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(second, req)).isValid).toBe(true);
    expect(guard.status(id)).toBeUndefined();

    await expect(flow.server.settlePayment(first, req)).rejects.toMatchObject({
      errorReason: X402Reason.REPLAY,
    });
    expect(guard.status(id)).toMatchObject({ state: 'denied', failure: X402Reason.REPLAY });
    // Nothing moved and nothing was captured: the first payment's hold waits for its expiry.
    expect(flow.scheme.ledger.balanceOf(wallet.address)).toBe(5_000_000n);
    const [budget] = await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() });
    expect(budget).toMatchObject({ spent: '0.000000', held: '2.000000' });
  });
});
