import { BursarError, EventBus, ManualClock } from '@bursar/core';
import type { FacilitatorClient } from '@x402/core/server';
import {
  FacilitatorResponseError,
  FacilitatorTimeoutError,
  type PaymentPayload,
  type PaymentRequirements,
  type SettleResponse,
  type SupportedResponse,
  type VerifyResponse,
} from '@x402/core/types';
import { describe, expect, it } from 'vitest';
import { FacilitatorUnavailableError } from './facilitator-unavailable-error.js';
import { guardFacilitator } from './guard-facilitator.js';
import { facilitatorResultOrigin } from './result-origin.js';

const NET = 'eip155:84532';
const requirements: PaymentRequirements = {
  scheme: 'bursar-test',
  network: NET,
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  amount: '1000',
  payTo: '0x0000000000000000000000000000000000000001',
  maxTimeoutSeconds: 60,
  extra: {},
};
const payload = (): PaymentPayload => ({
  x402Version: 2,
  accepted: requirements,
  payload: { n: Math.random() },
});

type Step<T> = T | Error | 'hang';
interface Scripted extends FacilitatorClient {
  calls: { verify: number; settle: number; supported: number };
}

function scripted(script: {
  verify?: Step<VerifyResponse>[];
  settle?: Step<SettleResponse>[];
  supported?: Step<SupportedResponse>;
}): Scripted {
  const calls = { verify: 0, settle: 0, supported: 0 };
  const play = <T>(steps: Step<T>[] | undefined, i: number, fallback: T): Promise<T> => {
    const step = steps && steps.length > 0 ? steps[Math.min(i, steps.length - 1)]! : fallback;
    if (step === 'hang') return new Promise<T>(() => {});
    if (step instanceof Error) return Promise.reject(step);
    return Promise.resolve(structuredClone(step));
  };
  return {
    calls,
    verify: () => play(script.verify, calls.verify++, { isValid: true, payer: '0xpayer' }),
    settle: () =>
      play(script.settle, calls.settle++, {
        success: true,
        transaction: '0xtx',
        network: NET,
        payer: '0xpayer',
      }),
    getSupported: () => {
      calls.supported++;
      const s = script.supported ?? {
        kinds: [{ x402Version: 2, scheme: 'bursar-test', network: NET }],
        extensions: [],
        signers: {},
      };
      return s instanceof Error
        ? Promise.reject(s)
        : s === 'hang'
          ? new Promise(() => {})
          : Promise.resolve(s);
    },
  };
}

const timeout = (op: string) => new FacilitatorTimeoutError(op, 1);
const refused = () =>
  Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  });

describe('guardFacilitator', () => {
  it('fails verify over to the next facilitator and tags where the answer came from', async () => {
    const a = scripted({ verify: [timeout('verify')] });
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    const result = await g.verify(payload(), requirements);
    expect(result.isValid).toBe(true);
    expect(facilitatorResultOrigin(result)).toBe('b');
    expect([a.calls.verify, b.calls.verify]).toEqual([1, 1]);
    expect(g.health().map((h) => h.consecutiveFailures)).toEqual([1, 0]);
  });

  it("returns a payment's own invalidity without failover and without blaming the facilitator", async () => {
    const a = scripted({ verify: [{ isValid: false, invalidReason: 'insufficient_funds' }] });
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    const result = await g.verify(payload(), requirements);
    expect(result).toMatchObject({ isValid: false, invalidReason: 'insufficient_funds' });
    expect(b.calls.verify).toBe(0);
    expect(g.health()[0]!.consecutiveFailures).toBe(0);
  });

  it('counts an answer that blames the facilitator as a failure and fails over', async () => {
    const a = scripted({ verify: [{ isValid: false, invalidReason: 'unexpected_verify_error' }] });
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    expect((await g.verify(payload(), requirements)).isValid).toBe(true);
    expect(g.health()[0]!.consecutiveFailures).toBe(1);
    // every facilitator at fault: the first fault answer goes back
    const c = scripted({ verify: [{ isValid: false, invalidReason: 'unexpected_verify_error' }] });
    const g2 = guardFacilitator([c], { names: ['c'] });
    expect(await g2.verify(payload(), requirements)).toMatchObject({
      invalidReason: 'unexpected_verify_error',
    });
  });

  it('opens the breaker after consecutive failures: later calls fail fast without reaching it', async () => {
    const clock = new ManualClock(0);
    const events = new EventBus();
    const changes: string[] = [];
    events.on('circuit.state_changed', (e) => {
      changes.push(`${e.facilitator}:${e.from}->${e.to}`);
    });
    const a = scripted({ verify: [new Error('Facilitator verify failed (503): down')] });
    const g = guardFacilitator(a, {
      names: ['a'],
      breaker: { failureThreshold: 3, resetTimeoutMs: 1_000 },
      clock,
      events,
    });
    for (let i = 0; i < 3; i++) await expect(g.verify(payload(), requirements)).rejects.toThrow(/503/);
    expect(a.calls.verify).toBe(3);
    const fast = g.verify(payload(), requirements);
    await expect(fast).rejects.toBeInstanceOf(FacilitatorUnavailableError);
    await expect(fast).rejects.toBeInstanceOf(FacilitatorResponseError); // so middleware answers 502
    await expect(fast).rejects.toMatchObject({
      code: 'ERR_BURSAR_X402_CIRCUIT_OPEN',
      details: { retryAt: 1_000 },
    });
    expect(BursarError.isInstance(await fast.catch((e: unknown) => e))).toBe(true);
    expect(a.calls.verify).toBe(3);
    expect(changes).toEqual(['a:closed->open']);

    // half-open: one probe goes through; success closes
    clock.advance(1_000);
    const healthy = scripted({});
    (a as { verify: FacilitatorClient['verify'] }).verify = healthy.verify;
    expect((await g.verify(payload(), requirements)).isValid).toBe(true);
    expect(changes).toEqual(['a:closed->open', 'a:open->half_open', 'a:half_open->closed']);
  });

  it('never retries or fails over a settle whose outcome is unknown', async () => {
    const a = scripted({ settle: [timeout('settle')] });
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    await expect(g.settle(payload(), requirements)).rejects.toBeInstanceOf(FacilitatorTimeoutError);
    expect([a.calls.settle, b.calls.settle]).toEqual([1, 0]);
    // a connection lost after sending: same
    const c = scripted({
      settle: [Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_SOCKET' } })],
    });
    const d = scripted({});
    await expect(guardFacilitator([c, d]).settle(payload(), requirements)).rejects.toThrow('fetch failed');
    expect(d.calls.settle).toBe(0);
  });

  it('moves a settle to the next facilitator only when it was never sent', async () => {
    const a = scripted({ settle: [refused()] });
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    const r = await g.settle(payload(), requirements);
    expect(r.success).toBe(true);
    expect(facilitatorResultOrigin(r)).toBe('b');
    expect([a.calls.settle, b.calls.settle]).toEqual([1, 1]);
  });

  it('skips a facilitator whose circuit is open for settle too', async () => {
    const a = scripted({});
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    g.facilitators[0]!.breaker.trip();
    const r = await g.settle(payload(), requirements);
    expect(facilitatorResultOrigin(r)).toBe('b');
    expect(a.calls.settle).toBe(0);
    g.facilitators[1]!.breaker.trip();
    await expect(g.settle(payload(), requirements)).rejects.toMatchObject({
      code: 'ERR_BURSAR_X402_CIRCUIT_OPEN',
      details: { operation: 'settle', facilitators: ['a', 'b'] },
    });
  });

  it('settles on the facilitator that verified the payment', async () => {
    const a = scripted({ verify: [timeout('verify'), { isValid: true }] });
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    const p = payload();
    await g.verify(p, requirements); // a times out, b verifies
    const r = await g.settle(p, requirements);
    expect(facilitatorResultOrigin(r)).toBe('b');
    expect([a.calls.settle, b.calls.settle]).toEqual([0, 1]);
  });

  it('returns a settle failure answer as is (no failover) and counts only facilitator faults', async () => {
    const a = scripted({
      settle: [
        { success: false, errorReason: 'insufficient_funds', transaction: '', network: NET },
        { success: false, errorReason: 'unexpected_settle_error', transaction: '', network: NET },
      ],
    });
    const b = scripted({});
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    expect(await g.settle(payload(), requirements)).toMatchObject({
      success: false,
      errorReason: 'insufficient_funds',
    });
    expect(g.health()[0]!.consecutiveFailures).toBe(0);
    expect(await g.settle(payload(), requirements)).toMatchObject({ errorReason: 'unexpected_settle_error' });
    expect(g.health()[0]!.consecutiveFailures).toBe(1);
    expect(b.calls.settle).toBe(0);
  });

  it('puts a deadline on in-process calls', async () => {
    const a = scripted({ settle: ['hang'], verify: ['hang'] });
    const g = guardFacilitator(a, { timeoutMs: { verify: 20, settle: 20 } });
    await expect(g.settle(payload(), requirements)).rejects.toMatchObject({
      name: 'FacilitatorTimeoutError',
      operation: 'settle',
    });
    await expect(g.verify(payload(), requirements)).rejects.toMatchObject({ operation: 'verify' });
  });

  it('merges supported kinds and routes each payment to facilitators that support it', async () => {
    const other = 'eip155:8453';
    const a = scripted({
      supported: {
        kinds: [{ x402Version: 2, scheme: 'bursar-test', network: other }],
        extensions: ['x'],
        signers: { 'eip155:*': ['0x1'] },
      },
    });
    const b = scripted({
      supported: {
        kinds: [{ x402Version: 2, scheme: 'bursar-test', network: NET }],
        extensions: ['y'],
        signers: { 'eip155:*': ['0x2'] },
      },
    });
    const g = guardFacilitator([a, b], { names: ['a', 'b'] });
    const s = await g.getSupported();
    expect(s.kinds.map((k) => k.network)).toEqual([other, NET]);
    expect(s.extensions).toEqual(['x', 'y']);
    expect(s.signers).toEqual({ 'eip155:*': ['0x1', '0x2'] });
    await g.verify(payload(), requirements);
    expect([a.calls.verify, b.calls.verify]).toEqual([0, 1]);
  });

  it('routes to supporting facilitators, then unknown ones, and to all when none supports the kind', async () => {
    const other = 'eip155:8453';
    const only = (network: typeof NET | 'eip155:8453'): SupportedResponse => ({
      kinds: [{ x402Version: 2, scheme: 'bursar-test', network }],
      extensions: [],
      signers: {},
    });
    const a = scripted({ supported: only(other) });
    const b = scripted({ supported: only(NET), verify: [timeout('verify')] });
    const c = scripted({ supported: new Error('Facilitator getSupported failed (503): x') });
    const g = guardFacilitator([a, b, c], { names: ['a', 'b', 'c'] });
    await g.getSupported();
    // b supports NET (and times out), c's kinds are unknown, a supports another network only.
    const r = await g.verify(payload(), requirements);
    expect(facilitatorResultOrigin(r)).toBe('c');
    expect([a.calls.verify, b.calls.verify, c.calls.verify]).toEqual([0, 1, 1]);
    // A kind no facilitator lists, with none unknown either: every facilitator, in order.
    const d = scripted({ supported: only(other) });
    const e = scripted({ supported: only(other) });
    const h = guardFacilitator([d, e], { names: ['d', 'e'] });
    await h.getSupported();
    expect(facilitatorResultOrigin(await h.verify(payload(), requirements))).toBe('d');
    expect([d.calls.verify, e.calls.verify]).toEqual([1, 0]);
  });

  it('getSupported survives a facilitator that is down, and fails when all are', async () => {
    const a = scripted({ supported: new Error('Facilitator getSupported failed (503): x') });
    const b = scripted({});
    expect((await guardFacilitator([a, b]).getSupported()).kinds).toHaveLength(1);
    await expect(guardFacilitator([a]).getSupported()).rejects.toThrow(/503/);
  });

  it('validates its inputs', () => {
    expect(() => guardFacilitator([])).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_OPTIONS' }),
    );
    expect(() => guardFacilitator([{ verify() {} } as never])).toThrow(/getSupported/);
    expect(() => guardFacilitator([scripted({})], { names: ['a', 'b'] })).toThrow(/names/);
    expect(() => guardFacilitator(scripted({}), { timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
