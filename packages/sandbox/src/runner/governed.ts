import type { ApprovalManager, PolicyEngine } from '@bursar/control';
import { BursarError, type Decision, ErrorCode, type IntentInput } from '@bursar/core';
import type { Recorder } from './recorder.js';
import type { PaymentLine } from './types.js';

/** What a rail answered when asked to move the money of an allowed payment. */
export interface RailAnswer {
  /**
   * `charged`: the money moved (capture `amount`); `declined`: it definitely did not (release);
   * `unknown`: it may have — the hold is captured at once, so the budget keeps counting it (a
   * kept hold would expire and free the budget while the money may have moved); reconciliation
   * corrects the record, never by charging again.
   */
  status: 'charged' | 'declined' | 'unknown';
  /** What was charged (decimal string, ≤ the held amount); default: the intent's amount. */
  amount?: string;
  /** What the line shows (`charged 45.00 USD, order ord_…`). */
  text: string;
  /** The rail's id of the charge (order id, payment id), when it charged. */
  reference?: string;
}

/** The result of {@link governedPayment}. */
export interface GovernedResult {
  /** The final decision (after approval, when one was completed). */
  decision?: Decision;
  line?: PaymentLine;
  answer?: RailAnswer;
}

/** What {@link governedPayment} needs. */
export interface GovernedDeps {
  engine: PolicyEngine;
  approvals: ApprovalManager | undefined;
  recorder: Recorder;
  /** How long to wait (real ms) for an approver before leaving a request pending. */
  approvalWaitMs: number;
}

/** Engine refusals that are answers to the agent, not script bugs: they become blocked lines. */
const REFUSALS = new Set<string>([ErrorCode.IDEMPOTENCY_CONFLICT, ErrorCode.IDEMPOTENCY_IN_PROGRESS]);

/**
 * The life of one payment through the engine: authorize (one atomic hold), wait for the
 * approver when policy asks for one, then — only when allowed — let the rail move the money,
 * and capture what it charged, release when it declined, or keep the hold when the outcome is
 * unknown. A replayed decision (same idempotency key) never reaches the rail again.
 */
export async function governedPayment(
  deps: GovernedDeps,
  intent: IntentInput,
  execute: (decision: Decision) => Promise<RailAnswer>,
): Promise<GovernedResult> {
  const { engine, approvals, recorder } = deps;
  let first: Decision;
  let lines: PaymentLine[];
  try {
    ({ result: first, lines } = await recorder.track(() => engine.authorize(intent)));
  } catch (error) {
    if (error instanceof BursarError && REFUSALS.has(error.code)) {
      const line = recorder.refusal({ ...facts(intent), code: error.code, message: error.message });
      return { line };
    }
    throw error;
  }
  const line = lines[0] ?? (first.replayed ? recorder.replay(facts(intent), first) : undefined);
  if (first.replayed) {
    recorder.annotate(line, 'replayed decision: the rail was not asked again');
    return { decision: first, ...(line ? { line } : {}) };
  }
  let decision = first;
  if (decision.outcome === 'require_approval' && decision.approvalId && approvals) {
    const view = await approvals.waitFor(decision.approvalId, { timeoutMs: deps.approvalWaitMs });
    if (view && view.status !== 'pending') {
      const final = await approvals.complete(decision.approvalId, intent);
      const approvers = view.votes.filter((v) => v.approve).map((v) => v.approver);
      recorder.resolveApproval(first, final, approvers.length > 0 ? approvers.join(', ') : undefined);
      decision = final;
    } else {
      recorder.annotate(line, 'waiting for an approver; the budget stays held');
    }
  }
  if (decision.outcome !== 'allow' && decision.outcome !== 'flag') {
    return { decision, ...(line ? { line } : {}) };
  }
  let answer: RailAnswer;
  try {
    answer = await execute(decision);
  } catch (error) {
    // Below the protocol (connection lost): the money may have moved.
    const why = error instanceof Error ? error.message : String(error);
    answer = { status: 'unknown', text: `outcome unknown (${why}): counted as spent until reconciled` };
  }
  if (decision.holdId) {
    if (answer.status === 'declined') {
      await engine.release(decision.holdId);
    } else {
      // Charged, or maybe charged: the budget counts it either way.
      await engine.capture(decision.holdId, answer.amount !== undefined ? { amount: answer.amount } : {});
    }
  }
  recorder.annotate(line, answer.text);
  return { decision, answer, ...(line ? { line } : {}) };
}

function facts(intent: IntentInput) {
  return {
    agentId: intent.agentId,
    ...(intent.action !== undefined ? { action: intent.action } : {}),
    ...(intent.amount !== undefined ? { amount: String(intent.amount) } : {}),
    ...(intent.currency !== undefined ? { currency: intent.currency } : {}),
    ...(intent.recipient !== undefined ? { recipient: intent.recipient } : {}),
    ...(intent.protocol !== undefined ? { protocol: intent.protocol } : {}),
  };
}
