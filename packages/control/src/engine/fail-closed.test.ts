import {
  type AgentStateStore,
  MemoryAgentStateStore,
  MemoryIdempotencyStore,
  MemorySpendStore,
  type SpendStore,
} from '@bursar/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { codes, pay, setup, wrapStore } from '../__fixtures__/engine.js';
import type { PolicyInput } from '../policy/schema.js';

const policy: PolicyInput = {
  id: 'p',
  rules: [{ action: 'allow', risk: 1 }],
  budgets: [{ window: 'daily', maxAmount: 100, currency: 'USDC' }],
  risk: { threshold: 1000 },
};
const boom = async (): Promise<never> => {
  throw new Error('store unavailable');
};

describe('fail closed', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('a spend store that throws yields deny internal_error, from evaluate and authorize', async () => {
    const spend = wrapStore<SpendStore>(new MemorySpendStore(), { placeHold: boom, getCounters: boom });
    const errors: unknown[] = [];
    const { engine, events } = setup({ stores: { spend }, onError: (e) => errors.push(e) }, policy);
    for (const d of [await engine.evaluate(pay()), await engine.authorize(pay())]) {
      expect(d.outcome).toBe('deny');
      expect(d.reasons).toEqual([
        {
          code: 'internal_error',
          message: 'An internal error occurred while deciding; denied (fail closed)',
          outcome: 'deny',
          source: 'system',
          details: { error: 'Error' },
        },
      ]);
      expect(d.holdId).toBeUndefined();
    }
    expect(errors.map((e) => (e as Error).message)).toEqual(['store unavailable', 'store unavailable']);
    expect(events.map((e) => e.type)).toEqual(['intent.received', 'decision.made']);
  });

  it('an agent store that throws yields deny', async () => {
    for (const method of ['getAgent', 'listKillSwitches', 'getRisk', 'addRisk'] as const) {
      const agents = wrapStore<AgentStateStore>(new MemoryAgentStateStore(), { [method]: boom });
      const { engine } = setup({ stores: { agents } }, policy);
      const d = await engine.authorize(pay());
      expect([method, d.outcome, codes(d)]).toEqual([method, 'deny', ['internal_error']]);
    }
  });

  it('an error after the hold was placed releases the hold', async () => {
    const spend = new MemorySpendStore();
    const agents = wrapStore<AgentStateStore>(new MemoryAgentStateStore(), { addRisk: boom });
    const { engine } = setup({ stores: { spend, agents } }, policy);
    const d = await engine.authorize(pay({ amount: 40 }));
    expect(codes(d)).toEqual(['internal_error']);
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '0.000000', spent: '0.000000' });
  });

  it('an approval hook that throws releases the hold and denies', async () => {
    const { engine } = setup(
      {
        approvals: {
          requested: () => {
            throw new Error('webhook down');
          },
        },
      },
      { id: 'p', rules: [{ action: 'require_approval' }], budgets: policy.budgets },
    );
    const d = await engine.authorize(pay({ amount: 40 }));
    expect(codes(d)).toEqual(['internal_error']);
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '0.000000' });
  });

  it('an idempotency store that throws yields deny', async () => {
    const idempotency = wrapStore(new MemoryIdempotencyStore(), { begin: boom });
    const { engine } = setup({ stores: { idempotency } }, policy);
    expect(codes(await engine.authorize(pay({ idempotencyKey: 'k' })))).toEqual(['internal_error']);
    // Without a key the idempotency store is not involved.
    expect((await engine.authorize(pay())).outcome).toBe('allow');
  });

  it('a matcher or provider bug yields deny', async () => {
    const { engine } = setup(
      {
        riskProviders: [
          {
            name: 'buggy',
            signals: () => {
              throw new TypeError('cannot read properties of undefined');
            },
          },
        ],
      },
      policy,
    );
    const d = await engine.evaluate(pay());
    expect(d.reasons).toEqual([
      expect.objectContaining({ code: 'internal_error', details: { error: 'TypeError' } }),
    ]);
  });

  it('a failing onError logger does not change the decision', async () => {
    const spend = wrapStore<SpendStore>(new MemorySpendStore(), { placeHold: boom });
    const { engine } = setup(
      {
        stores: { spend },
        onError: () => {
          throw new Error('logger broke');
        },
      },
      policy,
    );
    expect((await engine.authorize(pay())).outcome).toBe('deny');
  });

  it('fail-open exists only as an explicit option, and it warns', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const spend = wrapStore<SpendStore>(new MemorySpendStore(), { placeHold: boom });
    const { engine } = setup({ stores: { spend }, failOpen: true }, policy);
    const d = await engine.authorize(pay());
    expect(d.outcome).toBe('allow');
    expect(d.holdId).toBeUndefined();
    expect(d.reasons).toEqual([
      expect.objectContaining({ code: 'internal_error_fail_open', outcome: 'allow' }),
    ]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/failed open/), { code: 'BURSAR_FAIL_OPEN' });
  });
});
