import { BursarError, type Decision } from '@bursar/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { setup } from '../__fixtures__/engine.js';
import type { PolicyInput } from '../policy/schema.js';
import { IntegrationErrorCode } from './codes.js';
import { guard } from './guard.js';
import { PolicyDeniedError } from './policy-denied-error.js';

const policy: PolicyInput = {
  id: 'tools',
  rules: [
    { id: 'no-prod', action: 'deny', when: { action: 'drop_*' } },
    { id: 'blocked-to', action: 'deny', when: { params: { to: 'acct_evil' } }, onMissing: 'no_match' },
    {
      id: 'big',
      action: 'require_approval',
      when: { amount: { gt: 50, currency: 'USDC' } },
      onMissing: 'no_match',
    },
    { id: 'ok', action: 'allow' },
  ],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 100, currency: 'USDC' }],
  rateLimits: [{ id: 'calls', window: 'hourly', maxCount: 20 }],
};

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

async function day(engine: ReturnType<typeof setup>['engine']) {
  const [s] = await engine.getBudgetStatus({ budgetId: 'day' });
  return { spent: s!.spent, held: s!.held };
}

describe('guard()', () => {
  it('runs an allowed sync function, returns its result as a Promise and captures the hold', async () => {
    const { engine } = setup({}, policy);
    const transfer = guard((to: string, amount: string) => `sent ${amount} to ${to}`, {
      engine,
      agentId: 'billing-bot',
      action: 'transfer',
      mapArgs: (to, amount) => ({ amount, currency: 'USDC', recipient: to }),
    });
    expectTypeOf(transfer).toEqualTypeOf<(this: unknown, to: string, amount: string) => Promise<string>>();
    await expect(transfer('acct_1', '20.50')).resolves.toBe('sent 20.50 to acct_1');
    expect(await day(engine)).toEqual({ spent: '20.500000', held: '0.000000' });
  });

  it('works for async functions and keeps `this`', async () => {
    const { engine } = setup({}, policy);
    const wallet = {
      prefix: 'w1',
      async send(this: { prefix: string }, args: { to: string; amount: string }) {
        return `${this.prefix}:${args.to}:${args.amount}`;
      },
    };
    const send = guard(wallet.send, {
      engine,
      agentId: 'bot',
      mapArgs: (a) => ({ amount: a.amount, currency: 'USDC' }),
    });
    await expect(send.call(wallet, { to: 'acct_2', amount: '1' })).resolves.toBe('w1:acct_2:1');
    expect(await day(engine)).toEqual({ spent: '1.000000', held: '0.000000' });
  });

  it('throws PolicyDeniedError with the decision and never runs a denied function', async () => {
    const { engine } = setup({}, policy);
    let runs = 0;
    const dropTable = guard(
      function drop_table(_name: string) {
        runs++;
      },
      { engine, agentId: 'dba-bot' },
    );
    const error = await caught(dropTable('users'));
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    const denied = error as PolicyDeniedError;
    expect(denied.code).toBe('ERR_BURSAR_POLICY_DENIED');
    expect(denied.status).toBe(403);
    expect(denied.decision.outcome).toBe('deny');
    expect(denied.decision.reasons[0]).toMatchObject({ code: 'rule_deny', ruleId: 'no-prod' });
    expect(denied.decision.agentId).toBe('dba-bot');
    expect(runs).toBe(0);
  });

  it('matches rules on the arguments: one object argument is the params', async () => {
    const { engine } = setup({}, policy);
    const send = guard(async function send(_args: { to: string; note?: string }) {}, {
      engine,
      agentId: 'bot',
    });
    await expect(send({ to: 'acct_ok' })).resolves.toBeUndefined();
    const error = (await caught(send({ to: 'acct_evil' }))) as PolicyDeniedError;
    expect(error.decision.reasons[0]!.ruleId).toBe('blocked-to');
  });

  it('positional arguments are params.args', async () => {
    const { engine } = setup(
      {},
      {
        id: 'pos',
        rules: [{ action: 'deny', when: { params: { 'args.1': { gt: 10 } } } }, { action: 'allow' }],
      },
    );
    const f = guard((name: string, n: number) => `${name}${n}`, { engine, agentId: 'bot', action: 'count' });
    await expect(f('a', 10)).resolves.toBe('a10');
    expect(PolicyDeniedError.isInstance(await caught(f('a', 11)))).toBe(true);
  });

  it('releases the hold and rethrows when the function throws', async () => {
    const { engine } = setup({}, policy);
    const boom = new Error('rail down');
    const pay = guard(
      async (_amount: string): Promise<void> => {
        expect(await day(engine)).toEqual({ spent: '0.000000', held: '30.000000' });
        throw boom;
      },
      { engine, agentId: 'bot', action: 'pay', mapArgs: (amount) => ({ amount, currency: 'USDC' }) },
    );
    expect(await caught(pay('30'))).toBe(boom);
    expect(await day(engine)).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('releases when isFailure says a returned result failed', async () => {
    const { engine } = setup({}, policy);
    const pay = guard(async (amount: string) => ({ ok: amount === '1' }), {
      engine,
      agentId: 'bot',
      action: 'pay',
      mapArgs: (amount) => ({ amount, currency: 'USDC' }),
      isFailure: (r) => !r.ok,
    });
    await expect(pay('2')).resolves.toEqual({ ok: false });
    await expect(pay('1')).resolves.toEqual({ ok: true });
    expect(await day(engine)).toEqual({ spent: '1.000000', held: '0.000000' });
  });

  it('a budget denial stops the call; the error says why', async () => {
    const { engine } = setup({}, policy);
    const pay = guard(async (amount: string) => amount, {
      engine,
      agentId: 'bot',
      action: 'pay',
      mapArgs: (amount) => ({ amount, currency: 'USDC' }),
    });
    for (let i = 0; i < 2; i++) await pay('45');
    const error = (await caught(pay('20'))) as PolicyDeniedError;
    expect(error.decision.reasons.map((r) => r.code)).toContain('budget_exceeded');
    expect(error.message).toMatch(/budget/i);
    expect(await day(engine)).toEqual({ spent: '90.000000', held: '0.000000' });
  });

  it('a rate-limit denial carries retryAfterMs', async () => {
    const { engine } = setup(
      {},
      {
        id: 'rl',
        rules: [{ action: 'allow' }],
        rateLimits: [{ id: 'calls', window: 'hourly', maxCount: 1 }],
      },
    );
    const ping = guard(
      function ping() {
        return 'pong';
      },
      { engine, agentId: 'bot' },
    );
    await expect(ping()).resolves.toBe('pong');
    const error = (await caught(ping())) as PolicyDeniedError;
    expect(error.decision.reasons.some((r) => r.code === 'rate_limit_exceeded')).toBe(true);
    // The manual clock stands at 12:00, so the hourly window reopens in one hour.
    expect(error.retryAfterMs).toBe(3_600_000);
  });

  it('without an approval workflow, require_approval is denied (fail closed) and the hold released', async () => {
    const { engine } = setup({}, policy);
    let runs = 0;
    const pay = guard(
      async (amount: string) => {
        runs++;
        return amount;
      },
      { engine, agentId: 'bot', action: 'pay', mapArgs: (amount) => ({ amount, currency: 'USDC' }) },
    );
    const error = (await caught(pay('60'))) as PolicyDeniedError;
    expect(PolicyDeniedError.isInstance(error)).toBe(true);
    expect(error.decision.outcome).toBe('deny');
    expect(error.decision.reasons[0]!.code).toBe('approval_unavailable');
    expect(error.decision.reasons.map((r) => r.code)).toContain('rule_require_approval');
    expect(error.decision.holdId).toBeUndefined();
    expect(runs).toBe(0);
    expect(await day(engine)).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('an idempotency key replayed after success does not run the function again', async () => {
    const { engine } = setup({}, policy);
    let runs = 0;
    const pay = guard(
      async (amount: string, key: string) => {
        runs++;
        return `${amount}/${key}`;
      },
      {
        engine,
        agentId: 'bot',
        action: 'pay',
        mapArgs: (amount, key) => ({ amount, currency: 'USDC', idempotencyKey: key, params: {} }),
      },
    );
    await expect(pay('5', 'k1')).resolves.toBe('5/k1');
    const error = await caught(pay('5', 'k1'));
    expect(BursarError.hasCode(error, IntegrationErrorCode.IDEMPOTENCY_REPLAYED)).toBe(true);
    expect((error as BursarError).status).toBe(409);
    expect(runs).toBe(1);
    expect(await day(engine)).toEqual({ spent: '5.000000', held: '0.000000' });
  });

  it('a capture that fails after the function ran is reported, and the result still returned', async () => {
    const { engine, clock } = setup({ holdTtlMs: 1_000 }, policy);
    const reported: string[] = [];
    const slow = guard(
      async (amount: string) => {
        clock.advance(2_000); // the hold expires while the function runs
        return amount;
      },
      {
        engine,
        agentId: 'bot',
        action: 'pay',
        mapArgs: (amount) => ({ amount, currency: 'USDC' }),
        onError: (e, ctx) => reported.push(`${ctx.operation}:${(e as BursarError).code}`),
      },
    );
    await expect(slow('3')).resolves.toBe('3');
    expect(reported).toEqual(['capture:ERR_BURSAR_HOLD_NOT_ACTIVE']);
  });

  it('invalid intent fields throw ERR_BURSAR_INVALID_INTENT before the function runs', async () => {
    const { engine } = setup({}, policy);
    let runs = 0;
    const pay = guard(
      (amount: string) => {
        runs++;
        return amount;
      },
      { engine, agentId: 'bot', action: 'pay', mapArgs: (amount) => ({ amount, currency: 'NOPE' }) },
    );
    const error = await caught(pay('1'));
    expect(BursarError.hasCode(error, 'ERR_BURSAR_INVALID_INTENT')).toBe(true);
    expect(runs).toBe(0);
  });

  it('takes the agent id from a function on every call', async () => {
    const { engine } = setup(
      {},
      {
        id: 'agents',
        rules: [{ action: 'deny', when: { agent: 'intern-*' } }, { action: 'allow' }],
      },
    );
    let who = 'senior-bot';
    const f = guard(
      function act() {
        return who;
      },
      { engine, agentId: () => who },
    );
    await expect(f()).resolves.toBe('senior-bot');
    who = 'intern-bot';
    const error = (await caught(f())) as PolicyDeniedError;
    expect(error.decision.agentId).toBe('intern-bot');
  });

  it('exactly the budget under concurrency: 10 × $20 against $100 → 5 run', async () => {
    const { engine } = setup({}, policy);
    let runs = 0;
    const pay = guard(
      async (amount: string) => {
        await new Promise((r) => setTimeout(r, 1));
        runs++;
        return amount;
      },
      { engine, agentId: 'bot', action: 'pay', mapArgs: (amount) => ({ amount, currency: 'USDC' }) },
    );
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => pay('20')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(
      results.filter((r) => r.status === 'rejected' && PolicyDeniedError.isInstance(r.reason)),
    ).toHaveLength(5);
    expect(runs).toBe(5);
    expect(await day(engine)).toEqual({ spent: '100.000000', held: '0.000000' });
  });

  it('validates options once, at creation', () => {
    const { engine } = setup({}, policy);
    const bad = (options: unknown) => {
      try {
        guard(() => 1, options as never);
      } catch (e) {
        return BursarError.isInstance(e) ? [e.code, e.issues.map((i) => i.path)] : e;
      }
      return 'no error';
    };
    expect(bad({ engine, agentId: 'a', action: 'x', extra: 1 })).toEqual([
      'ERR_BURSAR_INVALID_OPTIONS',
      [''],
    ]);
    expect(bad({ engine: {}, agentId: 'a', action: 'x' })).toEqual([
      'ERR_BURSAR_INVALID_OPTIONS',
      ['engine'],
    ]);
    expect(bad({ engine, agentId: '', action: 'x' })).toEqual(['ERR_BURSAR_INVALID_OPTIONS', ['agentId']]);
    expect(bad({ engine, agentId: 'a' })).toEqual(['ERR_BURSAR_INVALID_OPTIONS', ['action']]);
    expect(bad({ engine, agentId: 'a', action: 'x', approvals: {} })).toEqual([
      'ERR_BURSAR_INVALID_OPTIONS',
      ['approvals'],
    ]);
  });

  it('PolicyDeniedError.isInstance recognises a denial from another copy by code and decision', () => {
    const decision = { outcome: 'deny', reasons: [] } as unknown as Decision;
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('bursar.error')]: true,
      code: 'ERR_BURSAR_POLICY_DENIED',
      decision,
    });
    expect(PolicyDeniedError.isInstance(foreign)).toBe(true);
    expect(PolicyDeniedError.isInstance(new BursarError('ERR_BURSAR_POLICY_DENIED', 'no decision'))).toBe(
      false,
    );
  });
});
