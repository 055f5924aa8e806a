import type {
  ApprovalHandler,
  ApprovalManager,
  ApprovalRoutingInput,
  OperatorCapability,
  PolicyEngine,
  PolicyInput,
} from '@bursar/control';
import type { EventBus, ManualClock } from '@bursar/core';
import { BursarError, ErrorCode } from '@bursar/core';
import type { AlertRuleInput, AnomalyDetector, SpendAlerts, SpendTracker } from '@bursar/observe';
import type { ProvenanceLog } from '@bursar/protect';
import type { SeededRandom } from '../random/index.js';
import type { ScenarioAcp, ScenarioAcpOptions } from './acp-rail.js';
import type { ScenarioAp2, ScenarioAp2Options } from './ap2-rail.js';
import type { Recorder } from './recorder.js';
import type { PaymentLine, ScenarioExpectation } from './types.js';
import type { ScenarioX402, ScenarioX402Options } from './x402-rail.js';

/** How the control plane around a scenario is set up (beyond its policy). */
export interface ScenarioSetup {
  /**
   * An approver that answers approval requests through a handler channel (the
   * "auto-approver"). A handler that returns `undefined` leaves the request pending.
   */
  approver?: { name: string; handler: ApprovalHandler; routing?: ApprovalRoutingInput };
  /** Feed the anomaly detector's signals to the engine as a risk provider (it can only escalate). */
  anomaly?: boolean;
  /** Alert rules (default {@link DEFAULT_ALERT_RULES}). */
  alerts?: AlertRuleInput[];
  /** Hold lifetime of the engine (default 15 minutes). */
  holdTtlMs?: number;
  /** IANA zone of the engine's calendar windows (default UTC). */
  timeZone?: string;
  /** Where the scenario's clock starts (default Monday 2026-11-02 09:00 UTC). */
  startAt?: string;
}

/** The alert rules every scenario runs with unless it sets its own. */
export const DEFAULT_ALERT_RULES: AlertRuleInput[] = [
  { type: 'budget_threshold', percents: [80, 100] },
  { type: 'large_transaction', minAmount: { USD: '1000', USDC: '1000' } },
  { type: 'rate_spike', windowMs: 60_000, maxCount: 20 },
  { type: 'policy_violation', denies: 3, windowMs: 600_000 },
  { type: 'circuit_open' },
];

/**
 * One scenario: a policy, a script of agent actions, and the outcome it must produce. The
 * script drives real rails through Bursar; every line of the report comes from the engine's
 * decisions and the rails' ledgers.
 */
export interface Scenario {
  /** Stable id, kebab-case (`--scenario overspend`). */
  id: string;
  title: string;
  /** What it shows, in a sentence or two. */
  summary: string;
  /** The scenario's own policy; `runScenarios({ policy })` replaces it with yours. */
  policy: PolicyInput;
  setup?: ScenarioSetup;
  script(ctx: ScenarioContext): Promise<void>;
  expect: ScenarioExpectation;
}

/**
 * What a script works with. The agent-facing parts (rails, `engine.authorize`) and the
 * operator's capability are both here because a scenario plays every role; a script passes
 * `operator` only to what an operator does, never to what the agent does.
 */
export interface ScenarioContext {
  readonly scenario: Scenario;
  readonly seed: number | string;
  /** The scenario's own random stream (derived from the seed and the scenario id). */
  readonly rng: SeededRandom;
  /** Drives every window, expiry, breaker and cool-down. Advance it with {@link advance}. */
  readonly clock: ManualClock;
  readonly events: EventBus;
  readonly engine: PolicyEngine;
  /** Present when the scenario's setup has an approver. */
  readonly approvals: ApprovalManager | undefined;
  /** The human operator's capability. Never hand it to agent code. */
  readonly operator: OperatorCapability;
  readonly tracker: SpendTracker;
  readonly alerts: SpendAlerts;
  readonly detector: AnomalyDetector;
  readonly provenance: ProvenanceLog;
  readonly recorder: Recorder;
  /** Reports a fact in the result (`facts`) and the JSON output. Values must be JSON-safe. */
  fact(name: string, value: unknown): void;
  /** Starts an x402 rail (facilitator + paid resource server on 127.0.0.1) guarded on one side. */
  x402(options: ScenarioX402Options): Promise<ScenarioX402>;
  /** Starts an ACP merchant on 127.0.0.1 whose checkouts the agents pay through the engine. */
  acp(options?: ScenarioAcpOptions): Promise<ScenarioAcp>;
  /** An AP2 credential provider whose mandates the agents pay under, through the engine. */
  ap2(options?: ScenarioAp2Options): ScenarioAp2;
  /**
   * The agent tries something only an operator may do (`fn` runs without a capability). A
   * refusal by Bursar becomes a blocked line with the error's code; success becomes an
   * `allow` line, which an expectation will catch.
   */
  attempt(
    agentId: string,
    action: string,
    fn: () => Promise<unknown>,
    facts?: { amount?: string; currency?: string },
  ): Promise<PaymentLine>;
  /** Advances the clock and lets time-driven parts catch up (holds and approvals expire). */
  advance(ms: number): Promise<void>;
  /** Runs `cleanup` when the scenario ends, even when it failed (last in, first out). */
  defer(cleanup: () => unknown): void;
}

const ID = /^[a-z][a-z0-9-]{1,48}$/;

/**
 * Declares a scenario (checks its id and shape once, so a typo fails at import, not at run).
 *
 * @example
 * export const myScenario = defineScenario({
 *   id: 'my-check', title: 'My check', summary: '…',
 *   policy: { id: 'p', rules: [allowAll()] },
 *   async script(ctx) { … },
 *   expect: { allowed: 1 },
 * });
 */
export function defineScenario(scenario: Scenario): Scenario {
  const problems: string[] = [];
  if (typeof scenario?.id !== 'string' || !ID.test(scenario.id)) problems.push('id must be kebab-case');
  if (typeof scenario?.title !== 'string' || scenario.title.length === 0) problems.push('title is required');
  if (typeof scenario?.script !== 'function') problems.push('script must be a function');
  if (typeof scenario?.expect !== 'object' || scenario.expect === null) problems.push('expect is required');
  if (typeof scenario?.policy !== 'object' || scenario.policy === null) problems.push('policy is required');
  if (problems.length > 0) {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      `Invalid scenario ${JSON.stringify(scenario?.id)}: ${problems.join('; ')}`,
      { details: { problems } },
    );
  }
  return Object.freeze(scenario);
}
