import { describe, expect, it } from 'vitest';
import { codes, pay, setup } from '../__fixtures__/engine.js';

/**
 * Rules with a network condition are filed under their networks, so an intent on another
 * network skips them unrun. Skipping must never change a decision: a network named in
 * other case still matches, and an intent without a network still runs them (missing-field
 * semantics).
 */
describe('rules indexed by network', () => {
  const policy = {
    id: 'n',
    currencies: 'any' as const,
    rules: [
      { id: 'deny-mainnet', action: 'deny' as const, when: { network: ['eip155:1'], currency: 'USDC' } },
      {
        id: 'flag-base',
        action: 'flag' as const,
        when: { network: ['EIP155:8453'] },
        onMissing: 'no_match' as const,
      },
      { id: 'allow', action: 'allow' as const },
    ],
  };
  const decide = async (network: string | undefined, currency = 'USDC') => {
    const { engine } = setup({}, policy);
    const d = await engine.evaluate(pay({ currency, ...(network === undefined ? {} : { network }) }));
    return [d.outcome, d.reasons.map((r) => r.ruleId ?? r.code).join(',')];
  };

  it('match their networks whatever the case, and only in their currency', async () => {
    expect(await decide('eip155:1')).toEqual(['deny', 'deny-mainnet']);
    expect(await decide('EIP155:1')).toEqual(['deny', 'deny-mainnet']);
    expect(await decide('eip155:1', 'EUR')).toEqual(['allow', 'allow']);
    expect(await decide('eip155:8453')).toEqual(['flag', 'flag-base']);
    expect(await decide('eip155:8453', 'EUR')).toEqual(['flag', 'flag-base']);
  });

  it('are skipped for other networks and still run when the intent names none', async () => {
    expect(await decide('solana:mainnet')).toEqual(['allow', 'allow']);
    // A deny rule applies when its field is missing (onMissing defaults to match for deny).
    const { engine } = setup({}, policy);
    const d = await engine.evaluate(pay());
    expect(d.outcome).toBe('deny');
    expect(codes(d)).toEqual(['rule_deny']);
    expect(d.reasons[0]!.details).toEqual({ missing: ['network'] });
  });
});
