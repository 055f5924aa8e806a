import { x402Client } from '@x402/core/client';
import type { PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../__fixtures__/fake-engine.js';
import { type Flow, startFlow } from '../__fixtures__/x402-flow.js';
import { createTestScheme } from '../testing/index.js';
import { guardX402Client, type X402ClientGuard } from './x402-client-guard.js';

let flow: Flow | undefined;
afterEach(async () => {
  await flow?.close();
  flow = undefined;
});

describe('guardX402Client (buyer side, over HTTP with @x402/fetch)', () => {
  it('authorizes the selected amount before signing, then captures on a confirmed settlement', async () => {
    flow = await startFlow();
    const engine = new FakeEngine({ budget: '5' });
    const events: string[] = [];
    engine.events.on('payment.settled', (e) => {
      events.push(`${e.source}:${e.amount}:${e.transaction}`);
    });
    const wallet = flow.scheme.ledger.createWallet(10_000_000n);
    const pay = flow.buyer(wallet, (c) => guardX402Client(c, { engine, agentId: 'research-bot' }));
    const res = await pay(`${flow.url}/priced?usd=1.25`);
    expect(res.status).toBe(200);
    expect(engine.intents[0]).toMatchObject({
      agentId: 'research-bot',
      amount: '1.250000',
      currency: 'USDC',
      recipient: `${flow.url}/priced?usd=1.25`,
      protocol: 'x402',
    });
    expect(engine.count('captured')).toBe(1);
    expect(engine.spent).toBe(1_250_000n);
    const tx = flow.scheme.ledger.settlements[0]!.transaction;
    expect(events).toEqual([`payment-response:1.250000:${tx}`]);
  });

  it('refuses to sign a price above its cap: nothing is signed, nothing reaches the seller', async () => {
    flow = await startFlow();
    const engine = new FakeEngine({ blockAbove: '1000' });
    const wallet = flow.scheme.ledger.createWallet(10_000_000_000n);
    const pay = flow.buyer(wallet, (c) => guardX402Client(c, { engine, agentId: 'research-bot' }));
    await expect(pay(`${flow.url}/priced?usd=1500`)).rejects.toThrow(
      /Payment creation aborted: amount_above_limit/,
    );
    expect(engine.intents[0]!.amount).toBe('1500.000000');
    expect(flow.facilitatorServer.calls.verify).toBe(0);
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
    expect(flow.handled.count).toBe(0);
  });

  it('a budget runs out across requests: the next price above what is left is not signed', async () => {
    flow = await startFlow();
    const engine = new FakeEngine({ budget: '2' });
    const wallet = flow.scheme.ledger.createWallet(10_000_000n);
    const pay = flow.buyer(wallet, (c) => guardX402Client(c, { engine, agentId: 'bot' }));
    expect((await pay(`${flow.url}/priced?usd=1.5`)).status).toBe(200);
    await expect(pay(`${flow.url}/priced?usd=1`)).rejects.toThrow(/budget_exceeded/);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(1_500_000n);
  });

  it('releases the hold when the seller refuses the payment', async () => {
    flow = await startFlow();
    const engine = new FakeEngine();
    const broke = flow.scheme.ledger.createWallet(0n);
    const pay = flow.buyer(broke, (c) => guardX402Client(c, { engine, agentId: 'bot' }));
    const res = await pay(`${flow.url}/weather`);
    expect(res.status).toBe(402);
    expect(engine.count('released')).toBe(1);
    expect(engine.held()).toBe(0n);
  });

  it('the "recovered, sign again" path cannot pay twice for one request', async () => {
    flow = await startFlow();
    const engine = new FakeEngine();
    const wallet = flow.scheme.ledger.createWallet(10_000_000n);
    // a hook registered after the guard asks the transport to sign again
    const pay = flow.buyer(wallet, (c) => {
      guardX402Client(c, { engine, agentId: 'bot' });
      c.onPaymentResponse(async () => ({ recovered: true }));
    });
    await expect(pay(`${flow.url}/weather`)).rejects.toThrow(/already_paid: this request was already paid/);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
    expect(engine.count('captured')).toBe(1);

    // registered before the guard, it hides the first outcome: still refused (outcome unknown)
    const engine2 = new FakeEngine();
    const wallet2 = flow.scheme.ledger.createWallet(10_000_000n);
    const pay2 = flow.buyer(wallet2, (c) => {
      c.onPaymentResponse(async () => ({ recovered: true }));
      guardX402Client(c, { engine: engine2, agentId: 'bot' });
    });
    await expect(pay2(`${flow.url}/weather`)).rejects.toThrow(
      /already_paid: the first payment of this request is signed/,
    );
    expect(flow.scheme.ledger.paidBy(wallet2.address)).toBe(10_000n);
    expect(engine2.count('held')).toBe(1); // kept: the budget still counts it
  });

  it('counts the budget at once when the answer does not confirm settlement; reconciling does not capture again', async () => {
    flow = await startFlow({ facilitatorTimeoutMs: 150 });
    flow.facilitatorServer.setFault('settle', { kind: 'delay', ms: 400 });
    const engine = new FakeEngine();
    const wallet = flow.scheme.ledger.createWallet(10_000_000n);
    let guard: X402ClientGuard | undefined;
    const pay = flow.buyer(wallet, (c) => {
      guard = guardX402Client(c, { engine, agentId: 'bot' });
    });
    const res = await pay(`${flow.url}/weather`);
    expect(res.status).toBe(502); // the seller's facilitator timed out on settle
    const [pending] = guard!.pending();
    expect(pending).toMatchObject({ state: 'unknown', amount: '0.010000', budgetReturned: false });
    expect(engine.count('held')).toBe(0);
    expect(engine.count('captured')).toBe(1);
    expect(engine.spent).toBe(10_000n);
    const done = await guard!.reconcile(pending!.paymentId!, { settled: true, transaction: '0xabc' });
    expect(done).toMatchObject({ state: 'settled', transaction: '0xabc' });
    expect(engine.count('captured')).toBe(1);
    expect(engine.spent).toBe(10_000n);
    await expect(guard!.reconcile(pending!.paymentId!, { settled: true })).rejects.toMatchObject({
      code: 'ERR_BURSAR_X402_NOT_PENDING',
    });
  });
});

describe('guardX402Client (client used directly)', () => {
  const scheme = createTestScheme();
  const cheap: PaymentRequirements = {
    scheme: 'bursar-test',
    network: scheme.network,
    asset: scheme.asset,
    amount: '10000',
    payTo: '0x00000000000000000000000000000000005e11e4',
    maxTimeoutSeconds: 60,
    extra: {},
  };
  const dear: PaymentRequirements = { ...cheap, amount: '1500000000' };
  const required = (accepts: PaymentRequirements[]): PaymentRequired => ({
    x402Version: 2,
    resource: { url: 'https://api.example.com/x' },
    accepts,
  });

  it('checks the SELECTED requirement, not the first or cheapest one', async () => {
    const engine = new FakeEngine({ blockAbove: '1000' });
    const wallet = scheme.ledger.createWallet(0n);
    const pickLast = (_v: number, reqs: PaymentRequirements[]) => reqs[reqs.length - 1]!;
    const client = new x402Client(pickLast).register(scheme.network, scheme.client(wallet));
    client.setSpendControls(false);
    guardX402Client(client, { engine, agentId: 'bot' });
    await expect(client.createPaymentPayload(required([cheap, dear]))).rejects.toThrow(/amount_above_limit/);
    expect(engine.intents.map((i) => i.amount)).toEqual(['1500.000000']);
    const ok = await client.createPaymentPayload(required([dear, cheap]));
    expect(ok.accepted.amount).toBe('10000');
  });

  it('refuses an unknown asset, and a second concurrent signing for the same 402', async () => {
    const engine = new FakeEngine();
    const wallet = scheme.ledger.createWallet(0n);
    const client = new x402Client().register(scheme.network, scheme.client(wallet));
    client.setSpendControls(false);
    guardX402Client(client, { engine, agentId: 'bot' });
    await expect(
      client.createPaymentPayload(
        required([{ ...cheap, asset: '0x000000000000000000000000000000000000dead' }]),
      ),
    ).rejects.toThrow(/unknown_asset/);
    const pr = required([cheap]);
    const results = await Promise.allSettled([
      client.createPaymentPayload(pr),
      client.createPaymentPayload(pr),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(engine.count('held')).toBe(1);
  });

  it('never throws from a hook: an engine failure refuses to sign with internal_error', async () => {
    const engine = new FakeEngine();
    engine.mode = 'throw';
    const wallet = scheme.ledger.createWallet(0n);
    const client = new x402Client().register(scheme.network, scheme.client(wallet));
    client.setSpendControls(false);
    guardX402Client(client, { engine, agentId: 'bot', onError: () => {} });
    await expect(client.createPaymentPayload(required([cheap]))).rejects.toThrow(/aborted: internal_error/);
  });

  it('releases the hold when signing fails', async () => {
    const engine = new FakeEngine();
    const client = new x402Client().register(scheme.network, {
      scheme: 'bursar-test',
      createPaymentPayload: async () => {
        throw new Error('wallet locked');
      },
    });
    client.setSpendControls(false);
    guardX402Client(client, { engine, agentId: 'bot' });
    await expect(client.createPaymentPayload(required([cheap]))).rejects.toThrow('wallet locked');
    expect(engine.count('released')).toBe(1);
  });

  it('binds a payload another hook recovered after a creation failure to the hold', async () => {
    const engine = new FakeEngine();
    const wallet = scheme.ledger.createWallet(0n);
    const real = scheme.client(wallet);
    let fail = true;
    const client = new x402Client().register(scheme.network, {
      scheme: 'bursar-test',
      createPaymentPayload: async (v, r) => {
        if (fail) throw new Error('hardware wallet busy');
        return real.createPaymentPayload(v, r);
      },
    });
    client.setSpendControls(false);
    const guard = guardX402Client(client, { engine, agentId: 'bot' });
    client.onPaymentCreationFailure(async (ctx) => {
      fail = false;
      const partial = await real.createPaymentPayload(2, ctx.selectedRequirements);
      return {
        recovered: true,
        payload: { ...partial, accepted: ctx.selectedRequirements, resource: ctx.paymentRequired.resource },
      };
    });
    const payload = await client.createPaymentPayload(required([cheap]));
    expect(engine.count('held')).toBe(1);
    // the seller's answer gets no settlement header: outcome unknown, hold kept, listed as pending
    await client.handlePaymentResponse({
      paymentPayload: payload,
      requirements: cheap,
      error: new Error('socket hang up'),
    });
    expect(guard.pending()).toHaveLength(1);
    expect(engine.count('captured')).toBe(1); // the money may have moved: counted at once
  });

  it('validates options and refuses a second guard on one client', () => {
    const engine = new FakeEngine();
    const client = new x402Client();
    expect(() => guardX402Client(client, { engine, agentId: '' })).toThrow(/agentId/);
    guardX402Client(client, { engine, agentId: 'a' });
    expect(() => guardX402Client(client, { engine, agentId: 'b' })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_X402_ALREADY_ATTACHED' }),
    );
  });
});
