import {
  AssetRegistry,
  type BursarStores,
  type Clock,
  type Decision,
  EventBus,
  type HoldRecord,
  type ParsedIntent,
  type Reason,
  type RiskSignalProvider,
} from '@bursar/core';
import { z } from 'zod';
import { isOperatorCapability, type OperatorCapability } from '../operator/index.js';
import { canonicalTimeZone } from '../time/index.js';
import type { PolicyEngine } from './policy-engine.js';

/**
 * The extension point for human approval: `authorize` calls it when the outcome is
 * `require_approval`, after the budget is held (a pending approval holds its budget).
 * The approval workflow itself lives elsewhere (`ApprovalManager` implements this hook);
 * whatever id it returns goes into the decision as `approvalId`. A hook that throws makes the
 * decision fail closed.
 */
export interface ApprovalHook {
  /**
   * Called once by the engine's constructor, so the workflow can use this engine (its clock,
   * events, operators, `evaluate` and `release`). A throw makes the constructor throw.
   */
  attach?(engine: PolicyEngine): void;
  requested(args: {
    decision: Decision;
    intent: ParsedIntent;
    hold: HoldRecord;
  }): Promise<ApprovalHookAnswer | undefined> | ApprovalHookAnswer | undefined;
}

/**
 * What an {@link ApprovalHook} answers. `deny` turns the decision into a denial with that
 * reason (e.g. `approval_cooldown`): the hold is released and no approval is pending.
 */
export interface ApprovalHookAnswer {
  approvalId?: string;
  deny?: Reason;
}

/** Options of {@link PolicyEngine}. */
export interface PolicyEngineOptions {
  /** Stores to use; each one left out is the core in-memory implementation. */
  stores?: Partial<BursarStores>;
  /** Time source (default: the system clock). */
  clock?: Clock;
  /** IANA zone for calendar windows and time conditions (default `UTC`). */
  timeZone?: string;
  /** Known currencies (default: core's `defaultAssets`). */
  assets?: AssetRegistry;
  /** Where lifecycle events go (default: a new bus, exposed as `engine.events`). */
  events?: EventBus;
  /** How long a hold lives before it expires and its amount returns (default 15 minutes). */
  holdTtlMs?: number;
  /** How long an idempotency key remembers its decision (default 24 hours). */
  idempotencyTtlMs?: number;
  /** Scorers asked before budgets are held; they may only escalate. */
  riskProviders?: RiskSignalProvider[];
  /** Operator capabilities this engine accepts. */
  operators?: OperatorCapability[];
  /**
   * When true, an internal error yields `allow` with an `internal_error_fail_open` reason and
   * a process warning instead of `deny`. Default false: fail closed.
   */
  failOpen?: boolean;
  /** Called when `authorize` holds budget for a `require_approval` decision. */
  approvals?: ApprovalHook;
  /** Told about every internal error (for logging); never changes a decision. */
  onError?: (error: unknown, context: { operation: string }) => void;
}

const fn = (v: unknown) => typeof v === 'function';
const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export const EngineOptions = z.strictObject({
  stores: z
    .custom<Partial<BursarStores>>(
      obj,
      'must be an object of stores (spend, idempotency, approvals, audit, agents)',
    )
    .optional(),
  clock: z.custom<Clock>((v) => obj(v) && fn(v.now), 'must be a Clock: an object with now()').optional(),
  timeZone: z
    .string()
    .refine(
      (z) => canonicalTimeZone(z) !== undefined,
      'must be an IANA time zone such as "UTC" or "Europe/Berlin"',
    )
    .optional(),
  assets: z.custom<AssetRegistry>((v) => v instanceof AssetRegistry, 'must be an AssetRegistry').optional(),
  events: z
    .custom<EventBus>(
      (v) => v instanceof EventBus || (obj(v) && fn(v.emit) && fn(v.on)),
      'must be an EventBus',
    )
    .optional(),
  holdTtlMs: z
    .number()
    .int()
    .positive()
    .max(366 * 86_400_000)
    .optional(),
  idempotencyTtlMs: z
    .number()
    .int()
    .positive()
    .max(366 * 86_400_000)
    .optional(),
  riskProviders: z
    .array(
      z.custom<RiskSignalProvider>(
        (v) => obj(v) && typeof v.name === 'string' && fn(v.signals),
        'must be a RiskSignalProvider: { name, signals(intent, context) }',
      ),
    )
    .optional(),
  operators: z
    .array(
      z.custom<OperatorCapability>(isOperatorCapability, 'must be a capability made by createOperator()'),
    )
    .optional(),
  failOpen: z.boolean().optional(),
  approvals: z
    .custom<ApprovalHook>((v) => obj(v) && fn(v.requested), 'must be an object with requested()')
    .optional(),
  onError: z
    .custom<(error: unknown, context: { operation: string }) => void>(fn, 'must be a function')
    .optional(),
});
