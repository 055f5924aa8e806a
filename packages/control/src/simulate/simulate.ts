import {
  type AmountInput,
  BursarError,
  type Decision,
  type IntentInput,
  ManualClock,
  OUTCOMES,
  type Outcome,
  type PolicyRef,
} from '@bursar/core';
import type { PolicyInput } from '../policy/schema.js';

/** One historical intent to replay, with when it happened and what became of it. */
export interface SimulationEntry {
  intent: IntentInput;
  /** When it happened (epoch ms, ISO text or Date). Default: the engine's clock now. */
  at?: number | string | Date;
  /**
   * What happened after an allowed intent: captured in full (default), captured for a given
   * amount, or `false` for released. Spend accumulates in the replay's own budgets.
   */
  capture?: AmountInput | false;
}

/** Options of `engine.simulate`. */
export interface SimulationOptions {
  /** Keep only the intents whose outcome differs in `results` (counts cover all). */
  onlyChanged?: boolean;
}

/** The replayed decisions of one intent under the draft and under the live policies. */
export interface SimulatedDecision {
  index: number;
  at: number;
  intent: IntentInput;
  draft?: Decision;
  live?: Decision;
  /** True when the outcomes differ. */
  changed: boolean;
  /** Set when the intent itself is invalid; it is then skipped. */
  error?: { code: string; message: string };
}

/** What a draft policy would have done to a list of intents, compared with the live policies. */
export interface SimulationReport {
  draft: PolicyRef;
  live: PolicyRef[];
  total: number;
  changed: number;
  invalid: number;
  outcomes: { draft: Record<Outcome, number>; live: Record<Outcome, number> };
  /** Counts of outcome changes, keyed `live->draft` (e.g. `allow->deny`). */
  transitions: Record<string, number>;
  results: SimulatedDecision[];
}

/** The engine surface a replay drives (a fresh, private engine per side). */
export interface SandboxEngine {
  loadPolicy(policy: PolicyInput): PolicyRef;
  authorize(intent: IntentInput): Promise<Decision>;
  capture(holdId: string, options?: { amount?: AmountInput }): Promise<unknown>;
  release(holdId: string): Promise<unknown>;
}

/** What {@link runSimulation} needs from the engine that asked. */
export interface SimulationArgs {
  draft: PolicyInput;
  live: readonly PolicyInput[];
  entries: ReadonlyArray<IntentInput | SimulationEntry>;
  now: number;
  /** Makes a fresh engine with in-memory stores, driven by `clock`. */
  makeEngine: (clock: ManualClock) => SandboxEngine;
  options: SimulationOptions;
}

const isEntry = (v: IntentInput | SimulationEntry): v is SimulationEntry =>
  typeof v === 'object' && v !== null && 'intent' in v && typeof (v as SimulationEntry).intent === 'object';

function toMs(at: SimulationEntry['at'], fallback: number): number {
  if (at === undefined) return fallback;
  const ms = typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (!Number.isFinite(ms))
    throw new BursarError('ERR_BURSAR_INVALID_ARGUMENT', `Invalid simulation time ${String(at)}`);
  return ms;
}

/**
 * Replays intents in time order through two private engines with their own in-memory
 * stores, one with the draft policy (replacing the live policy of the same id) and one with
 * the live policies, so live budgets, strikes and events are never touched.
 */
export async function runSimulation(args: SimulationArgs): Promise<SimulationReport> {
  const draftClock = new ManualClock(args.now);
  const liveClock = new ManualClock(args.now);
  const draftEngine = args.makeEngine(draftClock);
  const liveEngine = args.makeEngine(liveClock);
  const draftId = (args.draft as { id?: unknown }).id;
  const draftRef = draftEngine.loadPolicy(args.draft);
  for (const p of args.live) if (p.id !== draftId) draftEngine.loadPolicy(p);
  const liveRefs = args.live.map((p) => liveEngine.loadPolicy(p));

  const entries = args.entries
    .map((e, index) => {
      const entry: SimulationEntry = isEntry(e) ? e : { intent: e };
      return { index, entry, at: toMs(entry.at, args.now) };
    })
    .sort((a, b) => a.at - b.at || a.index - b.index);

  const zero = (): Record<Outcome, number> =>
    Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const report: SimulationReport = {
    draft: draftRef,
    live: liveRefs,
    total: entries.length,
    changed: 0,
    invalid: 0,
    outcomes: { draft: zero(), live: zero() },
    transitions: {},
    results: [],
  };
  for (const { index, entry, at } of entries) {
    draftClock.set(at);
    liveClock.set(at);
    let draft: Decision;
    let live: Decision;
    try {
      draft = await replay(draftEngine, entry);
      live = await replay(liveEngine, entry);
    } catch (error) {
      if (!BursarError.isInstance(error)) throw error;
      report.invalid++;
      report.results.push({
        index,
        at,
        intent: entry.intent,
        changed: false,
        error: { code: error.code, message: error.message },
      });
      continue;
    }
    const changed = draft.outcome !== live.outcome;
    report.outcomes.draft[draft.outcome]++;
    report.outcomes.live[live.outcome]++;
    if (changed) {
      report.changed++;
      const key = `${live.outcome}->${draft.outcome}`;
      report.transitions[key] = (report.transitions[key] ?? 0) + 1;
    }
    if (changed || !args.options.onlyChanged) {
      report.results.push({ index, at, intent: entry.intent, draft, live, changed });
    }
  }
  return report;
}

async function replay(engine: SandboxEngine, entry: SimulationEntry): Promise<Decision> {
  const decision = await engine.authorize(entry.intent);
  // Pending approvals keep their hold until it expires, as they would live.
  if (decision.holdId !== undefined && decision.outcome !== 'require_approval' && !decision.replayed) {
    if (entry.capture === false) await engine.release(decision.holdId);
    else await engine.capture(decision.holdId, entry.capture === undefined ? {} : { amount: entry.capture });
  }
  return decision;
}
