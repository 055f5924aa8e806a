import type { PolicyInput } from '@bursar/control';
import { BursarError } from '@bursar/core';
import { SandboxErrorCode } from '../errors/index.js';
import { addTo, createScenarioContext } from './context.js';
import { checkExpectation } from './expectations.js';
import type { Scenario } from './scenario.js';
import { LINE_OUTCOMES, type RunReport, type ScenarioOutcome, type ScenarioResult } from './types.js';

/** The seed used when none is given. */
export const DEFAULT_SEED = 42;

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** Every random choice of the rails derives from it (default {@link DEFAULT_SEED}). */
  seed?: number | string;
  /**
   * Your policy instead of the scenario's own: the scenario's script and expectation stay, so
   * a run tells whether your policy still stops what the scenario must stop.
   */
  policy?: PolicyInput | ((scenario: Scenario) => PolicyInput | undefined);
  /** Upper bound on one script, in real ms (default 60 000). */
  timeoutMs?: number;
}

/** Options of {@link runScenarios}. */
export interface RunScenariosOptions extends RunScenarioOptions {
  /** The scenarios to choose from (default: every built-in scenario). */
  scenarios: readonly Scenario[];
  /** Ids to run, in this order (default: all). An unknown id throws `ERR_BURSAR_SANDBOX_UNKNOWN_SCENARIO`. */
  only?: readonly string[];
  /** Called before each scenario (progress displays). */
  onStart?(scenario: Scenario, index: number, total: number): void;
  /** Called with each result as it is known. */
  onResult?(result: ScenarioResult, index: number, total: number): void;
}

const emptyOutcome = (): ScenarioOutcome => ({
  lines: [],
  alerts: [],
  counts: { allowed: 0, pending: 0, failed: 0, blocked: 0 },
  totals: { allowed: {}, pending: {}, failed: {}, blocked: {} },
  captured: {},
  charged: {},
  grossCharged: {},
  refunded: {},
  chargedByRail: {},
  duplicateCharges: 0,
  facts: {},
});

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one scenario on fresh rails and a fresh engine, and compares what happened with what it
 * expects. Never throws for a failing scenario: the result says `passed: false` and why.
 *
 * @example
 * const result = await runScenario(overspend, { seed: 7 });
 * result.passed; // true
 * result.charged; // { USDC: '100.000000' }
 */
export async function runScenario(
  scenario: Scenario,
  options: RunScenarioOptions = {},
): Promise<ScenarioResult> {
  const seed = options.seed ?? DEFAULT_SEED;
  const custom = typeof options.policy === 'function' ? options.policy(scenario) : options.policy;
  const base = {
    id: scenario.id,
    title: scenario.title,
    seed,
    policySource: custom ? ('custom' as const) : ('scenario' as const),
  };
  let live: ReturnType<typeof createScenarioContext>;
  try {
    live = createScenarioContext(scenario, { seed, ...(custom ? { policy: custom } : {}) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, ...emptyOutcome(), policies: [], passed: false, failures: [message], error: message };
  }
  let error: string | undefined;
  let outcome: ScenarioOutcome = emptyOutcome();
  const failures: string[] = [];
  try {
    await withTimeout(scenario.script(live.ctx), options.timeoutMs ?? 60_000, `Scenario ${scenario.id}`);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  try {
    outcome = await live.collect();
    failures.push(...(await checkExpectation(scenario.expect, outcome)));
  } catch (e) {
    error ??= e instanceof Error ? e.message : String(e);
  }
  const policies = live.ctx.engine.getPolicies().map((p) => ({ id: p.id, version: p.version, hash: p.hash }));
  try {
    await live.close();
  } catch (e) {
    error ??= `cleanup failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (error) failures.unshift(`the script failed: ${error}`);
  return {
    ...base,
    ...outcome,
    policies,
    passed: failures.length === 0,
    failures,
    ...(error ? { error } : {}),
  };
}

/**
 * Runs scenarios one after another (each on its own rails, engine and clock) and sums the
 * report. `passed` is true only when every scenario's outcome matched its expectation.
 *
 * @example
 * const report = await runScenarios({ scenarios: SCENARIOS, seed: 1, only: ['overspend', 'retry-storm'] });
 * if (!report.passed) process.exitCode = 1;
 */
export async function runScenarios(options: RunScenariosOptions): Promise<RunReport> {
  const byId = new Map(options.scenarios.map((s) => [s.id, s]));
  const chosen = options.only && options.only.length > 0 ? options.only : [...byId.keys()];
  const unknown = chosen.filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    throw new BursarError(
      SandboxErrorCode.UNKNOWN_SCENARIO,
      `Unknown scenario ${unknown.map((id) => JSON.stringify(id)).join(', ')}; known: ${[...byId.keys()].join(', ')}`,
      { details: { unknown, known: [...byId.keys()] } },
    );
  }
  const seed = options.seed ?? DEFAULT_SEED;
  const report: RunReport = {
    seed,
    passed: true,
    scenarios: [],
    counts: { allowed: 0, pending: 0, failed: 0, blocked: 0 },
    totals: { allowed: {}, pending: {}, failed: {}, blocked: {} },
    charged: {},
    alerts: 0,
  };
  for (const [index, id] of chosen.entries()) {
    const scenario = byId.get(id) as Scenario;
    options.onStart?.(scenario, index, chosen.length);
    const result = await runScenario(scenario, {
      seed,
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    report.scenarios.push(result);
    report.passed &&= result.passed;
    for (const o of LINE_OUTCOMES) {
      report.counts[o] += result.counts[o];
      for (const [currency, amount] of Object.entries(result.totals[o]))
        addTo(report.totals[o], currency, amount);
    }
    for (const [currency, amount] of Object.entries(result.charged)) addTo(report.charged, currency, amount);
    report.alerts += result.alerts.length;
    options.onResult?.(result, index, chosen.length);
  }
  return report;
}
