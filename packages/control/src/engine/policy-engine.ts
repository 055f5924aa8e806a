import {
  type AgentState,
  type AmountInput,
  type Asset,
  type AssetRegistry,
  type BudgetStatus,
  type BudgetStatusSource,
  BursarError,
  type BursarEventMap,
  type BursarStores,
  type Clock,
  type CounterCheck,
  type CounterUsage,
  createMemoryStores,
  type Decision,
  defaultAssets,
  ErrorCode,
  EventBus,
  formatMinor,
  type HoldRecord,
  type HoldState,
  type IntentInput,
  intentToJSON,
  type KillSwitch,
  type KillSwitchScope,
  MAX_MINOR_UNITS,
  type ManualClock,
  Money,
  mostRestrictive,
  newHoldId,
  type Outcome,
  outcomeSeverity,
  type ParsedIntent,
  type PaymentFacts,
  type PlaceHoldRequest,
  type PolicyRef,
  parseIntent,
  type Reason,
  type RiskSignalProvider,
  sha256Hex,
  sortReasons,
  systemClock,
  toIssues,
  ValidationError,
} from '@bursar/core';
import { z } from 'zod';
import {
  type CompiledLimit,
  limitReasons,
  type PlannedCheck,
  planCheck,
  planLimits,
  rollingRetryAfter,
  type ScopeSlot,
  scopeSlot,
} from '../budgets/index.js';
import { ControlErrorCode } from '../errors/index.js';
import { isOperatorCapability, type OperatorCapability } from '../operator/index.js';
import { type CompiledPolicy, compilePolicy } from '../policy/compile-policy.js';
import type { Policy, PolicyInput } from '../policy/schema.js';
import { combineStrikes, riskKey, signalReasons } from '../risk/index.js';
import {
  cachedGlob,
  evaluatePolicy,
  IntentFacts,
  normalizeRecipient,
  type PolicyVerdict,
  recipientTargetMatches,
} from '../rules/index.js';
import {
  runSimulation,
  type SimulationEntry,
  type SimulationOptions,
  type SimulationReport,
} from '../simulate/index.js';
import { canonicalTimeZone } from '../time/index.js';
import { type ApprovedRecheck, RECHECK_APPROVED } from './internal.js';
import { memoryAgents, memorySpend } from './memory-fast-path.js';
import { type ApprovalHook, EngineOptions, type PolicyEngineOptions } from './options.js';

/** A loaded policy: its reference (id, version, content hash) and its validated content. */
export interface LoadedPolicy extends PolicyRef {
  policy: Policy;
}

/** A hold after capture, release or expiry. Amounts are decimal strings of the hold's currency. */
export interface HoldResult {
  holdId: string;
  state: HoldState;
  /** Absent for holds without an amount (tool calls that only count). */
  currency?: string;
  held: string;
  captured: string;
  returned: string;
}

/** Options of {@link PolicyEngine.evaluate}. */
export interface EvaluateOptions {
  /**
   * A hold this very intent already has (a pending approval's hold): its amounts are not
   * counted against the intent again, so re-checking an approved intent does not see its own
   * money twice. Only a hold in state `held` is left out.
   */
  holdId?: string;
}

/** Which counters `getBudgetStatus` reports. Scopes need their value (agent, recipient, action). */
export interface BudgetStatusQuery {
  agentId?: string;
  policyId?: string;
  budgetId?: string;
  recipient?: string;
  action?: string;
}

/** An agent's suspension, strikes and cumulative risk per policy. */
export interface AgentStatus extends AgentState {
  /** Strikes inside the strike window (when a policy configures strikes). */
  strikes?: number;
  risk: Array<{ policyId: string; window: string; total: number; threshold: number }>;
}

/** A kill-switch change. `target` is a glob of agent ids, recipients or actions; none for `global`. */
export interface KillSwitchChange {
  scope: KillSwitchScope;
  target?: string;
  engaged: boolean;
  reason?: string;
}

const KillSwitchChangeSchema = z.strictObject({
  scope: z.enum(['global', 'agent', 'recipient', 'action']),
  target: z.string().trim().min(1).max(2048).optional(),
  engaged: z.boolean(),
  reason: z.string().max(1000).optional(),
});
const AgentChangeSchema = z.strictObject({
  agentId: z.string().trim().min(1).max(256),
  reason: z.string().max(1000).optional(),
});
const ResetRiskSchema = z.strictObject({
  agentId: z.string().trim().min(1).max(256),
  policyId: z.string().min(1).max(128).optional(),
});

const DEFAULT_HOLD_TTL_MS = 15 * 60_000;
const NOTHING_HELD = { holdIsNew: false, expired: [] as readonly HoldRecord[] } as const;
/** The risk plan of every decision while no loaded policy tracks risk (nothing is added to it). */
const NO_RISK: RiskAdd[] = Object.freeze([]) as unknown as RiskAdd[];
const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
const STRIKE_ACTOR = 'system:strikes';

/** Effects `authorize` has made so far, undone if a later step throws. */
interface Effects {
  holdId: string;
  hold?: HoldRecord;
  risk: RiskAdd[];
}

/** Risk points to add to one counter, against one threshold. */
interface RiskAdd {
  key: string;
  points: number;
  retainUntil: number;
  threshold: number;
}

interface Run {
  decision: Decision;
  hold?: HoldRecord | undefined;
  holdIsNew: boolean;
  expired: readonly HoldRecord[];
  /** Risk an allowed outcome adds (added by `authorize` itself; returned for approvals). */
  risk?: readonly RiskAdd[];
}

/**
 * The policy engine: decides on intents with the loaded policies, holds budget atomically,
 * tracks risk and strikes, and honours kill switches. Fails closed: any error inside a
 * decision is a `deny` with code `internal_error`.
 *
 * @example
 * const engine = new PolicyEngine();
 * engine.loadPolicy({
 *   id: 'production',
 *   rules: [blockAbove(1000, 'USDC'), requireApprovalAbove(100, 'USDC'), allowAll()],
 *   budgets: [{ window: 'daily', maxAmount: 500, currency: 'USDC' }],
 * });
 * const auth = await engine.authorize({ agentId: 'bot', amount: '25', currency: 'USDC' });
 * if (auth.outcome === 'allow') await engine.capture(auth.holdId!);
 */
export class PolicyEngine implements BudgetStatusSource {
  /** Lifecycle events: intent.received, decision.made, hold.*, control.changed. */
  readonly events: EventBus;
  readonly #stores: BursarStores;
  readonly #clock: Clock;
  readonly #timeZone: string;
  readonly #assets: AssetRegistry;
  readonly #holdTtlMs: number;
  readonly #idempotencyTtlMs: number;
  readonly #providers: readonly RiskSignalProvider[];
  readonly #operators = new Set<OperatorCapability>();
  readonly #failOpen: boolean;
  readonly #approvals: ApprovalHook | undefined;
  readonly #onError: PolicyEngineOptions['onError'];
  readonly #parsed = new WeakSet<object>();
  /** Replaced, never mutated, so a decision in flight keeps a consistent set. */
  #policies: readonly CompiledPolicy[] = [];
  #refs: PolicyRef[] = [];
  #strikes: { max: number; windowMs: number } | undefined;
  #hasRisk = false;
  #decided = false;

  constructor(options: PolicyEngineOptions = {}) {
    const parsed = EngineOptions.safeParse(options ?? {});
    if (!parsed.success) {
      const issues = toIssues(parsed.error.issues);
      throw new ValidationError(
        ErrorCode.INVALID_OPTIONS,
        `Invalid PolicyEngine options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        issues,
      );
    }
    const o = parsed.data;
    const given = Object.fromEntries(Object.entries(o.stores ?? {}).filter(([, v]) => v !== undefined));
    this.#stores = { ...createMemoryStores(), ...given } as BursarStores;
    this.#clock = o.clock ?? systemClock;
    this.#timeZone = canonicalTimeZone(o.timeZone ?? 'UTC')!;
    this.#assets = o.assets ?? defaultAssets;
    this.events = o.events ?? new EventBus();
    this.#holdTtlMs = o.holdTtlMs ?? DEFAULT_HOLD_TTL_MS;
    this.#idempotencyTtlMs = o.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.#providers = [...(o.riskProviders ?? [])];
    for (const op of o.operators ?? []) this.#operators.add(op);
    this.#failOpen = o.failOpen ?? false;
    this.#approvals = o.approvals;
    this.#onError = o.onError;
    // Last: the approval workflow may read this engine's clock and events.
    this.#approvals?.attach?.(this);
  }

  /** The clock this engine reads time from. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The asset registry this engine reads currencies from (integrations map amounts with it). */
  get assets(): AssetRegistry {
    return this.#assets;
  }

  /** How long a hold lives before it expires (ms): `holdTtlMs`, default 15 minutes. */
  get holdTtlMs(): number {
    return this.#holdTtlMs;
  }

  /** The IANA zone calendar windows use. */
  get timeZone(): string {
    return this.#timeZone;
  }

  // ─── Intents ────────────────────────────────────────────────────────────────────────

  /**
   * Validates an intent once. Passing the result to `evaluate` or `authorize` skips
   * validation and hashing there (integrations that check and then authorize parse once).
   */
  parseIntent(input: IntentInput): ParsedIntent {
    const intent = parseIntent(input, { clock: this.#clock, assets: this.#assets });
    this.#parsed.add(intent);
    return intent;
  }

  #intent(input: IntentInput | ParsedIntent): ParsedIntent {
    if (typeof input === 'object' && input !== null) {
      if (this.#parsed.has(input)) return input as ParsedIntent;
      const p = input as Partial<ParsedIntent>;
      if (typeof p.hash === 'string' && typeof p.id === 'string' && typeof p.createdAt === 'number') {
        // A parsed intent from elsewhere: validate its content again rather than trust its hash.
        const { id: _id, createdAt: _at, hash: _hash, ...content } = intentToJSON(input as ParsedIntent);
        return this.parseIntent(content as IntentInput);
      }
    }
    return this.parseIntent(input as IntentInput);
  }

  // ─── Policies ───────────────────────────────────────────────────────────────────────

  /**
   * Validates, compiles and loads a policy (replacing a loaded policy with the same id).
   * Before the engine's first decision this needs no operator, so start-up code can load
   * policies; afterwards it needs `{ operator }`, else `ERR_BURSAR_UNAUTHORIZED`. Loading
   * identical content again changes nothing. Throws `ERR_BURSAR_INVALID_POLICY` with the
   * offending paths; the loaded policies stay as they were.
   */
  loadPolicy(policy: PolicyInput | Policy, options: { operator?: OperatorCapability } = {}): PolicyRef {
    const actor =
      this.#decided || options.operator !== undefined
        ? this.#requireOperator(options.operator).actor
        : 'startup';
    const compiled = compilePolicy(policy, { assets: this.#assets, timeZone: this.#timeZone });
    const previous = this.#policies.find((p) => p.ref.id === compiled.ref.id);
    if (previous && previous.ref.hash === compiled.ref.hash) return previous.ref;
    this.#setPolicies(
      previous ? this.#policies.map((p) => (p === previous ? compiled : p)) : [...this.#policies, compiled],
    );
    this.#changed('policy.loaded', actor, compiled.ref.id, undefined, {
      version: compiled.ref.version,
      hash: compiled.ref.hash,
      ...(previous ? { previousHash: previous.ref.hash, previousVersion: previous.ref.version } : {}),
    });
    return compiled.ref;
  }

  /** Unloads a policy. Operator only. Throws `ERR_BURSAR_POLICY_NOT_FOUND` for an unknown id. */
  removePolicy(operator: OperatorCapability, id: string): void {
    const { actor } = this.#requireOperator(operator);
    const previous = this.#policies.find((p) => p.ref.id === id);
    if (!previous) {
      throw new BursarError(ControlErrorCode.POLICY_NOT_FOUND, `No policy "${String(id)}" is loaded`, {
        status: 404,
        details: { policyId: id },
      });
    }
    this.#setPolicies(this.#policies.filter((p) => p !== previous));
    this.#changed('policy.removed', actor, id, undefined, {
      version: previous.ref.version,
      hash: previous.ref.hash,
    });
  }

  /** The loaded policies, in load order. */
  getPolicies(): LoadedPolicy[] {
    return this.#policies.map((p) => ({ ...p.ref, policy: p.policy }));
  }

  #setPolicies(policies: CompiledPolicy[]): void {
    this.#policies = policies;
    this.#refs = policies.map((p) => p.ref);
    this.#strikes = combineStrikes(policies);
    this.#hasRisk = policies.some((p) => p.risk !== undefined);
  }

  // ─── Decisions ──────────────────────────────────────────────────────────────────────

  /**
   * Decides without side effects: no hold, no risk, no strike, no event. With
   * `{ holdId }` (the intent's own pending hold) that hold is not counted against it.
   */
  evaluate(input: IntentInput | ParsedIntent, options?: EvaluateOptions): Promise<Decision> {
    let intent: ParsedIntent;
    try {
      intent = this.#intent(input);
      if (options?.holdId !== undefined) checkHoldId(options.holdId);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#decided = true;
    const now = this.#clock.now();
    // One promise chain instead of another async frame: evaluate is the hot path.
    const run =
      options?.holdId === undefined
        ? this.#decide(intent, now, undefined)
        : this.#stores.spend
            .getHold(options.holdId)
            .then((hold) => this.#decide(intent, now, undefined, hold?.state === 'held' ? hold : undefined));
    return run.then(
      (run) => run.decision,
      (error: unknown) => this.#failed(intent, now, error, 'evaluate', false),
    );
  }

  /**
   * Decides and, unless the outcome is `deny`, places ONE atomic hold across every budget
   * and rate limit the intent touches (`decision.holdId`). `require_approval` holds too (a
   * pending approval keeps its budget). A denial takes no hold and counts as a strike.
   * With an idempotency key, a repeat returns the first decision (`replayed: true`) and the
   * same hold; the same key with a different intent throws `ERR_BURSAR_IDEMPOTENCY_CONFLICT`.
   */
  async authorize(input: IntentInput | ParsedIntent): Promise<Decision> {
    const intent = this.#intent(input);
    this.#decided = true;
    const now = this.#clock.now();
    if (this.#listened('intent.received')) this.events.emit('intent.received', paymentFacts(intent, now));

    let idemKey: string | undefined;
    if (intent.idempotencyKey !== undefined) {
      idemKey = idempotencyRecordKey(intent.agentId, intent.idempotencyKey);
      let begun: Awaited<ReturnType<BursarStores['idempotency']['begin']>>;
      try {
        begun = await this.#stores.idempotency.begin({
          key: idemKey,
          fingerprint: intent.hash,
          now,
          ttlMs: this.#idempotencyTtlMs,
        });
      } catch (error) {
        return this.#failed(intent, now, error, 'authorize', true);
      }
      if (begun.status !== 'started') {
        if (begun.fingerprint !== intent.hash) {
          throw new BursarError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            `Idempotency key "${intent.idempotencyKey}" was already used by agent ${intent.agentId} for a different intent`,
            { status: 409, details: { idempotencyKey: intent.idempotencyKey, agentId: intent.agentId } },
          );
        }
        if (begun.status === 'in_progress') {
          throw new BursarError(
            ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            `The first request with idempotency key "${intent.idempotencyKey}" is still being decided; retry shortly`,
            { status: 409, details: { idempotencyKey: intent.idempotencyKey, agentId: intent.agentId } },
          );
        }
        return { ...(structuredClone(begun.value) as Decision), replayed: true };
      }
    }

    // A key's hold id is derived from the key, so even a crash between hold and record
    // cannot make a retry hold twice: the store answers "existing".
    const effects: Effects = {
      holdId: idemKey === undefined ? newHoldId() : `hold_${sha256Hex(idemKey).slice(0, 32)}`,
      risk: [],
    };
    let run: Run;
    try {
      run = await this.#decide(intent, now, effects);
    } catch (error) {
      await this.#undo(effects, now);
      if (idemKey !== undefined) {
        await this.#stores.idempotency
          .abandon(idemKey)
          .catch((e: unknown) => this.#report(e, 'idempotency.abandon'));
      }
      return this.#failed(intent, now, error, 'authorize', true);
    }
    if (idemKey !== undefined) {
      try {
        await this.#stores.idempotency.complete({
          key: idemKey,
          value: run.decision,
          now,
          ttlMs: this.#idempotencyTtlMs,
        });
      } catch (error) {
        // The hold is already the source of truth, and its id is derived from the key.
        this.#report(error, 'idempotency.complete');
      }
    }
    if (run.expired.length > 0) this.#emitExpired(run.expired, now);
    if (this.#listened('decision.made')) {
      this.events.emit('decision.made', { ...paymentFacts(intent, now), decision: run.decision });
    }
    if (run.hold && run.holdIsNew && this.#listened('hold.placed')) {
      this.events.emit('hold.placed', { ...paymentFacts(intent, now), holdId: run.hold.holdId });
    }
    return run.decision;
  }

  async #decide(
    intent: ParsedIntent,
    now: number,
    effects: Effects | undefined,
    ownHold?: HoldRecord,
  ): Promise<Run> {
    const policies = this.#policies;
    const refs = this.#refs;
    const agents = this.#stores.agents;
    const reasons: Reason[] = [];

    const memAgents = memoryAgents(agents);
    const agent = memAgents ? memAgents.getAgentSync(intent.agentId) : await agents.getAgent(intent.agentId);
    if (agent.suspended) {
      reasons.push(suspendedReason(intent.agentId, agent));
      return { decision: this.#decision(intent, now, 'deny', reasons, refs), ...NOTHING_HELD };
    }
    const facts = new IntentFacts(intent, now);
    const switches = memAgents ? memAgents.listKillSwitchesSync() : await agents.listKillSwitches();
    if (switches.length > 0) {
      const ks = matchKillSwitch(switches, facts);
      if (ks) {
        reasons.push(killSwitchReason(ks));
        return { decision: this.#decision(intent, now, 'deny', reasons, refs), ...NOTHING_HELD };
      }
    }
    if (policies.length === 0) {
      reasons.push({
        code: 'no_policy',
        message: 'No policy is loaded; nothing is allowed until one is',
        outcome: 'deny',
        source: 'system',
      });
      return { decision: this.#decision(intent, now, 'deny', reasons, refs), ...NOTHING_HELD };
    }

    // Rules of every policy; across policies the most restrictive outcome wins.
    const verdicts = judge(policies, facts, reasons);
    let outcome = strictestOutcome(verdicts);

    // Cumulative risk: an action that would take the agent over a threshold is denied.
    // (The steps that only some policies need are methods of their own, so that this
    // function, whose state lives on the heap across awaits, stays small.)
    const riskPlan: RiskAdd[] = this.#hasRisk ? [] : NO_RISK;
    if (
      outcome !== 'deny' &&
      this.#hasRisk &&
      !(await this.#checkRisk(verdicts, intent, now, reasons, riskPlan))
    ) {
      outcome = 'deny';
    }

    // Risk signals may only escalate.
    if (outcome !== 'deny' && this.#providers.length > 0) {
      outcome = await this.#signals(intent, now, outcome, reasons);
    }

    // Budgets and rate limits.
    const amount = intent.amount?.minor ?? 0n;
    const planned: PlannedCheck[] = [];
    if (outcome !== 'deny' && !planLimits(verdicts, amount, now, reasons, planned)) outcome = 'deny';

    let hold: HoldRecord | undefined;
    let holdIsNew = false;
    let expired: readonly HoldRecord[] = [];
    if (outcome !== 'deny') {
      // Formatted once, only when needed: hold meta and every budget reason carry it.
      const amountText = effects || planned.length > 0 ? intent.amount?.toDecimalString() : undefined;
      if (effects) {
        const request = this.#holdRequest(intent, effects.holdId, planned, now, amountText);
        const spend = this.#stores.spend;
        const memSpend = memorySpend(spend);
        const result = memSpend ? memSpend.placeHoldSync(request) : await spend.placeHold(request);
        expired = result.expired;
        if (planned.length > 0) {
          const made = limitReasons(planned, result.usage, now, amountText);
          if (!result.ok) await this.#rollingRetries(planned, made, now);
          for (const r of made) reasons.push(r);
        }
        if (result.ok) {
          hold = result.hold;
          holdIsNew = !result.existing;
          if (holdIsNew) effects.hold = hold;
        } else {
          outcome = 'deny';
        }
      } else if (
        planned.length > 0 &&
        !(await this.#checkUsage(planned, ownHold, now, amountText, reasons))
      ) {
        outcome = 'deny';
      }
    }

    // Only allowed actions add their risk; the add is atomic against the threshold.
    if (effects && holdIsNew && riskPlan.length > 0 && (outcome === 'allow' || outcome === 'flag')) {
      if (!(await this.#addRisk(effects, riskPlan, now, reasons))) {
        hold = undefined;
        holdIsNew = false;
        outcome = 'deny';
      }
    }

    // Denied attempts are strikes; enough of them inside the window suspend the agent.
    if (effects && outcome === 'deny' && this.#strikes) {
      reasons.push(await this.#strike(intent, now, this.#strikes));
    }

    const decision = this.#decision(intent, now, outcome, reasons, refs);
    if (hold) decision.holdId = hold.holdId;
    if (effects && hold && outcome === 'require_approval' && this.#approvals) {
      const denied = await this.#requestApproval(
        this.#approvals,
        intent,
        now,
        decision,
        reasons,
        hold,
        effects,
      );
      if (denied) return { decision: denied, holdIsNew: false, expired };
    }
    return { decision, hold, holdIsNew, expired, risk: riskPlan };
  }

  /** Reads each policy's cumulative risk; false when the intent would take one over its threshold. */
  async #checkRisk(
    verdicts: readonly PolicyVerdict[],
    intent: ParsedIntent,
    now: number,
    reasons: Reason[],
    riskPlan: RiskAdd[],
  ): Promise<boolean> {
    let ok = true;
    for (const v of verdicts) {
      const risk = v.policy.risk;
      if (!risk || v.riskPoints <= 0) continue;
      const { key, retainUntil } = riskKey(v.policy, intent.agentId, now);
      const total = await this.#stores.agents.getRisk(key, now);
      const r = riskReason(v.policy, total, v.riskPoints);
      reasons.push(r);
      if (r.outcome === 'deny') ok = false;
      else riskPlan.push({ key, points: v.riskPoints, retainUntil, threshold: risk.threshold });
    }
    return ok;
  }

  /** Asks the risk providers; their reasons can only make `outcome` stricter. */
  async #signals(intent: ParsedIntent, now: number, outcome: Outcome, reasons: Reason[]): Promise<Outcome> {
    let result = outcome;
    for (const provider of this.#providers) {
      for (const r of signalReasons(provider, await provider.signals(intent, { now }))) {
        reasons.push(r);
        result = mostRestrictive(result, r.outcome);
      }
    }
    return result;
  }

  /** Budget reasons without a hold (`evaluate`); false when a limit is exceeded. */
  async #checkUsage(
    planned: readonly PlannedCheck[],
    ownHold: HoldRecord | undefined,
    now: number,
    amountText: string | undefined,
    reasons: Reason[],
  ): Promise<boolean> {
    const usage = await this.#usage(planned, ownHold);
    const made = limitReasons(planned, usage, now, amountText);
    const ok = !made.some((r) => r.outcome === 'deny');
    if (!ok) await this.#rollingRetries(planned, made, now);
    for (const r of made) reasons.push(r);
    return ok;
  }

  /**
   * Adds the risk of an allowed action, atomically against each threshold. When another
   * decision took the agent's risk up meanwhile: undoes the hold and the risk added, adds
   * the reason, and returns false.
   */
  async #addRisk(
    effects: Effects,
    riskPlan: readonly RiskAdd[],
    now: number,
    reasons: Reason[],
  ): Promise<boolean> {
    for (const rp of riskPlan) {
      const { threshold } = rp;
      const added = await this.#stores.agents.addRisk({ ...rp, now });
      if (!added.ok) {
        await this.#undo(effects, now);
        reasons.push(riskRaceReason(threshold, added.total, rp.points));
        return false;
      }
      effects.risk.push(rp);
    }
    return true;
  }

  /** The hold request of an intent's planned checks. */
  #holdRequest(
    intent: ParsedIntent,
    holdId: string,
    planned: readonly PlannedCheck[],
    now: number,
    amountText: string | undefined,
  ): PlaceHoldRequest {
    const checks: CounterCheck[] = new Array(planned.length);
    for (let i = 0; i < planned.length; i++) checks[i] = planned[i]!.check;
    return {
      holdId,
      amount: intent.amount?.minor ?? 0n,
      checks,
      now,
      expiresAt: now + this.#holdTtlMs,
      meta: holdMeta(intent, amountText),
    };
  }

  /** Records a denied attempt as a strike; enough of them inside the window suspend the agent. */
  async #strike(intent: ParsedIntent, now: number, s: { max: number; windowMs: number }): Promise<Reason> {
    const strike = await this.#stores.agents.recordStrike({
      agentId: intent.agentId,
      now,
      windowMs: s.windowMs,
      max: s.max,
      actor: STRIKE_ACTOR,
    });
    const reason: Reason = {
      code: strike.newlySuspended ? 'agent_suspended_by_strikes' : 'strike_recorded',
      message: strike.newlySuspended
        ? `${strike.strikes} denied attempts within ${s.windowMs} ms: agent ${intent.agentId} is suspended until an operator resumes it`
        : `Strike ${strike.strikes} of ${s.max} within ${s.windowMs} ms`,
      outcome: 'deny',
      source: 'strike',
      details: { strikes: strike.strikes, max: s.max, windowMs: s.windowMs },
    };
    if (strike.newlySuspended) {
      this.#changed('agent.suspended', STRIKE_ACTOR, intent.agentId, `${strike.strikes} strikes`, {
        strikes: strike.strikes,
      });
    }
    return reason;
  }

  /**
   * Raises an approval request for a held `require_approval` decision (sets its
   * `approvalId`). Returns the denial when the workflow refuses to raise it (e.g. a
   * cool-down), after returning the money.
   */
  async #requestApproval(
    approvals: ApprovalHook,
    intent: ParsedIntent,
    now: number,
    decision: Decision,
    reasons: readonly Reason[],
    hold: HoldRecord,
    effects: Effects,
  ): Promise<Decision | undefined> {
    const answer = await approvals.requested({ decision: structuredClone(decision), intent, hold });
    if (answer?.deny !== undefined) {
      if (effects.hold) await this.#undo(effects, now);
      else await this.#stores.spend.releaseHold(hold.holdId, { now });
      return this.#decision(
        intent,
        now,
        'deny',
        [{ ...answer.deny, outcome: 'deny' }, ...reasons],
        decision.policies,
      );
    }
    if (answer?.approvalId !== undefined) decision.approvalId = answer.approvalId;
    return undefined;
  }

  /**
   * For `ApprovalManager.complete`: decides an approved intent again as
   * `evaluate(intent, { holdId })` does, and hands back the risk its rules add, to be added
   * atomically once the approval turns into an allow or flag, exactly as `authorize` adds it
   * for an allowed action (an approval must not be a way around cumulative risk).
   */
  async [RECHECK_APPROVED](input: IntentInput | ParsedIntent, holdId: string): Promise<ApprovedRecheck> {
    const intent = this.#intent(input);
    checkHoldId(holdId);
    this.#decided = true;
    const now = this.#clock.now();
    let run: Run;
    try {
      const hold = await this.#stores.spend.getHold(holdId);
      run = await this.#decide(intent, now, undefined, hold?.state === 'held' ? hold : undefined);
    } catch (error) {
      run = { decision: this.#failed(intent, now, error, 'evaluate', false), ...NOTHING_HELD };
    }
    const plan = run.risk ?? [];
    const added: RiskAdd[] = [];
    const undoRisk = async (): Promise<void> => {
      const at = this.#clock.now();
      for (const rp of added.splice(0)) {
        await this.#stores.agents
          .addRisk({ ...rp, points: -rp.points, threshold: Number.POSITIVE_INFINITY, now: at })
          .catch((e: unknown) => this.#report(e, 'undo.risk'));
      }
    };
    const addRisk = async (): Promise<Reason | undefined> => {
      const at = this.#clock.now();
      for (const rp of plan) {
        let result: { ok: boolean; total: number };
        try {
          result = await this.#stores.agents.addRisk({ ...rp, now: at });
        } catch (error) {
          await undoRisk();
          this.#report(error, 'approval.risk');
          return {
            code: 'internal_error',
            message: 'An internal error occurred while adding cumulative risk; denied (fail closed)',
            outcome: 'deny',
            source: 'system',
            details: { error: BursarError.isInstance(error) ? error.code : String(error) },
          };
        }
        if (!result.ok) {
          await undoRisk();
          return riskRaceReason(rp.threshold, result.total, rp.points);
        }
        added.push(rp);
      }
      return undefined;
    };
    return { decision: run.decision, addRisk, undoRisk };
  }

  /** Fills `retryAfterMs` of exceeded rolling rate limits from their per-bucket counters. */
  async #rollingRetries(planned: readonly PlannedCheck[], reasons: Reason[], now: number): Promise<void> {
    const rolling = planned
      .map((p, i) => [p, reasons[i]!] as const)
      .filter(([p, r]) => r.code === 'rate_limit_exceeded' && p.limit.window.kind === 'rolling');
    if (rolling.length === 0) return;
    const counters = await this.#stores.spend.getCounters([
      ...new Set(rolling.flatMap(([p]) => p.check.sumKeys)),
    ]);
    for (const [p, r] of rolling) {
      const retry = rollingRetryAfter(p, counters, now);
      if (retry !== undefined) r.retryAfterMs = retry;
    }
  }

  async #usage(planned: readonly PlannedCheck[], ownHold?: HoldRecord): Promise<CounterUsage[]> {
    const keys = new Set<string>();
    for (const p of planned) for (const k of p.check.sumKeys) keys.add(k);
    const counters = await this.#stores.spend.getCounters([...keys]);
    return planned.map((p) => {
      let used = 0n;
      let held = 0n;
      for (const k of p.check.sumKeys) {
        const c = counters.get(k);
        if (c) {
          used += c.used;
          held += c.held;
        }
      }
      if (ownHold) {
        // The intent's own hold is already in `held`: leave it out instead of counting it twice.
        for (const c of ownHold.counters) {
          if (c.limitId === p.check.limitId && c.kind === p.check.kind && p.check.sumKeys.includes(c.key)) {
            held = held > c.amount ? held - c.amount : 0n;
          }
        }
      }
      return {
        limitId: p.check.limitId,
        kind: p.check.kind,
        used,
        held,
        limit: p.check.limit,
        requested: p.check.amount,
      };
    });
  }

  #decision(
    intent: ParsedIntent,
    now: number,
    outcome: Outcome,
    reasons: Reason[],
    refs: PolicyRef[],
  ): Decision {
    return {
      outcome,
      reasons: needsSort(reasons) ? sortReasons(reasons) : reasons,
      policies: refs,
      intentId: intent.id,
      intentHash: intent.hash,
      agentId: intent.agentId,
      evaluatedAt: now,
    };
  }

  async #undo(effects: Effects, now: number): Promise<void> {
    if (effects.hold) {
      const holdId = effects.hold.holdId;
      effects.hold = undefined;
      await this.#stores.spend
        .releaseHold(holdId, { now })
        .catch((e: unknown) => this.#report(e, 'undo.release'));
    }
    for (const rp of effects.risk.splice(0)) {
      await this.#stores.agents
        .addRisk({ ...rp, points: -rp.points, threshold: Number.POSITIVE_INFINITY, now })
        .catch((e: unknown) => this.#report(e, 'undo.risk'));
    }
  }

  #failed(intent: ParsedIntent, now: number, error: unknown, operation: string, emit: boolean): Decision {
    this.#report(error, operation);
    const code = BursarError.isInstance(error)
      ? error.code
      : error instanceof Error
        ? error.name
        : typeof error;
    const reason: Reason = this.#failOpen
      ? {
          code: 'internal_error_fail_open',
          message: 'An internal error occurred while deciding; allowed because failOpen is set',
          outcome: 'allow',
          source: 'system',
          details: { error: code },
        }
      : {
          code: 'internal_error',
          message: 'An internal error occurred while deciding; denied (fail closed)',
          outcome: 'deny',
          source: 'system',
          details: { error: code },
        };
    if (this.#failOpen) {
      process.emitWarning(`Bursar ${operation} failed open after an internal error: ${String(code)}`, {
        code: 'BURSAR_FAIL_OPEN',
      });
    }
    const decision = this.#decision(intent, now, reason.outcome, [reason], this.#refs);
    if (emit) this.#emit('decision.made', () => ({ ...paymentFacts(intent, now), decision }));
    return decision;
  }

  #report(error: unknown, operation: string): void {
    if (!this.#onError) return;
    try {
      this.#onError(error, { operation });
    } catch {
      // A failing logger must not change a decision.
    }
  }

  // ─── Holds ──────────────────────────────────────────────────────────────────────────

  /**
   * Commits up to the held amount (default: all of it); the rest returns to every budget
   * the hold touched. `amount` is in the hold's currency. Throws `ERR_BURSAR_HOLD_NOT_FOUND`,
   * `ERR_BURSAR_HOLD_NOT_ACTIVE` (already resolved or expired) or
   * `ERR_BURSAR_CAPTURE_EXCEEDS_HOLD`. A hold found past its expiry is expired first
   * (`hold.expired` is emitted once), then the capture throws `ERR_BURSAR_HOLD_NOT_ACTIVE`.
   */
  async capture(holdId: string, options: { amount?: AmountInput | Money } = {}): Promise<HoldResult> {
    checkHoldId(holdId);
    const now = this.#clock.now();
    let minor: bigint | undefined;
    if (options?.amount !== undefined) {
      const current = await this.#stores.spend.getHold(holdId);
      if (!current) throw holdNotFound(holdId);
      minor = this.#captureMinor(current, options.amount);
    }
    const spend = this.#stores.spend;
    const captureOptions = minor === undefined ? { now } : { amount: minor, now };
    const memSpend = memorySpend(spend);
    let record: HoldRecord;
    if (memSpend) {
      try {
        record = memSpend.captureHoldSync(holdId, captureOptions);
      } catch (error) {
        return this.#notActive(error, now);
      }
    } else {
      // Awaited in a try rather than through `.catch(closure)`: no closure per capture. A
      // store that throws synchronously still throws past #notActive, as it did.
      const capturing = spend.captureHold(holdId, captureOptions);
      try {
        record = await capturing;
      } catch (error) {
        return this.#notActive(error, now);
      }
    }
    const result = this.#holdResult(record);
    if (this.#listened('hold.captured')) {
      this.events.emit('hold.captured', {
        ...holdFacts(record, now),
        captured: result.captured,
        returned: result.returned,
      });
    }
    return result;
  }

  /** Returns the whole hold to its budgets. Same errors as {@link capture}. */
  async release(holdId: string): Promise<HoldResult> {
    checkHoldId(holdId);
    const now = this.#clock.now();
    const record = await this.#stores.spend
      .releaseHold(holdId, { now })
      .catch((error: unknown) => this.#notActive(error, now));
    const result = this.#holdResult(record);
    this.#emit('hold.released', () => ({ ...holdFacts(record, now), returned: result.returned }));
    return result;
  }

  /**
   * A capture or release was refused. When the hold is past its expiry but no sweep has
   * expired it yet, the store leaves it for the sweep: sweep now, so that its amount returns
   * and `hold.expired` is emitted (once, by whoever sweeps it), then rethrow.
   */
  async #notActive(error: unknown, now: number): Promise<never> {
    if (BursarError.hasCode(error, ErrorCode.HOLD_NOT_ACTIVE)) {
      try {
        this.#emitExpired(await this.#stores.spend.expireHolds(now), now);
      } catch (e) {
        this.#report(e, 'expireHolds');
      }
    }
    throw error;
  }

  /** Expires every hold past its TTL now (their amounts return) and emits `hold.expired` for each. */
  async expireHolds(): Promise<HoldResult[]> {
    const now = this.#clock.now();
    const expired = await this.#stores.spend.expireHolds(now);
    this.#emitExpired(expired, now);
    return expired.map((h) => this.#holdResult(h));
  }

  /** A hold as stored, or undefined. */
  async getHold(holdId: string): Promise<HoldRecord | undefined> {
    checkHoldId(holdId);
    return this.#stores.spend.getHold(holdId);
  }

  #captureMinor(hold: HoldRecord, amount: AmountInput | Money): bigint {
    const currency = typeof hold.meta.currency === 'string' ? hold.meta.currency : undefined;
    if (currency === undefined) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `Hold ${hold.holdId} holds no amount; capture it without one`,
        { details: { holdId: hold.holdId } },
      );
    }
    if (Money.isMoney(amount)) {
      if (amount.currency.toUpperCase() !== currency.toUpperCase()) {
        throw new BursarError(
          ErrorCode.ASSET_MISMATCH,
          `Hold ${hold.holdId} is in ${currency}; cannot capture ${amount.currency}`,
          { details: { holdId: hold.holdId, currency, got: amount.currency } },
        );
      }
      return amount.minor;
    }
    return Money.parse(amount, currency, { assets: this.#assets }).minor;
  }

  #holdResult(record: HoldRecord): HoldResult {
    const currency = typeof record.meta.currency === 'string' ? record.meta.currency : undefined;
    const asset = currency === undefined ? undefined : this.#assets.get(currency);
    const returned =
      record.state === 'captured'
        ? record.amount - record.captured
        : record.state === 'held'
          ? 0n
          : record.amount;
    if (!asset) {
      return {
        holdId: record.holdId,
        state: record.state,
        held: record.amount.toString(),
        captured: record.captured.toString(),
        returned: returned.toString(),
      };
    }
    // A full capture and an untouched release repeat one amount: format it once.
    const held = formatHeld(record.amount, asset);
    return {
      holdId: record.holdId,
      state: record.state,
      currency: asset.symbol,
      held,
      captured: record.captured === record.amount ? held : formatHeld(record.captured, asset),
      returned: returned === record.amount ? held : formatHeld(returned, asset),
    };
  }

  #emitExpired(expired: readonly HoldRecord[], now: number): void {
    for (const h of expired) {
      this.#emit('hold.expired', () => ({ ...holdFacts(h, now), returned: this.#holdResult(h).returned }));
    }
  }

  // ─── Status ─────────────────────────────────────────────────────────────────────────

  /**
   * Spent (captured), held and remaining of each budget and rate limit in its current window.
   * Scoped counters are reported for the scope values in the query (`agentId`, `recipient`,
   * `action`); global counters always. A limit's `when` conditions describe payments, not
   * queries: such a limit is reported too, with the payments its conditions counted.
   */
  async getBudgetStatus(query: BudgetStatusQuery = {}): Promise<BudgetStatus[]> {
    const now = this.#clock.now();
    const planned: PlannedCheck[] = [];
    for (const p of this.#policies) {
      if (query.policyId !== undefined && p.ref.id !== query.policyId) continue;
      for (const limit of p.limits) {
        if (query.budgetId !== undefined && limit.id !== query.budgetId) continue;
        if (limit.window.kind === 'transaction') continue;
        for (const slot of querySlots(limit, p, query)) planned.push(planCheck(limit, slot, 0n, now));
      }
    }
    const usage = planned.length > 0 ? await this.#usage(planned) : [];
    return planned.map((c, i) => {
      const u = usage[i]!;
      const left = u.limit - u.used - u.held;
      const fmt = (m: bigint) =>
        c.limit.asset ? Money.fromMinor(m, c.limit.asset).toDecimalString() : m.toString();
      return {
        policyId: c.limit.policyId,
        budgetId: c.limit.id,
        kind: c.limit.kind,
        ...(c.limit.asset ? { currency: c.limit.asset.symbol } : {}),
        window: c.limit.windowLabel,
        scope: c.scopeLabel,
        ...(c.windowStart !== undefined ? { windowStart: c.windowStart } : {}),
        ...(c.oldestBucket !== undefined ? { windowStart: c.oldestBucket } : {}),
        ...(c.windowEnd !== undefined ? { windowEnd: c.windowEnd } : {}),
        limit: fmt(u.limit),
        spent: fmt(u.used),
        held: fmt(u.held),
        remaining: fmt(left < 0n ? 0n : left),
      };
    });
  }

  /** An agent's suspension, strikes and cumulative risk. */
  async getAgentStatus(agentId: string): Promise<AgentStatus> {
    const { agentId: id } = AgentChangeSchema.parse({ agentId });
    const now = this.#clock.now();
    const agents = this.#stores.agents;
    const state = await agents.getAgent(id);
    const risk: AgentStatus['risk'] = [];
    for (const p of this.#policies) {
      if (!p.risk) continue;
      risk.push({
        policyId: p.ref.id,
        window: p.risk.windowLabel,
        total: await agents.getRisk(riskKey(p, id, now).key, now),
        threshold: p.risk.threshold,
      });
    }
    return {
      ...state,
      ...(this.#strikes ? { strikes: await agents.getStrikes(id, now, this.#strikes.windowMs) } : {}),
      risk,
    };
  }

  /** Engaged kill switches. */
  async listKillSwitches(): Promise<KillSwitch[]> {
    return this.#stores.agents.listKillSwitches();
  }

  // ─── Operator controls ──────────────────────────────────────────────────────────────

  /**
   * True when this engine accepts the capability (engine option `operators` or
   * `grantOperator`). Lets components such as the approval workflow demand the same
   * operators as the engine.
   */
  acceptsOperator(operator: unknown): operator is OperatorCapability {
    return isOperatorCapability(operator) && this.#operators.has(operator);
  }

  /** Lets another capability act on this engine. Operator only. */
  grantOperator(operator: OperatorCapability, granted: OperatorCapability): void {
    const { actor } = this.#requireOperator(operator);
    if (!isOperatorCapability(granted)) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        'grantOperator needs a capability made by createOperator()',
      );
    }
    this.#operators.add(granted);
    this.#changed('operator.granted', actor, granted.actor);
  }

  /** Suspends an agent: every decision for it is `deny` until an operator resumes it. */
  suspendAgent(
    operator: OperatorCapability,
    change: { agentId: string; reason?: string },
  ): Promise<AgentState> {
    return this.#setSuspended(operator, change, true);
  }

  /** Resumes a suspended agent and clears its strikes. */
  resumeAgent(
    operator: OperatorCapability,
    change: { agentId: string; reason?: string },
  ): Promise<AgentState> {
    return this.#setSuspended(operator, change, false);
  }

  async #setSuspended(
    operator: OperatorCapability,
    change: unknown,
    suspended: boolean,
  ): Promise<AgentState> {
    const { actor } = this.#requireOperator(operator);
    const c = parseArg(AgentChangeSchema, change, suspended ? 'suspendAgent' : 'resumeAgent');
    const state = await this.#stores.agents.setSuspended({
      agentId: c.agentId,
      suspended,
      actor,
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
      now: this.#clock.now(),
    });
    this.#changed(suspended ? 'agent.suspended' : 'agent.resumed', actor, c.agentId, c.reason);
    return state;
  }

  /**
   * Engages or disengages a kill switch: `global` stops everything; `agent`, `recipient` and
   * `action` stop what their target glob matches.
   */
  async setKillSwitch(operator: OperatorCapability, change: KillSwitchChange): Promise<void> {
    const { actor } = this.#requireOperator(operator);
    const c = parseArg(KillSwitchChangeSchema, change, 'setKillSwitch');
    if ((c.scope === 'global') !== (c.target === undefined)) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        c.scope === 'global'
          ? 'A global kill switch takes no target'
          : `A ${c.scope} kill switch needs a target`,
      );
    }
    await this.#stores.agents.setKillSwitch({
      scope: c.scope,
      ...(c.target !== undefined ? { target: c.target } : {}),
      engaged: c.engaged,
      actor,
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
      now: this.#clock.now(),
    });
    this.#changed(c.engaged ? 'kill_switch.engaged' : 'kill_switch.disengaged', actor, c.target, c.reason, {
      scope: c.scope,
    });
  }

  /** Resets an agent's cumulative risk in the current window (of one policy, or all). */
  async resetRisk(
    operator: OperatorCapability,
    change: { agentId: string; policyId?: string },
  ): Promise<void> {
    const { actor } = this.#requireOperator(operator);
    const c = parseArg(ResetRiskSchema, change, 'resetRisk');
    const now = this.#clock.now();
    for (const p of this.#policies) {
      if (!p.risk || (c.policyId !== undefined && p.ref.id !== c.policyId)) continue;
      await this.#stores.agents.resetRisk(riskKey(p, c.agentId, now).key);
    }
    this.#changed(
      'risk.reset',
      actor,
      c.agentId,
      undefined,
      c.policyId !== undefined ? { policyId: c.policyId } : {},
    );
  }

  #requireOperator(operator: unknown): OperatorCapability {
    if (!this.acceptsOperator(operator)) {
      throw new BursarError(
        ErrorCode.UNAUTHORIZED,
        'This needs an operator capability that this engine accepts (engine options `operators`, or grantOperator)',
        { status: 403 },
      );
    }
    return operator;
  }

  #changed(
    kind: string,
    actor: string,
    target?: string,
    reason?: string,
    details?: Record<string, unknown>,
  ): void {
    this.#emit('control.changed', () => ({
      at: this.#clock.now(),
      kind,
      actor,
      ...(target !== undefined ? { target } : {}),
      ...(reason !== undefined ? { reason } : {}),
      ...(details !== undefined ? { details } : {}),
    }));
  }

  #emit<K extends keyof BursarEventMap & string>(type: K, make: () => BursarEventMap[K]): void {
    if (this.#listened(type)) this.events.emit(type, make());
  }

  /**
   * False when nothing listens to `type` (a bus without `listenerCount` always counts as
   * listened to). The hot paths ask this first, so they build no event and no closure.
   */
  #listened(type: keyof BursarEventMap & string): boolean {
    const bus = this.events;
    return typeof bus.listenerCount !== 'function' || bus.listenerCount(type) > 0;
  }

  // ─── Simulation ─────────────────────────────────────────────────────────────────────

  /**
   * Replays intents (e.g. last week's history) against a draft policy in time order and
   * compares each decision with what the live policies decide over the same replay. Both
   * sides run on private in-memory stores: live budgets, strikes and events are untouched.
   * Risk providers and approval hooks are not consulted.
   */
  async simulate(
    policy: PolicyInput,
    intents: ReadonlyArray<IntentInput | SimulationEntry>,
    options: SimulationOptions = {},
  ): Promise<SimulationReport> {
    compilePolicy(policy, { assets: this.#assets, timeZone: this.#timeZone });
    return runSimulation({
      draft: policy,
      live: this.#policies.map((p) => p.policy),
      entries: intents,
      now: this.#clock.now(),
      makeEngine: (clock: ManualClock) =>
        new PolicyEngine({
          clock,
          timeZone: this.#timeZone,
          assets: this.#assets,
          holdTtlMs: this.#holdTtlMs,
          idempotencyTtlMs: this.#idempotencyTtlMs,
        }),
      options,
    });
  }
}

function parseArg<T extends z.ZodType>(schema: T, value: unknown, method: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = toIssues(r.error.issues);
    throw new ValidationError(
      ErrorCode.INVALID_ARGUMENT,
      `Invalid ${method} argument: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return r.data;
}

/**
 * The store key of an idempotency record: the agent id length-prefixed, so that no two
 * (agent, key) pairs share one (`a` + `b:c` and `a:b` + `c` differ). The hold id is derived
 * from it, so it inherits the same separation.
 */
export function idempotencyRecordKey(agentId: string, key: string): string {
  return `${agentId.length}:${agentId}:${key}`;
}

function checkHoldId(holdId: unknown): void {
  if (typeof holdId !== 'string' || holdId.length === 0 || holdId.length > 256) {
    throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'A hold id must be a non-empty string');
  }
}

/** A hold amount as a decimal string; through Money (which throws) only when out of range. */
function formatHeld(minor: bigint, asset: Asset): string {
  if (minor < 0n || minor > MAX_MINOR_UNITS) return Money.fromMinor(minor, asset).toDecimalString();
  return minor === 0n ? zeroText(asset.decimals) : formatMinor(minor, asset.decimals);
}

const ZEROS: string[] = [];
/** `0.000000` for 6 decimals, made once per number of decimals. */
function zeroText(decimals: number): string {
  let z = ZEROS[decimals];
  if (z === undefined) {
    z = formatMinor(0n, decimals);
    ZEROS[decimals] = z;
  }
  return z;
}

/** Runs every policy's rules, adding their reasons; the verdicts in policy order. */
function judge(policies: readonly CompiledPolicy[], facts: IntentFacts, reasons: Reason[]): PolicyVerdict[] {
  const verdicts: PolicyVerdict[] = new Array(policies.length);
  for (let i = 0; i < policies.length; i++) {
    const v = evaluatePolicy(policies[i]!, facts);
    verdicts[i] = v;
    for (const r of v.reasons) reasons.push(r);
  }
  return verdicts;
}

/** The most restrictive outcome of the verdicts (allow when there are none). */
function strictestOutcome(verdicts: readonly PolicyVerdict[]): Outcome {
  let outcome: Outcome = 'allow';
  for (const v of verdicts) if (outcomeSeverity(v.outcome) > outcomeSeverity(outcome)) outcome = v.outcome;
  return outcome;
}

function suspendedReason(agentId: string, agent: AgentState): Reason {
  return {
    code: 'agent_suspended',
    message: `Agent ${agentId} is suspended${agent.suspendReason ? `: ${agent.suspendReason}` : ''}; an operator must resume it`,
    outcome: 'deny',
    source: 'agent',
    details: { ...(agent.suspendedBy !== undefined ? { suspendedBy: agent.suspendedBy } : {}) },
  };
}

function killSwitchReason(ks: KillSwitch): Reason {
  return {
    code: 'kill_switch_engaged',
    message: `Kill switch (${ks.scope}${ks.target !== undefined ? ` ${ks.target}` : ''}) engaged by ${ks.actor}${ks.reason ? `: ${ks.reason}` : ''}`,
    outcome: 'deny',
    source: 'kill_switch',
    details: {
      scope: ks.scope,
      ...(ks.target !== undefined ? { target: ks.target } : {}),
      actor: ks.actor,
    },
  };
}

function holdNotFound(holdId: string): BursarError {
  return new BursarError(ErrorCode.HOLD_NOT_FOUND, `No hold ${holdId}`, { status: 404, details: { holdId } });
}

function matchKillSwitch(switches: readonly KillSwitch[], facts: IntentFacts): KillSwitch | undefined {
  for (const ks of switches) {
    switch (ks.scope) {
      case 'global':
        return ks;
      case 'agent':
        if (ks.target !== undefined && cachedGlob(ks.target).matches(facts.intent.agentId)) return ks;
        break;
      case 'action':
        if (ks.target !== undefined && cachedGlob(ks.target).matches(facts.intent.action)) return ks;
        break;
      case 'recipient': {
        const r = facts.recipient;
        if (
          ks.target !== undefined &&
          r !== undefined &&
          recipientTargetMatches(ks.target, r, () => facts.host)
        ) {
          return ks;
        }
        break;
      }
    }
  }
  return undefined;
}

/** The denial when adding risk atomically finds the threshold already too close. */
function riskRaceReason(threshold: number, total: number, points: number): Reason {
  return {
    code: 'risk_threshold_exceeded',
    message: `Cumulative risk would exceed the threshold of ${threshold} (now ${total}, +${points})`,
    outcome: 'deny',
    source: 'risk',
    details: { total, points, threshold },
  };
}

function riskReason(policy: CompiledPolicy, total: number, points: number): Reason {
  const threshold = policy.risk!.threshold;
  const projected = total + points;
  const over = projected > threshold;
  return {
    code: over ? 'risk_threshold_exceeded' : 'risk_within_threshold',
    message: over
      ? `Cumulative risk ${total} + ${points} would exceed the threshold of ${threshold} (${policy.risk!.windowLabel})`
      : `Cumulative risk ${projected} of ${threshold} (${policy.risk!.windowLabel})`,
    outcome: over ? 'deny' : 'allow',
    source: 'risk',
    policyId: policy.ref.id,
    details: { total, points, threshold, window: policy.risk!.windowLabel },
  };
}

/** The scopes `getBudgetStatus` can name for a limit, from the query's values. */
function querySlots(limit: CompiledLimit, policy: CompiledPolicy, q: BudgetStatusQuery): ScopeSlot[] {
  const recipient = q.recipient === undefined ? undefined : normalizeRecipient(q.recipient);
  switch (limit.scope) {
    case 'global':
      return [scopeSlot(limit, '')];
    case 'agent':
      return q.agentId === undefined ? [] : [scopeSlot(limit, q.agentId)];
    case 'agent_group': {
      const all = Object.keys(policy.policy.agentGroups ?? {});
      const names = q.agentId === undefined ? all : policy.groups.of(q.agentId);
      return names
        .filter((g) => limit.group === undefined || g === limit.group)
        .map((g) => scopeSlot(limit, g));
    }
    case 'recipient':
      return recipient === undefined ? [] : [scopeSlot(limit, recipient)];
    case 'action':
      return q.action === undefined ? [] : [scopeSlot(limit, q.action)];
    default:
      if (q.agentId === undefined || recipient === undefined) return [];
      return [scopeSlot(limit, q.agentId, recipient)];
  }
}

function paymentFacts(intent: ParsedIntent, at: number): PaymentFacts {
  return {
    at,
    agentId: intent.agentId,
    action: intent.action,
    intentId: intent.id,
    intentHash: intent.hash,
    ...(intent.amount ? { amount: intent.amount.toDecimalString(), currency: intent.amount.currency } : {}),
    ...(intent.recipient !== undefined ? { recipient: intent.recipient } : {}),
    ...(intent.protocol !== undefined ? { protocol: intent.protocol } : {}),
    ...(intent.network !== undefined ? { network: intent.network } : {}),
  };
}

/**
 * What a hold remembers of its intent, for capture (currency) and lifecycle events.
 * `amountText` is the intent's amount as a decimal string.
 */
function holdMeta(intent: ParsedIntent, amountText: string | undefined): Record<string, unknown> {
  const meta: Record<string, unknown> = {
    agentId: intent.agentId,
    action: intent.action,
    intentId: intent.id,
    intentHash: intent.hash,
  };
  if (intent.amount) {
    meta.amount = amountText;
    meta.currency = intent.amount.currency;
  }
  if (intent.recipient !== undefined) meta.recipient = intent.recipient;
  if (intent.protocol !== undefined) meta.protocol = intent.protocol;
  if (intent.network !== undefined) meta.network = intent.network;
  return meta;
}

/** Sorting is only needed when reasons argue for different outcomes. */
function needsSort(reasons: readonly Reason[]): boolean {
  for (let i = 1; i < reasons.length; i++) if (reasons[i]!.outcome !== reasons[0]!.outcome) return true;
  return false;
}

const FACT_KEYS = [
  'action',
  'intentId',
  'intentHash',
  'amount',
  'currency',
  'recipient',
  'protocol',
  'network',
] as const;

/** Event facts of a hold, from what `authorize` stored in its meta. */
function holdFacts(record: HoldRecord, at: number): PaymentFacts & { holdId: string } {
  const m = record.meta;
  const facts: PaymentFacts & { holdId: string } = {
    at,
    agentId: typeof m.agentId === 'string' ? m.agentId : '',
    holdId: record.holdId,
  };
  for (const k of FACT_KEYS) if (typeof m[k] === 'string') facts[k] = m[k] as string;
  return facts;
}
