import { BursarError, ErrorCode } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { codes, pay, reason, setup } from '../__fixtures__/engine.js';
import { allowAll, blockAbove, requireApprovalAbove } from '../policy/builders.js';
import type { PolicyInput } from '../policy/schema.js';

const usdcOnly: PolicyInput = {
  id: 'production',
  rules: [blockAbove(1000, 'USDC'), allowAll()],
  budgets: [{ window: 'daily', maxAmount: 500, currency: 'USDC' }],
};

describe('amounts in a currency no rule or budget of the policy is written in', () => {
  it('are denied (currency_not_covered), not waved through past USDC-only limits', async () => {
    const { engine } = setup({}, usdcOnly);
    const eurc = await engine.authorize(pay({ amount: '1000000', currency: 'EURC' }));
    expect(eurc.outcome).toBe('deny');
    expect(eurc.holdId).toBeUndefined();
    expect(codes(eurc)).toEqual(['currency_not_covered']);
    const r = reason(eurc, 'currency_not_covered');
    expect(r).toMatchObject({
      outcome: 'deny',
      policyId: 'production',
      currency: 'EURC',
      details: { currency: 'EURC', covered: ['USDC'] },
    });
    expect(r.message).toContain('1000000.000000 EURC');
    expect(r.message).toContain('USDC only');
    const eth = await engine.authorize(pay({ amount: '50', currency: 'ETH' }));
    expect(eth.outcome).toBe('deny');
    expect(reason(eth, 'currency_not_covered').details).toEqual({ currency: 'ETH', covered: ['USDC'] });
    // Nothing was held; the covered currency still works, and so do tool calls without an amount.
    expect((await engine.getBudgetStatus())[0]).toMatchObject({ held: '0.000000' });
    expect((await engine.authorize(pay({ amount: '25', currency: 'usdc' }))).outcome).toBe('allow');
    expect((await engine.authorize(pay({ amount: '1000.01' }))).outcome).toBe('deny');
    const tool = await engine.authorize({ agentId: 'bot', action: 'search' });
    expect(tool.outcome).toBe('allow');
  });

  it("currencies: 'any' turns the check off; an explicit list replaces the inferred set", async () => {
    const any = setup({}, { ...usdcOnly, currencies: 'any' }).engine;
    expect((await any.authorize(pay({ amount: '1000000', currency: 'EURC' }))).outcome).toBe('allow');

    const listed = setup({}, { ...usdcOnly, currencies: ['usdc', 'EURC'] }).engine;
    expect((await listed.authorize(pay({ amount: '2000', currency: 'EURC' }))).outcome).toBe('allow');
    const eth = await listed.authorize(pay({ amount: '1', currency: 'ETH' }));
    expect(reason(eth, 'currency_not_covered').details).toEqual({
      currency: 'ETH',
      covered: ['EURC', 'USDC'],
    });

    const replaced = setup({}, { ...usdcOnly, currencies: ['EURC'] }).engine;
    expect(codes(await replaced.authorize(pay({ amount: '1' })))).toEqual(['currency_not_covered']);
  });

  it('the covered set is inferred from amount budgets and amount conditions of rules and limits', async () => {
    const { engine } = setup(
      {},
      {
        id: 'mixed',
        rules: [requireApprovalAbove(100, 'EUR'), allowAll()],
        rateLimits: [{ window: 'hourly', maxCount: 10, when: { amount: { gt: 5, currency: 'GBP' } } }],
        budgets: [{ window: 'daily', maxAmount: 50, currency: 'USD' }],
      },
    );
    for (const currency of ['EUR', 'GBP', 'USD']) {
      expect((await engine.evaluate(pay({ amount: '1', currency }))).outcome, currency).toBe('allow');
    }
    expect(reason(await engine.evaluate(pay({ amount: '1' })), 'currency_not_covered').details).toEqual({
      currency: 'USDC',
      covered: ['EUR', 'GBP', 'USD'],
    });
  });

  it('a policy that names no currency covers every currency; with several policies each one checks', async () => {
    const open = setup({}, { id: 'open', rules: [allowAll()] }).engine;
    expect((await open.authorize(pay({ amount: '5', currency: 'ETH' }))).outcome).toBe('allow');
    const both = setup({}, { id: 'open', rules: [allowAll()] }, usdcOnly).engine;
    const d = await both.authorize(pay({ amount: '5', currency: 'ETH' }));
    expect(d.outcome).toBe('deny');
    expect(d.reasons.filter((r) => r.code === 'currency_not_covered').map((r) => r.policyId)).toEqual([
      'production',
    ]);
  });

  it('rejects unknown or empty currency lists at load', () => {
    const { engine } = setup();
    const bad = (currencies: unknown) => {
      try {
        engine.loadPolicy({ ...usdcOnly, currencies } as PolicyInput);
      } catch (e) {
        expect(BursarError.hasCode(e, ErrorCode.INVALID_POLICY)).toBe(true);
        return (e as BursarError).issues.map((i) => i.path);
      }
      return [];
    };
    expect(bad(['USDC', 'DOGE'])).toEqual(['currencies.1']);
    expect(bad([])).toEqual(['currencies']);
    expect(bad('all')).toEqual(['currencies']);
  });
});
