import {
  type AlertEvent,
  type AssetRegistry,
  type BudgetStatusSource,
  BursarError,
  type BursarEventMap,
  type CircuitStateChangedEvent,
  type Clock,
  type Decision,
  defaultAssets,
  ErrorCode,
  type EventBus,
  Money,
  newId,
  outcomeSeverity,
  type PaymentFacts,
  systemClock,
  ValidationError,
} from '@bursar/core';
import { z } from 'zod';
import type { AnomalyDetector, AnomalySignal } from '../anomaly/anomaly-detector.js';
import { ObserveErrorCode } from '../errors/index.js';
import {
  defaultOnError,
  parseOptions,
  RecencyMap,
  SlidingCounter,
  StampedRecencyMap,
  safeReport,
} from '../internal/index.js';
import type { SpendRecord } from '../tracker/spend-record.js';
import type { SpendTracker } from '../tracker/spend-tracker.js';
import { AlertDedup } from './alert-dedup.js';
import { AlertRule } from './alert-rules.js';
import type { AlertSink } from './alert-sink.js';
import { BudgetWatch } from './budget-watch.js';
import type { RaiseInput } from './raise-input.js';

/** Options of `SpendAlerts` (validated once, unknown keys rejected). */
export const SpendAlertsOptions = z.strictObject({
  rules: z.array(AlertRule).min(1),
  /** Source of executed payments (needed by payment rules). */
  tracker: z
    .custom<SpendTracker>((v) => typeof (v as SpendTracker | undefined)?.onRecord === 'function', {
      message: 'must be a SpendTracker',
    })
    .optional(),
  /** Listens to `decision.made` and `circuit.state_changed`; alerts are emitted back as `alert.raised`. */
  bus: z
    .custom<EventBus<BursarEventMap>>((v) => typeof (v as EventBus | undefined)?.on === 'function', {
      message: 'must be an EventBus',
    })
    .optional(),
  /** Needed by `anomaly` rules; also tells `new_recipient` who is new. */
  detector: z
    .custom<AnomalyDetector>((v) => typeof (v as AnomalyDetector | undefined)?.observe === 'function', {
      message: 'must be an AnomalyDetector',
    })
    .optional(),
  /** Needed by `budget_threshold` rules: the policy engine's budget status. */
  budgets: z
    .custom<BudgetStatusSource>(
      (v) => typeof (v as BudgetStatusSource | undefined)?.getBudgetStatus === 'function',
      { message: 'must implement getBudgetStatus()' },
    )
    .optional(),
  sinks: z
    .array(
      z.custom<AlertSink>((v) => typeof (v as AlertSink | undefined)?.send === 'function', {
        message: 'must be an AlertSink ({ name, send(alert) })',
      }),
    )
    .default([]),
  clock: z
    .custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', { message: 'must be a Clock' })
    .optional(),
  assets: z
    .custom<AssetRegistry>((v) => typeof (v as AssetRegistry | undefined)?.get === 'function', {
      message: 'must be an AssetRegistry',
    })
    .optional(),
  /** Quiet period per dedup key after an alert (default 15 minutes). */
  cooldownMs: z
    .number()
    .int()
    .min(0)
    .max(366 * 86_400_000)
    .default(15 * 60_000),
  /** Most keys remembered for de-duplication and per-agent rule state (default 100,000). */
  maxKeys: z.number().int().positive().default(100_000),
  /** Emit alerts on the bus as `alert.raised` (default true when a bus is given). */
  emitToBus: z.boolean().default(true),
  /** Receives sink and budget-status failures (default: a process warning). */
  onError: z
    .custom<(error: unknown, context: string) => void>((v) => typeof v === 'function', {
      message: 'must be a function',
    })
    .optional(),
});
/** What callers pass to `new SpendAlerts()`. */
export type SpendAlertsOptions = z.input<typeof SpendAlertsOptions>;

/** Counters of `SpendAlerts`. */
export interface SpendAlertsStats {
  /** Alerts that went out. */
  raised: number;
  /** Alerts dropped by de-duplication. */
  suppressed: number;
  /** Sink deliveries that failed. */
  failedDeliveries: number;
  /** Budget-status reads. */
  budgetChecks: number;
}

interface Handler {
  onPayment?(record: SpendRecord, now: number): void;
  onDecision?(event: PaymentFacts & { decision: Decision }, now: number): void;
  onCircuit?(event: CircuitStateChangedEvent, now: number): void;
}

/** What a `rate_spike` rule keeps per agent. */
interface RateState {
  count: SlidingCounter | undefined;
  /** Sums per currency with a limit (a short list, usually one). */
  sums: { currency: string; counter: SlidingCounter; next: RateState['sums'] } | undefined;
  /** Recency stamp of the rule's agents map. */
  recency: number;
}

const PAYMENT_RULES = new Set([
  'budget_threshold',
  'large_transaction',
  'rate_spike',
  'new_recipient',
  'anomaly',
]);

/**
 * Alert rules over the payment lifecycle, with de-duplication and cool-down so a storm pages a
 * person once, not a thousand times. Alerts go to every sink and, as `alert.raised`, to the bus.
 * Per-payment work is O(1) per rule (sliding-window counters and bounded maps); budget status is
 * read from the policy engine, throttled per agent, never recomputed from history.
 *
 * @example
 * const alerts = new SpendAlerts({
 *   tracker, bus, detector, budgets: engine,
 *   rules: [
 *     { type: 'budget_threshold', percents: [80, 100] },
 *     { type: 'large_transaction', minAmount: { USDC: '1000' } },
 *     { type: 'anomaly' },
 *     { type: 'circuit_open' },
 *   ],
 *   sinks: [consoleSink(), webhookSink({ url, secret })],
 * });
 */
export class SpendAlerts {
  readonly #clock: Clock;
  readonly #bus: EventBus<BursarEventMap> | undefined;
  readonly #emitToBus: boolean;
  readonly #sinks: AlertSink[];
  readonly #cooldownMs: number;
  readonly #dedup: AlertDedup;
  readonly #handlers: Handler[] = [];
  readonly #budget: BudgetWatch | undefined;
  readonly #onError: (error: unknown, context: string) => void;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #offs: Array<() => void> = [];
  readonly #stats = { raised: 0, suppressed: 0, failedDeliveries: 0 };
  #closed = false;

  constructor(options: SpendAlertsOptions) {
    const o = parseOptions(SpendAlertsOptions, options, 'SpendAlerts');
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const rule of o.rules) {
      const id = rule.id ?? rule.type;
      if (ids.has(id)) problems.push(`rule id "${id}" is used twice; give one an id`);
      ids.add(id);
      if (PAYMENT_RULES.has(rule.type) && !o.tracker) problems.push(`${rule.type} needs a tracker`);
      if (rule.type === 'anomaly' && !o.detector) problems.push('anomaly needs a detector');
      if (rule.type === 'budget_threshold' && !o.budgets) problems.push('budget_threshold needs budgets');
    }
    if (problems.length > 0) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTIONS,
        `Invalid SpendAlerts options: ${problems.join('; ')}`,
        problems.map((message) => ({ path: 'rules', message })),
      );
    }
    this.#clock = o.clock ?? systemClock;
    this.#bus = o.bus;
    this.#emitToBus = o.emitToBus;
    this.#sinks = o.sinks;
    this.#cooldownMs = o.cooldownMs;
    this.#dedup = new AlertDedup(o.maxKeys);
    this.#onError = o.onError ?? defaultOnError;
    const assets = o.assets ?? defaultAssets;
    const raise = (input: RaiseInput) => {
      this.#raise(input.dedupKey, input.cooldownMs, input.quietUntil, () => input);
    };
    /** Checks de-duplication first, and builds the alert (message, facts) only if it goes out. */
    const lazy = (
      dedupKey: string,
      cooldownMs: number | undefined,
      build: () => Omit<RaiseInput, 'dedupKey'>,
    ) => {
      this.#raise(dedupKey, cooldownMs, undefined, build);
    };

    const budgetRules = o.rules.filter((r) => r.type === 'budget_threshold');
    this.#budget =
      budgetRules.length > 0 && o.budgets
        ? new BudgetWatch({
            source: o.budgets,
            rules: budgetRules,
            maxAgents: o.maxKeys,
            raise,
            onError: (e, c) => safeReport(this.#onError, e, c),
          })
        : undefined;
    if (this.#budget) {
      const watch = this.#budget;
      this.#handlers.push({ onPayment: (r, now) => watch.onPayment(r.agentId, now) });
    }

    const detector = o.detector;
    const seenPairs = detector ? undefined : new RecencyMap<string, true>(o.maxKeys);
    for (const rule of o.rules) {
      const id = rule.id ?? rule.type;
      switch (rule.type) {
        case 'large_transaction': {
          const thresholds = new Map<string, Money>();
          for (const [cur, amount] of Object.entries(rule.minAmount)) {
            const m = Money.parse(amount, cur, { assets });
            thresholds.set(m.currency, m);
          }
          const fire = (r: SpendRecord, min: Money) =>
            lazy(`large_transaction:${id}:${r.agentId}:${r.currency}`, rule.cooldownMs, () => ({
              kind: 'large_transaction',
              severity: rule.severity ?? 'warning',
              agentId: r.agentId,
              message:
                `${r.agentId} paid ${r.amount.format()}${r.recipient ? ` to ${r.recipient}` : ''}, ` +
                `at or above the large-transaction threshold of ${min.format()}.`,
              facts: withFact(paymentFacts(id, r), 'threshold', min.toDecimalString()),
            }));
          this.#handlers.push({
            onPayment: (r) => {
              const min = thresholds.get(r.currency);
              if (min === undefined || r.amount.minor < min.minor) return;
              fire(r, min);
            },
          });
          break;
        }
        case 'rate_spike': {
          // One entry per agent holds the count and the per-currency sums: one look-up per
          // payment, and no key string built for it.
          const agents = new StampedRecencyMap<string, RateState>(o.maxKeys);
          const maxAmount = new Map<string, Money>();
          for (const [cur, amount] of Object.entries(rule.maxAmount ?? {})) {
            const m = Money.parse(amount, cur, { assets });
            maxAmount.set(m.currency, m);
          }
          const seconds = rule.windowMs / 1000;
          // Alerts are built outside the handler, so a payment that fires nothing allocates no
          // closure context for them.
          const fireCount = (r: SpendRecord, n: number) =>
            lazy(`rate_spike:${id}:${r.agentId}:count`, rule.cooldownMs, () => ({
              kind: 'rate_spike',
              severity: rule.severity ?? 'warning',
              agentId: r.agentId,
              message: `${r.agentId} made ${n} payments in the last ${seconds} s (limit ${rule.maxCount}).`,
              facts: {
                rule: id,
                agentId: r.agentId,
                payments: n,
                maxCount: rule.maxCount,
                windowMs: rule.windowMs,
              },
            }));
          const fireAmount = (r: SpendRecord, sum: bigint, max: Money) => {
            const spent = Money.fromMinor(sum, r.amount.asset);
            lazy(`rate_spike:${id}:${r.agentId}:amount:${r.currency}`, rule.cooldownMs, () => ({
              kind: 'rate_spike',
              severity: rule.severity ?? 'warning',
              agentId: r.agentId,
              message: `${r.agentId} spent ${spent.format()} in the last ${seconds} s (limit ${max.format()}).`,
              facts: {
                rule: id,
                agentId: r.agentId,
                spent: spent.toDecimalString(),
                currency: r.currency,
                maxAmount: max.toDecimalString(),
                windowMs: rule.windowMs,
              },
            }));
          };
          this.#handlers.push({
            onPayment: (r) => {
              const max = maxAmount.get(r.currency);
              if (rule.maxCount === undefined && max === undefined) return;
              let state = agents.get(r.agentId);
              if (state === undefined) {
                state = { count: undefined, sums: undefined, recency: 0 };
                agents.set(r.agentId, state);
              }
              if (rule.maxCount !== undefined) {
                let c = state.count;
                if (c === undefined) {
                  c = new SlidingCounter(rule.windowMs, 12);
                  state.count = c;
                }
                c.add(r.at);
                const n = c.count(r.at);
                if (n > rule.maxCount) fireCount(r, n);
              }
              if (max !== undefined) {
                let sums = state.sums;
                while (sums !== undefined && sums.currency !== r.currency) sums = sums.next;
                if (sums === undefined) {
                  sums = {
                    currency: r.currency,
                    counter: new SlidingCounter(rule.windowMs, 12, true),
                    next: state.sums,
                  };
                  state.sums = sums;
                }
                const s = sums.counter;
                s.add(r.at, r.amount.minor);
                if (s.sumAbove(r.at, max.minor)) fireAmount(r, s.sum(r.at), max);
              }
            },
          });
          break;
        }
        case 'new_recipient': {
          const fire = (r: SpendRecord) =>
            lazy(`new_recipient:${id}:${r.agentId}`, rule.cooldownMs, () => ({
              kind: 'new_recipient',
              severity: rule.severity ?? 'info',
              agentId: r.agentId,
              message: `${r.agentId} paid ${r.recipient} for the first time (${r.amount.format()}).`,
              facts: paymentFacts(id, r),
            }));
          this.#handlers.push({
            onPayment: (r) => {
              if (r.recipient === undefined) return;
              let isNew: boolean;
              if (detector) {
                isNew = detector.observe(r).firstTimeRecipient;
              } else {
                const key = `${r.agentId}\u0001${r.recipient}`;
                isNew = !seenPairs!.has(key);
                seenPairs!.set(key, true);
              }
              if (isNew) fire(r);
            },
          });
          break;
        }
        case 'anomaly': {
          const min = outcomeSeverity(rule.minOutcome);
          const codes = new Set<string>(rule.codes);
          const fire = (r: SpendRecord, signals: readonly AnomalySignal[]) => {
            const hits = signals.filter((s) => codes.has(s.code) && outcomeSeverity(s.outcome) >= min);
            if (hits.length === 0) return;
            const worst = hits.reduce((a, b) =>
              outcomeSeverity(b.outcome) > outcomeSeverity(a.outcome) ? b : a,
            );
            lazy(`anomaly:${id}:${r.agentId}:${worst.code}`, rule.cooldownMs, () => ({
              kind: 'anomaly',
              severity: rule.severity ?? (outcomeSeverity(worst.outcome) >= 2 ? 'critical' : 'warning'),
              agentId: r.agentId,
              message: `Unusual payment by ${r.agentId}: ${hits.map((s) => s.message).join(' ')}`,
              facts: withFact(
                paymentFacts(id, r),
                'signals',
                hits.map((s) => ({ code: s.code, outcome: s.outcome, score: s.score, details: s.details })),
              ),
            }));
          };
          this.#handlers.push({
            onPayment: (r) => {
              const assessment = detector!.observe(r);
              // Most payments are unremarkable: return before allocating the filtered list.
              if (assessment.signals.length > 0) fire(r, assessment.signals);
            },
          });
          break;
        }
        case 'policy_violation': {
          const denies = new RecencyMap<string, SlidingCounter>(o.maxKeys);
          const minutes = Math.round(rule.windowMs / 60_000);
          this.#handlers.push({
            onDecision: (e, now) => {
              if (e.decision?.outcome !== 'deny') return;
              const agentId = e.agentId ?? e.decision.agentId;
              const at = typeof e.at === 'number' ? e.at : now;
              let c = denies.get(agentId);
              if (c === undefined) {
                c = new SlidingCounter(rule.windowMs, 12);
                denies.set(agentId, c);
              }
              c.add(at);
              const n = c.count(at);
              if (n < rule.denies) return;
              const codes = e.decision.reasons.filter((x) => x.outcome === 'deny').map((x) => x.code);
              lazy(`policy_violation:${id}:${agentId}`, rule.cooldownMs, () => ({
                kind: 'policy_violation',
                severity: rule.severity ?? 'warning',
                agentId,
                message:
                  `${agentId} had ${n} intents denied in the last ${minutes >= 1 ? `${minutes} min` : `${rule.windowMs / 1000} s`}` +
                  ` (latest: ${codes.join(', ') || 'deny'}).`,
                facts: {
                  rule: id,
                  agentId,
                  denies: n,
                  windowMs: rule.windowMs,
                  latestReasons: codes,
                  intentId: e.intentId ?? e.decision.intentId,
                  amount: e.amount,
                  currency: e.currency,
                  recipient: e.recipient,
                },
              }));
            },
          });
          break;
        }
        case 'circuit_open':
          this.#handlers.push({
            onCircuit: (e) => {
              if (e.to !== 'open') return;
              lazy(`circuit_open:${id}:${e.facilitator}`, rule.cooldownMs, () => ({
                kind: 'circuit_open',
                severity: rule.severity ?? 'critical',
                message:
                  `Circuit to facilitator ${e.facilitator} opened (was ${e.from})` +
                  `${e.reason ? `: ${e.reason}` : ''}; payments through it fail fast until it recovers.`,
                facts: {
                  rule: id,
                  facilitator: e.facilitator,
                  from: e.from,
                  to: e.to,
                  reason: e.reason,
                  at: e.at,
                },
              }));
            },
          });
          break;
        default:
          break;
      }
    }

    if (o.tracker) this.#offs.push(o.tracker.onRecord((r) => this.#onPayment(r)));
    if (o.bus) {
      this.#offs.push(o.bus.on('decision.made', (e) => this.handle('decision.made', e)));
      this.#offs.push(o.bus.on('circuit.state_changed', (e) => this.handle('circuit.state_changed', e)));
    }
  }

  /** Feeds a lifecycle event by hand (what the bus subscription does). */
  handle<K extends 'decision.made' | 'circuit.state_changed'>(type: K, event: BursarEventMap[K]): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#budget?.runDue(now);
    for (const h of this.#handlers) {
      try {
        if (type === 'decision.made') h.onDecision?.(event as BursarEventMap['decision.made'], now);
        else h.onCircuit?.(event as CircuitStateChangedEvent, now);
      } catch (error) {
        safeReport(this.#onError, error, `alert rule failed on ${type}`);
      }
    }
  }

  /**
   * Raises an alert of your own through the same de-duplication, sinks and bus.
   * Returns the alert, or `undefined` when it was de-duplicated.
   */
  raise(input: RaiseInput): AlertEvent | undefined {
    if (typeof input?.dedupKey !== 'string' || input.dedupKey.length === 0) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'raise() needs a dedupKey');
    }
    if (!['info', 'warning', 'critical'].includes(input.severity)) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'raise() needs severity info, warning or critical');
    }
    return this.#raise(input.dedupKey, input.cooldownMs, input.quietUntil, () => input);
  }

  /** Reads budget status now (for one agent, or every agent with unchecked payments). */
  async checkBudgets(agentId?: string): Promise<void> {
    if (!this.#budget) return;
    await this.#budget.checkNow(this.#clock.now(), agentId);
  }

  /** Waits until every pending sink delivery and budget read has finished. */
  async flush(): Promise<void> {
    const budget = this.#budget;
    while (this.#inflight.size > 0 || budget?.busy) {
      await Promise.allSettled(budget ? [...this.#inflight, budget.idle()] : [...this.#inflight]);
    }
  }

  /** Unsubscribes, cancels sink retries, and waits for deliveries under way. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs.splice(0)) off();
    for (const sink of this.#sinks) {
      try {
        await sink.close?.();
      } catch (error) {
        safeReport(this.#onError, error, `closing sink ${sink.name}`);
      }
    }
    await this.flush();
  }

  /** Alerts raised and suppressed, failed deliveries, budget-status reads. */
  stats(): SpendAlertsStats {
    return { ...this.#stats, budgetChecks: this.#budget?.checks ?? 0 };
  }

  #onPayment(record: SpendRecord): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const h of this.#handlers) {
      if (h.onPayment === undefined) continue;
      try {
        h.onPayment(record, now);
      } catch (error) {
        safeReport(this.#onError, error, 'alert rule failed on a payment');
      }
    }
  }

  #raise(
    dedupKey: string,
    cooldownMs: number | undefined,
    quietUntil: number | undefined,
    build: () => Omit<RaiseInput, 'dedupKey'>,
  ): AlertEvent | undefined {
    const now = this.#clock.now();
    const until = quietUntil ?? now + (cooldownMs ?? this.#cooldownMs);
    const suppressed = this.#dedup.admit(dedupKey, now, until);
    if (suppressed < 0) {
      this.#stats.suppressed++;
      return undefined;
    }
    const input = build();
    const alertId = newId('alert');
    const message =
      suppressed > 0
        ? `${input.message} (${suppressed} similar alert${suppressed === 1 ? '' : 's'} suppressed before this one)`
        : input.message;
    const facts = suppressed > 0 ? { ...input.facts, suppressedBefore: suppressed } : input.facts;
    // Two literals rather than a spread of `{ agentId }`: same keys in the same order.
    const alert: AlertEvent =
      input.agentId !== undefined
        ? {
            at: now,
            alertId,
            kind: input.kind,
            severity: input.severity,
            message,
            agentId: input.agentId,
            dedupKey,
            facts,
          }
        : { at: now, alertId, kind: input.kind, severity: input.severity, message, dedupKey, facts };
    this.#stats.raised++;
    if (this.#bus && this.#emitToBus) this.#bus.emit('alert.raised', alert);
    for (const sink of this.#sinks) {
      try {
        const result = sink.send(alert);
        if (result && typeof (result as Promise<void>).then === 'function') {
          this.#track(
            (result as Promise<void>).then(undefined, (error: unknown) => this.#sinkFailed(sink, error)),
          );
        }
      } catch (error) {
        this.#sinkFailed(sink, error);
      }
    }
    return alert;
  }

  #sinkFailed(sink: AlertSink, error: unknown): void {
    this.#stats.failedDeliveries++;
    const wrapped = BursarError.isInstance(error)
      ? error
      : new BursarError(ObserveErrorCode.SINK_FAILED, `Alert sink ${sink.name} failed`, { cause: error });
    safeReport(this.#onError, wrapped, `alert sink ${sink.name}`);
  }

  #track(p: Promise<unknown>): void {
    this.#inflight.add(p);
    const done = () => {
      this.#inflight.delete(p);
    };
    p.then(done, done);
  }
}

/**
 * The facts every payment alert carries (JSON-safe, exact amounts), after the rule id: one
 * object literal, not a spread of another into it.
 */
function paymentFacts(rule: string, r: SpendRecord): Record<string, unknown> {
  return {
    rule,
    agentId: r.agentId,
    amount: r.amount.toDecimalString(),
    currency: r.currency,
    recipient: r.recipient,
    action: r.action,
    protocol: r.protocol,
    holdId: r.holdId,
    paymentAt: r.at,
  };
}

/** Adds one fact after the others (keeps the key order of the facts as sent). */
function withFact(facts: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  facts[key] = value;
  return facts;
}
