/**
 * Regression: the seller guard asks the policy twice per payment — `evaluate` before
 * verification, `authorize` after it — and parses the intent once for both with the engine's
 * `parseIntent`. The hold must still bind the hash of exactly the intent that was evaluated,
 * a new attempt of the same payment must be parsed again (its idempotency key differs), and an
 * intent the engine cannot parse must still fail closed.
 */
import { allowAll, blockAbove, dailyBudget, PolicyEngine } from '@bursar/control';
import { AssetRegistry, type IntentInput, type ParsedIntent, parseIntent } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { directFlow } from '../__fixtures__/direct-flow.js';
import { TEST_ASSET, TEST_NETWORK } from '../testing/index.js';
import { createX402Guard } from './x402-guard.js';
import type { X402GuardOptions } from './x402-guard-options.js';

/** A PolicyEngine whose parseIntent / evaluate / authorize calls are recorded. */
function spiedEngine() {
  const engine = new PolicyEngine();
  engine.loadPolicy({
    id: 'sales',
    rules: [blockAbove(100, 'USDC'), allowAll()],
    budgets: [dailyBudget(50, 'USDC', { scope: 'agent' })],
  });
  const calls = {
    parsed: [] as Array<{ input: IntentInput; output: ParsedIntent }>,
    evaluated: [] as unknown[],
    authorized: [] as unknown[],
  };
  const parse = engine.parseIntent.bind(engine);
  const evaluate = engine.evaluate.bind(engine);
  const authorize = engine.authorize.bind(engine);
  engine.parseIntent = (input) => {
    const output = parse(input);
    calls.parsed.push({ input, output });
    return output;
  };
  engine.evaluate = (input, options) => {
    calls.evaluated.push(input);
    return evaluate(input, options);
  };
  engine.authorize = (input) => {
    calls.authorized.push(input);
    return authorize(input);
  };
  return { engine, calls };
}

async function setup(options: Partial<X402GuardOptions> = {}) {
  const { engine, calls } = spiedEngine();
  const guard = createX402Guard({ engine, onError: () => {}, ...options });
  const flow = await directFlow({ attach: (s) => guard.attach(s) });
  const settled: Array<Record<string, unknown>> = [];
  engine.events.on('payment.settled', (e) => {
    settled.push(e as unknown as Record<string, unknown>);
  });
  const holds: Array<Record<string, unknown>> = [];
  engine.events.on('hold.placed', (e) => {
    holds.push(e as unknown as Record<string, unknown>);
  });
  return { engine, calls, guard, flow, settled, holds };
}

describe('the intent is parsed once for evaluate and authorize', () => {
  it('evaluate and authorize get the same parsed intent, and the hold binds its hash', async () => {
    const { calls, guard, flow, settled, holds } = await setup();
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$2');
    const payload = await flow.sign(wallet, req);
    const out = await flow.pay(payload, req);
    expect(out.settle?.success).toBe(true);

    expect(calls.parsed).toHaveLength(1);
    const [{ input, output }] = calls.parsed as [{ input: IntentInput; output: ParsedIntent }];
    expect(calls.evaluated).toEqual([output]);
    expect(calls.evaluated[0]).toBe(output);
    expect(calls.authorized).toHaveLength(1);
    expect(calls.authorized[0]).toBe(output);

    // The hash is that of the intent the guard mapped, whoever parses it.
    const paymentId = guard.paymentIdOf(payload);
    expect(input).toMatchObject({
      agentId: wallet.address.toLowerCase(),
      amount: '2.000000',
      currency: 'USDC',
      idempotencyKey: `x402:${paymentId}`,
      metadata: { paymentId, x402Version: 2 },
    });
    expect(output.hash).toBe(parseIntent(input).hash);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toMatchObject({ intentHash: output.hash, intentId: output.id });
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({
      intentHash: output.hash,
      intentId: output.id,
      amount: '2.000000',
      paymentId,
    });
    expect(guard.status(paymentId)).toMatchObject({ state: 'settled', intentId: output.id });
  });

  it('a new attempt of a released payment is parsed again, under its new idempotency key', async () => {
    const { engine, calls, guard, flow } = await setup();
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$1');
    const payload = await flow.sign(wallet, req);
    // The first verify call fails (connection lost): the payment is dropped, nothing held.
    const client = flow.facilitator.facilitators[0]!.client as {
      verify: (...a: never[]) => Promise<unknown>;
    };
    const verify = client.verify.bind(client);
    client.verify = async () => {
      client.verify = verify;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    await expect(flow.server.verifyPayment(payload, req)).rejects.toThrow();
    const paymentId = guard.paymentIdOf(payload);
    expect(guard.status(paymentId)).toMatchObject({ state: 'released', failure: 'verify_error' });

    const out = await flow.pay(payload, req);
    expect(out.settle?.success).toBe(true);
    expect(calls.parsed.map((c) => c.input.idempotencyKey)).toEqual([
      `x402:${paymentId}`,
      `x402:${paymentId}#2`,
    ]);
    const second = calls.parsed[1]!.output;
    expect(second).not.toBe(calls.parsed[0]!.output);
    expect(second.idempotencyKey).toBe(`x402:${paymentId}#2`);
    expect(calls.authorized).toEqual([second]);
    expect(calls.authorized[0]).toBe(second);
    expect((await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() }))[0]).toMatchObject({
      spent: '1.000000',
      held: '0.000000',
    });
  });

  it('a denial before verification parses once and never authorizes', async () => {
    const { calls, flow } = await setup();
    const wallet = flow.scheme.ledger.createWallet(500_000_000n);
    const req = await flow.requirementsFor('$150');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'amount_above_limit' });
    expect(calls.parsed).toHaveLength(1);
    expect(calls.evaluated).toEqual([calls.parsed[0]!.output]);
    expect(calls.authorized).toHaveLength(0);
  });

  it('an intent the engine cannot parse fails closed; with failOpen the payment goes through unheld', async () => {
    // The guard maps the token to a symbol the engine's registry does not know.
    const assets = new AssetRegistry({ includeDefaults: false });
    assets.register({
      symbol: 'GUSD',
      decimals: 6,
      addresses: [{ network: TEST_NETWORK, address: TEST_ASSET }],
    });
    for (const failOpen of [false, true]) {
      const { engine, calls, flow } = await setup({ assets, failOpen });
      const wallet = flow.scheme.ledger.createWallet(5_000_000n);
      const req = await flow.requirementsFor('$1');
      const out = await flow.pay(await flow.sign(wallet, req), req);
      expect(calls.parsed).toHaveLength(0); // parseIntent threw
      expect(calls.evaluated).toHaveLength(0);
      const budget = (await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() }))[0];
      expect(budget).toMatchObject({ spent: '0.000000', held: '0.000000' });
      if (failOpen) {
        // Only the failed step is skipped: authorize still runs after verification (and fails too).
        expect(out.settle?.success).toBe(true);
        expect(calls.authorized).toHaveLength(1);
      } else {
        expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'internal_error' });
        expect(calls.authorized).toHaveLength(0);
        expect(flow.scheme.ledger.settlements).toHaveLength(0);
      }
    }
  });
});
