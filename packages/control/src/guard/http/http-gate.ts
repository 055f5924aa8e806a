import type { ServerResponse } from 'node:http';
import {
  BursarError,
  type Decision,
  ErrorCode,
  type IntentInput,
  type ParsedIntent,
  toIssues,
  type ValidationIssue,
} from '@bursar/core';
import type { ApprovalGate } from '../approval-gate.js';
import { type ErrorReporter, type GateEngine, releaseQuietly, report, warnReporter } from '../gate-engine.js';
import { firstDenyReason, isRateLimited, retryAfterMs } from '../policy-denied-error.js';
import type { HttpGateOptions, HttpIntentFields } from './http-options.js';
import { PaymentRequestBody } from './request-body.js';

/** The request header that retries a request under an approval. */
export const APPROVAL_ID_HEADER = 'bursar-approval-id';
/** The request header that carries an idempotency key. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** What an adapter learned from its framework's request. */
export interface GateRequest {
  /**
   * The request's identity (Node's `IncomingMessage`), shared by every integration that
   * sees it: what each one admitted is remembered per request.
   */
  key: object;
  resolveAgent: () => unknown;
  extractIntent: () => unknown;
  /** The default action (`"<METHOD> <route>"`), used when the fields name none. */
  action: string;
  idempotencyKey: string | undefined;
  approvalId: string | undefined;
}

/** An answer to send instead of running the handler. */
export interface GateAnswer {
  kind: 'respond';
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** What to do with a request. */
export type GateOutcome =
  | GateAnswer
  | { kind: 'proceed'; decision: Decision; intent: ParsedIntent }
  /** failOpen: the policy could not be checked; let it through without a decision. */
  | { kind: 'bypass' }
  /** Already admitted for exactly this (this gate, or an identical intent): go on, hold nothing. */
  | { kind: 'skip' };

/** What the gates on one request admitted: which gates, and the hashes of their intents. */
interface Admitted {
  gates: Set<HttpGate>;
  hashes: Set<string>;
}

/** Per request (weakly held, so a finished request leaves nothing behind). */
const admittedByRequest = new WeakMap<object, Admitted>();

type Options = HttpGateOptions<never, never>;

/**
 * The framework-neutral core of the HTTP integrations: identity, intent, decision,
 * approval retries and the answer for each outcome; and the exactly-once settlement of the
 * hold when the response finishes, fails or is abandoned.
 */
export class HttpGate {
  readonly engine: GateEngine;
  readonly approvals: ApprovalGate | undefined;
  readonly #statusUrl: (approvalId: string) => string;
  readonly #expose: boolean;
  readonly #failOpen: boolean;
  readonly #onError: ErrorReporter;

  constructor(options: Options) {
    this.engine = options.engine;
    this.approvals = options.approvals;
    this.#statusUrl = options.statusUrl ?? defaultStatusUrl;
    this.#expose = options.exposeDecision ?? true;
    this.#failOpen = options.failOpen ?? false;
    this.#onError = options.onError ?? warnReporter;
  }

  /** Reports an error through `onError` (never throws). */
  report(error: unknown, operation: string): void {
    report(this.#onError, error, operation);
  }

  /**
   * Decides on a request. Never throws: every failure is an answer (or a logged bypass).
   *
   * Several integrations on one request (an app-level middleware and a route-level one, or
   * nested plugin registrations) each check it: a gate that already admitted this request
   * lets it through (`skip`), and so does an intent identical to one already admitted (it
   * is held already). Any other intent (another action, other fields) is authorized too,
   * with its own hold settled with the response. Such a nested check leaves the
   * idempotency key and the approval retry to the first gate: it authorizes without the
   * key, and a nested `require_approval` is denied (`approval_unavailable`), because one
   * response cannot carry two approval requests.
   */
  async decide(req: GateRequest): Promise<GateOutcome> {
    const admitted = admittedByRequest.get(req.key);
    if (admitted?.gates.has(this)) return { kind: 'skip' };
    let agentId: unknown;
    try {
      agentId = await req.resolveAgent();
    } catch (error) {
      this.report(error, 'resolveAgent');
      return answer(500, 'internal_error', 'The caller could not be identified; denied (fail closed)');
    }
    if (typeof agentId !== 'string' || agentId.trim() === '') {
      return answer(401, 'unauthenticated', 'No authenticated agent identity on this request');
    }

    let fields: HttpIntentFields;
    try {
      fields = (await req.extractIntent()) as HttpIntentFields;
    } catch (error) {
      const issues = validationIssues(error);
      if (issues) return invalid(issues);
      this.report(error, 'extractIntent');
      return answer(500, 'internal_error', 'The payment intent could not be read; denied (fail closed)');
    }
    if (typeof fields !== 'object' || fields === null) {
      this.report(new TypeError('extractIntent returned no object'), 'extractIntent');
      return answer(500, 'internal_error', 'The payment intent could not be read; denied (fail closed)');
    }
    const key = req.idempotencyKey;
    if (key !== undefined && fields.idempotencyKey !== undefined && key !== fields.idempotencyKey) {
      return invalid([
        {
          path: 'idempotencyKey',
          message: 'differs from the Idempotency-Key header; send one of them, or the same',
        },
      ]);
    }
    const nested = admitted !== undefined;
    let intent: ParsedIntent;
    try {
      const { idempotencyKey: given, ...rest } = fields;
      // A nested check must not reuse the first gate's key: same key, other intent is a conflict.
      const idempotencyKey = nested ? undefined : (given ?? key);
      intent = this.engine.parseIntent({
        ...rest,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        action: fields.action ?? req.action,
        agentId,
      } as IntentInput);
    } catch (error) {
      const issues = validationIssues(error);
      if (issues) return invalid(issues);
      return this.#unavailable(error, 'parseIntent');
    }
    // The hash covers what is done, not the key: an identical intent is already held.
    if (admitted?.hashes.has(intent.hash)) return { kind: 'skip' };

    if (req.approvalId !== undefined && !nested) {
      return this.#admit(req.key, await this.#retry(agentId, req.approvalId, intent));
    }

    let decision: Decision;
    try {
      decision = await this.engine.authorize(intent);
    } catch (error) {
      if (BursarError.hasCode(error, ErrorCode.IDEMPOTENCY_CONFLICT)) {
        return answer(409, 'idempotency_conflict', error.message);
      }
      if (BursarError.hasCode(error, ErrorCode.IDEMPOTENCY_IN_PROGRESS)) {
        return answer(409, 'idempotency_in_progress', error.message);
      }
      return this.#unavailable(error, 'authorize');
    }
    if (decision.replayed && (decision.outcome === 'allow' || decision.outcome === 'flag')) {
      return answer(
        409,
        'idempotency_replayed',
        `Idempotency key "${intent.idempotencyKey}" was already used for an allowed request; it is not run again`,
      );
    }
    if (decision.outcome === 'require_approval') {
      if (decision.approvalId === undefined || this.approvals === undefined || nested) {
        await releaseQuietly(this.engine, decision.holdId, this.#onError, 'release');
        return answer(
          403,
          'approval_unavailable',
          nested
            ? 'The policy requires approval for a check nested in another one on this request; only the first check of a request can wait for approval; denied (fail closed)'
            : 'The policy requires approval, but no approval workflow is configured; denied (fail closed)',
        );
      }
      return this.#pending(decision.approvalId);
    }
    return this.#admit(req.key, this.#final(decision, intent, true));
  }

  /** Remembers an admitted request, so that this gate and an identical intent are not held twice. */
  #admit(key: object, outcome: GateOutcome): GateOutcome {
    if (outcome.kind === 'proceed') {
      let admitted = admittedByRequest.get(key);
      if (!admitted) {
        admitted = { gates: new Set(), hashes: new Set() };
        admittedByRequest.set(key, admitted);
      }
      admitted.gates.add(this);
      admitted.hashes.add(outcome.intent.hash);
    }
    return outcome;
  }

  /** The retry of a request under an approval: complete it for exactly this intent, once. */
  async #retry(agentId: string, approvalId: string, intent: ParsedIntent): Promise<GateOutcome> {
    const approvals = this.approvals;
    if (approvals === undefined) {
      return answer(400, 'approval_unsupported', `This route takes no ${APPROVAL_ID_HEADER} header`);
    }
    if (approvalId.length === 0 || approvalId.length > 256) {
      return invalid([{ path: APPROVAL_ID_HEADER, message: 'must be an approval id' }]);
    }
    let decision: Decision;
    try {
      const view = await approvals.get(approvalId);
      if (view === undefined || view.agentId !== agentId) {
        return answer(404, 'approval_not_found', `No approval request ${approvalId} for this agent`);
      }
      if (view.status === 'pending') return this.#pending(approvalId);
      decision = await approvals.complete(approvalId, intent);
    } catch (error) {
      if (BursarError.isInstance(error) && error.status === 409) {
        const code = error.code.startsWith('ERR_BURSAR_APPROVAL_')
          ? error.code.slice('ERR_BURSAR_'.length).toLowerCase()
          : 'conflict';
        return answer(409, code, error.message);
      }
      // Never fail open around a human approval.
      this.report(error, 'approvals');
      return answer(503, 'policy_unavailable', 'The approval could not be checked; denied (fail closed)');
    }
    if (decision.outcome === 'require_approval') return this.#pending(decision.approvalId ?? approvalId);
    return this.#final(decision, intent, false);
  }

  #final(decision: Decision, intent: ParsedIntent, mayFailOpen: boolean): GateOutcome {
    if (decision.reasons.some((r) => r.code === 'internal_error')) {
      const error = new BursarError(ErrorCode.INTERNAL, 'the engine decided internal_error');
      if (mayFailOpen) return this.#unavailable(error, 'decide');
      this.report(error, 'decide');
      return answer(
        503,
        'policy_unavailable',
        'The payment policy could not be checked; denied (fail closed)',
      );
    }
    if (decision.outcome !== 'deny') return { kind: 'proceed', decision, intent };
    const first = firstDenyReason(decision);
    const message = `Denied by policy: ${first ? `${first.message} (${first.code})` : 'no reason given'}`;
    const withDecision = this.#expose ? { decision } : {};
    if (isRateLimited(decision)) {
      const ms = retryAfterMs(decision);
      return answer(
        429,
        'rate_limited',
        message,
        { ...(ms !== undefined ? { retryAfterMs: ms } : {}), ...withDecision },
        ms !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) } : {},
      );
    }
    return answer(403, 'policy_denied', message, withDecision);
  }

  #pending(approvalId: string): GateAnswer {
    const statusUrl = this.#statusUrl(approvalId);
    return {
      kind: 'respond',
      status: 202,
      body: { status: 'pending', approvalId, statusUrl },
      headers: { location: statusUrl },
    };
  }

  #unavailable(error: unknown, operation: string): GateOutcome {
    this.report(error, operation);
    if (this.#failOpen) {
      process.emitWarning(
        'Bursar let a request through without a decision (failOpen) after an internal error',
        {
          code: 'BURSAR_FAIL_OPEN',
        },
      );
      return { kind: 'bypass' };
    }
    return answer(503, 'policy_unavailable', 'The payment policy could not be checked; denied (fail closed)');
  }

  /**
   * Settles a hold exactly once: capture when the response finishes with 2xx, release when
   * it finishes otherwise or the connection closes before it finished. Returns a signal
   * that aborts on that early release.
   */
  settleOn(res: ServerResponse, holdId: string | undefined): AbortSignal {
    const aborted = new AbortController();
    let settled = false;
    const settle = (capture: boolean) => {
      if (settled) return;
      settled = true;
      res.off('finish', onFinish);
      res.off('close', onClose);
      if (holdId === undefined) return;
      const done = capture
        ? this.engine.capture(holdId).then(
            () => undefined,
            (e: unknown) => this.report(e, 'capture'),
          )
        : releaseQuietly(this.engine, holdId, this.#onError, 'release');
      void done;
    };
    const onFinish = () => settle(res.statusCode >= 200 && res.statusCode < 300);
    const onClose = () => {
      if (res.writableFinished) return settle(res.statusCode >= 200 && res.statusCode < 300);
      settle(false);
      aborted.abort(new BursarError(ErrorCode.INTERNAL, 'The client went away before the response finished'));
    };
    res.on('finish', onFinish);
    res.on('close', onClose);
    return aborted.signal;
  }
}

/** The agent-safe status of an approval request, for its own agent only (401, 404 or 200). */
export async function approvalStatusAnswer(
  approvals: ApprovalGate | undefined,
  agentId: unknown,
  approvalId: string,
): Promise<GateAnswer> {
  if (typeof agentId !== 'string' || agentId.trim() === '') {
    return answer(401, 'unauthenticated', 'No authenticated agent identity on this request');
  }
  const view = approvals === undefined || approvalId === '' ? undefined : await approvals.get(approvalId);
  if (view === undefined || view.agentId !== agentId) {
    return answer(404, 'approval_not_found', `No approval request ${approvalId} for this agent`);
  }
  return { kind: 'respond', status: 200, body: view, headers: {} };
}

/** The default status URL of an approval request. */
export function defaultStatusUrl(approvalId: string): string {
  return `/bursar/approvals/${encodeURIComponent(approvalId)}`;
}

/** The default intent extractor: the validated JSON body. */
export function intentFromBody(body: unknown): HttpIntentFields {
  return PaymentRequestBody.parse(body);
}

/** `"<METHOD> <path>"`, the default action of a route. */
export function routeAction(method: string, path: string | undefined): string {
  return `${method.toUpperCase()} ${path || '/'}`;
}

/**
 * A request path as an action names it: lower case, duplicate slashes collapsed, no
 * trailing slash (`/PAY/`, `//pay` → `/pay`). Express routes case-insensitively and ignores
 * one trailing slash by default, so every spelling that reaches a route gets one action.
 */
export function normalizeActionPath(path: string): string {
  const p = path
    .toLowerCase()
    .replace(/\/{2,}/g, '/')
    .replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

/** The first value of a header that may repeat. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined ? undefined : v.trim();
}

function answer(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): GateAnswer {
  return { kind: 'respond', status, body: { error: { code, message, ...extra } }, headers };
}

function invalid(issues: ValidationIssue[]): GateAnswer {
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return answer(400, 'invalid_request', `Invalid request: ${summary}`, { issues });
}

/** Issues of a zod error (any copy of zod) or a Bursar validation error; undefined otherwise. */
function validationIssues(error: unknown): ValidationIssue[] | undefined {
  if (BursarError.isInstance(error) && error.status === 400 && error.issues.length > 0) return error.issues;
  if (
    error instanceof Error &&
    error.name === 'ZodError' &&
    Array.isArray((error as { issues?: unknown }).issues)
  ) {
    return toIssues((error as unknown as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues);
  }
  return undefined;
}
