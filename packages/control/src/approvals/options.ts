import { type ApprovalStore, type Clock, EventBus } from '@bursar/core';
import { z } from 'zod';
import type { ApprovalChannel, ContextProvider } from './types.js';

const DECIMAL = /^\d{1,78}(\.\d{1,78})?$/;

/** One routing level: who approves requests up to an amount, how many must, how long they have. */
export const ApprovalLevel = z
  .strictObject({
    /** Shown to approvers and recorded on votes (`team-lead`, `finance`). */
    name: z.string().trim().min(1).max(64),
    /** Inclusive upper bound of the amounts this level handles, in `currency`; none: any amount. */
    upTo: z
      .union([z.string(), z.number()])
      .transform((v) => (typeof v === 'number' ? String(v) : v.trim()))
      .refine((v) => DECIMAL.test(v), 'must be a non-negative decimal such as "1000" or "999.99"')
      .optional(),
    /** The currency of `upTo` (case-insensitive). An intent in another currency skips the level. */
    currency: z.string().trim().min(1).max(32).optional(),
    /** Who may vote at this level (compared case-insensitively); none: any operator-authorised approver. */
    approvers: z.array(z.string().trim().min(1).max(256)).min(1).optional(),
    /** Distinct approvals needed (default 1). */
    quorum: z.number().int().min(1).max(100).default(1),
    /** Escalate to the next level after this long without a verdict (on the last level: expire). */
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(366 * 86_400_000)
      .optional(),
  })
  .refine((l) => (l.upTo === undefined) === (l.currency === undefined), {
    message: 'upTo and currency go together',
    path: ['currency'],
  })
  .refine((l) => l.approvers === undefined || new Set(l.approvers.map(norm)).size >= l.quorum, {
    message: 'quorum is larger than the number of distinct approvers',
    path: ['quorum'],
  });
/** A routing level as given. */
export type ApprovalLevelInput = z.input<typeof ApprovalLevel>;
/** A validated routing level. */
export type ApprovalLevel = z.output<typeof ApprovalLevel>;

/**
 * Routing by amount: a request goes to the first level whose `upTo` covers its amount in the
 * level's currency (a level without `upTo` covers everything); when none does, or the intent
 * has no amount, to the last level. On a level's timeout it escalates to the next.
 */
export const ApprovalRouting = z
  .strictObject({ levels: z.array(ApprovalLevel).min(1).max(20) })
  .refine((r) => new Set(r.levels.map((l) => l.name)).size === r.levels.length, {
    message: 'level names must be unique',
    path: ['levels'],
  });
/** Routing as given. */
export type ApprovalRoutingInput = z.input<typeof ApprovalRouting>;
/** Validated routing. */
export type ApprovalRouting = z.output<typeof ApprovalRouting>;

/** Options of `ApprovalManager`. */
export interface ApprovalManagerOptions {
  /** Where requests live (default: core's in-memory approval store). */
  stores?: { approvals?: ApprovalStore };
  /** Time source (default: the attached engine's clock). */
  clock?: Clock;
  /** Where core's `approval.requested` / `approval.resolved` go (default: the engine's bus). */
  events?: EventBus;
  /** How long a request stays pending (default 15 minutes; never longer than its hold). */
  ttlMs?: number;
  /**
   * What expiry means: `deny` (default; the hold is released) or `allow` (approved by
   * `system:expiry`). `allow` needs `ttlMs` shorter than the engine's `holdTtlMs` (both
   * default to 15 minutes), so that the hold outlives the request and the caller has time to
   * complete it; otherwise attaching to the engine throws `ERR_BURSAR_INVALID_OPTIONS`.
   */
  onExpiry?: 'deny' | 'allow';
  /** Levels by amount, approver lists, quorum, escalation. Default: one level, quorum 1, any approver. */
  routing?: ApprovalRoutingInput;
  /** The agent and its owners cannot approve its requests (default true). */
  forbidSelfApproval?: boolean;
  /** Who owns an agent (they cannot approve its requests). */
  owners?: (agentId: string) => readonly string[] | Promise<readonly string[]>;
  /** How long a rejected intent cannot be raised again unchanged (default 1 hour; 0: off). */
  cooldownMs?: number;
  /** Where requests are announced. */
  channels?: ApprovalChannel[];
  /** Approver-only context. */
  contextProviders?: ContextProvider[];
  /** How long each context provider may take (default 2 s). */
  contextTimeoutMs?: number;
  /**
   * When channels fail to deliver: `reject_when_all_fail` (default: reject when every channel
   * of a round failed), `reject` (any failure rejects) or `keep_pending` (wait for the API or
   * expiry). Rejections for this reason start no cool-down.
   */
  onChannelError?: 'reject_when_all_fail' | 'reject' | 'keep_pending';
  /** How often due requests are expired / escalated in the background (default 5 s; 0: only on access and `expire()`). */
  sweepIntervalMs?: number;
  /** Told about background errors (channels, context providers, sweeps). */
  onError?: (error: unknown, context: { operation: string; approvalId?: string }) => void;
}

const fn = (v: unknown) => typeof v === 'function';
const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const ms = z
  .number()
  .int()
  .positive()
  .max(366 * 86_400_000);

export const ManagerOptions = z.strictObject({
  stores: z
    .strictObject({
      approvals: z
        .custom<ApprovalStore>(
          (v) => obj(v) && fn(v.create) && fn(v.get) && fn(v.update) && fn(v.list) && fn(v.listDue),
          'must be an ApprovalStore: { create, get, update, list, listDue }',
        )
        .optional(),
    })
    .optional(),
  clock: z.custom<Clock>((v) => obj(v) && fn(v.now), 'must be a Clock: an object with now()').optional(),
  events: z
    .custom<EventBus>(
      (v) => v instanceof EventBus || (obj(v) && fn(v.emit) && fn(v.on)),
      'must be an EventBus',
    )
    .optional(),
  ttlMs: ms.optional(),
  onExpiry: z.enum(['deny', 'allow']).optional(),
  routing: ApprovalRouting.optional(),
  forbidSelfApproval: z.boolean().optional(),
  owners: z
    .custom<ApprovalManagerOptions['owners']>(fn, 'must be a function (agentId) => string[]')
    .optional(),
  cooldownMs: z
    .number()
    .int()
    .min(0)
    .max(366 * 86_400_000)
    .optional(),
  channels: z
    .array(
      z.custom<ApprovalChannel>(
        (v) => obj(v) && typeof v.name === 'string' && v.name.length > 0 && fn(v.notify),
        'must be an ApprovalChannel: { name, notify(request, context) }',
      ),
    )
    .refine((c) => new Set(c.map((x) => x.name)).size === c.length, 'channel names must be unique')
    .optional(),
  contextProviders: z
    .array(
      z.custom<ContextProvider>(
        (v) => obj(v) && typeof v.name === 'string' && v.name.length > 0 && fn(v.provide),
        'must be a ContextProvider: { name, provide(request, tools) }',
      ),
    )
    .refine((c) => new Set(c.map((x) => x.name)).size === c.length, 'context provider names must be unique')
    .optional(),
  contextTimeoutMs: z.number().int().positive().max(600_000).optional(),
  onChannelError: z.enum(['reject_when_all_fail', 'reject', 'keep_pending']).optional(),
  sweepIntervalMs: z.number().int().min(0).max(86_400_000).optional(),
  onError: z.custom<NonNullable<ApprovalManagerOptions['onError']>>(fn, 'must be a function').optional(),
});

/** Approver names compare trimmed and case-insensitively ("Alice" and "alice" are one person). */
export function norm(name: string): string {
  return name.trim().toLowerCase();
}
