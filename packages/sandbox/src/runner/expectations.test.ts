import { describe, expect, it } from 'vitest';
import { checkExpectation } from './expectations.js';
import type { PaymentLine, ScenarioOutcome } from './types.js';

const line = (over: Partial<PaymentLine>): PaymentLine => ({
  seq: 1,
  agentId: 'a',
  action: 'payment',
  amount: '1.00',
  currency: 'USD',
  decision: 'allow',
  outcome: 'allowed',
  reasonCode: 'allowed',
  reason: '',
  replayed: false,
  hold: 'captured',
  captured: '1.00',
  ...over,
});

const outcome = (over: Partial<ScenarioOutcome> = {}): ScenarioOutcome => ({
  lines: [line({})],
  alerts: [],
  counts: { allowed: 1, pending: 0, failed: 0, blocked: 0 },
  totals: { allowed: { USD: '1.00' }, pending: {}, failed: {}, blocked: {} },
  captured: { USD: '1.00' },
  charged: { USD: '1.00' },
  grossCharged: { USD: '1.00' },
  refunded: {},
  chargedByRail: { acp: { USD: '1.00' } },
  duplicateCharges: 0,
  facts: { provenance: { ok: true, records: 4 } },
  ...over,
});

describe('checkExpectation', () => {
  it('passes when every stated expectation holds, comparing money exactly', async () => {
    expect(await checkExpectation({ allowed: 1, blocked: 0, charged: { usd: '1' } }, outcome())).toEqual([]);
  });

  it('names each count that differs', async () => {
    expect(await checkExpectation({ allowed: 2, pending: 1 }, outcome())).toEqual([
      'expected 2 allowed, got 1',
      'expected 1 pending, got 0',
    ]);
  });

  it('a charge one cent off fails, and a currency that should be absent must be zero', async () => {
    expect(await checkExpectation({ charged: { USD: '1.01' } }, outcome())).toEqual([
      'charged by the rails: USD: expected 1.01 USD, got 1.00 USD',
    ]);
    const extra = outcome({ charged: { USD: '1.00', USDC: '0.000001' }, grossCharged: { USD: '1.00' } });
    expect(await checkExpectation({ charged: { USD: '1.00' } }, extra)).toEqual([
      'charged by the rails: USDC: expected 0.00 USDC, got 0.000001 USDC',
    ]);
  });

  it('fails on any double charge unless the scenario expects it', async () => {
    const doubled = outcome({ duplicateCharges: 1 });
    expect(await checkExpectation({}, doubled)).toEqual(['expected 0 double charges on the ledgers, got 1']);
    expect(await checkExpectation({ duplicateCharges: 1 }, doubled)).toEqual([]);
  });

  it('fails when Bursar captured something other than what the rails charged', async () => {
    const drift = outcome({ captured: { USD: '0.99' } });
    expect(await checkExpectation({}, drift)).toEqual([
      "Bursar's captures differ from what the rails charged: USD: expected 1.00 USD, got 0.99 USD",
    ]);
    expect(await checkExpectation({ capturesMatchLedger: false }, drift)).toEqual([]);
  });

  it('fails on a missing alert, reason or replay count, and on a broken provenance chain', async () => {
    const broken = outcome({ facts: { provenance: { ok: false, brokenAt: 3, reason: 'edited' } } });
    expect(
      await checkExpectation({ alerts: ['circuit_open'], reasons: ['replay'], replayed: 2 }, broken),
    ).toEqual([
      'expected a circuit_open alert; none was raised',
      'expected a line with reason replay',
      'expected 2 replayed, got 0',
      'the provenance chain does not verify: edited at record 3',
    ]);
  });

  it('adds what a custom check returns', async () => {
    expect(await checkExpectation({ check: async () => ['custom problem'] }, outcome())).toEqual([
      'custom problem',
    ]);
  });
});
