import { AssetRegistry, type IntentInput, ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { pay, setup, T0 } from '../__fixtures__/engine.js';
import type { ConditionsInput, RuleInput } from '../policy/schema.js';

/** Whether a deny rule with these conditions fires for the intent (everything else is allowed). */
async function fires(
  when: ConditionsInput,
  intent: IntentInput,
  extra: Partial<RuleInput> = {},
  at = T0,
): Promise<boolean> {
  const { engine } = setup(
    { clock: new ManualClock(at) },
    {
      id: 'p',
      defaultAction: 'allow',
      // Only the rule's conditions are under test, not which currencies the policy covers.
      currencies: 'any',
      agentGroups: { research: ['research-*', 'analyst'], ops: ['ops-?'] },
      rules: [{ id: 'r', action: 'deny', when, onMissing: 'no_match', ...extra }],
    },
  );
  const d = await engine.evaluate(intent);
  return d.outcome === 'deny';
}

describe('rule conditions', () => {
  it('amount comparisons and ranges, in the condition currency only', async () => {
    const above100 = { amount: { gt: 100, currency: 'USDC' } };
    expect(await fires(above100, pay({ amount: '100.000001' }))).toBe(true);
    expect(await fires(above100, pay({ amount: '100' }))).toBe(false);
    expect(await fires(above100, pay({ amount: 5000, currency: 'EUR' }))).toBe(false);
    const range = { amount: { gte: '10', lt: '20' }, currency: 'usdc' };
    expect(await fires(range, pay({ amount: '10' }))).toBe(true);
    expect(await fires(range, pay({ amount: '19.999999' }))).toBe(true);
    expect(await fires(range, pay({ amount: '20' }))).toBe(false);
    expect(await fires(range, pay({ amount: '9.99' }))).toBe(false);
    expect(
      await fires({ amount: { eq: '0.1', currency: 'USD' } }, pay({ amount: 0.1, currency: 'usd' })),
    ).toBe(true);
  });

  it('currency is case-insensitive on both sides', async () => {
    expect(await fires({ currency: 'usdc' }, pay({ currency: 'USDC' }))).toBe(true);
    expect(await fires({ currency: ['EUR', 'Usdc'] }, pay({ currency: 'uSdC' }))).toBe(true);
    expect(await fires({ currency: 'EUR' }, pay())).toBe(false);
  });

  it('network (case-insensitive) and protocol', async () => {
    expect(await fires({ network: 'EIP155:8453' }, pay({ network: 'eip155:8453' }))).toBe(true);
    expect(await fires({ network: ['eip155:1'] }, pay({ network: 'eip155:8453' }))).toBe(false);
    expect(await fires({ protocol: ['acp', 'x402'] }, pay())).toBe(true);
    expect(await fires({ protocol: 'card' }, pay())).toBe(false);
  });

  it('recipient by exact value, glob, domain suffix and address list', async () => {
    const r = (recipient: string) => pay({ recipient });
    expect(
      await fires(
        { recipient: { exact: 'https://API.Example.com/v1/chat' } },
        r('https://api.example.com/v1/chat'),
      ),
    ).toBe(true);
    // Paths keep their case; scheme and host do not.
    expect(
      await fires(
        { recipient: { exact: 'https://api.example.com/V1/chat' } },
        r('https://api.example.com/v1/chat'),
      ),
    ).toBe(false);
    expect(await fires({ recipient: 'https://*.example.com/*' }, r('https://api.example.com/v1'))).toBe(true);
    expect(await fires({ recipient: 'https://*.example.com/*' }, r('https://example.com/v1'))).toBe(false);
    // A host wildcard stays inside the host.
    expect(await fires({ recipient: 'https://*.example.com/*' }, r('https://evil.test/.example.com/x'))).toBe(
      false,
    );
    expect(
      await fires({ recipient: 'https://api.example.com/v1/*' }, r('https://api.example.com/v1/chat')),
    ).toBe(true);
    expect(
      await fires({ recipient: 'https://api.example.com/v2/*' }, r('https://api.example.com/v1/chat')),
    ).toBe(false);
    expect(await fires({ recipient: { domain: 'example.com' } }, r('https://a.b.example.com:8443/x'))).toBe(
      true,
    );
    expect(await fires({ recipient: { domain: '*.example.com' } }, r('https://example.com'))).toBe(true);
    expect(await fires({ recipient: { domain: 'example.com' } }, r('https://notexample.com/'))).toBe(false);
    expect(await fires({ recipient: { domain: 'example.com' } }, r('api.example.com'))).toBe(true);
    const list = { recipient: { exact: ['0xAbCdEf0000000000000000000000000000000001', 'So1anaAddr'] } };
    expect(await fires(list, r('0xabcdef0000000000000000000000000000000001'))).toBe(true);
    expect(await fires(list, r('So1anaAddr'))).toBe(true);
    expect(await fires(list, r('so1anaaddr'))).toBe(false); // base58 addresses are case-sensitive
    expect(await fires({ recipient: 'So1*' }, r('So1xyz'))).toBe(true);
    expect(await fires({ recipient: { glob: ['https://a.test/*'], not: true } }, r('https://b.test/'))).toBe(
      true,
    );
    expect(await fires({ recipient: { glob: ['https://a.test/*'], not: true } }, r('https://a.test/x'))).toBe(
      false,
    );
  });

  it('many recipient globs: only the matching one fires', async () => {
    const { engine } = setup(
      {},
      {
        id: 'p',
        defaultAction: 'allow',
        rules: Array.from({ length: 60 }, (_, i) => ({
          id: `v${i}`,
          action: i === 42 ? ('deny' as const) : ('flag' as const),
          when: {
            recipient: i % 2 ? `https://*.vendor-${i}.test/*` : `https://api.vendor-${i}.test/v${i}/*`,
          },
        })),
      },
    );
    const d42 = await engine.evaluate(pay({ recipient: 'https://api.vendor-42.test/v42/pay' }));
    expect(d42.outcome).toBe('deny');
    expect(d42.reasons[0]).toMatchObject({ ruleId: 'v42' });
    const d43 = await engine.evaluate(pay({ recipient: 'https://eu.vendor-43.test/x' }));
    expect(d43.reasons.map((r) => r.ruleId)).toEqual(['v43']);
    const none = await engine.evaluate(pay({ recipient: 'https://api.vendor-42.test/v41/pay' }));
    expect(none.reasons.map((r) => r.code)).toEqual(['default_action']);
  });

  it('agent id and agent group by glob', async () => {
    expect(await fires({ agent: 'research-*' }, pay())).toBe(true);
    expect(await fires({ agent: ['sales-*', 'ops'] }, pay())).toBe(false);
    expect(await fires({ agentGroup: 'research' }, pay({ agentId: 'analyst' }))).toBe(true);
    expect(await fires({ agentGroup: 'ops' }, pay({ agentId: 'ops-1' }))).toBe(true);
    expect(await fires({ agentGroup: 'ops' }, pay({ agentId: 'ops-12' }))).toBe(false);
  });

  it('action / tool name by glob', async () => {
    const tool = (action: string) => ({ agentId: 'bot', action });
    expect(await fires({ action: 'db.*' }, tool('db.drop_table'))).toBe(true);
    expect(await fires({ action: ['fs.delete', 'db.*'] }, tool('fs.delete'))).toBe(true);
    expect(await fires({ action: 'db.*' }, tool('http.get'))).toBe(false);
    expect(await fires({ action: 'payment' }, pay())).toBe(true);
  });

  it('tool parameters with every operator', async () => {
    const call = (params: Record<string, unknown>) => ({ agentId: 'bot', action: 'transfer', params });
    const cases: Array<[ConditionsInput['params'], Record<string, unknown>, boolean]> = [
      [{ to: { eq: 'treasury' } }, { to: 'treasury' }, true],
      [{ to: 'treasury' }, { to: 'vendor' }, false],
      [{ env: { ne: 'prod' } }, { env: 'dev' }, true],
      [{ n: { gt: 10 } }, { n: 11 }, true],
      [{ n: { gte: 10 } }, { n: 10 }, true],
      [{ n: { lt: 10 } }, { n: 10 }, false],
      [{ n: { lte: '10.5' } }, { n: '10.5' }, true],
      [{ sql: { contains: 'DROP' } }, { sql: 'DROP TABLE x' }, true],
      [{ tags: { not_contains: 'safe' } }, { tags: ['fast'] }, true],
      [{ path: { matches: '^/etc/' } }, { path: '/etc/passwd' }, true],
      [{ region: { in: ['us', 'eu'] } }, { region: 'eu' }, true],
      [{ region: ['us', 'eu'] }, { region: 'apac' }, false],
      [{ region: { not_in: ['us', 'eu'] } }, { region: 'apac' }, true],
      [{ force: { exists: true } }, { force: false }, true],
      [{ 'opts.force': true }, { opts: { force: true } }, true],
    ];
    for (const [params, values, expected] of cases) {
      expect([params, await fires({ params }, call(values))]).toEqual([params, expected]);
    }
  });

  it('time windows by weekday and hour in an IANA zone, wrapping past midnight', async () => {
    // T0 is Wednesday 12:00 UTC = 04:00 in Los Angeles, 21:00 in Tokyo.
    const la = {
      time: { days: ['wed' as const], hours: { from: 0, to: 6 }, timeZone: 'America/Los_Angeles' },
    };
    expect(await fires(la, pay())).toBe(true);
    expect(
      await fires({ time: { hours: { from: 9, to: 17 }, timeZone: 'America/Los_Angeles' } }, pay()),
    ).toBe(false);
    expect(await fires({ time: { days: ['thu'], timeZone: 'Asia/Tokyo' } }, pay())).toBe(false);
    expect(await fires({ time: { hours: { from: 20, to: 2 }, timeZone: 'Asia/Tokyo' } }, pay())).toBe(true);
    expect(await fires({ time: { hours: { from: 22, to: 2 }, timeZone: 'Asia/Tokyo' } }, pay())).toBe(false);
    // Without a zone the engine's zone applies (UTC here): 12:00.
    expect(await fires({ time: { hours: { from: 12, to: 13 } } }, pay())).toBe(true);
    expect(
      await fires({ time: { days: ['sat', 'sun'] } }, pay(), {}, Date.parse('2026-03-07T23:59:59Z')),
    ).toBe(true);
    expect(
      await fires({ time: { days: ['sat', 'sun'] } }, pay(), {}, Date.parse('2026-03-09T00:00:00Z')),
    ).toBe(false);
  });

  it('metadata and purpose conditions', async () => {
    expect(await fires({ metadata: { risk: { in: ['high'] } } }, pay({ metadata: { risk: 'high' } }))).toBe(
      true,
    );
    expect(await fires({ purpose: { matches: '/gift card/i' } }, pay({ purpose: 'Buy a Gift Card' }))).toBe(
      true,
    );
    expect(await fires({ purpose: { matches: '/gift card/i' } }, pay({ purpose: 'API credits' }))).toBe(
      false,
    );
  });

  it('all conditions of a rule must hold', async () => {
    const when = { action: 'payment', currency: 'USDC', agent: 'research-*', amount: { gt: 5 } };
    expect(await fires(when, pay())).toBe(true);
    expect(await fires(when, pay({ agentId: 'sales' }))).toBe(false);
    expect(await fires(when, pay({ amount: 5 }))).toBe(false);
  });

  it('uses the engine asset registry for custom currencies', async () => {
    const assets = new AssetRegistry();
    assets.register({ symbol: 'POINTS', decimals: 0 });
    const { engine } = setup(
      { assets },
      {
        id: 'p',
        defaultAction: 'allow',
        rules: [{ action: 'deny', when: { amount: { gt: 10, currency: 'points' } } }],
      },
    );
    expect((await engine.evaluate({ agentId: 'a', amount: 11, currency: 'POINTS' })).outcome).toBe('deny');
    expect((await engine.evaluate({ agentId: 'a', amount: 10, currency: 'POINTS' })).outcome).toBe('allow');
  });
});
