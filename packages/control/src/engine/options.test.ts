import { AssetRegistry, BursarError, EventBus, ManualClock } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { pay } from '../__fixtures__/engine.js';
import { PolicyEngine } from './policy-engine.js';

function optionsError(options: unknown): BursarError {
  try {
    new PolicyEngine(options as never);
  } catch (e) {
    if (BursarError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected the options to be rejected');
}

describe('engine options', () => {
  it('are validated once, with paths, unknown keys rejected', () => {
    const e = optionsError({ timeZone: 'Moon/Base', holdTtlMs: -1, clock: {}, extra: true });
    expect(e.code).toBe('ERR_BURSAR_INVALID_OPTIONS');
    expect(e.issues.map((i) => i.path).sort()).toEqual(['', 'clock', 'holdTtlMs', 'timeZone']);
    expect(optionsError({ operators: [{ actor: 'me', kind: 'bursar.operator' }] }).issues[0]!.path).toBe(
      'operators.0',
    );
    expect(optionsError({ riskProviders: [{ name: 'x' }] }).issues[0]!.path).toBe('riskProviders.0');
  });

  it('works with no options at all, and uses what it is given', async () => {
    const engine = new PolicyEngine();
    expect(engine.timeZone).toBe('UTC');
    expect(engine.events).toBeInstanceOf(EventBus);
    const events = new EventBus();
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const assets = new AssetRegistry({ includeDefaults: false });
    assets.register({ symbol: 'CREDITS', decimals: 0 });
    const custom = new PolicyEngine({ events, clock, assets, timeZone: 'europe/berlin' });
    expect(custom.events).toBe(events);
    expect(custom.timeZone).toBe('Europe/Berlin');
    custom.loadPolicy({ id: 'p', rules: [{ action: 'allow' }] });
    const d = await custom.evaluate({ agentId: 'a', amount: 5, currency: 'credits' });
    expect([d.outcome, d.evaluatedAt]).toEqual(['allow', Date.parse('2026-01-01T00:00:00Z')]);
    await expect(custom.evaluate(pay())).rejects.toMatchObject({ code: 'ERR_BURSAR_INVALID_INTENT' });
  });
});
