import type { BudgetStatus, BudgetStatusSource } from '@bursar/core';
import { BursarError } from '@bursar/core';
import { ObserveErrorCode } from '../errors/index.js';
import {
  compareProducts,
  type Decimal,
  isPlainDecimal,
  MinHeap,
  parseDecimal,
  percentText,
  StampedRecencyMap,
} from '../internal/index.js';
import type { BudgetThresholdRule } from './alert-rules.js';
import type { RaiseInput } from './raise-input.js';

type Rule = ReturnType<typeof BudgetThresholdRule.parse>;

interface AgentCheck {
  agentId: string;
  /** The query of this agent's reads, made once per agent rather than once per read (frozen). */
  query: Readonly<{ agentId: string }>;
  lastCheck: number;
  inFlight: boolean;
  /** Payments arrived since the last check started. */
  pending: boolean;
  /** In the due heap, at {@link at} (one entry per agent at most). */
  queued: boolean;
  /** When its queued check is due (its key in the due heap). */
  at: number;
  /** The read that uses {@link onStatuses} / {@link onFailure} is under way; it started at {@link readAt}. */
  ownRead: boolean;
  readAt: number;
  /** Callbacks of this agent's reads, made once per agent rather than once per read. */
  onStatuses: ((statuses: BudgetStatus[]) => void) | undefined;
  onFailure: ((error: unknown) => void) | undefined;
  /** Recency stamp of the agents map. */
  recency: number;
}

/** What the floating-point screen needs of a rule: does it count held amounts, its lowest percent. */
interface Screen {
  includeHeld: boolean;
  lowest: number;
}

/** Relative safety margin of the screen, far above the error of a few double operations (~1e-15). */
const SCREEN_MARGIN = 1e-9;

const HUNDRED: Decimal = { digits: 100n, scale: 0 };

/**
 * Queued checks run per event, at most. Each event queues at most one check (its own agent's),
 * so any backlog shrinks by at least seven per event and never grows; spreading it this way
 * keeps the payment that happens to come first after a burst of finished reads from paying for
 * all of them (with 64 it ran up to 64 reads, about 13 µs, and set the p99 of the payment path).
 */
export const CHECKS_PER_EVENT = 8;

/**
 * Reads budget status from the policy engine (`BudgetStatusSource`) after payments, at most
 * once per agent per interval, and raises `budget_threshold` alerts.
 *
 * Why a throttle: a status read is a store query (a round trip on a remote store) and one
 * agent may pay hundreds of times a second, while the percentage used moves slowly. One read
 * per agent per interval caps the load at (active agents ÷ interval) reads per second and
 * delays an alert by at most one interval. Payments inside the interval are not forgotten:
 * the agent is queued and checked at the first event after the interval ends (a few per event
 * when many fall due together: {@link CHECKS_PER_EVENT}) or by `checkNow()`, so the payment
 * that crosses a threshold is always looked at. Internal.
 */
export class BudgetWatch {
  readonly #source: BudgetStatusSource;
  readonly #rules: Rule[];
  readonly #interval: number;
  readonly #agents: StampedRecencyMap<string, AgentCheck>;
  /** Agents with a queued check, by due time: the agent's state itself, so no entry is made per check. */
  readonly #due = new MinHeap<AgentCheck>();
  readonly #raise: (input: RaiseInput) => void;
  readonly #onError: (error: unknown, context: string) => void;
  /** Per rule, for the screen; undefined when a percent has no plain decimal text (never screened). */
  readonly #screens: Screen[] | undefined;
  /** Reads under way, and who waits for them all to finish. */
  #reading = 0;
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;
  checks = 0;

  constructor(options: {
    source: BudgetStatusSource;
    rules: Rule[];
    maxAgents: number;
    raise: (input: RaiseInput) => void;
    onError: (error: unknown, context: string) => void;
  }) {
    this.#source = options.source;
    this.#rules = options.rules;
    this.#interval = Math.min(...options.rules.map((r) => r.checkIntervalMs));
    this.#agents = new StampedRecencyMap(options.maxAgents);
    this.#raise = options.raise;
    this.#onError = options.onError;
    this.#screens = options.rules.every((r) => r.percents.every((p) => isPlainDecimal(String(p))))
      ? options.rules.map((r) => ({ includeHeld: r.includeHeld, lowest: Math.min(...r.percents) }))
      : undefined;
  }

  /** True while budget reads are under way. */
  get busy(): boolean {
    return this.#reading > 0;
  }

  /** Resolves once no budget read is under way. */
  idle(): Promise<void> {
    if (this.#reading === 0) return Promise.resolve();
    if (this.#idle === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  /** A payment of `agentId` was recorded at `now`. */
  onPayment(agentId: string, now: number): void {
    this.runDue(now);
    this.#maybeCheck(agentId, now);
  }

  /** Checks queued agents whose interval has ended ({@link CHECKS_PER_EVENT} per call at most). */
  runDue(now: number): void {
    for (let i = 0; i < CHECKS_PER_EVENT; i++) {
      const st = this.#due.peek();
      if (st === undefined || st.at > now) return;
      this.#due.pop();
      st.queued = false;
      // An agent forgotten since (the map was full) is not checked; one seen again since then
      // has a new state, queued by itself when it has pending payments.
      if (st.pending && this.#agents.get(st.agentId) === st) this.#maybeCheckState(st.agentId, st, now);
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
      st = {
        agentId,
        query: Object.freeze({ agentId }),
        lastCheck: Number.NEGATIVE_INFINITY,
        inFlight: false,
        pending: false,
        queued: false,
        at: 0,
        ownRead: false,
        readAt: 0,
        onStatuses: undefined,
        onFailure: undefined,
        recency: 0,
      };
      this.#agents.set(agentId, st);
    }
    return st;
  }

  #maybeCheck(agentId: string, now: number): void {
    this.#maybeCheckState(agentId, this.#state(agentId), now);
  }

  #maybeCheckState(agentId: string, st: AgentCheck, now: number): void {
    if (st.inFlight) {
      // The read under way schedules the next one when it finishes.
      st.pending = true;
      return;
    }
    if (now - st.lastCheck < this.#interval) {
      st.pending = true;
      this.#schedule(st, st.lastCheck + this.#interval);
      return;
    }
    void this.#check(agentId, now, st);
  }

  #schedule(st: AgentCheck, at: number): void {
    if (st.queued) return;
    st.queued = true;
    st.at = at;
    this.#due.push(st);
  }

  /**
   * One status read. Written with `then` rather than `async`/`await`: a read starts after almost
   * every payment, and this saves the async function's own promise, its suspended frame and a
   * second promise to track it. The callbacks are the agent's own, made once (a read needs
   * no closures of its own), except for a read that overlaps another of the same agent
   * (`checkNow()` while one is under way). It never rejects; a failure (thrown at once or
   * later, or by a malformed status) is reported.
   */
  #check(agentId: string, now: number, st: AgentCheck): Promise<void> {
    st.lastCheck = now;
    st.pending = false;
    st.inFlight = true;
    this.checks++;
    this.#reading++;
    let read: Promise<BudgetStatus[]>;
    try {
      read = this.#source.getBudgetStatus(st.query);
    } catch (error) {
      this.#failed(agentId, error);
      this.#done(st);
      return Promise.resolve();
    }
    if (st.ownRead) return this.#overlappingRead(read, agentId, now, st);
    st.ownRead = true;
    st.readAt = now;
    if (st.onStatuses === undefined || st.onFailure === undefined) this.#makeCallbacks(st);
    return Promise.resolve(read).then(st.onStatuses, st.onFailure);
  }

  #makeCallbacks(st: AgentCheck): void {
    st.onStatuses = (statuses) => {
      st.ownRead = false;
      this.#finish(st.agentId, st.readAt, st, statuses);
    };
    st.onFailure = (error) => {
      st.ownRead = false;
      this.#failed(st.agentId, error);
      this.#done(st);
    };
  }

  #overlappingRead(
    read: Promise<BudgetStatus[]>,
    agentId: string,
    now: number,
    st: AgentCheck,
  ): Promise<void> {
    return Promise.resolve(read).then(
      (statuses) => this.#finish(agentId, now, st, statuses),
      (error: unknown) => {
        this.#failed(agentId, error);
        this.#done(st);
      },
    );
  }

  #finish(agentId: string, now: number, st: AgentCheck, statuses: BudgetStatus[]): void {
    try {
      if (Array.isArray(statuses)) {
        // Indexed: no iterator object per read.
        for (let i = 0; i < statuses.length; i++) this.#evaluate(agentId, statuses[i]!, now);
      } else {
        for (const status of statuses as Iterable<BudgetStatus>) this.#evaluate(agentId, status, now);
      }
    } catch (error) {
      this.#failed(agentId, error);
    }
    this.#done(st);
  }

  #failed(agentId: string, error: unknown): void {
    this.#onError(
      new BursarError(ObserveErrorCode.BUDGET_STATUS, `Reading budget status of ${agentId} failed`, {
        cause: error,
        details: { agentId },
      }),
      'budget_threshold',
    );
  }

  #done(st: AgentCheck): void {
    st.inFlight = false;
    if (st.pending) this.#schedule(st, st.lastCheck + this.#interval);
    if (--this.#reading === 0 && this.#idle !== undefined) {
      const { resolve } = this.#idle;
      this.#idle = undefined;
      resolve();
    }
  }

  /**
   * True when no rule can cross a threshold for this status, decided in floating point: used ×
   * 100 ÷ limit below every rule's lowest percent by a margin far wider than the rounding error.
   * Most reads are well below every threshold, so the exact comparison below (bigint
   * arithmetic, a dozen allocations) runs only near or above one. Anything unusual — a text
   * that is not a plain decimal, a limit that is not positive, an overflow — goes to the exact
   * path, which also reports malformed statuses as before.
   */
  #belowEveryThreshold(status: BudgetStatus): boolean {
    const screens = this.#screens;
    if (screens === undefined) return false;
    const { limit: limitText, spent: spentText, held: heldText } = status;
    if (!isPlainDecimal(limitText) || !isPlainDecimal(spentText) || !isPlainDecimal(heldText)) return false;
    const limit = Number(limitText);
    if (!(limit > 0)) return false;
    const spent = Number(spentText);
    const held = Number(heldText);
    for (const screen of screens) {
      const used = screen.includeHeld ? spent + held : spent;
      const size = screen.includeHeld ? Math.abs(spent) + Math.abs(held) : Math.abs(spent);
      const percent = (used * 100) / limit;
      const margin = ((size * 100) / limit + screen.lowest) * SCREEN_MARGIN;
      // Written so that NaN and Infinity fail the test (and take the exact path).
      if (!(percent < screen.lowest - margin)) return false;
    }
    return true;
  }

  #evaluate(agentId: string, status: BudgetStatus, now: number): void {
    if (this.#belowEveryThreshold(status)) return;
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
