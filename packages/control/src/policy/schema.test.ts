import { AssetRegistry, BursarError, canonicalHash } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile-policy.js';
import { Policy } from './schema.js';

const assets = new AssetRegistry();
const compile = (p: unknown) => compilePolicy(p, { assets, timeZone: 'UTC' });

function issuesOf(p: unknown): Array<{ path: string; message: string }> {
  try {
    compile(p);
  } catch (error) {
    expect(BursarError.hasCode(error, 'ERR_BURSAR_INVALID_POLICY')).toBe(true);
    return (error as BursarError).issues;
  }
  throw new Error('expected the policy to be rejected');
}

describe('policy schema', () => {
  it('fills defaults: version 1, default action deny, rule and budget ids', () => {
    const p = Policy.parse({
      id: 'p',
      rules: [{ action: 'allow' }, { action: 'block' }],
      budgets: [{ window: 'daily', maxAmount: 5, currency: 'usdc' }],
      rateLimits: [{ scope: 'agent', window: 'rolling:90m', maxCount: 3 }],
    });
    expect(p.version).toBe('1');
    expect(p.defaultAction).toBe('deny');
    expect(p.rules.map((r) => [r.id, r.action])).toEqual([
      ['rule-0', 'allow'],
      ['rule-1', 'deny'],
    ]);
    expect(p.budgets[0]).toMatchObject({ id: 'global-daily-usdc', maxAmount: '5', scope: 'global' });
    expect(p.rateLimits[0]).toMatchObject({ id: 'agent-rolling-5400000-count', window: 'rolling:5400000' });
  });

  it('points every issue at its path', () => {
    const issues = issuesOf({
      id: 'bad id!',
      rules: [{ action: 'allow', when: { amount: { gt: '1.5x', currency: 'USDC' } } }, { action: 'maybe' }],
      budgets: [{ window: 'fortnightly', maxAmount: -1, currency: 'USDC' }],
      unknownKey: 1,
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'id',
        'rules.0.when.amount.gt',
        'rules.1.action',
        'budgets.0.window',
        'budgets.0.maxAmount',
        '',
      ]),
    );
    expect(issues.find((i) => i.path === 'rules.0.when.amount.gt')!.message).toMatch(/decimal/);
    expect(issues.find((i) => i.path === 'budgets.0.window')!.message).toMatch(/rolling:<duration>/);
  });

  it('reports compile-time problems with paths: currencies, precision, regexes, zones', () => {
    const issues = issuesOf({
      id: 'p',
      timeZone: 'Mars/Olympus',
      rules: [
        { action: 'deny', when: { amount: { gt: '0.0000001', currency: 'USDC' } } },
        { action: 'deny', when: { currency: 'DOGE' } },
        { action: 'deny', when: { params: { q: { matches: '([' } } } },
        { action: 'deny', when: { amount: { gt: 5 } } },
      ],
      budgets: [{ window: 'daily', maxAmount: '1.001', currency: 'USD' }],
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'budgets.0.maxAmount',
        'rules.0.when.amount.gt',
        'rules.1.when.currency.0',
        'rules.2.when.params.q.matches',
        'rules.3.when.amount.currency',
        'timeZone',
      ].sort(),
    );
  });

  it('rejects duplicate ids, unknown groups and misplaced groups', () => {
    const issues = issuesOf({
      id: 'p',
      agentGroups: { research: ['research-*'] },
      rules: [
        { id: 'r', action: 'allow' },
        { id: 'r', action: 'deny', when: { agentGroup: 'sales' } },
      ],
      budgets: [
        { window: 'daily', maxAmount: 1, currency: 'USDC' },
        { window: 'daily', maxAmount: 2, currency: 'USDC' },
        { id: 'g', scope: 'agent', group: 'research', window: 'daily', maxAmount: 2, currency: 'USDC' },
      ],
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'budgets.1.id',
      'budgets.2.group',
      'rules.1.id',
      'rules.1.when.agentGroup',
    ]);
  });

  it('keeps agent-asserted fields out of anything that could loosen a decision', () => {
    const issues = issuesOf({
      id: 'p',
      rules: [
        { action: 'allow', when: { metadata: { trusted: true } } },
        { action: 'allow', when: { purpose: { contains: 'urgent' } } },
        { action: 'deny', when: { metadata: { trusted: false } } },
      ],
      budgets: [{ window: 'daily', maxAmount: 1, currency: 'USDC', when: { metadata: { team: 'a' } } }],
    });
    expect(issues.map((i) => i.path)).toEqual([
      'rules.0.when.metadata',
      'rules.1.when.purpose',
      'budgets.0.when.metadata',
    ]);
  });

  it('rejects numbers beyond the exact range and count limits per transaction', () => {
    const issues = issuesOf({
      id: 'p',
      budgets: [{ window: 'daily', maxAmount: 2 ** 64, currency: 'USDC' }],
      rateLimits: [{ window: 'transaction', maxCount: 1 }],
      risk: { threshold: 10, window: 'rolling:1h' },
    });
    expect(issues.map((i) => i.path)).toEqual(['budgets.0.maxAmount', 'rateLimits.0.window', 'risk.window']);
  });

  it('hashes canonical content: key order does not matter, content does', () => {
    const a = compile({ id: 'p', rules: [{ action: 'allow', id: 'x' }], defaultAction: 'deny' });
    const b = compile({ defaultAction: 'deny', rules: [{ id: 'x', action: 'allow' }], id: 'p' });
    const c = compile({ id: 'p', rules: [{ id: 'x', action: 'deny' }] });
    expect(a.ref.hash).toBe(b.ref.hash);
    expect(a.ref.hash).not.toBe(c.ref.hash);
    expect(a.ref.hash).toBe(canonicalHash(a.policy));
    expect(a.ref).toEqual({ id: 'p', version: '1', hash: a.ref.hash });
  });

  it('its output is itself a valid policy with the same hash', () => {
    const input = {
      id: 'p',
      version: 3,
      rules: [
        {
          action: 'deny',
          when: { recipient: 'https://*.evil.example/*', params: { n: 5, tags: ['a', 'b'] } },
        },
        { action: 'require_approval', when: { amount: { gte: 1, lte: '2.5' }, currency: 'usdc' } },
      ],
      budgets: [{ window: 'rolling:1h', maxAmount: 0.5, currency: 'USDC', scope: 'agent_recipient' }],
      strikes: { max: 3, window: '10m' },
      risk: { threshold: 50 },
    };
    const first = compile(input);
    const second = compile(first.policy);
    expect(second.ref).toEqual(first.ref);
    expect(first.ref.version).toBe('3');
    expect(first.strikes).toEqual({ max: 3, windowMs: 600_000 });
  });

  it('orders rules by priority (higher first), then list order', () => {
    const p = compile({
      id: 'p',
      rules: [
        { id: 'a', action: 'allow' },
        { id: 'b', action: 'deny', priority: 10 },
        { id: 'c', action: 'flag' },
        { id: 'd', action: 'flag', priority: 10 },
        { id: 'e', action: 'flag', priority: -1 },
      ],
    });
    expect(p.rules.map((r) => r.id)).toEqual(['b', 'd', 'a', 'c', 'e']);
  });

  it('explains a value of the wrong type in a union field', () => {
    const issues = issuesOf({ id: 'p', rules: [{ action: 'deny', when: { recipient: 42 } }] });
    expect(issues).toEqual([{ path: 'rules.0.when.recipient', message: expect.stringMatching(/expected/) }]);
  });
});
