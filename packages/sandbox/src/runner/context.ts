import {
  ApprovalManager,
  createOperator,
  handlerChannel,
  PolicyEngine,
  type PolicyInput,
} from '@bursar/control';
import { BursarError, EventBus, ManualClock, Money } from '@bursar/core';
import { AnomalyDetector, SpendAlerts, SpendTracker } from '@bursar/observe';
import { ProvenanceLog } from '@bursar/protect';
import type { Ledger } from '../ledger/index.js';
import { SeededRandom } from '../random/index.js';
import { type ScenarioAcp, startScenarioAcp } from './acp-rail.js';
import { createScenarioAp2 } from './ap2-rail.js';
import type { GovernedDeps } from './governed.js';
import { Recorder } from './recorder.js';
import { DEFAULT_ALERT_RULES, type Scenario, type ScenarioContext } from './scenario.js';
import type { CurrencyTotals, ScenarioOutcome } from './types.js';
import { LINE_OUTCOMES } from './types.js';
import { startScenarioX402 } from './x402-rail.js';

/** Monday, 09:00 UTC: every scenario's clock starts here unless its setup says otherwise. */
export const SCENARIO_START = '2026-11-02T09:00:00Z';

/** How long a script waits (real ms) for an approver before it leaves a request pending. */
const APPROVAL_WAIT_MS = 1_000;

/** A scenario's context plus what the runner needs to finish it. */
export interface LiveScenario {
  ctx: ScenarioContext;
  /** Flushes alerts and provenance, then reads the lines and every rail's ledger. */
  collect(): Promise<ScenarioOutcome>;
  /** Stops every rail, timer and listener (deferred cleanups first, last in first out). */
  close(): Promise<void>;
}

/** Builds the control plane and rail factories one scenario runs on. */
export function createScenarioContext(
  scenario: Scenario,
  options: { seed: number | string; policy?: PolicyInput },
): LiveScenario {
  const setup = scenario.setup ?? {};
  const rng = new SeededRandom(options.seed, `scenario:${scenario.id}`);
  const clock = new ManualClock(setup.startAt ?? SCENARIO_START);
  const events = new EventBus();
  const operator = createOperator({ actor: 'operator@sandbox' });
  const approvals = setup.approver
    ? new ApprovalManager({
        channels: [
          handlerChannel({
            name: 'auto-approver',
            approver: setup.approver.name,
            handler: setup.approver.handler,
          }),
        ],
        ...(setup.approver.routing ? { routing: setup.approver.routing } : {}),
        // Time is the scenario's clock; `advance()` expires due requests.
        sweepIntervalMs: 0,
      })
    : undefined;
  const detector = new AnomalyDetector({ clock });
  const engine = new PolicyEngine({
    clock,
    events,
    operators: [operator],
    ...(setup.timeZone ? { timeZone: setup.timeZone } : {}),
    ...(setup.holdTtlMs !== undefined ? { holdTtlMs: setup.holdTtlMs } : {}),
    ...(approvals ? { approvals } : {}),
    ...(setup.anomaly ? { riskProviders: [detector] } : {}),
  });
  engine.loadPolicy(options.policy ?? scenario.policy);
  const tracker = new SpendTracker({ bus: events, clock });
  detector.attach(tracker);
  const alerts = new SpendAlerts({
    bus: events,
    clock,
    tracker,
    detector,
    budgets: engine,
    rules: setup.alerts ?? DEFAULT_ALERT_RULES,
  });
  const provenance = new ProvenanceLog({ clock });
  const detach = provenance.attach(events);
  const names = new Map<string, string>();
  const recorder = new Recorder(events, {
    displayRecipient: (r) => {
      if (r === undefined) return r;
      for (const [origin, label] of names) if (r.startsWith(origin)) return label + r.slice(origin.length);
      return r;
    },
  });
  const ledgers: Ledger[] = [];
  const closers: Array<() => unknown> = [];
  const deferred: Array<() => unknown> = [];
  const facts: Record<string, unknown> = {};
  const governed: GovernedDeps = { engine, approvals, recorder, approvalWaitMs: APPROVAL_WAIT_MS };

  const ctx: ScenarioContext = {
    scenario,
    seed: options.seed,
    rng,
    clock,
    events,
    engine,
    approvals,
    operator,
    tracker,
    alerts,
    detector,
    provenance,
    recorder,
    fact(name, value) {
      facts[name] = value;
    },
    async x402(x402Options) {
      const rail = await startScenarioX402(
        {
          engine,
          events,
          clock,
          rng,
          recorder,
          provenance,
          name: (origin, label) => names.set(origin, label),
        },
        x402Options,
      );
      ledgers.push(rail.sandbox.ledger);
      closers.push(() => rail.sandbox.close());
      return rail;
    },
    async acp(acpOptions = {}): Promise<ScenarioAcp> {
      const rail = await startScenarioAcp({ ...governed, rng, clock }, acpOptions);
      ledgers.push(rail.merchant.ledger);
      closers.push(() => rail.merchant.close());
      return rail;
    },
    ap2(ap2Options = {}) {
      const rail = createScenarioAp2({ ...governed, rng, clock }, ap2Options);
      ledgers.push(rail.provider.ledger);
      return rail;
    },
    async attempt(agentId, action, fn, amount = {}) {
      try {
        await fn();
      } catch (error) {
        const code = error instanceof BursarError ? error.code : 'error';
        const message = error instanceof Error ? error.message : String(error);
        return recorder.refusal({ agentId, action, ...amount, code, message });
      }
      // It worked: show it as an allowed line, so an expectation of a refusal fails loudly.
      const line = recorder.refusal({
        agentId,
        action,
        ...amount,
        code: 'not_refused',
        message: 'Bursar let it through',
      });
      line.decision = 'allow';
      line.outcome = 'allowed';
      return line;
    },
    async advance(ms) {
      clock.advance(ms);
      await engine.expireHolds();
      if (approvals) await approvals.expire();
    },
    defer(cleanup) {
      deferred.push(cleanup);
    },
  };

  return {
    ctx,
    async collect() {
      await alerts.flush();
      await provenance.sync();
      recorder.finalize();
      const verified = await provenance.verify();
      facts.provenance = verified.ok
        ? { ok: true, records: verified.records }
        : { ok: false, records: verified.verified, brokenAt: verified.seq, reason: verified.reason };
      return summarize(recorder, ledgers, facts);
    },
    async close() {
      const errors: unknown[] = [];
      for (const fn of [...deferred.reverse(), ...closers.reverse()]) {
        try {
          await fn();
        } catch (error) {
          errors.push(error);
        }
      }
      recorder.close();
      detach();
      await alerts.close();
      tracker.close();
      await approvals?.close();
      if (errors.length > 0) throw errors[0];
    },
  };
}

/** Adds `amount` (decimal) of `currency` to a totals map, exactly. */
export function addTo(totals: CurrencyTotals, currency: string, amount: string | Money): void {
  const value = Money.isMoney(amount) ? amount : Money.parse(amount, currency);
  const key = value.currency;
  const before = totals[key];
  totals[key] = (before === undefined ? value : Money.parse(before, key).add(value)).toDecimalString();
}

function summarize(recorder: Recorder, ledgers: Ledger[], facts: Record<string, unknown>): ScenarioOutcome {
  const counts = Object.fromEntries(LINE_OUTCOMES.map((o) => [o, 0])) as ScenarioOutcome['counts'];
  const totals = Object.fromEntries(LINE_OUTCOMES.map((o) => [o, {}])) as ScenarioOutcome['totals'];
  const captured: CurrencyTotals = {};
  for (const line of recorder.lines) {
    if (line.replayed) continue;
    counts[line.outcome]++;
    if (line.currency === undefined) continue;
    if (line.outcome === 'allowed' && line.captured !== undefined) {
      addTo(totals.allowed, line.currency, line.captured);
    } else if (line.outcome !== 'allowed' && line.amount !== undefined) {
      addTo(totals[line.outcome], line.currency, line.amount);
    }
    if (line.captured !== undefined) addTo(captured, line.currency, line.captured);
  }
  const charged: CurrencyTotals = {};
  const grossCharged: CurrencyTotals = {};
  const refunded: CurrencyTotals = {};
  const chargedByRail: Record<string, CurrencyTotals> = {};
  let duplicateCharges = 0;
  for (const ledger of ledgers) {
    chargedByRail[ledger.rail] ??= {};
    const rail = chargedByRail[ledger.rail] as CurrencyTotals;
    for (const currency of ledger.currencies()) {
      addTo(rail, currency, ledger.net(currency));
      addTo(charged, currency, ledger.net(currency));
      addTo(grossCharged, currency, ledger.total(currency));
      addTo(refunded, currency, ledger.refunded(currency));
    }
    duplicateCharges += ledger.entries({ duplicate: true }).length;
  }
  return {
    lines: recorder.lines.map((l) => ({ ...l })),
    alerts: [...recorder.alerts],
    counts,
    totals,
    captured,
    charged,
    grossCharged,
    refunded,
    chargedByRail,
    duplicateCharges,
    facts: { ...facts },
  };
}
