import { outcomeSeverity } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codes, pay, setup } from '../__fixtures__/engine.js';
import type { ConditionsInput, ParamOperators, PolicyInput, RuleInput } from '../policy/schema.js';

const tool = (params: Record<string, unknown> = {}) => ({ agentId: 'bot', action: 'transfer', params });

async function outcomeOf(
  policy: PolicyInput,
  intent: Parameters<ReturnType<typeof setup>['engine']['evaluate']>[0],
) {
  const { engine } = setup({}, policy);
  return engine.evaluate(intent);
}

describe('missing fields never loosen a decision', () => {
  it('a deny rule on an absent parameter still denies (onMissing defaults to match)', async () => {
    const policy: PolicyInput = {
      id: 'p',
      rules: [
        { id: 'big', action: 'deny', when: { params: { amount: { gt: 1000 } } } },
        { id: 'ok', action: 'allow' },
      ],
    };
    expect((await outcomeOf(policy, tool({ amount: 5 }))).outcome).toBe('allow');
    const absent = await outcomeOf(policy, tool({}));
    expect(absent.outcome).toBe('deny');
    expect(absent.reasons[0]).toMatchObject({ ruleId: 'big', details: { missing: ['params.amount'] } });
    expect(absent.reasons[0]!.message).toMatch(/params\.amount missing/);
    // A value of a type the operator cannot compare counts as missing too.
    expect((await outcomeOf(policy, tool({ amount: 'a lot' }))).outcome).toBe('deny');
  });

  it('negative operators on an absent field deny as well', async () => {
    const conditions: Array<NonNullable<ConditionsInput['params']>> = [
      { env: { ne: 'dev' } },
      { tags: { not_contains: 'safe' } },
      { env: { not_in: ['dev'] } },
    ];
    for (const when of conditions) {
      const d = await outcomeOf(
        { id: 'p', rules: [{ action: 'deny', when: { params: when } }, { action: 'allow' }] },
        tool({}),
      );
      expect(d.outcome).toBe('deny');
    }
  });

  it('an allow rule does not match on an absent field (falls through to what follows)', async () => {
    const policy: PolicyInput = {
      id: 'p',
      rules: [{ id: 'small', action: 'allow', when: { params: { amount: { lt: 10 } } } }],
    };
    expect((await outcomeOf(policy, tool({ amount: 5 }))).outcome).toBe('allow');
    const absent = await outcomeOf(policy, tool({}));
    expect(absent.outcome).toBe('deny');
    expect(codes(absent)).toEqual(['default_action']);
  });

  it('a require_approval rule matched through a missing field does not shadow a later deny', async () => {
    const policy: PolicyInput = {
      id: 'p',
      rules: [
        { id: 'review', action: 'require_approval', when: { params: { amount: { gt: 100 } } } },
        { id: 'no-prod', action: 'deny', when: { params: { env: 'prod' } } },
        { id: 'ok', action: 'allow' },
      ],
    };
    const d = await outcomeOf(policy, tool({ env: 'prod' }));
    expect(d.outcome).toBe('deny');
    expect(d.reasons.map((r) => r.ruleId)).toEqual(['no-prod', 'review']);
    const d2 = await outcomeOf(policy, tool({ env: 'dev' }));
    expect(d2.outcome).toBe('require_approval');
    expect(d2.reasons.map((r) => [r.ruleId, r.outcome])).toEqual([
      ['review', 'require_approval'],
      ['ok', 'allow'],
    ]);
  });

  it('onMissing overrides the default either way', async () => {
    const skip: PolicyInput = {
      id: 'p',
      rules: [
        { action: 'deny', when: { params: { amount: { gt: 1 } } }, onMissing: 'no_match' },
        { action: 'allow' },
      ],
    };
    expect((await outcomeOf(skip, tool({}))).outcome).toBe('allow');
    const accept: PolicyInput = {
      id: 'p',
      rules: [{ action: 'allow', when: { params: { dryRun: true } }, onMissing: 'match' }],
    };
    expect((await outcomeOf(accept, tool({}))).outcome).toBe('allow');
  });

  it('a missing recipient is denied by block and allow lists', async () => {
    const { engine } = setup(
      {},
      {
        id: 'p',
        rules: [{ action: 'deny', when: { recipient: 'https://evil.test/*' } }, { action: 'allow' }],
      },
    );
    expect((await engine.evaluate(pay({ recipient: undefined }))).outcome).toBe('deny');
    expect((await engine.evaluate(pay({ recipient: 'https://good.test/' }))).outcome).toBe('allow');
  });

  it('agent-asserted metadata can only tighten: an advisory rule never ends the scan', async () => {
    const policy: PolicyInput = {
      id: 'p',
      rules: [
        { id: 'self-flag', action: 'flag', when: { metadata: { trusted: true } } },
        { id: 'big', action: 'deny', when: { amount: { gt: 100, currency: 'USDC' } } },
        { action: 'allow' },
      ],
    };
    const d = await outcomeOf(policy, pay({ amount: 500, metadata: { trusted: true } }));
    expect(d.outcome).toBe('deny');
    const d2 = await outcomeOf(policy, pay({ amount: 5, metadata: { trusted: true } }));
    expect(d2.outcome).toBe('flag');
  });

  it('property: if any value of a field leads to deny (or approval), leaving it out never leads to less', async () => {
    const values = [0, 5, 50, 500, -1, '7', 'x', 'prod', 'dev', true, null, ['a'], ['safe'], { k: 1 }];
    const value = fc.constantFrom(...values);
    const condition = fc.oneof(
      fc.record({ eq: value }),
      fc.record({ ne: value }),
      fc.record({ gt: fc.constantFrom(0, 10, 100) }),
      fc.record({ lte: fc.constantFrom(0, 10, 100) }),
      fc.record({ contains: fc.constantFrom('a', 'safe', 'r') }),
      fc.record({ not_contains: fc.constantFrom('a', 'safe') }),
      fc.record({ matches: fc.constantFrom('^p', '\\d') }),
      fc.record({ in: fc.constantFrom(['prod', 5], ['dev']) }),
      fc.record({ not_in: fc.constantFrom(['prod', 5], ['dev']) }),
    );
    const rule = fc.record({
      action: fc.constantFrom('allow', 'deny', 'require_approval', 'flag'),
      field: fc.constantFrom('x', 'y'),
      condition,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(rule, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('allow', 'deny', 'flag', 'require_approval'),
        value,
        async (rules, defaultAction, y) => {
          const policy: PolicyInput = {
            id: 'p',
            defaultAction: defaultAction as RuleInput['action'],
            rules: rules.map((r) => ({
              action: r.action as RuleInput['action'],
              when: { params: { [r.field]: r.condition as ParamOperators } },
            })),
          };
          const { engine } = setup({}, policy);
          const absent = await engine.evaluate(tool({ y }));
          for (const x of values) {
            const present = await engine.evaluate(tool({ x, y }));
            if (present.outcome === 'deny') expect(absent.outcome).toBe('deny');
            if (present.outcome === 'require_approval') {
              expect(outcomeSeverity(absent.outcome)).toBeGreaterThanOrEqual(
                outcomeSeverity('require_approval'),
              );
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
