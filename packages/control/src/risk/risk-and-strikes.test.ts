import type { ControlChangedEvent, RiskSignalProvider } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { codes, pay, reason, setup } from '../__fixtures__/engine.js';
import { createOperator, isOperatorCapability } from '../operator/index.js';
import type { PolicyInput } from '../policy/schema.js';

const riskPolicy: PolicyInput = {
  id: 'p',
  rules: [
    { id: 'delete', action: 'allow', risk: 40, when: { action: 'db.delete' } },
    { id: 'read', action: 'allow', risk: 5, when: { action: 'db.read' } },
    { id: 'block', action: 'deny', risk: 30, when: { action: 'db.drop' } },
  ],
  risk: { threshold: 100, window: 'daily' },
};
const act = (action: string, agentId = 'bot') => ({ agentId, action });

describe('cumulative risk', () => {
  it('allowed actions add their points; one that would pass the threshold is denied', async () => {
    const { engine } = setup({}, riskPolicy);
    expect((await engine.authorize(act('db.delete'))).outcome).toBe('allow');
    expect((await engine.authorize(act('db.delete'))).outcome).toBe('allow');
    const third = await engine.authorize(act('db.delete'));
    expect(third.outcome).toBe('deny');
    expect(reason(third, 'risk_threshold_exceeded')).toMatchObject({
      source: 'risk',
      details: { total: 80, points: 40, threshold: 100, window: 'daily' },
    });
    expect(third.holdId).toBeUndefined();
    // Smaller actions still fit.
    const read = await engine.authorize(act('db.read'));
    expect(reason(read, 'risk_within_threshold')).toMatchObject({
      details: { total: 80, points: 5, threshold: 100 },
    });
    expect((await engine.getAgentStatus('bot')).risk).toEqual([
      { policyId: 'p', window: 'daily', total: 85, threshold: 100 },
    ]);
    // Per agent.
    expect((await engine.authorize(act('db.delete', 'other'))).outcome).toBe('allow');
  });

  it('denied actions and evaluate add nothing; the window resets risk', async () => {
    const { engine, clock } = setup({}, riskPolicy);
    await engine.authorize(act('db.drop'));
    await engine.evaluate(act('db.delete'));
    expect((await engine.getAgentStatus('bot')).risk[0]!.total).toBe(0);
    await engine.authorize(act('db.delete'));
    await engine.authorize(act('db.delete'));
    clock.advance(24 * 3_600_000);
    expect((await engine.authorize(act('db.delete'))).outcome).toBe('allow');
  });

  it('an operator can reset an agent risk; that is recorded with the actor', async () => {
    const { engine, operator, events } = setup({}, riskPolicy);
    await engine.authorize(act('db.delete'));
    await engine.authorize(act('db.delete'));
    await expect(engine.resetRisk(createOperator({ actor: 'x' }), { agentId: 'bot' })).rejects.toThrow(
      /operator/,
    );
    await engine.resetRisk(operator, { agentId: 'bot' });
    expect((await engine.getAgentStatus('bot')).risk[0]!.total).toBe(0);
    expect(events.filter((e) => e.type === 'control.changed').map((e) => e.payload)).toEqual([
      expect.objectContaining({ kind: 'risk.reset', actor: 'ops@example.com', target: 'bot' }),
    ]);
  });
});

describe('strikes and suspension', () => {
  const policy: PolicyInput = {
    id: 'p',
    rules: [{ action: 'deny', when: { amount: { gt: 100, currency: 'USDC' } } }, { action: 'allow' }],
    strikes: { max: 3, window: '10m' },
  };

  it('N denied attempts in the window suspend the agent until an operator resumes it', async () => {
    const { engine, clock, operator, events } = setup({}, policy);
    const big = pay({ amount: 500 });
    expect(codes(await engine.authorize(big))).toEqual(['rule_deny', 'strike_recorded']);
    clock.advance(11 * 60_000); // the first strike leaves the window
    await engine.authorize(big);
    await engine.authorize(big);
    expect((await engine.getAgentStatus('research-bot')).suspended).toBe(false);
    const third = await engine.authorize(big);
    expect(reason(third, 'agent_suspended_by_strikes')).toMatchObject({
      source: 'strike',
      details: { strikes: 3, max: 3 },
    });
    const status = await engine.getAgentStatus('research-bot');
    expect(status).toMatchObject({ suspended: true, suspendedBy: 'system:strikes', strikes: 3 });
    const small = await engine.authorize(pay({ amount: 1 }));
    expect([small.outcome, codes(small)]).toEqual(['deny', ['agent_suspended']]);
    expect((await engine.evaluate(pay({ amount: 1 }))).outcome).toBe('deny');
    expect(events.filter((e) => e.type === 'control.changed').map((e) => e.payload)).toEqual([
      expect.objectContaining({ kind: 'agent.suspended', actor: 'system:strikes', target: 'research-bot' }),
    ]);
    await engine.resumeAgent(operator, { agentId: 'research-bot', reason: 'reviewed' });
    expect((await engine.authorize(pay({ amount: 1 }))).outcome).toBe('allow');
    expect((await engine.getAgentStatus('research-bot')).strikes).toBe(0);
  });

  it('without a strikes setting, denials are not counted', async () => {
    const { engine } = setup({}, { ...policy, strikes: undefined });
    for (let i = 0; i < 5; i++)
      expect(codes(await engine.authorize(pay({ amount: 500 })))).toEqual(['rule_deny']);
    expect((await engine.authorize(pay({ amount: 1 }))).outcome).toBe('allow');
  });

  it('budget denials are strikes too; evaluate records none', async () => {
    const { engine } = setup(
      {},
      { ...policy, strikes: { max: 2 }, budgets: [{ window: 'daily', maxAmount: 1, currency: 'USDC' }] },
    );
    await engine.evaluate(pay({ amount: 500 }));
    await engine.evaluate(pay({ amount: 500 }));
    expect((await engine.getAgentStatus('research-bot')).strikes).toBe(0);
    await engine.authorize(pay({ amount: 2 }));
    await engine.authorize(pay({ amount: 2 }));
    expect((await engine.getAgentStatus('research-bot')).suspended).toBe(true);
  });

  it('operators suspend agents by hand', async () => {
    const { engine, operator } = setup({}, policy);
    await engine.suspendAgent(operator, { agentId: 'research-bot', reason: 'investigating' });
    const d = await engine.authorize(pay({ amount: 1 }));
    expect(d.reasons[0]).toMatchObject({
      code: 'agent_suspended',
      message: expect.stringMatching(/investigating/),
    });
    await expect(engine.suspendAgent(operator, { agentId: '' })).rejects.toThrow(/agentId/);
  });
});

describe('kill switches', () => {
  const policy: PolicyInput = { id: 'p', rules: [{ action: 'allow' }] };

  it('scoped to everything, an agent, a recipient or an action', async () => {
    const { engine, operator, events } = setup({}, policy);
    const check = async () => ({
      bot: (await engine.evaluate(pay())).outcome,
      other: (await engine.evaluate(pay({ agentId: 'other', recipient: 'https://b.test/' }))).outcome,
      tool: (await engine.evaluate({ agentId: 'other', action: 'db.drop' })).outcome,
    });
    await engine.setKillSwitch(operator, {
      scope: 'agent',
      target: 'research-*',
      engaged: true,
      reason: 'leak',
    });
    expect(await check()).toEqual({ bot: 'deny', other: 'allow', tool: 'allow' });
    await engine.setKillSwitch(operator, { scope: 'agent', target: 'research-*', engaged: false });
    await engine.setKillSwitch(operator, { scope: 'recipient', target: 'https://B.test/*', engaged: true });
    expect(await check()).toEqual({ bot: 'allow', other: 'deny', tool: 'allow' });
    await engine.setKillSwitch(operator, { scope: 'recipient', target: 'https://B.test/*', engaged: false });
    await engine.setKillSwitch(operator, { scope: 'action', target: 'db.*', engaged: true });
    expect(await check()).toEqual({ bot: 'allow', other: 'allow', tool: 'deny' });
    await engine.setKillSwitch(operator, { scope: 'global', engaged: true, reason: 'incident' });
    expect(await check()).toEqual({ bot: 'deny', other: 'deny', tool: 'deny' });
    const d = await engine.authorize(pay());
    expect(d.reasons).toEqual([
      {
        code: 'kill_switch_engaged',
        message: 'Kill switch (global) engaged by ops@example.com: incident',
        outcome: 'deny',
        source: 'kill_switch',
        details: { scope: 'global', actor: 'ops@example.com' },
      },
    ]);
    expect((await engine.listKillSwitches()).map((k) => k.scope).sort()).toEqual(['action', 'global']);
    const changes = events
      .filter((e) => e.type === 'control.changed')
      .map((e) => e.payload as ControlChangedEvent);
    expect(changes.map((c) => [c.kind, c.actor, c.target ?? null])).toEqual([
      ['kill_switch.engaged', 'ops@example.com', 'research-*'],
      ['kill_switch.disengaged', 'ops@example.com', 'research-*'],
      ['kill_switch.engaged', 'ops@example.com', 'https://B.test/*'],
      ['kill_switch.disengaged', 'ops@example.com', 'https://B.test/*'],
      ['kill_switch.engaged', 'ops@example.com', 'db.*'],
      ['kill_switch.engaged', 'ops@example.com', null],
    ]);
  });

  it('rejects malformed switches and callers without a capability', async () => {
    const { engine, operator } = setup({}, policy);
    await expect(
      engine.setKillSwitch(operator, { scope: 'global', target: 'x', engaged: true }),
    ).rejects.toThrow(/no target/);
    await expect(engine.setKillSwitch(operator, { scope: 'agent', engaged: true })).rejects.toThrow(
      /needs a target/,
    );
    await expect(engine.setKillSwitch(operator, { scope: 'planet' as never, engaged: true })).rejects.toThrow(
      /scope/,
    );
    const fake = { actor: 'agent', kind: 'bursar.operator' } as never;
    await expect(engine.setKillSwitch(fake, { scope: 'global', engaged: false })).rejects.toMatchObject({
      code: 'ERR_BURSAR_UNAUTHORIZED',
    });
    expect(await engine.listKillSwitches()).toEqual([]);
  });
});

describe('operator capabilities', () => {
  it('are unforgeable, frozen, and can be granted by an operator', async () => {
    const admin = createOperator({ actor: 'admin' });
    expect(Object.isFrozen(admin)).toBe(true);
    expect(isOperatorCapability(admin)).toBe(true);
    expect(isOperatorCapability({ ...admin })).toBe(false);
    expect(isOperatorCapability(JSON.parse(JSON.stringify(admin)))).toBe(false);
    expect(() => createOperator({ actor: ' ' })).toThrow(/actor/);
    const { engine, operator, events } = setup({}, { id: 'p', rules: [{ action: 'allow' }] });
    expect(() => engine.grantOperator(admin, admin)).toThrow(/operator capability/);
    engine.grantOperator(operator, admin);
    await engine.suspendAgent(admin, { agentId: 'x' });
    expect(events.map((e) => e.payload)).toEqual([
      expect.objectContaining({ kind: 'operator.granted', actor: 'ops@example.com', target: 'admin' }),
      expect.objectContaining({ kind: 'agent.suspended', actor: 'admin', target: 'x' }),
    ]);
  });
});

describe('risk signal providers', () => {
  it('may escalate, and their signals are listed', async () => {
    const provider: RiskSignalProvider = {
      name: 'anomaly',
      signals: (intent) =>
        intent.amount && intent.amount.minor > 50_000_000n
          ? [{ code: 'amount_outlier', message: 'Unusually large', outcome: 'require_approval', score: 4.2 }]
          : [],
    };
    const { engine } = setup({ riskProviders: [provider] }, { id: 'p', rules: [{ action: 'allow' }] });
    expect((await engine.evaluate(pay({ amount: 10 }))).outcome).toBe('allow');
    const d = await engine.authorize(pay({ amount: 60 }));
    expect(d.outcome).toBe('require_approval');
    expect(reason(d, 'amount_outlier')).toEqual({
      code: 'amount_outlier',
      message: 'Unusually large',
      outcome: 'require_approval',
      source: 'signal',
      details: { provider: 'anomaly', score: 4.2 },
    });
  });

  it('cannot loosen: an allow signal is a provider bug and fails closed', async () => {
    const provider = {
      name: 'bad',
      signals: () => [{ code: 'fine', message: 'ok', outcome: 'allow' }],
    } as never;
    const { engine } = setup({ riskProviders: [provider] }, { id: 'p', rules: [{ action: 'allow' }] });
    const d = await engine.evaluate(pay());
    expect([d.outcome, codes(d)]).toEqual(['deny', ['internal_error']]);
  });

  it('is not asked once the rules deny', async () => {
    let asked = 0;
    const provider: RiskSignalProvider = {
      name: 'count',
      signals: () => {
        asked++;
        return [];
      },
    };
    const { engine } = setup({ riskProviders: [provider] }, { id: 'p', rules: [{ action: 'deny' }] });
    await engine.authorize(pay());
    expect(asked).toBe(0);
  });
});
