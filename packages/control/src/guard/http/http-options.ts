import type { Decision, IntentInput, ParsedIntent } from '@bursar/core';
import { z } from 'zod';
import { type ApprovalGate, isApprovalGate } from '../approval-gate.js';
import { type ErrorReporter, type GateEngine, isGateEngine } from '../gate-engine.js';
import { fnOption } from '../gate-options.js';

/**
 * Intent fields an HTTP request contributes (everything but the agent id, which comes from
 * the authenticated identity). `action` defaults to `"<METHOD> <route path>"`.
 */
export type HttpIntentFields = Omit<IntentInput, 'agentId'>;

/** Options shared by `policyMiddleware` (Express) and `policyPlugin` (Fastify). */
export interface HttpGateOptions<Req, Res> {
  /** The engine that decides and holds (a `PolicyEngine`). */
  engine: GateEngine;
  /**
   * The authenticated agent id of a request. Missing (undefined, null, empty) → 401. The
   * default reads an identity your authentication set; it never reads the body.
   */
  resolveAgent?: (req: Req, res: Res) => string | undefined | null | Promise<string | undefined | null>;
  /**
   * Builds the intent fields from a request. Default: the JSON body validated with
   * `PaymentRequestBody` (`amount`, `currency`, `recipient`, `protocol`, `network`,
   * `purpose`, `params`, `idempotencyKey`), plus the `Idempotency-Key` header. A zod error
   * or a Bursar `ValidationError` thrown here answers 400 with its issues.
   */
  extractIntent?: (req: Req, res: Res) => HttpIntentFields | Promise<HttpIntentFields>;
  /** The action name rules match (default `"<METHOD> <route path>"`, e.g. `"POST /pay"`). */
  action?: string | ((req: Req) => string);
  /** The approval workflow (`ApprovalManager`). Without it, require_approval answers 403. */
  approvals?: ApprovalGate;
  /** The status URL sent with a 202 (default `/bursar/approvals/<id>`). */
  statusUrl?: (approvalId: string) => string;
  /** Include the decision in 403/429 bodies (default true). */
  exposeDecision?: boolean;
  /**
   * When the policy cannot be checked (the engine throws, or decides `internal_error`), let
   * the request through without a decision instead of answering 503. Logged through
   * `onError` and a process warning. Default false: fail closed.
   */
  failOpen?: boolean;
  /** Told about internal errors and capture/release failures (default: a process warning). */
  onError?: ErrorReporter;
}

/** What the integrations attach to an admitted request (`req.bursar`). */
export interface BursarRequestContext {
  /** The allow (or flag) decision, with the hold that is captured when the response is 2xx. */
  decision: Decision;
  /** The intent the decision is about. */
  intent: ParsedIntent;
  /**
   * Aborted when the hold is released before the response finished (the client went
   * away): long handlers can stop early.
   */
  signal: AbortSignal;
}

/** zod shape of {@link HttpGateOptions}. */
export const httpGateShape = {
  engine: z.custom<GateEngine>(
    isGateEngine,
    'must be a PolicyEngine (parseIntent, authorize, capture, release, getHold)',
  ),
  resolveAgent: fnOption().optional(),
  extractIntent: fnOption().optional(),
  action: z
    .union([
      z.string().trim().min(1, 'must not be empty').max(256),
      fnOption('must be a non-empty string or a function'),
    ])
    .optional(),
  approvals: z
    .custom<ApprovalGate>(isApprovalGate, 'must be an ApprovalManager (get, waitFor, complete)')
    .optional(),
  statusUrl: fnOption().optional(),
  exposeDecision: z.boolean().optional(),
  failOpen: z.boolean().optional(),
  onError: fnOption<ErrorReporter>().optional(),
};
