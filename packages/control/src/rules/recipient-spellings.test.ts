import { BursarError, ErrorCode } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codes, pay, setup } from '../__fixtures__/engine.js';
import { allowAll, allowOnlyRecipients, blockRecipients } from '../policy/builders.js';
import type { PolicyInput } from '../policy/schema.js';

const blocked: PolicyInput = {
  id: 'p',
  rules: [blockRecipients(['https://*.evil.test/*', 'https://evil.example/*']), allowAll()],
};

async function decide(policy: PolicyInput, recipient: string): Promise<string[]> {
  const { engine } = setup({}, policy);
  return codes(await engine.evaluate(pay({ recipient })));
}

/** Other ways to write `https://<host><path>` that a URL parser reads as the same address. */
function spellings(host: string, path: string): string[] {
  const upper = host.toUpperCase();
  return [
    `https://${host}:443${path}`,
    `https://user@${host}${path}`,
    `https://user:secret@${host}:443${path}`,
    `https://${host}.${path}`,
    `HTTPS://${upper}${path}`,
    `https:${host}${path}`,
    `https:\\\\${host}${path.replaceAll('/', '\\')}`,
    `https://${host}/x/..${path}`,
    `https://${host}${path}?x=/pay`,
    `https://${host}?x=${path}`,
    `https://${host}${path}#/pay`,
  ];
}

describe('recipient rules cannot be dodged by spelling a URL another way', () => {
  it('denies the spellings from the audit', async () => {
    for (const recipient of [
      'https://x.evil.test:443/v1',
      'https://u@x.evil.test/v1',
      'https://x.evil.test./v1',
      'https://evil.example:443/pay',
      'https://evil.example?x=/pay',
      'https://EVIL.example/pay',
      'https://evil.example:8443/pay',
    ]) {
      expect(await decide(blocked, recipient), recipient).toEqual(['recipient_blocked']);
    }
    expect(await decide(blocked, 'https://good.test/v1')).toEqual(['allowed']);
    expect(await decide(blocked, 'https://evil.test.good.test/v1')).toEqual(['allowed']);
  });

  it('a path-less URL glob matches its host only, with any path; its wildcard never crosses into the path', async () => {
    const policy: PolicyInput = {
      id: 'p',
      rules: [allowOnlyRecipients(['https://*.example.com']), allowAll()],
    };
    expect(await decide(policy, 'https://evil.test/x.example.com')).toEqual(['recipient_not_allowed']);
    expect(await decide(policy, 'https://evil.test?q=.example.com')).toEqual(['recipient_not_allowed']);
    expect(await decide(policy, 'https://api.example.com.evil.test/')).toEqual(['recipient_not_allowed']);
    expect(await decide(policy, 'https://api.example.com/v1/chat?x=1')).toEqual(['allowed']);
    expect(await decide(policy, 'https://api.example.com')).toEqual(['allowed']);
    const exactHost: PolicyInput = {
      id: 'p',
      rules: [allowOnlyRecipients(['https://api.example.com']), allowAll()],
    };
    expect(await decide(exactHost, 'https://API.example.com./v1/chat')).toEqual(['allowed']);
    expect(await decide(exactHost, 'https://api.example.com.evil.test/v1')).toEqual([
      'recipient_not_allowed',
    ]);
    expect(await decide(exactHost, 'https://evil.test/https://api.example.com')).toEqual([
      'recipient_not_allowed',
    ]);
  });

  it('a recipient that names a user never matches an allow rule, and matches deny rules for its host', async () => {
    const allowList: PolicyInput = {
      id: 'p',
      rules: [allowOnlyRecipients(['https://*.good.test/*']), allowAll()],
    };
    expect(await decide(allowList, 'https://api.good.test/v1')).toEqual(['allowed']);
    expect(await decide(allowList, 'https://u:p@api.good.test/v1')).toEqual(['recipient_not_allowed']);
    const allowRule: PolicyInput = {
      id: 'p',
      rules: [{ action: 'allow', when: { recipient: 'https://api.good.test/*' } }],
    };
    expect(await decide(allowRule, 'https://api.good.test/v1')).toEqual(['rule_allow']);
    expect(await decide(allowRule, 'https://api.good.test@evil.test/v1')).toEqual(['default_action']);
    expect(await decide(allowRule, 'https://me@api.good.test/v1')).toEqual(['default_action']);
    expect(await decide(blocked, 'https://good.test@evil.example/pay')).toEqual(['recipient_blocked']);
  });

  it('refuses patterns that name a user', () => {
    const { engine } = setup();
    let error: unknown;
    try {
      engine.loadPolicy({ id: 'p', rules: [blockRecipients(['https://u@evil.example/*']), allowAll()] });
    } catch (e) {
      error = e;
    }
    expect(BursarError.hasCode(error, ErrorCode.INVALID_POLICY)).toBe(true);
    expect((error as BursarError).issues.map((i) => i.path)).toEqual(['rules.0.when.recipient']);
  });

  it('recipient kill switches compare the same canonical form', async () => {
    const { engine, operator } = setup({}, { id: 'p', rules: [allowAll()] });
    await engine.setKillSwitch(operator, {
      scope: 'recipient',
      target: 'https://evil.example/*',
      engaged: true,
    });
    for (const recipient of [
      'https://evil.example:443/pay',
      'https://u@EVIL.example./pay',
      'https://evil.example?x=/pay',
      'https:evil.example/pay',
    ]) {
      expect(codes(await engine.evaluate(pay({ recipient }))), recipient).toEqual(['kill_switch_engaged']);
    }
    expect(codes(await engine.evaluate(pay({ recipient: 'https://evil.examples/pay' })))).toEqual([
      'allowed',
    ]);
    await engine.setKillSwitch(operator, { scope: 'recipient', target: 'https://*.bad.test', engaged: true });
    expect(codes(await engine.evaluate(pay({ recipient: 'https://x.bad.test:443/a/b' })))).toEqual([
      'kill_switch_engaged',
    ]);
    expect(codes(await engine.evaluate(pay({ recipient: 'https://good.test/x.bad.test' })))).toEqual([
      'allowed',
    ]);
  });

  it('property: every spelling of a blocked URL is denied, for random hosts and paths', async () => {
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    const segment = fc.stringMatching(/^[A-Za-z0-9_~-]{1,8}$/);
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
    await fc.assert(
      fc.asyncProperty(label, fc.array(label, { maxLength: 2 }), path, async (sub, labels, p) => {
        const evilSub = [sub, ...labels, 'evil', 'test'].join('.');
        const { engine } = setup({}, blocked);
        for (const recipient of [
          ...spellings(evilSub, p),
          ...spellings('evil.example', p),
          `https://evil.example`,
        ]) {
          const d = await engine.evaluate(pay({ recipient }));
          expect(codes(d), recipient).toEqual(['recipient_blocked']);
        }
        const good = await engine.evaluate(pay({ recipient: `https://${sub}.good.test${p}` }));
        expect(good.outcome).toBe('allow');
      }),
      { numRuns: 100 },
    );
  });
});
