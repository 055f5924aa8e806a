import {
  type Clock,
  Money,
  mostRestrictive,
  type Outcome,
  PAYMENT_ACTION,
  type ParsedIntent,
  type RiskSignal,
  type RiskSignalProvider,
  systemClock,
} from '@bursar/core';
import { parseOptions, StampedRecencyMap, ZonedCalendar } from '../internal/index.js';
import type { SpendRecord } from '../tracker/spend-record.js';
import type { SpendTracker } from '../tracker/spend-tracker.js';
import { AmountStats } from './amount-stats.js';
import { AnomalyDetectorOptions } from './detector-options.js';
import { HourProfile } from './hour-profile.js';
import { RateStats } from './rate-stats.js';

/** Codes of the signals the detector raises. */
export type AnomalyCode = 'amount_outlier' | 'frequency_burst' | 'unusual_hour' | 'first_time_recipient';

/** A risk signal with its score, a sentence a person can act on, and the numbers behind it. */
export interface AnomalySignal extends RiskSignal {
  code: AnomalyCode;
  score: number;
  details: Record<string, unknown>;
}

/** What the detector thinks of one payment. */
export interface AnomalyAssessment {
  agentId: string;
  /** Most restrictive outcome of the signals; `allow` when there are none. */
  outcome: Outcome;
  signals: AnomalySignal[];
  /** True when the agent had never paid this recipient (whatever the signal settings). */
  firstTimeRecipient: boolean;
}

/** A payment to assess: what an intent or a recorded payment says. */
export interface PaymentToAssess {
  agentId: string;
  amount?: Money;
  recipient?: string;
  action?: string;
  /** Epoch ms. */
  at: number;
}

/** A read-only view of one amount baseline. */
export interface AmountBaseline {
  currency: string;
  /** Executed payments it was learned from. */
  samples: number;
  /** Smallest and largest executed amounts (exact). */
  min: Money;
  max: Money;
  /** The centre of the baseline (geometric, approximate: a statistic, not money). */
  typical: number;
  /** The spread used for scores, on the log scale (floored by `minSpread`). */
  spread: number;
}

/** "Local hour not computed yet" (hours are 0–23). */
const NO_HOUR = -1;

/** Everything learned about one agent. Baselines are nested, so no key is built per payment. */
interface AgentEntry {
  payments: number;
  rate: RateStats | undefined;
  hours: HourProfile | undefined;
  /** Amount baselines per recipient (a list by currency, usually one). */
  recipients: Map<string, AmountStats>;
  /** Amount baselines per action (a list by currency, usually one). */
  actions: Map<string, AmountStats>;
  /** Baselines this agent holds (for the global cap). */
  baselines: number;
  /** Recency stamp of the agents map. */
  recency: number;
}

/**
 * Anomaly detection a person can trust, learned only from executed spend (records of a
 * `SpendTracker`), never from blocked or pending attempts:
 *
 * - `amount_outlier`: robust EWMA mean / mean-absolute-deviation of log amounts per agent ×
 *   recipient (falling back to agent × action), with a minimum sample count and a floor on the
 *   spread, so a constant history never turns a small change into an outlier;
 * - `frequency_burst`: payments in a sliding window against the agent's EWMA rate;
 * - `unusual_hour`: an hour of the day (in the configured zone) the agent almost never pays in;
 * - `first_time_recipient`: a recipient the agent has never paid.
 *
 * Every update and assessment is O(1). As a `RiskSignalProvider` it only escalates
 * (`flag` / `require_approval`; `deny` only above an explicitly configured `denyScore`).
 *
 * @example
 * const detector = new AnomalyDetector({ clock, timeZone: 'Europe/Berlin' });
 * detector.attach(tracker);                 // learn from executed spend
 * const engine = new PolicyEngine({ riskProviders: [detector] });
 */
export class AnomalyDetector implements RiskSignalProvider {
  readonly name: string;
  readonly #o: ReturnType<typeof AnomalyDetectorOptions.parse>;
  readonly #clock: Clock;
  readonly #calendar: ZonedCalendar;
  readonly #agents: StampedRecencyMap<string, AgentEntry>;
  #baselines = 0;
  #evictedBaselines = 0;
  readonly #amountAlpha: number;
  readonly #rateAlpha: number;
  #lastRecord: SpendRecord | undefined;
  #lastAssessment: AnomalyAssessment | undefined;
  #learned = 0;

  constructor(options: AnomalyDetectorOptions = {}) {
    this.#o = parseOptions(AnomalyDetectorOptions, options, 'AnomalyDetector');
    this.name = this.#o.name;
    this.#clock = this.#o.clock ?? systemClock;
    this.#calendar = new ZonedCalendar(this.#o.timeZone);
    this.#agents = new StampedRecencyMap(this.#o.maxAgents, (_id, agent) => {
      this.#baselines -= agent.baselines;
      this.#evictedBaselines += agent.baselines;
    });
    this.#amountAlpha = this.#o.amount ? 1 - 2 ** (-1 / this.#o.amount.halfLife) : 0;
    this.#rateAlpha = this.#o.burst ? 1 - 2 ** (-1 / this.#o.burst.halfLifeWindows) : 0;
  }

  /** Learns from every payment the tracker records. Returns a function that stops it. */
  attach(tracker: SpendTracker): () => void {
    return tracker.onRecord((r) => {
      this.observe(r);
    });
  }

  /**
   * Assesses an executed payment against the baseline *before* it, then learns from it.
   * Calling it again with the same record returns the same assessment without learning twice
   * (so alerts and `attach` can both use it).
   */
  observe(record: SpendRecord): AnomalyAssessment {
    if (record === this.#lastRecord && this.#lastAssessment !== undefined) return this.#lastAssessment;
    // One look-up of the agent, its recipient baseline and the local hour serves both the
    // assessment and the learning step (they were looked up twice).
    const agent = this.#agents.get(record.agentId);
    const pair = record.recipient === undefined ? undefined : agent?.recipients.get(record.recipient);
    const hour = this.#o.hour ? this.#calendar.localHour(record.at) : NO_HOUR;
    const assessment = this.#assess(record, agent, pair, hour);
    this.#learn(record, agent, pair, hour);
    this.#lastRecord = record;
    this.#lastAssessment = assessment;
    return assessment;
  }

  /** `RiskSignalProvider`: signals about an intent, read-only (attempts never move the baseline). */
  signals(intent: ParsedIntent, context: { now: number }): readonly RiskSignal[] {
    return this.assess({
      agentId: intent.agentId,
      amount: intent.amount,
      recipient: intent.recipient,
      action: intent.action,
      at: context?.now ?? this.#clock.now(),
    }).signals;
  }

  /** Scores a payment against the current baselines. Pure: nothing is learned. */
  assess(payment: PaymentToAssess): AnomalyAssessment {
    const agent = this.#agents.peek(payment.agentId);
    const pair = payment.recipient === undefined ? undefined : agent?.recipients.get(payment.recipient);
    return this.#assess(payment, agent, pair, NO_HOUR);
  }

  /** `assess` with the agent, its baseline for the recipient and (if known) the local hour. */
  #assess(
    payment: PaymentToAssess,
    agent: AgentEntry | undefined,
    pair: AmountStats | undefined,
    hour: number,
  ): AnomalyAssessment {
    const signals: AnomalySignal[] = [];
    const firstTimeRecipient = payment.recipient !== undefined && pair === undefined;
    // Only payments (with an amount) are compared with spend baselines.
    if (payment.amount !== undefined) {
      const o = this.#o;
      if (o.amount) {
        const s = this.#amountSignal(payment, payment.amount, agent, pair);
        if (s) signals.push(s);
      }
      if (o.burst && agent?.rate) {
        const s = this.#burstSignal(payment, agent.rate);
        if (s) signals.push(s);
      }
      if (o.hour && agent?.hours) {
        const s = this.#hourSignal(payment, agent.hours, hour);
        if (s) signals.push(s);
      }
      if (
        o.firstTimeRecipient &&
        firstTimeRecipient &&
        (agent?.payments ?? 0) >= o.firstTimeRecipient.minAgentPayments
      ) {
        signals.push({
          code: 'first_time_recipient',
          outcome: o.firstTimeRecipient.outcome,
          score: 1,
          message:
            `${payment.agentId} has never paid ${payment.recipient} before ` +
            `(${agent?.payments ?? 0} earlier payments to ${agent?.recipients.size ?? 0} other recipients).`,
          details: { recipient: payment.recipient, agentPayments: agent?.payments ?? 0 },
        });
      }
    }
    let outcome: Outcome = 'allow';
    for (const sig of signals) outcome = mostRestrictive(outcome, sig.outcome);
    return { agentId: payment.agentId, outcome, signals, firstTimeRecipient };
  }

  /**
   * The amount baseline of an agent × recipient, or of an agent × action when no recipient is
   * given (currency matched case-insensitively).
   */
  baseline(query: {
    agentId: string;
    currency: string;
    recipient?: string;
    action?: string;
  }): AmountBaseline | undefined {
    const agent = this.#agents.peek(query.agentId);
    const head =
      query.recipient !== undefined
        ? agent?.recipients.get(query.recipient)
        : agent?.actions.get(query.action ?? PAYMENT_ACTION);
    const stats = AmountStats.findSymbol(head, String(query.currency));
    if (stats === undefined || stats.n === 0) return undefined;
    return {
      currency: stats.asset.symbol,
      samples: stats.n,
      min: Money.fromMinor(stats.min, stats.asset),
      max: Money.fromMinor(stats.max, stats.asset),
      typical: typicalMajor(stats, stats.asset.decimals),
      spread: stats.spread(this.#o.amount ? this.#o.amount.minSpread : 0),
    };
  }

  /** Sizes of the detector's bounded maps. */
  /** Learned payments, tracked agents, live baselines and baselines forgotten to stay within the caps. */
  stats(): { learned: number; agents: number; baselines: number; evicted: number } {
    return {
      learned: this.#learned,
      agents: this.#agents.size,
      baselines: this.#baselines,
      evicted: this.#evictedBaselines,
    };
  }

  // ---------------------------------------------------------------- learning

  /** Learns from `r`; `agent`, `pair` and `hour` are what `observe` looked up for it. */
  #learn(r: SpendRecord, known: AgentEntry | undefined, pair: AmountStats | undefined, hour: number): void {
    const o = this.#o;
    this.#learned++;
    let agent = known;
    if (agent === undefined) {
      agent = {
        payments: 0,
        rate: o.burst ? new RateStats(o.burst.windowMs, o.burst.slots) : undefined,
        hours: o.hour ? new HourProfile() : undefined,
        recipients: new Map(),
        actions: new Map(),
        baselines: 0,
        recency: 0,
      };
      this.#agents.set(r.agentId, agent);
    }
    agent.payments++;
    agent.rate?.add(r.at, this.#rateAlpha);
    if (agent.hours && o.hour) agent.hours.add(hour, o.hour.decayAt);
    if (r.recipient !== undefined) {
      // A new agent has no baselines yet, so `pair` (undefined then) is right for it too.
      this.#update(agent, agent.recipients, r.recipient, pair, r);
      if (agent.recipients.size > o.maxRecipientsPerAgent) this.#evictRecipient(agent);
    }
    this.#update(agent, agent.actions, r.action, agent.actions.get(r.action), r);
    // Past the global cap, forget the least recently active agents.
    while (this.#baselines > o.maxBaselines && this.#agents.size > 1) this.#agents.evictOldest();
  }

  /** Updates (or starts) the baseline of `key` (whose list is `head`) in the record's currency. */
  #update(
    agent: AgentEntry,
    map: Map<string, AmountStats>,
    key: string,
    head: AmountStats | undefined,
    r: SpendRecord,
  ): void {
    const asset = r.amount.asset;
    let stats = AmountStats.find(head, asset);
    if (stats === undefined) {
      stats = new AmountStats(asset);
      stats.next = head;
      map.set(key, stats);
      agent.baselines++;
      this.#baselines++;
    } else if (head !== undefined) {
      // Paid again: survives the next eviction sweep (a new key gets no such credit).
      head.used = true;
    }
    const a = this.#o.amount;
    stats.update(r.amount.minor, this.#amountAlpha, a ? a.minSpread : 0.2, a ? a.clip : 3);
  }

  /**
   * Forgets one recipient of an agent that has too many: the oldest one not paid since the
   * sweep last passed it (second chance), so an agent's regular recipients stay. O(1) amortised.
   */
  #evictRecipient(agent: AgentEntry): void {
    for (const [key, head] of agent.recipients) {
      if (head.used) {
        head.used = false;
        agent.recipients.delete(key);
        agent.recipients.set(key, head);
        continue;
      }
      agent.recipients.delete(key);
      let n = 0;
      for (let s: AmountStats | undefined = head; s !== undefined; s = s.next) n++;
      agent.baselines -= n;
      this.#baselines -= n;
      this.#evictedBaselines += n;
      return;
    }
  }

  // ---------------------------------------------------------------- signals

  #amountSignal(
    p: PaymentToAssess,
    amount: Money,
    agent: AgentEntry | undefined,
    pair: AmountStats | undefined,
  ): AnomalySignal | undefined {
    const o = this.#o.amount;
    if (!o || agent === undefined) return undefined;
    const currency = amount.currency;
    let stats = AmountStats.find(pair, amount.asset);
    let scope: 'recipient' | 'action' = 'recipient';
    if (stats === undefined || stats.n < o.minSamples) {
      stats = AmountStats.find(agent.actions.get(p.action ?? PAYMENT_ACTION), amount.asset);
      scope = 'action';
    }
    if (stats === undefined || stats.n < o.minSamples) return undefined;
    const score = stats.score(AmountStats.x(amount.minor), o.minSpread);
    const magnitude = o.direction === 'both' ? Math.abs(score) : score;
    const outcome = escalation(magnitude, o.flagScore, o.approvalScore, o.denyScore);
    if (outcome === undefined) return undefined;
    const min = Money.fromMinor(stats.min, amount.asset);
    const max = Money.fromMinor(stats.max, amount.asset);
    const typical = typicalMajor(stats, amount.decimals);
    const amountMajor = Number(amount.toDecimalString());
    const ratio = typical > 0 ? amountMajor / typical : Number.POSITIVE_INFINITY;
    const where = scope === 'recipient' ? `pays ${p.recipient}` : `spends on ${p.action ?? PAYMENT_ACTION}`;
    const relation =
      ratio >= 1
        ? `about ${formatRatio(ratio)} times what ${p.agentId} usually ${where}`
        : `about 1/${formatRatio(1 / ratio)} of what ${p.agentId} usually ${where}`;
    return {
      code: 'amount_outlier',
      outcome,
      score: round(score),
      message:
        `${amount.format()} is ${relation}: ${stats.n} past payments from ${min.format()} to ` +
        `${max.format()}, typically about ${formatApprox(typical)} ${currency} ` +
        `(robust score ${round(score)}; flag at ${o.flagScore}, approval at ${o.approvalScore}).`,
      details: {
        amount: amount.toDecimalString(),
        currency,
        baseline: scope === 'recipient' ? 'agent_recipient' : 'agent_action',
        recipient: p.recipient,
        action: p.action ?? PAYMENT_ACTION,
        samples: stats.n,
        min: min.toDecimalString(),
        max: max.toDecimalString(),
        typical: formatApprox(typical),
        spread: round(stats.spread(o.minSpread)),
        flagScore: o.flagScore,
        approvalScore: o.approvalScore,
      },
    };
  }

  #burstSignal(p: PaymentToAssess, rate: RateStats): AnomalySignal | undefined {
    const o = this.#o.burst;
    if (!o) return undefined;
    const windows = rate.windowsAt(p.at);
    if (windows < o.minWindows) return undefined;
    const count = rate.countAt(p.at) + 1;
    if (count < o.minCount) return undefined;
    const lambda = rate.lambdaAt(p.at, this.#rateAlpha);
    const score = (count - lambda) / Math.sqrt(Math.max(lambda, 1));
    const outcome = escalation(score, o.flagScore, o.approvalScore, o.denyScore);
    if (outcome === undefined) return undefined;
    const seconds = o.windowMs / 1000;
    return {
      code: 'frequency_burst',
      outcome,
      score: round(score),
      message:
        `${p.agentId} made ${count} payments in the last ${seconds} s (this one included); ` +
        `its usual rate is about ${lambda.toFixed(1)} per ${seconds} s ` +
        `(burst score ${round(score)}; flag at ${o.flagScore}, approval at ${o.approvalScore}).`,
      details: {
        count,
        windowMs: o.windowMs,
        usualPerWindow: round(lambda),
        windowsSeen: windows,
        flagScore: o.flagScore,
        approvalScore: o.approvalScore,
      },
    };
  }

  #hourSignal(p: PaymentToAssess, hours: HourProfile, knownHour: number): AnomalySignal | undefined {
    const o = this.#o.hour;
    if (!o || hours.total < o.minSamples) return undefined;
    const hour = knownHour === NO_HOUR ? this.#calendar.localHour(p.at) : knownHour;
    const count = hours.counts[hour]!;
    const share = count / hours.total;
    if (share >= o.rareShare) return undefined;
    const score = 1 / 24 / Math.max(share, 0.5 / hours.total);
    const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    return {
      code: 'unusual_hour',
      outcome: o.outcome,
      score: round(score),
      message:
        `${p.agentId} rarely pays at this hour: ${count} of its last ${hours.total} payments fell between ` +
        `${hh(hour)} and ${hh(hour + 1)} (${this.#calendar.timeZone}); an average hour has 4.2 %.`,
      details: {
        hour,
        timeZone: this.#calendar.timeZone,
        paymentsInHour: count,
        payments: hours.total,
        share: round(share, 4),
        rareShare: o.rareShare,
      },
    };
  }
}

function escalation(
  score: number,
  flag: number,
  approval: number,
  deny: number | undefined,
): Exclude<Outcome, 'allow'> | undefined {
  if (deny !== undefined && score >= deny) return 'deny';
  if (score >= approval) return 'require_approval';
  if (score >= flag) return 'flag';
  return undefined;
}

/** Geometric centre of a baseline in major units (a statistic, approximate). */
function typicalMajor(stats: AmountStats, decimals: number): number {
  return Math.max(0, Math.exp(stats.mean) - 1) / 10 ** decimals;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return 'many';
  return r >= 10 ? Math.round(r).toLocaleString('en-US') : r.toFixed(1);
}

function formatApprox(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}
