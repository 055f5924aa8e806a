/**
 * Acceptance scenarios of issue #7, end to end on the real libraries: `@x402/core` resource
 * server + `x402HTTPResourceServer` behind `@x402/express`, an `x402Facilitator` served over
 * HTTP on 127.0.0.1, buyers on `@x402/fetch`, and `@bursar/control`'s PolicyEngine. Offline.
 */
import { allowAll, blockAbove, dailyBudget, PolicyEngine, perTransactionLimit } from '@bursar/control';
import { type BursarEventMap, EventBus, ManualClock } from '@bursar/core';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingFetch, eventually, type Flow, startFlow } from './__fixtures__/x402-flow.js';
import { guardX402Client } from './buyer/index.js';
import { createX402Guard, type X402Guard, type X402GuardOptions } from './seller/index.js';

let flow: Flow | undefined;
afterEach(async () => {
  await flow?.close();
  flow = undefined;
});

function sellerEngine(
  options: { budget?: string; clock?: ManualClock; events?: EventBus } = {},
): PolicyEngine {
  const engine = new PolicyEngine({
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.events ? { events: options.events } : {}),
  });
  engine.loadPolicy({
    id: 'sales',
    rules: [blockAbove(1000, 'USDC'), allowAll()],
    budgets: options.budget ? [dailyBudget(options.budget, 'USDC', { scope: 'agent' })] : [],
  });
  return engine;
}

async function guarded(
  engine: PolicyEngine,
  extra: Partial<X402GuardOptions> & { flow?: Parameters<typeof startFlow>[0] } = {},
): Promise<{ flow: Flow; guard: X402Guard }> {
  const { flow: flowOptions, ...guardOptions } = extra;
  const guard = createX402Guard({ engine, ...guardOptions });
  const f = await startFlow({ ...flowOptions, attach: (s) => guard.attach(s) });
  return { flow: f, guard };
}

function reasonOf(res: Response): string | undefined {
  const header = res.headers.get('payment-required');
  return header ? decodePaymentRequiredHeader(header).error : undefined;
}

describe('issue #7 acceptance (express + fetch + HTTP facilitator + PolicyEngine)', () => {
  it('a small payment is allowed, settled, captured and recorded', async () => {
    const engine = sellerEngine({ budget: '100' });
    const settled: BursarEventMap['payment.settled'][] = [];
    engine.events.on('payment.settled', (e) => {
      settled.push(e);
    });
    ({ flow } = await guarded(engine));
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    const res = await flow.buyer(wallet)(`${flow.url}/weather`);
    expect(res.status).toBe(200);
    const receipt = decodePaymentResponseHeader(res.headers.get('payment-response')!);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({
      agentId: wallet.address.toLowerCase(),
      amount: '0.010000',
      currency: 'USDC',
      transaction: receipt.transaction,
      source: 'facilitator',
      recipient: `${flow.url}/weather`,
    });
    const [status] = await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() });
    expect(status).toMatchObject({ spent: '0.010000', held: '0.000000' });
  });

  it('a payment above the block rule gets a 402 with the reason; the facilitator never sees it', async () => {
    const engine = sellerEngine();
    ({ flow } = await guarded(engine));
    const wallet = flow.scheme.ledger.createWallet(2_000_000_000n);
    const res = await flow.buyer(wallet)(`${flow.url}/priced?usd=1500`);
    expect(res.status).toBe(402);
    expect(reasonOf(res)).toBe('amount_above_limit');
    expect(flow.facilitatorServer.calls.verify).toBe(0);
    expect(flow.handled.count).toBe(0);
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
  });

  it('20 concurrent paid requests against one budget: no overspend, extras refused before settlement', async () => {
    const engine = sellerEngine({ budget: '0.05' });
    // one customer paying from 20 wallets: one budget
    ({ flow } = await guarded(engine, { resolveAgent: () => 'acme' }));
    const f = flow;
    const wallets = Array.from({ length: 20 }, () => f.scheme.ledger.createWallet(1_000_000n));
    const responses = await Promise.all(wallets.map((w) => f.buyer(w)(`${f.url}/weather`)));
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 402);
    expect(ok).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(refused.map(reasonOf).every((r) => r === 'budget_exceeded')).toBe(true);
    expect(f.scheme.ledger.settlements).toHaveLength(5);
    expect(f.facilitatorServer.calls.settle).toBe(5); // every refusal came before settlement
    // Policy is evaluated before verification (no side effects); the atomic hold is placed after
    // it. Requests that passed evaluate concurrently are refused once verified, before settling.
    expect(f.facilitatorServer.calls.verify).toBeGreaterThanOrEqual(5);
    expect(f.facilitatorServer.calls.verify).toBeLessThanOrEqual(20);
    expect(f.handled.count).toBe(5);
    const [status] = await engine.getBudgetStatus({ agentId: 'acme' });
    expect(status).toMatchObject({ spent: '0.050000', held: '0.000000', remaining: '0.000000' });
  });

  it('facilitator down: the breaker opens, calls fail fast, holds are released, half-open recovers', async () => {
    const clock = new ManualClock(Date.now());
    const events = new EventBus();
    const engine = sellerEngine({ budget: '100', clock, events });
    const changes: string[] = [];
    events.on('circuit.state_changed', (e) => {
      changes.push(`${e.from}->${e.to}`);
    });
    ({ flow } = await guarded(engine, {
      clock,
      flow: { clock, events, guard: { breaker: { failureThreshold: 3, resetTimeoutMs: 60_000 } } },
    }));
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    const pay = flow.buyer(wallet);
    flow.facilitatorServer.setFault('verify', { kind: 'drop' });
    for (let i = 0; i < 3; i++) expect((await pay(`${flow.url}/weather`)).status).toBe(402);
    const before = flow.facilitatorServer.calls.verify;
    const fast = await pay(`${flow.url}/weather`);
    expect(fast.status).toBe(502);
    expect(flow.facilitatorServer.calls.verify).toBe(before);
    const [status] = await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() });
    expect(status).toMatchObject({ held: '0.000000', spent: '0.000000' }); // every hold released

    flow.facilitatorServer.setFault('verify', null);
    clock.advance(60_000);
    expect((await pay(`${flow.url}/weather`)).status).toBe(200);
    expect(changes).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
  });

  it('settle timeout: no double charge; the budget counts it at once, awaiting reconciliation', async () => {
    const engine = sellerEngine({ budget: '100' });
    const failed: BursarEventMap['payment.failed'][] = [];
    engine.events.on('payment.failed', (e) => {
      failed.push(e);
    });
    let guard: X402Guard;
    ({ flow, guard } = await guarded(engine, { flow: { facilitatorTimeoutMs: 150 } }));
    flow.facilitatorServer.setFault('settle', { kind: 'delay', ms: 400 }); // settles, answers too late
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    const cap = capturingFetch();
    const res = await flow.buyer(wallet, undefined, cap.fetch)(`${flow.url}/weather`);
    expect(res.status).toBe(502); // a facilitator timeout, not a 402 that invites paying again
    const ledger = flow.scheme.ledger;
    await eventually(() => ledger.settlements.length === 1, 'the late settlement');
    expect(ledger.paidBy(wallet.address)).toBe(10_000n); // the money did move
    const [pending] = guard.pending();
    expect(pending).toMatchObject({
      state: 'pending_reconciliation',
      failure: 'timeout',
      amount: '0.010000',
    });
    expect(pending!.budgetReturned).toBe(false);
    expect(failed.at(-1)).toMatchObject({
      reason: 'settle_outcome_unknown',
      ambiguous: true,
      captureSource: 'ambiguous_settlement',
      budgetReturned: false,
    });
    const agent = wallet.address.toLowerCase();
    // the money may have moved: the hold was captured at once, so no expiry can free it
    expect((await engine.getBudgetStatus({ agentId: agent }))[0]).toMatchObject({
      held: '0.000000',
      spent: '0.010000',
    });

    // the buyer retries the same payment: refused, the facilitator is not asked again
    flow.facilitatorServer.setFault('settle', null);
    const settles = flow.facilitatorServer.calls.settle;
    const retry = await fetch(`${flow.url}/weather`, { headers: { 'payment-signature': cap.headers[0]! } });
    expect(retry.status).toBe(402);
    expect(reasonOf(retry)).toBe('payment_pending_reconciliation');
    expect(flow.facilitatorServer.calls.settle).toBe(settles);

    const tx = flow.scheme.ledger.settlements[0]!.transaction;
    const done = await guard.reconcile(pending!.paymentId, { settled: true, transaction: tx, actor: 'ops' });
    expect(done).toMatchObject({ state: 'settled', settleSource: 'reconciliation', transaction: tx });
    expect((await engine.getBudgetStatus({ agentId: agent }))[0]).toMatchObject({
      held: '0.000000',
      spent: '0.010000',
    });
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
  });

  it('a replayed payment header is charged once', async () => {
    const engine = sellerEngine({ budget: '100' });
    ({ flow } = await guarded(engine));
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    const cap = capturingFetch();
    expect((await flow.buyer(wallet, undefined, cap.fetch)(`${flow.url}/weather`)).status).toBe(200);
    const verifies = flow.facilitatorServer.calls.verify;
    const replays = await Promise.all(
      [1, 2, 3].map(() =>
        fetch(`${flow!.url}/weather`, { headers: { 'payment-signature': cap.headers[0]! } }),
      ),
    );
    expect(replays.map((r) => r.status)).toEqual([402, 402, 402]);
    expect(replays.map(reasonOf)).toEqual(['replay', 'replay', 'replay']);
    expect(flow.facilitatorServer.calls.verify).toBe(verifies);
    expect(flow.handled.count).toBe(1);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
    expect((await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() }))[0]).toMatchObject({
      spent: '0.010000',
    });
  });

  it('a handler failure releases the hold (no settle)', async () => {
    const engine = sellerEngine({ budget: '100' });
    ({ flow } = await guarded(engine, { flow: { handlerStatus: 500 } }));
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    expect((await flow.buyer(wallet)(`${flow.url}/weather`)).status).toBe(500);
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
    expect((await engine.getBudgetStatus({ agentId: wallet.address.toLowerCase() }))[0]).toMatchObject({
      held: '0.000000',
      spent: '0.000000',
    });
  });

  it('the buyer cap refuses to sign a price above its budget', async () => {
    const seller = sellerEngine();
    ({ flow } = await guarded(seller));
    const buyerEngine = new PolicyEngine();
    buyerEngine.loadPolicy({
      id: 'agent',
      rules: [allowAll()],
      budgets: [perTransactionLimit(5, 'USDC'), dailyBudget(2, 'USDC')],
    });
    const wallet = flow.scheme.ledger.createWallet(100_000_000n);
    const pay = flow.buyer(wallet, (c) =>
      guardX402Client(c, { engine: buyerEngine, agentId: 'research-bot' }),
    );
    await expect(pay(`${flow.url}/priced?usd=6`)).rejects.toThrow(
      /Payment creation aborted: transaction_limit_exceeded/,
    );
    expect((await pay(`${flow.url}/priced?usd=1.5`)).status).toBe(200);
    await expect(pay(`${flow.url}/priced?usd=1`)).rejects.toThrow(/budget_exceeded/);
    expect(flow.facilitatorServer.calls.verify).toBe(1);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(1_500_000n);
    const daily = (await buyerEngine.getBudgetStatus({ agentId: 'research-bot' })).find(
      (b) => b.window === 'daily',
    );
    expect(daily).toMatchObject({ spent: '1.500000', held: '0.000000' });
  });
});
