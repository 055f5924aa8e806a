import { describe, expect, it } from 'vitest';
import { codes, pay, setup } from '../__fixtures__/engine.js';
import {
  allowAll,
  allowOnlyRecipients,
  blockAbove,
  blockRecipients,
  budget,
  dailyBudget,
  definePolicy,
  denyAll,
  hourlyBudget,
  lifetimeBudget,
  monthlyBudget,
  perTransactionLimit,
  rateLimit,
  requireApprovalAbove,
  rollingBudget,
  weeklyBudget,
} from './builders.js';

describe('builders', () => {
  it('the headline policy: block above, approval above, allow the rest, daily budget', async () => {
    const { engine } = setup(
      {},
      definePolicy({
        id: 'production',
        rules: [blockAbove(1000, 'USDC'), requireApprovalAbove(100, 'USDC'), allowAll()],
        budgets: [{ window: 'daily', maxAmount: 500, currency: 'USDC' }],
      }),
    );
    const outcome = async (amount: string) => (await engine.evaluate(pay({ amount }))).outcome;
    expect(await outcome('25.00')).toBe('allow');
    expect(await outcome('100.000001')).toBe('require_approval');
    expect(await outcome('1000.000001')).toBe('deny');
    expect(codes(await engine.evaluate(pay({ amount: '1000.000001' })))).toEqual(['amount_above_limit']);
    expect(await outcome('500.000001')).toBe('deny'); // over the daily budget
    // A tool call pays nothing: the amount rules do not apply to it.
    expect((await engine.evaluate({ agentId: 'bot', action: 'search' })).outcome).toBe('allow');
  });

  it('rule builders produce stable ids and take options', () => {
    expect(blockAbove('1000.50', 'usdc')).toEqual({
      id: 'block-above-1000.50-usdc',
      action: 'deny',
      when: { amount: { gt: '1000.50', currency: 'usdc' } },
      onMissing: 'no_match',
      code: 'amount_above_limit',
      message: 'Payments above 1000.50 usdc are blocked',
    });
    expect(
      requireApprovalAbove(5, 'EUR', { id: 'eur-review', risk: 3, when: { agent: 'bot-*' } }),
    ).toMatchObject({
      id: 'eur-review',
      action: 'require_approval',
      risk: 3,
      when: { amount: { gt: 5, currency: 'EUR' }, agent: 'bot-*' },
    });
    expect(allowAll({ priority: -10 })).toEqual({
      id: 'allow-all',
      action: 'allow',
      code: 'allowed',
      message: 'Allowed',
      priority: -10,
    });
    expect(denyAll()).toMatchObject({ id: 'deny-all', action: 'deny', code: 'denied' });
  });

  it('blockRecipients and allowOnlyRecipients (globs, exact values, domains)', async () => {
    const { engine } = setup(
      {},
      {
        id: 'p',
        rules: [
          blockRecipients(['https://*.evil.test/*', '0xDEAD000000000000000000000000000000000000']),
          blockRecipients(['bad.test'], { id: 'bad-domain', match: 'domain' }),
          allowOnlyRecipients(['https://*.good.test/*', 'https://api.bad.test/*', '0x*']),
          allowAll(),
        ],
      },
    );
    const check = async (recipient: string | undefined) => codes(await engine.evaluate(pay({ recipient })));
    expect(await check('https://api.good.test/v1')).toEqual(['allowed']);
    expect(await check('https://x.evil.test/v1')).toEqual(['recipient_blocked']);
    expect(await check('0xdead000000000000000000000000000000000000')).toEqual(['recipient_blocked']);
    expect(await check('0x1111000000000000000000000000000000000000')).toEqual(['allowed']);
    expect(await check('https://api.bad.test/x')).toEqual(['recipient_blocked']);
    expect(await check('https://elsewhere.test/')).toEqual(['recipient_not_allowed']);
    // No recipient: both lists deny (first match: the block list).
    expect((await engine.evaluate(pay({ recipient: undefined }))).outcome).toBe('deny');
  });

  it('rate limit and budget helpers', async () => {
    expect(rateLimit({ maxCount: 10, window: 'rolling:1m', scope: 'agent' })).toEqual({
      maxCount: 10,
      window: 'rolling:1m',
      scope: 'agent',
    });
    expect(budget({ maxAmount: 5, currency: 'USD', window: 'daily', scope: 'recipient' })).toEqual({
      maxAmount: 5,
      currency: 'USD',
      window: 'daily',
      scope: 'recipient',
    });
    expect(
      [hourlyBudget, dailyBudget, weeklyBudget, monthlyBudget, lifetimeBudget, perTransactionLimit].map(
        (b) => b(1, 'USD').window,
      ),
    ).toEqual(['hourly', 'daily', 'weekly', 'monthly', 'lifetime', 'transaction']);
    expect(rollingBudget(20, 'USDC', '7d', { scope: 'agent', id: 'week' })).toEqual({
      id: 'week',
      scope: 'agent',
      maxAmount: 20,
      currency: 'USDC',
      window: 'rolling:7d',
    });
    const { engine } = setup(
      {},
      {
        id: 'p',
        rules: [allowAll()],
        budgets: [dailyBudget(30, 'USDC', { scope: 'agent' }), perTransactionLimit(20, 'USDC')],
        rateLimits: [rateLimit({ maxCount: 2, window: 'hourly' })],
      },
    );
    expect((await engine.authorize(pay({ amount: 21 }))).outcome).toBe('deny');
    expect((await engine.authorize(pay({ amount: 20 }))).outcome).toBe('allow');
    expect((await engine.authorize(pay({ amount: 11 }))).outcome).toBe('deny');
    expect((await engine.authorize(pay({ amount: 10 }))).outcome).toBe('allow');
    expect(codes(await engine.authorize(pay({ agentId: 'other', amount: 1 })))).toContain(
      'rate_limit_exceeded',
    );
  });
});
