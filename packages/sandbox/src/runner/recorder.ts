import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AssetRegistry,
  type BursarEventMap,
  type Decision,
  defaultAssets,
  type EventBus,
  Money,
  type Outcome,
  type Protocol,
  type Reason,
} from '@bursar/core';
import type { AlertLine, HoldFate, LineOutcome, PaymentLine } from './types.js';

/** Facts about an intent, as the lifecycle events carry them. */
export interface IntentFacts {
  agentId: string;
  action?: string;
  amount?: string;
  currency?: string;
  recipient?: string;
  protocol?: string;
}

/**
 * Counts a line from the engine's outcome and what became of its hold: a denial is
 * `blocked`; an unanswered approval, or a hold still waiting (for capture or reconciliation),
 * is `pending`; an allowed payment whose hold was released or expired without a capture is
 * `failed` (the rail did not take the money); anything else allowed is `allowed`.
 */
export function lineOutcome(outcome: Outcome, hold: HoldFate = 'none'): LineOutcome {
  if (outcome === 'deny') return 'blocked';
  if (outcome === 'require_approval') return 'pending';
  if (hold === 'held') return 'pending';
  if (hold === 'released' || hold === 'expired' || hold === 'never') return 'failed';
  return 'allowed';
}

const PROTOCOLS = new Set<string>(['x402', 'acp', 'ap2', 'card', 'mcp', 'custom']);

/** `remaining` of a budget reason as exact money, or undefined when it is a count or unreadable. */
function remainingOf(reason: Reason, assets: AssetRegistry): Money | undefined {
  if (reason.currency === undefined || reason.remaining === undefined) return undefined;
  try {
    return Money.parse(reason.remaining, reason.currency, { assets });
  } catch {
    return undefined;
  }
}

/**
 * The reason a line shows: the most restrictive reason (reasons are sorted most restrictive
 * first), except that for an allowed payment the amount budget with the least left says more
 * than "allowed". Remaining amounts are compared exactly, never through floats.
 */
export function headlineReason(
  decision: Decision,
  assets: AssetRegistry = defaultAssets,
): Reason | undefined {
  const first = decision.reasons[0];
  if (!first || decision.outcome === 'deny' || decision.outcome === 'require_approval') return first;
  let best: { reason: Reason; left: Money } | undefined;
  for (const r of decision.reasons) {
    if (r.source !== 'budget' || r.outcome !== 'allow') continue;
    const left = remainingOf(r, assets);
    if (left && (!best || (left.currency === best.left.currency && left.lt(best.left))))
      best = { reason: r, left };
  }
  return best?.reason ?? first;
}

/** The figures of a budget or rate-limit reason, for a compact display. */
function limitOf(reason: Reason | undefined): PaymentLine['limit'] {
  if (!reason || (reason.source !== 'budget' && reason.source !== 'rate_limit')) return undefined;
  return {
    ...(reason.budgetId !== undefined ? { id: reason.budgetId } : {}),
    ...(reason.limit !== undefined ? { limit: reason.limit } : {}),
    ...(reason.spent !== undefined ? { spent: reason.spent } : {}),
    ...(reason.held !== undefined ? { held: reason.held } : {}),
    ...(reason.remaining !== undefined ? { remaining: reason.remaining } : {}),
    ...(reason.currency !== undefined ? { currency: reason.currency } : {}),
  };
}

/** Sets a line's reason fields from one of the engine's reasons. */
function setReason(line: PaymentLine, reason: Reason | undefined): void {
  line.reasonCode = reason?.code ?? 'none';
  line.reason = reason?.message ?? '';
  const limit = limitOf(reason);
  if (limit) line.limit = limit;
  else delete line.limit;
}

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  /** How a recipient is shown (e.g. without the mock server's ephemeral port). */
  displayRecipient?: (recipient: string | undefined) => string | undefined;
  assets?: AssetRegistry;
}

/**
 * Builds payment lines from the engine's own events: every `decision.made` is a line, and
 * `hold.captured` / `hold.released` / `hold.expired` tell what became of its hold. Alerts come
 * from `alert.raised`. Nothing is invented: a line exists only because the engine (or a
 * Bursar guard) decided.
 */
export class Recorder {
  readonly lines: PaymentLine[] = [];
  readonly alerts: AlertLine[] = [];
  readonly #byHold = new Map<string, PaymentLine>();
  readonly #byIntent = new Map<string, PaymentLine>();
  readonly #offs: Array<() => void> = [];
  readonly #display: (recipient: string | undefined) => string | undefined;
  readonly #assets: AssetRegistry;
  /** Lines decided inside a {@link track} call, so concurrent calls each find their own. */
  readonly #scope = new AsyncLocalStorage<PaymentLine[]>();

  constructor(events: EventBus, options: RecorderOptions = {}) {
    this.#display = options.displayRecipient ?? ((r) => r);
    this.#assets = options.assets ?? defaultAssets;
    this.#offs.push(
      events.on('decision.made', (e) => {
        this.#add(e, e.decision, false);
      }),
      events.on('hold.captured', (e) => this.#fate(e.holdId, 'captured', e.captured ?? e.amount)),
      events.on('hold.released', (e) => this.#fate(e.holdId, 'released')),
      events.on('hold.expired', (e) => this.#fate(e.holdId, 'expired')),
      events.on('alert.raised', (e) => {
        this.alerts.push({
          kind: e.kind,
          severity: e.severity,
          message: e.message,
          ...(e.agentId !== undefined ? { agentId: e.agentId } : {}),
        });
      }),
    );
  }

  /**
   * Runs `fn` and returns, with its result, the lines decided while it ran (in its own async
   * context: concurrent calls do not see each other's lines).
   */
  async track<T>(fn: () => Promise<T>): Promise<{ result: T; lines: PaymentLine[] }> {
    const lines: PaymentLine[] = [];
    const result = await this.#scope.run(lines, fn);
    return { result, lines };
  }

  /**
   * Records a decision the engine returned without an event: an idempotent replay (no new
   * decision, no new hold).
   */
  replay(facts: IntentFacts, decision: Decision): PaymentLine {
    return this.#add(facts, decision, true);
  }

  /** The line of a decision (by intent id or hold id). */
  lineOf(decision: Partial<Pick<Decision, 'intentId' | 'holdId'>>): PaymentLine | undefined {
    return (
      (decision.intentId ? this.#byIntent.get(decision.intentId) : undefined) ??
      (decision.holdId ? this.#byHold.get(decision.holdId) : undefined)
    );
  }

  /** Notes what the rail did for a line's payment. */
  annotate(line: PaymentLine | undefined, rail: string): void {
    if (line) line.rail = line.rail ? `${line.rail}; ${rail}` : rail;
  }

  /** Marks the line of an approval's first decision as resolved by the approval's final decision. */
  resolveApproval(
    first: Pick<Decision, 'intentId' | 'holdId'>,
    final: Decision,
    approvedBy: string | undefined,
  ): void {
    const line = this.lineOf(first);
    if (!line) return;
    line.initialDecision = line.decision;
    line.decision = final.outcome;
    line.outcome = lineOutcome(final.outcome, line.hold);
    // The approval itself is the news: show its reason (who, when, why) when it allowed.
    const reason = final.reasons.find((r) => r.code === 'approved') ?? headlineReason(final, this.#assets);
    if (reason) setReason(line, reason);
    if (approvedBy !== undefined) line.approvedBy = approvedBy;
    if (final.holdId) this.#byHold.set(final.holdId, line);
  }

  /**
   * Adds a line for something Bursar refused outside an engine decision: an operator-only
   * call without a capability (the engine threw), or a guard's own refusal (an x402 replay).
   */
  refusal(facts: IntentFacts & { code: string; message: string }): PaymentLine {
    const line = this.#line(facts, 'deny', 'none', false);
    line.reasonCode = facts.code;
    line.reason = facts.message;
    this.#push(line);
    return line;
  }

  /**
   * Adds a line for a payment a Bursar guard allowed by policy (checked without side effects)
   * that failed before any budget was held: counted `failed`.
   */
  failure(facts: IntentFacts & { code: string; message: string }): PaymentLine {
    const line = this.refusal(facts);
    line.decision = 'allow';
    line.hold = 'never';
    line.outcome = lineOutcome(line.decision, line.hold);
    return line;
  }

  /** Settles every line's outcome from its final decision and hold fate. Idempotent. */
  finalize(): void {
    for (const line of this.lines) line.outcome = lineOutcome(line.decision, line.hold);
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
  }

  #push(line: PaymentLine): void {
    this.lines.push(line);
    this.#scope.getStore()?.push(line);
  }

  /** A new line from the intent's facts (recipient shown as configured), not yet pushed. */
  #line(facts: IntentFacts, decision: Outcome, hold: HoldFate, replayed: boolean): PaymentLine {
    const recipient = this.#display(facts.recipient);
    return {
      seq: this.lines.length + 1,
      agentId: facts.agentId,
      action: facts.action ?? 'payment',
      ...(facts.protocol && PROTOCOLS.has(facts.protocol) ? { protocol: facts.protocol as Protocol } : {}),
      ...(facts.amount !== undefined ? { amount: facts.amount } : {}),
      ...(facts.currency !== undefined ? { currency: facts.currency } : {}),
      ...(recipient !== undefined ? { recipient } : {}),
      decision,
      outcome: lineOutcome(decision, hold),
      reasonCode: 'none',
      reason: '',
      replayed,
      hold,
    };
  }

  #add(facts: IntentFacts, decision: Decision, replayed: boolean): PaymentLine {
    const line = this.#line(
      facts,
      decision.outcome,
      decision.holdId && !replayed ? 'held' : 'none',
      replayed,
    );
    setReason(line, headlineReason(decision, this.#assets));
    this.#push(line);
    if (!replayed) {
      this.#byIntent.set(decision.intentId, line);
      if (decision.holdId) this.#byHold.set(decision.holdId, line);
    }
    return line;
  }

  #fate(holdId: string, fate: HoldFate, captured?: string): void {
    const line = this.#byHold.get(holdId);
    if (!line) return;
    line.hold = fate;
    if (fate === 'captured' && captured !== undefined) line.captured = captured;
    line.outcome = lineOutcome(line.decision, fate);
  }
}

/** The payload of a `decision.made` event (re-exported for scenario authors). */
export type DecisionEvent = BursarEventMap['decision.made'];
