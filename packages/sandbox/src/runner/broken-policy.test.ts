import { allowAll, dailyBudget } from '@bursar/control';
import { describe, expect, it } from 'vitest';
import { concurrentBurst, overspend, promptInjection, SCENARIOS } from '../scenarios/index.js';
import { runScenario, runScenarios } from './run-scenarios.js';

describe('a deliberately broken policy fails the scenarios it should have stopped', () => {
  it('a policy without budgets lets the overspend through: the scenario fails and says why', async () => {
    const result = await runScenario(overspend, { seed: 1, policy: { id: 'loose', rules: [allowAll()] } });
    expect(result.passed).toBe(false);
    expect(result.policySource).toBe('custom');
    expect(result.counts).toMatchObject({ allowed: 6, blocked: 0 });
    expect(result.charged).toEqual({ USDC: '7.500000' });
    expect(result.failures).toContain('expected 4 allowed, got 6');
    expect(result.failures).toContain('charged by the rails: USDC: expected 5.00 USDC, got 7.50 USDC');
  });

  it('a budget twice too large lets twenty of the burst through', async () => {
    const loose = {
      id: 'burst',
      rules: [allowAll()],
      budgets: [dailyBudget(20, 'USDC', { scope: 'agent' })],
    };
    const result = await runScenario(concurrentBurst, { seed: 3, policy: loose });
    expect(result.passed).toBe(false);
    expect(result.counts.allowed).toBe(20);
    expect(result.charged).toEqual({ USDC: '20.000000' });
  });

  it('an allow-everything policy lets the injected agent pay the look-alike', async () => {
    const result = await runScenario(promptInjection, {
      seed: 1,
      policy: { id: 'open', rules: [allowAll()] },
    });
    expect(result.passed).toBe(false);
    expect(result.failures).toContain('expected a line with reason recipient_not_allowed');
    expect(result.lines.find((l) => l.recipient?.includes('datavend0r'))?.outcome).toBe('allowed');
  });

  it("the scenario's own policy, passed in as a custom policy, passes", async () => {
    const result = await runScenario(overspend, { seed: 1, policy: overspend.policy });
    expect(result.failures).toEqual([]);
    expect(result.policySource).toBe('custom');
  });

  it('runScenarios reports the whole run as failed when one scenario fails', async () => {
    const report = await runScenarios({
      scenarios: SCENARIOS,
      only: ['basic-payment', 'overspend'],
      seed: 2,
      policy: (s) => (s.id === 'overspend' ? { id: 'loose', rules: [allowAll()] } : undefined),
    });
    expect(report.scenarios.map((s) => [s.id, s.passed])).toEqual([
      ['basic-payment', true],
      ['overspend', false],
    ]);
    expect(report.passed).toBe(false);
  });

  it('an unknown scenario id is a typed error naming the known ones', async () => {
    await expect(runScenarios({ scenarios: SCENARIOS, only: ['overspend', 'nope'] })).rejects.toMatchObject({
      code: 'ERR_BURSAR_SANDBOX_UNKNOWN_SCENARIO',
      message: expect.stringContaining('known: basic-payment'),
    });
  });
});
