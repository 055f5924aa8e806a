import { AssetRegistry, type BursarEventMap } from '@bursar/core';
import type { PaymentPayload } from '@x402/core/types';
import { describe, expect, it, vi } from 'vitest';
import { type DirectFlow, type DirectFlowSetup, directFlow, RESOURCE } from '../__fixtures__/direct-flow.js';
import { FakeEngine } from '../__fixtures__/fake-engine.js';
import { SELLER } from '../__fixtures__/x402-flow.js';
import { createX402Guard, type X402Guard } from './x402-guard.js';
import type { X402GuardOptions } from './x402-guard-options.js';

interface Recorded {
  type: string;
  data: Record<string, unknown>;
}

function recorder() {
  const records: Recorded[] = [];
  return {
    records,
    append: async (type: string, data: Readonly<Record<string, unknown>>) =>
      void records.push({ type, data: { ...data } }),
  };
}

async function setup(
  engine: FakeEngine,
  options: Partial<X402GuardOptions> = {},
  hooks: Omit<DirectFlowSetup, 'attach'> = {},
): Promise<{
  flow: DirectFlow;
  guard: X402Guard;
  events: Array<[string, unknown]>;
  prov: ReturnType<typeof recorder>;
}> {
  const prov = recorder();
  const guard = createX402Guard({ engine, provenance: prov, onError: () => {}, ...options });
  const events: Array<[string, unknown]> = [];
  engine.events.onAny((type, payload) => {
    events.push([type, payload]);
  });
  const flow = await directFlow({ ...hooks, attach: (s) => guard.attach(s) });
  return { flow, guard, events, prov };
}

describe('createX402Guard (resource server used directly)', () => {
  it('maps the payment to an exact intent, holds, settles and captures once', async () => {
    const engine = new FakeEngine({ blockAbove: '1000' });
    const { flow, guard, events, prov } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    const out = await flow.pay(payload, req);
    expect(out.verify.isValid).toBe(true);
    expect(out.settle?.success).toBe(true);
    expect(engine.intents).toHaveLength(1);
    const paymentId = guard.paymentIdOf(payload);
    expect(engine.intents[0]).toEqual({
      agentId: wallet.address.toLowerCase(),
      action: 'payment',
      amount: '0.010000',
      currency: 'USDC',
      recipient: RESOURCE,
      protocol: 'x402',
      network: 'eip155:84532',
      params: {
        scheme: 'bursar-test',
        payTo: SELLER,
        asset: req.asset,
        atomicAmount: '10000',
        payer: wallet.address,
        resource: RESOURCE,
      },
      idempotencyKey: `x402:${paymentId}`,
      metadata: { paymentId, x402Version: 2 },
    });
    expect(engine.count('captured')).toBe(1);
    expect(engine.spent).toBe(10_000n);
    expect(guard.status(paymentId)).toMatchObject({
      state: 'settled',
      settleSource: 'facilitator',
      facilitator: 'local',
      verifySource: 'facilitator',
      transaction: out.settle!.transaction,
      amount: '0.010000',
    });
    const settled = events.find(([t]) => t === 'payment.settled')?.[1] as BursarEventMap['payment.settled'];
    expect(settled).toMatchObject({
      amount: '0.010000',
      currency: 'USDC',
      transaction: out.settle!.transaction,
      source: 'facilitator',
      protocol: 'x402',
      recipient: RESOURCE,
    });
    await guard.idle();
    expect(prov.records.map((r) => r.type)).toEqual(['x402.authorized', 'x402.settled']);
    expect(prov.records[1]!.data).toMatchObject({
      paymentId,
      transaction: out.settle!.transaction,
      source: 'facilitator',
      facilitator: 'local',
      charged: true,
    });
  });

  it('never maps an unknown asset to 0: it aborts with unknown_asset and holds nothing', async () => {
    const engine = new FakeEngine();
    const { flow } = await setup(engine, { assets: new AssetRegistry({ includeDefaults: false }) });
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'unknown_asset' });
    expect(engine.intents).toHaveLength(0);
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
  });

  it('resolves the agent with a sync or async resolveAgent, and refuses a payment it cannot name', async () => {
    const cases: Array<{
      resolveAgent: NonNullable<X402GuardOptions['resolveAgent']>;
      agent?: string;
      refused?: string;
    }> = [
      { resolveAgent: ({ payer }) => `customer:${payer?.slice(2, 6)}`, agent: 'customer:' },
      { resolveAgent: async ({ payer }) => `customer:${payer?.slice(2, 6)}`, agent: 'customer:' },
      {
        // A thenable that is not a Promise: awaited like one.
        // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose
        resolveAgent: () => ({ then: (ok: (v: string) => void) => ok('thenable') }) as never,
        agent: 'thenable',
      },
      { resolveAgent: async () => undefined, refused: 'agent_unresolved' },
      { resolveAgent: () => '  ', refused: 'agent_unresolved' },
      {
        resolveAgent: async () => {
          throw new Error('directory down');
        },
        refused: 'internal_error',
      },
      {
        resolveAgent: () => {
          throw new Error('directory down');
        },
        refused: 'internal_error',
      },
    ];
    for (const evaluate of [true, false]) {
      for (const c of cases) {
        const engine = new FakeEngine({ evaluate });
        const { flow } = await setup(engine, { resolveAgent: c.resolveAgent });
        const wallet = flow.scheme.ledger.createWallet(5_000_000n);
        const req = await flow.requirementsFor('$0.01');
        const out = await flow.pay(await flow.sign(wallet, req), req);
        if (c.refused) {
          expect(out.verify).toMatchObject({ isValid: false, invalidReason: c.refused });
          expect(engine.intents).toHaveLength(0);
          expect(engine.holds.size).toBe(0);
        } else {
          expect(out.settle?.success).toBe(true);
          expect(engine.intents).toHaveLength(1);
          expect(engine.intents[0]!.agentId.startsWith(c.agent!)).toBe(true);
          if (evaluate) expect(engine.evaluated[0]!.agentId).toBe(engine.intents[0]!.agentId);
          expect(engine.count('captured')).toBe(1);
        }
      }
    }
  });

  it('refuses a payment above the block rule with the policy reason before the facilitator sees it', async () => {
    const engine = new FakeEngine({ blockAbove: '1000' });
    const { flow } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(2_000_000_000n);
    const req = await flow.requirementsFor('$1500');
    expect(req.amount).toBe('1500000000');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'amount_above_limit' });
    expect(engine.intents[0]!.amount).toBe('1500.000000');
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
    expect(flow.facilitator.health()[0]!.consecutiveFailures).toBe(0);
  });

  it('charges a replayed payment once and refuses it with replay', async () => {
    const engine = new FakeEngine();
    const { flow, guard } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    expect((await flow.pay(payload, req)).settle?.success).toBe(true);
    const copy = structuredClone(payload) as PaymentPayload; // decoded again from the same header
    const again = await flow.pay(copy, req);
    expect(again.verify).toMatchObject({ isValid: false, invalidReason: 'replay' });
    // settling it directly is refused too
    await expect(flow.server.settlePayment(copy, req)).rejects.toMatchObject({ errorReason: 'replay' });
    expect(engine.intents).toHaveLength(1);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
    expect(guard.stats()).toEqual({ tracked: 1, pending: 0 });
  });

  it('honours the payment-identifier extension: a fresh signature for the same id is not charged again', async () => {
    const engine = new FakeEngine();
    const { flow, guard } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const withId = (p: PaymentPayload): PaymentPayload => ({
      ...p,
      extensions: { 'payment-identifier': { info: { required: false, id: 'order_0001_abcdefgh' } } },
    });
    const first = withId(await flow.sign(wallet, req));
    expect(guard.paymentIdOf(first)).toBe('pid:order_0001_abcdefgh');
    expect((await flow.pay(first, req)).settle?.success).toBe(true);
    const retry = withId(await flow.sign(wallet, req)); // new nonce, same payment id
    expect((await flow.pay(retry, req)).verify).toMatchObject({ isValid: false, invalidReason: 'replay' });
    const other = await flow.requirementsFor('$0.02');
    const conflicting = withId(await flow.sign(wallet, other));
    expect((await flow.pay(conflicting, other)).verify).toMatchObject({
      isValid: false,
      invalidReason: 'idempotency_conflict',
    });
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
  });

  it('the same payment presented concurrently is processed once', async () => {
    const engine = new FakeEngine();
    const { flow } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => flow.pay(structuredClone(payload) as PaymentPayload, req)),
    );
    const ok = results.filter((r) => r.settle?.success);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.verify.invalidReason === 'payment_in_progress')).toHaveLength(4);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
    expect(engine.intents).toHaveLength(1);
  });

  it('an invalid payment releases its hold; presenting it again is a new attempt with a new key', async () => {
    const engine = new FakeEngine();
    const { flow, guard, events } = await setup(engine);
    const poor = flow.scheme.ledger.createWallet(0n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(poor, req);
    const out = await flow.pay(payload, req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'insufficient_funds' });
    expect(engine.count('released')).toBe(1);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({
      state: 'released',
      failure: 'verify_invalid',
    });
    expect(events.find(([t]) => t === 'payment.failed')?.[1]).toMatchObject({
      reason: 'verify_invalid',
      detail: 'insufficient_funds',
    });
    const again = await flow.pay(payload, req);
    expect(again.verify.invalidReason).toBe('insufficient_funds');
    expect(engine.intents.map((i) => i.idempotencyKey)).toEqual([
      `x402:${guard.paymentIdOf(payload)}`,
      `x402:${guard.paymentIdOf(payload)}#2`,
    ]);
  });

  it('a definite settle failure releases the hold', async () => {
    const engine = new FakeEngine();
    const { flow, guard } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(10_000n);
    const other = flow.scheme.ledger.createWallet(0n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);
    // the payer spends the money elsewhere between verify and settle
    flow.scheme.ledger.transfer({
      from: wallet.address,
      to: other.address,
      value: '10000',
      asset: req.asset,
      network: req.network,
      nonce: 'elsewhere',
      validBefore: '9999999999',
    });
    const settled = await flow.server.settlePayment(payload, req);
    expect(settled).toMatchObject({ success: false, errorReason: 'insufficient_funds' });
    expect(engine.count('released')).toBe(1);
    expect(engine.spent).toBe(0n);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({
      state: 'released',
      failure: 'settle_failed',
    });
  });

  it('a settle that was never sent (circuit open) releases; a settle timeout captures at once and waits', async () => {
    const engine = new FakeEngine();
    const { flow, guard, events } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const p1 = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(p1, req)).isValid).toBe(true);
    flow.facilitator.facilitators[0]!.breaker.trip();
    await expect(flow.server.settlePayment(p1, req)).rejects.toMatchObject({
      code: 'ERR_BURSAR_X402_CIRCUIT_OPEN',
    });
    expect(guard.status(guard.paymentIdOf(p1))).toMatchObject({
      state: 'released',
      failure: 'settle_failed',
    });
    expect(engine.count('released')).toBe(1);
    flow.facilitator.facilitators[0]!.breaker.reset();

    const p2 = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(p2, req)).isValid).toBe(true);
    const { FacilitatorTimeoutError } = await import('@x402/core/types');
    const client = flow.facilitator.facilitators[0]!.client as { settle: unknown };
    client.settle = async () => {
      throw new FacilitatorTimeoutError('settle', 1);
    };
    await expect(flow.server.settlePayment(p2, req)).rejects.toMatchObject({
      name: 'FacilitatorTimeoutError',
    });
    const id = guard.paymentIdOf(p2);
    expect(guard.status(id)).toMatchObject({
      state: 'pending_reconciliation',
      failure: 'timeout',
      budgetReturned: false,
    });
    expect(guard.pending().map((p) => p.paymentId)).toEqual([id]);
    expect(engine.count('held')).toBe(0);
    expect(engine.count('captured')).toBe(1); // the money may have moved: counted at once
    expect(events.filter(([t]) => t === 'payment.failed').map(([, e]) => e)).toEqual([
      expect.objectContaining({ reason: 'settle_failed', detail: 'circuit_open' }),
      expect.objectContaining({
        reason: 'settle_outcome_unknown',
        ambiguous: true,
        detail: 'timeout',
        captureSource: 'ambiguous_settlement',
        budgetReturned: false,
      }),
    ]);
    const done = await guard.reconcile(id, { settled: false });
    expect(done).toMatchObject({ state: 'not_settled', budgetReturned: false });
    expect(engine.count('released')).toBe(1); // the captured budget is not returned
    expect(engine.spent).toBe(10_000n);
    expect(guard.stats().pending).toBe(0);
  });

  it('fails closed on an internal error: abort internal_error, nothing held, nothing thrown', async () => {
    const engine = new FakeEngine();
    engine.mode = 'throw';
    const onError = vi.fn();
    const { flow } = await setup(engine, { onError });
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'internal_error' });
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
    expect(onError).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'engine exploded' }),
      expect.objectContaining({ hook: 'beforeVerify' }),
    );
  });

  it('fails open only when the user chose it', async () => {
    const engine = new FakeEngine();
    engine.mode = 'throw';
    const { flow, guard } = await setup(engine, { failOpen: true });
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    const out = await flow.pay(payload, req);
    expect(out.settle?.success).toBe(true);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({ state: 'settled' });
  });

  it('a require_approval decision is refused (x402 cannot wait); a pending approval keeps its hold', async () => {
    const engine = new FakeEngine();
    engine.mode = 'approval';
    const { flow } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'approval_required' });
    expect(engine.count('released')).toBe(1);
    engine.mode = 'approval_pending';
    const again = await flow.pay(await flow.sign(wallet, req), req);
    expect(again.verify.invalidMessage).toContain('apr_1');
    expect(engine.count('held')).toBe(1); // owned by the approval request
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
  });

  it('a replayed engine decision for a payment the guard forgot is refused, never charged again', async () => {
    const engine = new FakeEngine();
    engine.mode = 'replayed';
    const { flow } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'replay' });
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
  });

  it('records a verification skipped by an earlier hook and still authorizes it', async () => {
    const engine = new FakeEngine({ blockAbove: '1' });
    const { flow, guard, prov } = await setup(
      engine,
      {},
      {
        before: (s) => s.onBeforeVerify(async () => ({ skip: true, result: { isValid: true } })),
      },
    );
    const wallet = flow.scheme.ledger.createWallet(5_000_000_000n);
    const small = await flow.requirementsFor('$0.01');
    const p1 = await flow.sign(wallet, small);
    expect((await flow.pay(p1, small)).settle?.success).toBe(true);
    expect(guard.status(guard.paymentIdOf(p1))).toMatchObject({
      state: 'settled',
      verifySource: 'hook:skipped',
    });
    // the skip does not get a payment past the policy: afterVerify aborts
    const big = await flow.requirementsFor('$5');
    const out = await flow.pay(await flow.sign(wallet, big), big);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'amount_above_limit' });
    await guard.idle();
    expect(prov.records.find((r) => r.type === 'x402.authorized')?.data.source).toBe('hook:skipped');
  });

  it('records a settlement recovered by another hook and captures it', async () => {
    const engine = new FakeEngine();
    const { flow, guard, events } = await setup(
      engine,
      {},
      {
        after: (s) =>
          s.onSettleFailure(async (ctx) => ({
            recovered: true,
            result: { success: true, transaction: '0xrecovered', network: ctx.requirements.network },
          })),
      },
    );
    const wallet = flow.scheme.ledger.createWallet(10_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);
    flow.scheme.ledger.transfer({
      from: wallet.address,
      to: SELLER,
      value: '10000',
      asset: req.asset,
      network: req.network,
      nonce: 'drain',
      validBefore: '9999999999',
    });
    const result = await flow.server.settlePayment(payload, req);
    expect(result).toMatchObject({ success: true, transaction: '0xrecovered' });
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({
      state: 'settled',
      settleSource: 'hook:recovered',
      transaction: '0xrecovered',
    });
    expect(engine.count('captured')).toBe(1);
    expect(
      events.filter(([t]) => t === 'payment.settled').map(([, e]) => (e as { source: string }).source),
    ).toEqual(['hook:recovered']);
  });

  it('releases a hold when a hook registered after the guard aborts verification', async () => {
    const engine = new FakeEngine();
    const { flow } = await setup(
      engine,
      {},
      {
        after: (s) => s.onBeforeVerify(async () => ({ abort: true, reason: 'geo_blocked' })),
      },
    );
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'geo_blocked' });
    expect(engine.count('released')).toBe(1);
    expect(engine.held()).toBe(0n);
  });

  it('an upfront flow (settle before the handler) is held at verify and captured at the first settle', async () => {
    const engine = new FakeEngine();
    const { flow, guard } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = { ...(await flow.requirementsFor('$0.01')), extra: { paymentFlow: 'upfront' } };
    const payload = await flow.sign(wallet, req);
    // upfront: no facilitator verify, no afterVerify; the guard's beforeVerify still holds
    expect(await flow.server.verifyPayment(payload, req)).toEqual({ isValid: true });
    expect(engine.count('held')).toBe(1);
    const s = await flow.server.settlePayment(
      payload,
      req,
      undefined,
      undefined,
      undefined,
      'before-handler',
    );
    expect(s.success).toBe(true);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({
      state: 'settled',
      settleSource: 'facilitator',
    });
    // the handler then fails: the money moved, so nothing is released
    const cancel = flow.server.createPaymentCancellationDispatcher(payload, req, undefined, undefined, [
      'before-handler',
    ]);
    await cancel.cancel({ reason: 'handler_failed', responseStatus: 500 });
    expect(engine.count('captured')).toBe(1);
    expect(engine.count('released')).toBe(0);
  });

  it('refuses to settle more than was authorized', async () => {
    const engine = new FakeEngine();
    const { flow } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);
    await expect(flow.server.settlePayment(payload, { ...req, amount: '20000' })).rejects.toMatchObject({
      errorReason: 'hold_mismatch',
    });
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
  });

  it('refuses to settle when the hold expired meanwhile (nothing is settled without a hold)', async () => {
    const engine = new FakeEngine();
    const { flow, guard } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    expect((await flow.server.verifyPayment(payload, req)).isValid).toBe(true);
    engine.expire(guard.status(guard.paymentIdOf(payload))!.holdId!);
    await expect(flow.server.settlePayment(payload, req)).rejects.toMatchObject({
      errorReason: 'hold_missing',
    });
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({
      state: 'released',
      failure: 'hold_missing',
    });
  });

  it('keeps working when the tracker and provenance throw; errors go to onError', async () => {
    const engine = new FakeEngine();
    const onError = vi.fn();
    const { flow, guard } = await setup(engine, {
      onError,
      tracker: {
        record: () => {
          throw new Error('tracker down');
        },
      },
      provenance: {
        append: () => {
          throw new Error('log down');
        },
      },
    });
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    expect((await flow.pay(payload, req)).settle?.success).toBe(true);
    expect(guard.status(guard.paymentIdOf(payload))?.state).toBe('settled');
    expect(onError.mock.calls.map(([, c]) => c.hook)).toEqual([
      'provenance:x402.authorized',
      'tracker',
      'provenance:x402.settled',
    ]);
  });

  it('keeps its memory bounded', async () => {
    const engine = new FakeEngine();
    const { flow, guard } = await setup(engine, { maxPayments: 5 });
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    for (let i = 0; i < 30; i++) {
      const req = await flow.requirementsFor('$0.01');
      expect((await flow.pay(await flow.sign(wallet, req), req)).settle?.success).toBe(true);
    }
    expect(guard.stats().tracked).toBeLessThanOrEqual(6);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(300_000n);
  });

  it('attaches once per server and validates options', async () => {
    const engine = new FakeEngine();
    const { flow } = await setup(engine);
    expect(() => createX402Guard({ engine }).attach(flow.server)).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_X402_ALREADY_ATTACHED' }),
    );
    expect(() => createX402Guard({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_OPTIONS' }),
    );
    expect(() => createX402Guard({ engine, recipient: 'nobody' as never })).toThrow(/recipient/);
    await expect(
      createX402Guard({ engine }).reconcile('sha256:nope', { settled: true }),
    ).rejects.toMatchObject({
      code: 'ERR_BURSAR_X402_NOT_PENDING',
      status: 404,
    });
  });
});

describe('createX402Guard with an engine that can evaluate (policy before verify, hold after it)', () => {
  it('holds only after a valid verify; an invalid payment holds nothing and is never authorized', async () => {
    const engine = new FakeEngine({ evaluate: true });
    const { flow, guard, prov } = await setup(engine);
    const poor = flow.scheme.ledger.createWallet(0n);
    const req = await flow.requirementsFor('$0.01');
    const bad = await flow.sign(poor, req);
    expect((await flow.pay(bad, req)).verify).toMatchObject({
      isValid: false,
      invalidReason: 'insufficient_funds',
    });
    expect(engine.evaluated).toHaveLength(1);
    expect(engine.intents).toHaveLength(0);
    expect(engine.holds.size).toBe(0);
    expect(guard.status(guard.paymentIdOf(bad))).toMatchObject({
      state: 'released',
      failure: 'verify_invalid',
    });

    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const good = await flow.sign(wallet, req);
    expect((await flow.pay(good, req)).settle?.success).toBe(true);
    expect(engine.intents).toHaveLength(1);
    expect(engine.intents[0]).toEqual(engine.evaluated[1]); // the intent evaluate decided on
    expect(engine.count('captured')).toBe(1);
    await guard.idle();
    expect(
      prov.records
        .filter((r) => r.data.paymentId === guard.paymentIdOf(good))
        .map((r) => [r.type, r.data.source]),
    ).toEqual([
      ['x402.authorized', 'after_verify'],
      ['x402.settled', 'facilitator'],
    ]);
  });

  it('refuses what policy denies before verification, with the policy reason and a provenance record', async () => {
    const engine = new FakeEngine({ blockAbove: '1000', evaluate: true });
    const { flow, guard, prov } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(2_000_000_000n);
    const req = await flow.requirementsFor('$1500');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'amount_above_limit' });
    expect(engine.intents).toHaveLength(0);
    expect(flow.facilitator.health()[0]!.consecutiveFailures).toBe(0);
    await guard.idle();
    expect(prov.records.at(-1)).toMatchObject({
      type: 'x402.blocked',
      data: { reason: 'amount_above_limit', stage: 'before_verify' },
    });
  });

  it('refuses a payment the budget no longer covers once verified, before settlement', async () => {
    const engine = new FakeEngine({ budget: '0.01', evaluate: true });
    const { flow } = await setup(engine);
    const a = flow.scheme.ledger.createWallet(5_000_000n);
    const b = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const [pa, pb] = [await flow.sign(a, req), await flow.sign(b, req)];
    const outs = await Promise.all([flow.pay(pa, req), flow.pay(pb, req)]);
    expect(outs.filter((o) => o.settle?.success)).toHaveLength(1);
    expect(outs.map((o) => o.verify.invalidReason).filter(Boolean)).toEqual(['budget_exceeded']);
    expect(flow.scheme.ledger.settlements).toHaveLength(1);
    expect(engine.spent).toBe(10_000n);
  });

  it('a hook after the guard aborting verification leaves nothing held', async () => {
    const engine = new FakeEngine({ evaluate: true });
    const { flow, guard } = await setup(
      engine,
      {},
      { after: (s) => s.onBeforeVerify(async () => ({ abort: true, reason: 'geo_blocked' })) },
    );
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    expect((await flow.pay(payload, req)).verify).toMatchObject({
      isValid: false,
      invalidReason: 'geo_blocked',
    });
    expect(engine.holds.size).toBe(0);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({ state: 'released' });
  });

  it('an upfront flow (no verify step) is held at the first settle, then captured', async () => {
    const engine = new FakeEngine({ evaluate: true });
    const { flow, guard } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = { ...(await flow.requirementsFor('$0.01')), extra: { paymentFlow: 'upfront' } };
    const payload = await flow.sign(wallet, req);
    expect(await flow.server.verifyPayment(payload, req)).toEqual({ isValid: true });
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({ state: 'evaluated' });
    expect(engine.holds.size).toBe(0);
    const s = await flow.server.settlePayment(
      payload,
      req,
      undefined,
      undefined,
      undefined,
      'before-handler',
    );
    expect(s.success).toBe(true);
    expect(engine.count('captured')).toBe(1);
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({ state: 'settled' });
  });

  it('require_approval is decided with the hold, after verification', async () => {
    const engine = new FakeEngine({ evaluate: true });
    engine.mode = 'approval_pending';
    const { flow } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const out = await flow.pay(await flow.sign(wallet, req), req);
    expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'approval_required' });
    expect(out.verify.invalidMessage).toContain('apr_1');
    expect(engine.count('held')).toBe(1); // owned by the approval request
    expect(flow.scheme.ledger.settlements).toHaveLength(0);
  });

  it('the same payment presented concurrently is processed once', async () => {
    const engine = new FakeEngine({ evaluate: true });
    const { flow } = await setup(engine);
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    const payload = await flow.sign(wallet, req);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => flow.pay(structuredClone(payload) as PaymentPayload, req)),
    );
    expect(results.filter((r) => r.settle?.success)).toHaveLength(1);
    expect(results.filter((r) => r.verify.invalidReason === 'payment_in_progress')).toHaveLength(4);
    expect(engine.intents).toHaveLength(1);
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
  });

  it('a failed evaluate fails closed; with failOpen only that step is skipped (authorize still runs)', async () => {
    for (const failOpen of [false, true]) {
      const engine = new FakeEngine({ evaluate: true });
      Object.assign(engine, {
        evaluate: async () => {
          throw new Error('evaluate exploded');
        },
      });
      const { flow } = await setup(engine, { failOpen });
      const wallet = flow.scheme.ledger.createWallet(5_000_000n);
      const req = await flow.requirementsFor('$0.01');
      const out = await flow.pay(await flow.sign(wallet, req), req);
      if (failOpen) {
        expect(out.settle?.success).toBe(true);
        expect(engine.intents).toHaveLength(1);
        expect(engine.count('captured')).toBe(1);
      } else {
        expect(out.verify).toMatchObject({ isValid: false, invalidReason: 'internal_error' });
        expect(engine.holds.size).toBe(0);
      }
    }
  });
});

describe('createX402Guard with an engine without evaluate (documented fallback)', () => {
  it('authorizes and holds before verification', async () => {
    const engine = new FakeEngine();
    let heldAtVerify = -1n;
    const { flow } = await setup(engine);
    const client = flow.facilitator.facilitators[0]!.client as {
      verify: (...a: never[]) => Promise<unknown>;
    };
    const verify = client.verify.bind(client);
    client.verify = async (...a) => {
      heldAtVerify = engine.held();
      return verify(...a);
    };
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.01');
    expect((await flow.pay(await flow.sign(wallet, req), req)).settle?.success).toBe(true);
    expect(heldAtVerify).toBe(10_000n);
  });
});
