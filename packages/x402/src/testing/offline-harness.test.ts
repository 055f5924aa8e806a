import { ManualClock } from '@bursar/core';
import { decodePaymentResponseHeader } from '@x402/core/http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Flow, payThenReplay, SELLER, startFlow } from '../__fixtures__/x402-flow.js';

let flow: Flow | undefined;
afterEach(async () => {
  await flow?.close();
  flow = undefined;
});

describe('offline x402 harness (no guard): the real libraries end to end', () => {
  it('pays, verifies and settles over HTTP through @x402/express and @x402/fetch', async () => {
    flow = await startFlow({ guard: false });
    const wallet = flow.scheme.ledger.createWallet(1_000_000n); // 1 USDC
    const pay = flow.buyer(wallet);
    const res = await pay(`${flow.url}/weather`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, n: 1 });
    const receipt = decodePaymentResponseHeader(res.headers.get('payment-response')!);
    expect(receipt.success).toBe(true);
    expect(flow.scheme.ledger.balanceOf(wallet.address)).toBe(990_000n);
    expect(flow.scheme.ledger.balanceOf(SELLER)).toBe(10_000n);
    expect(flow.scheme.ledger.settlements[0]!.transaction).toBe(receipt.transaction);
    expect(flow.facilitatorServer.calls).toMatchObject({ verify: 1, settle: 1 });
  });

  it('an unpaid request gets a 402 with requirements in atomic units', async () => {
    flow = await startFlow({ guard: false });
    const res = await fetch(`${flow.url}/priced?usd=1500`);
    expect(res.status).toBe(402);
    const header = JSON.parse(Buffer.from(res.headers.get('payment-required')!, 'base64').toString('utf8'));
    expect(header.accepts[0]).toMatchObject({ amount: '1500000000', payTo: SELLER, scheme: 'bursar-test' });
  });

  it('the chain stand-in charges a signed payment once: a replayed header is refused', async () => {
    flow = await startFlow({ guard: false });
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    expect(await payThenReplay(flow, wallet)).toEqual({ paid: 200, replayed: 402 });
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
    expect(flow.handled.count).toBe(1);
  });

  it('facilitator down: the breaker opens, calls fail fast, a half-open probe recovers', async () => {
    const clock = new ManualClock(Date.now());
    flow = await startFlow({ clock, guard: { breaker: { failureThreshold: 2, resetTimeoutMs: 30_000 } } });
    const wallet = flow.scheme.ledger.createWallet(1_000_000n);
    const pay = flow.buyer(wallet);
    flow.facilitatorServer.setFault('verify', { kind: 'unavailable', status: 503 });
    for (let i = 0; i < 2; i++) {
      const res = await pay(`${flow.url}/weather`);
      expect(res.status).toBe(402); // the verify error surfaces as a 402 with the message
    }
    expect(flow.guarded!.health()[0]!.state).toBe('open');
    const before = flow.facilitatorServer.calls.verify;
    const fast = await pay(`${flow.url}/weather`);
    expect(fast.status).toBe(502); // FacilitatorUnavailableError is a facilitator boundary failure
    expect(flow.facilitatorServer.calls.verify).toBe(before); // never reached the facilitator
    expect(flow.handled.count).toBe(0);

    flow.facilitatorServer.setFault('verify', null);
    clock.advance(30_000);
    expect(flow.guarded!.health()[0]!.state).toBe('half_open');
    const recovered = await pay(`${flow.url}/weather`);
    expect(recovered.status).toBe(200);
    expect(flow.guarded!.health()[0]!.state).toBe('closed');
    expect(flow.scheme.ledger.paidBy(wallet.address)).toBe(10_000n);
  });
});
