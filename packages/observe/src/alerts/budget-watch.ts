import type { BudgetStatus, BudgetStatusSource } from '@bursar/core';
import { BursarError } from '@bursar/core';
import { ObserveErrorCode } from '../errors/index.js';
import {
  compareProducts,
  type Decimal,
  MinHeap,
  parseDecimal,
  percentText,
  RecencyMap,
} from '../internal/index.js';
import type { BudgetThresholdRule } from './alert-rules.js';
import type { RaiseInput } from './raise-input.js';

type Rule = ReturnType<typeof BudgetThresholdRule.parse>;

interface AgentCheck {
  lastCheck: number;
  inFlight: boolean;
  /** Payments arrived since the last check started. */
  pending: boolean;
  queued: boolean;
}

interface Due {
  at: number;
  agentId: string;
}

const HUNDRED: Decimal = { digits: 100n, scale: 0 };

/**
 * Reads budget status from the policy engine (`BudgetStatusSource`) after payments, at most
 * once per agent per interval, and raises `budget_threshold` alerts.
 *
 * Why a throttle: a status read is a store query (a round trip on a remote store) and one
 * agent may pay hundreds of times a second, while the percentage used moves slowly. One read
 * per agent per interval caps the load at (active agents ÷ interval) reads per second and
 * delays an alert by at most one interval. Payments inside the interval are not forgotten:
 * the agent is queued and checked at the first event after the interval ends (or by
 * `checkNow()`), so the payment that crosses a threshold is always looked at. Internal.
 */
export class BudgetWatch {
  readonly #source: BudgetStatusSource;
  readonly #rules: Rule[];
  readonly #interval: number;
  readonly #agents: RecencyMap<string, AgentCheck>;
  readonly #due = new MinHeap<Due>();
  readonly #raise: (input: RaiseInput) => void;
  readonly #track: (p: Promise<unknown>) => void;
  readonly #onError: (error: unknown, context: string) => void;
  checks = 0;

  constructor(options: {
    source: BudgetStatusSource;
    rules: Rule[];
    maxAgents: number;
    raise: (input: RaiseInput) => void;
    track: (p: Promise<unknown>) => void;
    onError: (error: unknown, context: string) => void;
  }) {
    this.#source = options.source;
    this.#rules = options.rules;
    this.#interval = Math.min(...options.rules.map((r) => r.checkIntervalMs));
    this.#agents = new RecencyMap(options.maxAgents);
    this.#raise = options.raise;
    this.#track = options.track;
    this.#onError = options.onError;
  }

  /** A payment of `agentId` was recorded at `now`. */
  onPayment(agentId: string, now: number): void {
    this.runDue(now);
    this.#maybeCheck(agentId, now);
  }

  /** Checks queued agents whose interval has ended (a bounded number per call). */
  runDue(now: number): void {
    for (let i = 0; i < 64; i++) {
      const top = this.#due.peek();
      if (top === undefined || top.at > now) return;
      this.#due.pop();
      const st = this.#agents.peek(top.agentId);
      if (st === undefined) continue;
      st.queued = false;
      if (st.pending) this.#maybeCheck(top.agentId, now);
    }
  }

  /** Reads status now for one agent (or every agent with pending payments), ignoring the throttle. */
  async checkNow(now: number, agentId?: string): Promise<void> {
    const ids =
      agentId !== undefined
        ? [agentId]
        : [...this.#agents.entries()].filter(([, s]) => s.pending).map(([id]) => id);
    await Promise.all(ids.map((id) => this.#check(id, now, this.#state(id))));
  }

  #state(agentId: string): AgentCheck {
    let st = this.#agents.get(agentId);
    if (st === undefined) {
      st = { lastCheck: Number.NEGATIVE_INFINITY, inFlight: false, pending: false, queued: false };
      this.#agents.set(agentId, st);
    }
    return st;
  }

  #maybeCheck(agentId: string, now: number): void {
    const st = this.#state(agentId);
    if (st.inFlight) {
      // The read under way schedules the next one when it finishes.
      st.pending = true;
      return;
    }
    if (now - st.lastCheck < this.#interval) {
      st.pending = true;
      this.#schedule(agentId, st, st.lastCheck + this.#interval);
      return;
    }
    this.#track(this.#check(agentId, now, st));
  }

  #schedule(agentId: string, st: AgentCheck, at: number): void {
    if (st.queued) return;
    st.queued = true;
    this.#due.push({ at, agentId });
  }

  async #check(agentId: string, now: number, st: AgentCheck): Promise<void> {
    st.lastCheck = now;
    st.pending = false;
    st.inFlight = true;
    this.checks++;
    try {
      const statuses = await this.#source.getBudgetStatus({ agentId });
      for (const status of statuses) this.#evaluate(agentId, status, now);
    } catch (error) {
      this.#onError(
        new BursarError(ObserveErrorCode.BUDGET_STATUS, `Reading budget status of ${agentId} failed`, {
          cause: error,
          details: { agentId },
        }),
        'budget_threshold',
      );
    } finally {
      st.inFlight = false;
      if (st.pending) this.#schedule(agentId, st, st.lastCheck + this.#interval);
    }
  }

  #evaluate(agentId: string, status: BudgetStatus, now: number): void {
    const limit = parseDecimal(status.limit, 'limit');
    if (limit.digits <= 0n) return;
    const spent = parseDecimal(status.spent, 'spent');
    const held = parseDecimal(status.held, 'held');
    for (const rule of this.#rules) {
      const used = rule.includeHeld ? addDecimals(spent, held) : spent;
      let crossed: number | undefined;
      for (const p of rule.percents) {
        const pct = parseDecimal(String(p), 'percent');
        // used × 100 ≥ limit × p, exactly.
        if (compareProducts(used, HUNDRED, limit, pct) >= 0 && (crossed === undefined || p > crossed))
          crossed = p;
      }
      if (crossed === undefined) continue;
      const percentUsed = percentText(used, limit);
      const unit = status.kind === 'count' ? 'payments' : (status.currency ?? '');
      const quietUntil =
        status.windowEnd !== undefined && status.windowEnd > now ? status.windowEnd : undefined;
      this.#raise({
        kind: 'budget_threshold',
        severity: rule.severity ?? (crossed >= 100 ? 'critical' : 'warning'),
        agentId,
        message:
          `${agentId} has used ${percentUsed}% of budget ${status.budgetId} (policy ${status.policyId}, ` +
          `${status.window}, ${status.scope}): ${status.spent} of ${status.limit} ${unit} spent, ` +
          `${status.held} held, ${status.remaining} remaining.`,
        dedupKey: [
          'budget_threshold',
          rule.id ?? rule.type,
          status.policyId,
          status.budgetId,
          status.scope,
          status.windowStart ?? 'all',
          crossed,
        ].join(':'),
        facts: {
          rule: rule.id ?? rule.type,
          threshold: crossed,
          percentUsed,
          includeHeld: rule.includeHeld,
          policyId: status.policyId,
          budgetId: status.budgetId,
          kind: status.kind,
          currency: status.currency,
          window: status.window,
          windowStart: status.windowStart,
          windowEnd: status.windowEnd,
          scope: status.scope,
          limit: status.limit,
          spent: status.spent,
          held: status.held,
          remaining: status.remaining,
        },
        ...(rule.cooldownMs !== undefined ? { cooldownMs: rule.cooldownMs } : {}),
        ...(quietUntil !== undefined ? { quietUntil } : {}),
      });
    }
  }
}

function addDecimals(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return {
    digits: a.digits * 10n ** BigInt(scale - a.scale) + b.digits * 10n ** BigInt(scale - b.scale),
    scale,
  };
}
