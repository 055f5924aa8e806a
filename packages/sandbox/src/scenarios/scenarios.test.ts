import { describe, expect, it } from 'vitest';
import { runScenario, runScenarios } from '../runner/run-scenarios.js';
import type { ScenarioResult } from '../runner/types.js';
import { rateSpike, SCENARIOS } from './index.js';

const summary = (r: ScenarioResult) => ({ id: r.id, failures: r.failures });

describe('the built-in scenarios', () => {
  it('are at least twelve, with unique kebab-case ids', () => {
    const ids = SCENARIOS.map((s) => s.id);
    expect(ids.length).toBeGreaterThanOrEqual(12);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-z0-9-]+$/);
  });

  for (const seed of [1, 'ci-second-seed']) {
    it(`all behave as expected with seed ${JSON.stringify(seed)}`, async () => {
      const report = await runScenarios({ scenarios: SCENARIOS, seed });
      expect(report.scenarios.map(summary)).toEqual(SCENARIOS.map((s) => ({ id: s.id, failures: [] })));
      expect(report.passed).toBe(true);
      // Across every scenario: nothing charged twice, and captures equal what the rails took.
      for (const r of report.scenarios) {
        expect(r.duplicateCharges, r.id).toBe(0);
        expect(r.facts.provenance, r.id).toMatchObject({ ok: true });
      }
    });
  }

  it('are deterministic for a seed, and the seed matters', async () => {
    const shape = (r: ScenarioResult) => r.lines.map((l) => [l.agentId, l.amount, l.outcome, l.reasonCode]);
    const a = await runScenario(rateSpike, { seed: 5 });
    const b = await runScenario(rateSpike, { seed: 5 });
    const c = await runScenario(rateSpike, { seed: 6 });
    expect(shape(a)).toEqual(shape(b));
    expect(a.facts.amounts).toEqual(b.facts.amounts);
    expect(a.facts.amounts).not.toEqual(c.facts.amounts);
    expect(c.passed).toBe(true);
  });
});
