import { ErrorCode, toIssues, ValidationError, type ValidationIssue } from '@bursar/core';
import { z } from 'zod';
import { type ApprovalGate, isApprovalGate } from './approval-gate.js';
import { type ErrorReporter, type GateEngine, isGateEngine } from './gate-engine.js';

/** Who the calling agent is: a fixed id, or a function asked on every call. */
export type AgentIdSource = string | (() => string | Promise<string>);

/** Options shared by `guard()` and `protectTools()`. */
export interface CallGateOptions {
  /** The engine that decides and holds (a `PolicyEngine`). */
  engine: GateEngine;
  /**
   * The governed agent: a fixed id, or a function asked on every call (for example one that
   * reads the authenticated caller from async context). Never taken from call arguments.
   */
  agentId: AgentIdSource;
  /**
   * The approval workflow (`ApprovalManager`) to wait on when the policy requires approval.
   * Without it such calls are denied (fail closed).
   */
  approvals?: ApprovalGate;
  /**
   * How long a call waits for a human (default: until the request is decided or expires,
   * as the approval workflow says). A call still pending then is denied (`approval_timeout`)
   * and its hold released.
   */
  approvalTimeoutMs?: number;
  /** Told about capture/release failures after the call ran (default: a process warning). */
  onError?: ErrorReporter;
}

export const isFunction = (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function';

/** zod check for a function option. */
export function fnOption<T>(message = 'must be a function') {
  return z.custom<T>(isFunction, message);
}

/** zod shape of {@link CallGateOptions}. */
export const callGateShape = {
  engine: z.custom<GateEngine>(
    isGateEngine,
    'must be a PolicyEngine (parseIntent, authorize, capture, release, getHold)',
  ),
  agentId: z.union([
    z.string().trim().min(1, 'must not be empty').max(256),
    fnOption<() => string | Promise<string>>('must be a non-empty string or a function returning one'),
  ]),
  approvals: z
    .custom<ApprovalGate>(isApprovalGate, 'must be an ApprovalManager (get, waitFor, complete)')
    .optional(),
  approvalTimeoutMs: z
    .number()
    .int()
    .positive()
    .max(366 * 86_400_000)
    .optional(),
  onError: fnOption<ErrorReporter>().optional(),
};

/** Validates options with a strict schema; throws `ERR_BURSAR_INVALID_OPTIONS` naming each path. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidOptions(what, toIssues(parsed.error.issues));
  return parsed.data;
}

/** The `ERR_BURSAR_INVALID_OPTIONS` error for these issues. */
export function invalidOptions(what: string, issues: ValidationIssue[]): ValidationError {
  return new ValidationError(
    ErrorCode.INVALID_OPTIONS,
    `Invalid ${what} options: ${issues.map((i) => `${i.path || '(options)'}: ${i.message}`).join('; ')}`,
    issues,
  );
}
