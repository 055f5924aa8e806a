/**
 * Regression: the seller guard's default agent id is the payer the payload names, which is only
 * authenticated once the facilitator has verified the signature. A forged payload (valid shape,
 * wrong signature, `authorization.from` = a victim) must never place a hold on the victim's
 * budget nor record a strike against it. Policy is checked with the side-effect-free
 * `evaluate` before verification; the atomic hold (`authorize`) is placed after it.
 */
import { allowAll, blockAbove, dailyBudget, PolicyEngine } from '@bursar/control';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { describe, expect, it } from 'vitest';
import { type DirectFlow, directFlow } from '../__fixtures__/direct-flow.js';
import type { TestWallet } from '../testing/index.js';
import { createX402Guard, type X402Guard } from './x402-guard.js';

async function setup(): Promise<{
  engine: PolicyEngine;
  flow: DirectFlow;
  guard: X402Guard;
  holdsPlaced: string[];
  verifies: { count: number; heldDuring: string[] };
}> {
  const engine = new PolicyEngine();
  engine.loadPolicy({
    id: 'sales',
    rules: [blockAbove(100, 'USDC'), allowAll()],
    budgets: [dailyBudget(10, 'USDC', { scope: 'agent' })],
    strikes: { max: 3 },
  });
  const holdsPlaced: string[] = [];
  engine.events.on('hold.placed', (e) => {
    holdsPlaced.push(e.agentId);
  });
  const guard = createX402Guard({ engine, onError: () => {} });
  const flow = await directFlow({ attach: (s) => guard.attach(s) });
  // Count facilitator verify calls, and what the payer's budget holds while one runs.
  const verifies = { count: 0, heldDuring: [] as string[] };
  const client = flow.facilitator.facilitators[0]!.client as {
    verify: (p: PaymentPayload, r: PaymentRequirements) => Promise<unknown>;
  };
  const verify = client.verify.bind(client);
  client.verify = async (p, r) => {
    verifies.count++;
    const from = (p.payload.authorization as { from: string }).from.toLowerCase();
    const [status] = await engine.getBudgetStatus({ agentId: from });
    verifies.heldDuring.push(status!.held);
    return verify(p, r);
  };
  return { engine, flow, guard, holdsPlaced, verifies };
}

/** A payment signed by `attacker` that claims to come from `victim`: valid shape, wrong signature. */
async function forged(
  flow: DirectFlow,
  attacker: TestWallet,
  victim: TestWallet,
  price: string,
): Promise<{ payload: PaymentPayload; req: PaymentRequirements }> {
  const req = await flow.requirementsFor(price);
  const signed = await flow.sign(attacker, req);
  const auth = signed.payload.authorization as Record<string, string>;
  return {
    req,
    payload: { ...signed, payload: { ...signed.payload, authorization: { ...auth, from: victim.address } } },
  };
}

describe('forged payer: strikes and holds attach only to an authenticated payer', () => {
  it('forged payloads naming a victim (strikes { max: 3 }) never suspend it nor hold its budget', async () => {
    const { engine, flow, holdsPlaced, verifies } = await setup();
    const victim = flow.scheme.ledger.createWallet(50_000_000n);
    const attacker = flow.scheme.ledger.createWallet(0n);
    const agent = victim.address.toLowerCase();

    // over the block rule: refused before verification, as the policy would
    for (let i = 0; i < 5; i++) {
      const { payload, req } = await forged(flow, attacker, victim, '$500');
      expect((await flow.pay(payload, req)).verify).toMatchObject({
        isValid: false,
        invalidReason: 'amount_above_limit',
      });
    }
    expect(verifies.count).toBe(0);
    // within policy: the facilitator rejects the signature; nothing was held meanwhile
    for (let i = 0; i < 5; i++) {
      const { payload, req } = await forged(flow, attacker, victim, '$9');
      expect((await flow.pay(payload, req)).verify).toMatchObject({
        isValid: false,
        invalidReason: 'invalid_signature',
      });
    }
    expect(verifies.count).toBe(5);
    expect(verifies.heldDuring).toEqual(Array(5).fill('0.000000'));

    expect(holdsPlaced).toEqual([]);
    const status = await engine.getAgentStatus(agent);
    expect(status.suspended).toBe(false);
    expect(status.strikes).toBe(0);
    expect((await engine.getBudgetStatus({ agentId: agent }))[0]).toMatchObject({
      spent: '0.000000',
      held: '0.000000',
    });
    expect(flow.scheme.ledger.settlements).toHaveLength(0);

    // the victim still pays normally, with its whole budget
    const req = await flow.requirementsFor('$10');
    const out = await flow.pay(await flow.sign(victim, req), req);
    expect(out.settle?.success).toBe(true);
    expect((await engine.getBudgetStatus({ agentId: agent }))[0]).toMatchObject({ spent: '10.000000' });
  });

  it('concurrent forged payloads do not take the budget of the victim paying at the same time', async () => {
    const { engine, flow, holdsPlaced } = await setup();
    const victim = flow.scheme.ledger.createWallet(50_000_000n);
    const attacker = flow.scheme.ledger.createWallet(0n);
    const fakes = await Promise.all(Array.from({ length: 10 }, () => forged(flow, attacker, victim, '$9')));
    const req = await flow.requirementsFor('$9');
    const real = await flow.sign(victim, req);
    const [legit, ...rest] = await Promise.all([
      flow.pay(real, req),
      ...fakes.map((f) => flow.pay(f.payload, f.req)),
    ]);
    expect(legit!.settle?.success).toBe(true);
    expect(rest.map((r) => r.verify.invalidReason)).toEqual(Array(10).fill('invalid_signature'));
    expect(holdsPlaced).toEqual([victim.address.toLowerCase()]); // the legit payment's hold only
    expect((await engine.getAgentStatus(victim.address.toLowerCase())).strikes).toBe(0);
    expect(flow.scheme.ledger.paidBy(victim.address)).toBe(9_000_000n);
  });

  it('an over-limit legit payment is refused in onBeforeVerify, without a facilitator verify call', async () => {
    const { engine, flow, guard, holdsPlaced, verifies } = await setup();
    const wallet = flow.scheme.ledger.createWallet(500_000_000n);
    const over = await flow.requirementsFor('$150');
    const payload = await flow.sign(wallet, over);
    expect((await flow.pay(payload, over)).verify).toMatchObject({
      isValid: false,
      invalidReason: 'amount_above_limit',
    });
    const overBudget = await flow.requirementsFor('$11');
    expect((await flow.pay(await flow.sign(wallet, overBudget), overBudget)).verify).toMatchObject({
      isValid: false,
      invalidReason: 'budget_exceeded',
    });
    expect(verifies.count).toBe(0);
    expect(holdsPlaced).toEqual([]);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({
      state: 'denied',
      failure: 'amount_above_limit',
    });
    // decided on an unauthenticated payer: no strike (strikes count authenticated denials)
    expect((await engine.getAgentStatus(wallet.address.toLowerCase())).strikes).toBe(0);
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
  });

  it('a legit payment is held only once verified, and the hold is in place before settlement', async () => {
    const { engine, flow, guard, verifies } = await setup();
    const wallet = flow.scheme.ledger.createWallet(50_000_000n);
    const agent = wallet.address.toLowerCase();
    const req = await flow.requirementsFor('$2');
    const payload = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);
    expect(verifies.heldDuring).toEqual(['0.000000']); // nothing held while verifying
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({ state: 'verified' });
    expect((await engine.getBudgetStatus({ agentId: agent }))[0]).toMatchObject({ held: '2.000000' });
    expect((await flow.server.settlePayment(payload, req)).success).toBe(true);
    expect((await engine.getBudgetStatus({ agentId: agent }))[0]).toMatchObject({
      held: '0.000000',
      spent: '2.000000',
    });
  });

  it('denials of an authenticated payer after verification still count as strikes', async () => {
    const { engine, flow } = await setup();
    const wallet = flow.scheme.ledger.createWallet(500_000_000n);
    const agent = wallet.address.toLowerCase();
    // Two payments of 6 pass evaluate together; only one fits the budget of 10 once verified.
    const reqs = await Promise.all([flow.requirementsFor('$6'), flow.requirementsFor('$6')]);
    const payloads = await Promise.all(reqs.map((r) => flow.sign(wallet, r)));
    const outs = await Promise.all(payloads.map((p, i) => flow.pay(p, reqs[i]!)));
    expect(outs.filter((o) => o.settle?.success)).toHaveLength(1);
    expect(outs.map((o) => o.verify.invalidReason).filter(Boolean)).toEqual(['budget_exceeded']);
    expect((await engine.getAgentStatus(agent)).strikes).toBe(1);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(6_000_000n);
  });
});
