import { BursarError, type Decision, type IntentInput, type ParsedIntent } from '@bursar/core';
import type { ApprovalGate } from './approval-gate.js';
import { IntegrationErrorCode } from './codes.js';
import { type ErrorReporter, type GateEngine, releaseQuietly, report, warnReporter } from './gate-engine.js';
import type { AgentIdSource, CallGateOptions } from './gate-options.js';
import type { IntentFields } from './intent-fields.js';
import { denyInstead, PolicyDeniedError } from './policy-denied-error.js';

/** A call the policy let through: its decision (with the hold to capture) and intent. */
export interface AuthorizedCall {
  decision: Decision;
  intent: ParsedIntent;
}

/**
 * Authorizes calls, waits for approval, runs them, captures on success and releases on
 * failure. The engine of `guard()` and `protectTools()`.
 */
export class CallGate {
  readonly #engine: GateEngine;
  readonly #agentId: AgentIdSource;
  readonly #approvals: ApprovalGate | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #onError: ErrorReporter;

  constructor(options: CallGateOptions) {
    this.#engine = options.engine;
    this.#agentId = options.agentId;
    this.#approvals = options.approvals;
    this.#timeoutMs = options.approvalTimeoutMs;
    this.#onError = options.onError ?? warnReporter;
  }

  /**
   * Authorizes `action` with `fields`, runs `invoke` when allowed, then captures (or
   * releases when it throws or `isFailure` says the result is a failure).
   */
  async run<R>(args: {
    action: string;
    fields: IntentFields;
    /** Runs the call once it is allowed; it may still refuse (throw) after seeing the decision. */
    invoke: (auth: AuthorizedCall) => R | PromiseLike<R>;
    isFailure?: (result: Awaited<R>) => boolean;
    signal?: AbortSignal;
  }): Promise<Awaited<R>> {
    const auth = await this.authorize(args.action, args.fields, args.signal);
    const holdId = auth.decision.holdId;
    let result: Awaited<R>;
    try {
      result = await args.invoke(auth);
    } catch (error) {
      await releaseQuietly(this.#engine, holdId, this.#onError, 'release');
      throw error;
    }
    let failed = false;
    try {
      failed = args.isFailure?.(result) === true;
    } catch (error) {
      report(this.#onError, error, 'isFailure');
    }
    if (failed) {
      await releaseQuietly(this.#engine, holdId, this.#onError, 'release');
    } else if (holdId !== undefined) {
      // The action already happened: a failed capture (e.g. the hold expired meanwhile) is
      // reported, never thrown, so the caller does not retry and act twice.
      try {
        await this.#engine.capture(holdId);
      } catch (error) {
        report(this.#onError, error, 'capture');
      }
    }
    return result;
  }

  /**
   * Decides on a call. Resolves with the allowed decision (holding budget); throws
   * {@link PolicyDeniedError} for a denial, `ERR_BURSAR_INVALID_INTENT` for fields that do
   * not make an intent, and `ERR_BURSAR_IDEMPOTENCY_*` for a reused idempotency key.
   */
  async authorize(action: string, fields: IntentFields, signal?: AbortSignal): Promise<AuthorizedCall> {
    const agentId = typeof this.#agentId === 'function' ? await this.#agentId() : this.#agentId;
    const input = { ...fields, agentId, action } as IntentInput;
    const intent = this.#engine.parseIntent(input);
    let decision = await this.#engine.authorize(intent);
    if (decision.outcome === 'require_approval') decision = await this.#approve(intent, decision, signal);
    if (decision.outcome === 'deny') {
      await releaseQuietly(this.#engine, decision.holdId, this.#onError, 'release');
      throw new PolicyDeniedError(decision);
    }
    if (decision.replayed) {
      throw new BursarError(
        IntegrationErrorCode.IDEMPOTENCY_REPLAYED,
        `Idempotency key "${intent.idempotencyKey}" was already used for an allowed ${action} call; it is not run again`,
        { status: 409, details: { idempotencyKey: intent.idempotencyKey, holdId: decision.holdId } },
      );
    }
    return { decision, intent };
  }

  async #approve(
    intent: ParsedIntent,
    decision: Decision,
    signal: AbortSignal | undefined,
  ): Promise<Decision> {
    const approvalId = decision.approvalId;
    const approvals = this.#approvals;
    if (approvals === undefined || approvalId === undefined) {
      await releaseQuietly(this.#engine, decision.holdId, this.#onError, 'release');
      throw new PolicyDeniedError(
        denyInstead(decision, {
          code: 'approval_unavailable',
          message:
            approvals === undefined
              ? 'The policy requires approval, but no approval workflow was given (options.approvals); denied (fail closed)'
              : 'The policy requires approval, but the engine has no approval workflow that opened a request; denied (fail closed)',
          source: 'approval',
        }),
      );
    }
    let view: Awaited<ReturnType<ApprovalGate['waitFor']>>;
    try {
      view = await approvals.waitFor(approvalId, {
        ...(signal !== undefined ? { signal } : {}),
        ...(this.#timeoutMs !== undefined ? { timeoutMs: this.#timeoutMs } : {}),
      });
    } catch (error) {
      await releaseQuietly(this.#engine, decision.holdId, this.#onError, 'release');
      throw error;
    }
    if (view.status === 'pending') {
      await releaseQuietly(this.#engine, decision.holdId, this.#onError, 'release');
      if (signal?.aborted) throw signal.reason;
      throw new PolicyDeniedError(
        denyInstead(decision, {
          code: 'approval_timeout',
          message: `No approver decided on ${approvalId} in time; denied and the hold released`,
          source: 'approval',
          details: { approvalId },
        }),
      );
    }
    // Rejected and expired requests come back as deny decisions; an approved one is
    // re-checked against the policy and bound to this exact intent.
    return approvals.complete(approvalId, intent);
  }
}
