/**
 * With an engine that cannot report its holds (no `getHold`), `onBeforeSettle` answers a held
 * payment's settle without a promise. The real `@x402/core` server awaits hook results: the
 * payment must settle and be captured once, and a settle that asks for more than was held must
 * still be refused.
 */
import { allowAll, dailyBudget, PolicyEngine } from '@bursar/control';
import { afterEach, describe, expect, it } from 'vitest';
import { directFlow } from '../__fixtures__/direct-flow.js';
import { type Flow, payThenReplay, startFlow } from '../__fixtures__/x402-flow.js';
import type { X402PolicyEngine } from './ports.js';
import { createX402Guard } from './x402-guard.js';

let flow: Flow | undefined;
afterEach(async () => {
  await flow?.close();
  flow = undefined;
});

/** A PolicyEngine seen through the port, without `getHold`. */
function engineWithoutHoldLookup(engine: PolicyEngine): X402PolicyEngine {
  return {
    authorize: (intent) => engine.authorize(intent),
    evaluate: (intent) => engine.evaluate(intent),
    parseIntent: (intent) => engine.parseIntent(intent),
    capture: (holdId, options) => engine.capture(holdId, options),
    release: (holdId) => engine.release(holdId),
    events: engine.events,
    assets: engine.assets,
  };
}

describe('onBeforeSettle without an await', () => {
  it('settles and captures once through the real resource server; a replay is refused', async () => {
    const engine = new PolicyEngine();
    engine.loadPolicy({
      id: 'sales',
      rules: [allowAll()],
      budgets: [dailyBudget('100', 'USDC', { scope: 'agent' })],
    });
    const guard = createX402Guard({ engine: engineWithoutHoldLookup(engine) });
    flow = await startFlow({ attach: (s) => guard.attach(s) });
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    expect(await payThenReplay(flow, wallet)).toEqual({ paid: 200, replayed: 402 });
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
    const [status] = await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() });
    expect(status).toMatchObject({ spent: '0.010000', held: '0.000000' });
    expect(guard.stats()).toEqual({ tracked: 1, pending: 0 });
  });

  it('still refuses a settle asking for more than was held, and settles the authorized amount', async () => {
    const engine = new PolicyEngine();
    engine.loadPolicy({ id: 'sales', rules: [allowAll()] });
    const guard = createX402Guard({ engine: engineWithoutHoldLookup(engine) });
    const direct = await directFlow({ attach: (s) => guard.attach(s) });
    const wallet = direct.scheme.ledger.createWallet(5_000_000n);
    const req = await direct.requirementsFor('$0.01');
    const payload = await direct.sign(wallet, req);
    expect((await direct.server.verifyPayment(payload, req)).isValid).toBe(true);
    await expect(direct.server.settlePayment(payload, { ...req, amount: '20000' })).rejects.toMatchObject({
      errorReason: 'hold_mismatch',
    });
    expect(direct.scheme.ledger.settlements).toHaveLength(0);
    const other = await direct.sign(wallet, req);
    const paid = await direct.pay(other, req);
    expect(paid.settle?.success).toBe(true);
    expect(guard.status(guard.paymentIdOf(other))?.state).toBe('settled');
    expect(direct.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
  });
});
