import { BursarError } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { codes, pay, setup } from '../__fixtures__/engine.js';
import { createOperator } from '../operator/index.js';

describe('policies: first match, priorities, combination', () => {
  it('first match wins inside a policy, by priority then order', async () => {
    const { engine } = setup(
      {},
      {
        id: 'p',
        rules: [
          { id: 'small', action: 'allow', when: { amount: { lte: 10, currency: 'USDC' } } },
          { id: 'review', action: 'require_approval', when: { amount: { lte: 100, currency: 'USDC' } } },
          { id: 'vip', action: 'allow', priority: 5, when: { agent: 'vip-*' } },
          { id: 'rest', action: 'deny' },
        ],
      },
    );
    expect((await engine.evaluate(pay({ amount: 5 }))).reasons.map((r) => r.ruleId)).toEqual(['small']);
    expect((await engine.evaluate(pay({ amount: 50 }))).outcome).toBe('require_approval');
    expect((await engine.evaluate(pay({ amount: 500 }))).outcome).toBe('deny');
    const vip = await engine.evaluate(pay({ agentId: 'vip-1', amount: 500 }));
    expect([vip.outcome, vip.reasons[0]!.ruleId]).toEqual(['allow', 'vip']);
  });

  it('across policies the most restrictive outcome wins: deny > require_approval > flag > allow', async () => {
    const { engine } = setup(
      {},
      { id: 'a', rules: [{ action: 'allow' }] },
      {
        id: 'b',
        rules: [{ action: 'flag', when: { amount: { gt: 1, currency: 'USDC' } } }],
        defaultAction: 'allow',
      },
      {
        id: 'c',
        rules: [{ action: 'require_approval', when: { amount: { gt: 10, currency: 'USDC' } } }],
        defaultAction: 'allow',
      },
      {
        id: 'd',
        rules: [{ action: 'deny', when: { amount: { gt: 100, currency: 'USDC' } } }],
        defaultAction: 'allow',
      },
    );
    const outcome = async (amount: number) => (await engine.evaluate(pay({ amount }))).outcome;
    expect(await outcome(1)).toBe('allow');
    expect(await outcome(5)).toBe('flag');
    expect(await outcome(50)).toBe('require_approval');
    expect(await outcome(500)).toBe('deny');
    const d = await engine.evaluate(pay({ amount: 500 }));
    // Reasons: most restrictive first, every policy's say included.
    expect(d.reasons.map((r) => [r.policyId, r.outcome])).toEqual([
      ['d', 'deny'],
      ['c', 'require_approval'],
      ['b', 'flag'],
      ['a', 'allow'],
    ]);
    expect(d.policies.map((p) => p.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a policy without a matching rule applies its default action, deny when none is given', async () => {
    const { engine } = setup({}, { id: 'p', rules: [{ action: 'allow', when: { agent: 'other' } }] });
    const d = await engine.evaluate(pay());
    expect(d.outcome).toBe('deny');
    expect(d.reasons).toEqual([
      {
        code: 'default_action',
        message: 'No rule of policy p matched; its default action is deny',
        outcome: 'deny',
        source: 'default',
        policyId: 'p',
      },
    ]);
  });

  it('no policy at all: deny', async () => {
    const { engine } = setup();
    const d = await engine.evaluate(pay());
    expect([d.outcome, codes(d)]).toEqual(['deny', ['no_policy']]);
  });

  it('every decision names the policies: id, version, content hash', async () => {
    const { engine } = setup({}, { id: 'p', version: '2026.03', rules: [{ action: 'allow' }] });
    const [loaded] = engine.getPolicies();
    const d = await engine.authorize(pay());
    expect(d.policies).toEqual([{ id: 'p', version: '2026.03', hash: loaded!.hash }]);
    expect(loaded!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded!.policy.rules[0]).toMatchObject({ id: 'rule-0', action: 'allow' });
  });

  it('loadPolicy replaces by id; identical content is a no-op; invalid content changes nothing', async () => {
    const { engine, operator, events } = setup({}, { id: 'p', rules: [{ action: 'allow' }] });
    const before = engine.getPolicies();
    engine.loadPolicy({ id: 'p', rules: [{ action: 'allow' }] }, { operator });
    expect(events).toEqual([]);
    expect(() => engine.loadPolicy({ id: 'p', rules: [{ action: 'nope' as never }] }, { operator })).toThrow(
      /rules\.0\.action/,
    );
    expect(engine.getPolicies()).toEqual(before);
    const ref = engine.loadPolicy({ id: 'p', version: 2, rules: [{ action: 'deny' }] }, { operator });
    expect(engine.getPolicies().map((p) => [p.id, p.version])).toEqual([['p', '2']]);
    expect((await engine.evaluate(pay())).outcome).toBe('deny');
    expect(events.map((e) => e.payload)).toEqual([
      {
        at: expect.any(Number),
        kind: 'policy.loaded',
        actor: 'ops@example.com',
        target: 'p',
        details: { version: '2', hash: ref.hash, previousHash: before[0]!.hash, previousVersion: '1' },
      },
    ]);
  });

  it('after the first decision, policy changes need an operator', async () => {
    const { engine, operator } = setup({}, { id: 'p', rules: [{ action: 'allow' }] });
    engine.loadPolicy({ id: 'q', rules: [{ action: 'allow' }] });
    await engine.evaluate(pay());
    const deny = { id: 'p', rules: [{ action: 'deny' as const }] };
    expect(() => engine.loadPolicy(deny)).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_UNAUTHORIZED', status: 403 }),
    );
    const forged = Object.freeze({ actor: 'agent', kind: 'bursar.operator' as const });
    expect(() => engine.loadPolicy(deny, { operator: forged })).toThrow(/operator capability/);
    const stranger = createOperator({ actor: 'stranger' });
    expect(() => engine.loadPolicy(deny, { operator: stranger })).toThrow(/operator capability/);
    expect(() => engine.removePolicy(stranger, 'p')).toThrow(/operator capability/);
    expect((await engine.evaluate(pay())).outcome).toBe('allow');
    engine.removePolicy(operator, 'q');
    expect(engine.getPolicies().map((p) => p.id)).toEqual(['p']);
    const e = (() => {
      try {
        engine.removePolicy(operator, 'q');
      } catch (x) {
        return x;
      }
    })();
    expect(BursarError.hasCode(e, 'ERR_BURSAR_POLICY_NOT_FOUND')).toBe(true);
  });

  it('a decision in flight keeps the policy set it started with', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { engine, operator } = setup(
      {
        riskProviders: [
          {
            name: 'slow',
            signals: async () => {
              await gate;
              return [];
            },
          },
        ],
      },
      { id: 'p', rules: [{ action: 'allow' }] },
    );
    const pending = engine.evaluate(pay());
    await new Promise((r) => setImmediate(r));
    engine.loadPolicy({ id: 'p', rules: [{ action: 'deny' }] }, { operator });
    release();
    const d = await pending;
    expect(d.outcome).toBe('allow');
    expect((await engine.evaluate(pay())).outcome).toBe('deny');
  });
});
