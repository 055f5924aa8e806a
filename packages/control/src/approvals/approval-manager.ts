import {
  type ApprovalRecord,
  type ApprovalStore,
  BursarError,
  type BursarEventMap,
  type Clock,
  type Decision,
  ErrorCode,
  EventBus,
  type HoldRecord,
  type IntentInput,
  intentToJSON,
  MemoryApprovalStore,
  type Outcome,
  type ParsedIntent,
  type PaymentFacts,
  type Reason,
  sha256Hex,
  sortReasons,
  toIssues,
  ValidationError,
} from '@bursar/core';
import { z } from 'zod';
import { RECHECK_APPROVED } from '../engine/internal.js';
import type { ApprovalHook, ApprovalHookAnswer } from '../engine/options.js';
import type { PolicyEngine } from '../engine/policy-engine.js';
import { isOperatorCapability, type OperatorCapability } from '../operator/index.js';
import { ApprovalErrorCode } from './codes.js';
import { CooldownList, cooldownKeyOf } from './cooldown.js';
import { type ApprovalLevel, type ApprovalManagerOptions, ManagerOptions, norm } from './options.js';
import {
  approvalsAtLevel,
  currentLevel,
  dueAt,
  levelDeadline,
  nextRecord,
  type RequestData,
  readRecord,
  type Stored,
  toContextRequest,
  toView,
} from './record.js';
import { DEFAULT_LEVEL, routeLevel } from './routing.js';
import type {
  ApprovalChannel,
  ApprovalEventMap,
  ApprovalResolution,
  ApprovalStatus,
  ApprovalView,
  ApprovalVote,
  ApproverView,
  CallbackFailure,
  ChannelContext,
  ChannelVote,
  ContextProvider,
  ContextRequest,
} from './types.js';

const DEFAULT_TTL_MS = 15 * 60_000;
const DEFAULT_COOLDOWN_MS = 3_600_000;
const DEFAULT_CONTEXT_TIMEOUT_MS = 2_000;
const DEFAULT_SWEEP_MS = 5_000;
const CAS_ATTEMPTS = 16;
const MAX_TIMER_MS = 2 ** 31 - 1;
const EXPIRY_ACTOR = 'system:expiry';
const CHANNEL_ACTOR = 'system:channel';

/** A vote through the API. */
export interface VoteInput {
  /** A capability the attached engine accepts. */
  operator: OperatorCapability;
  /**
   * Who votes (default: `operator.actor`). A gateway that authenticates its users itself
   * votes for them with one capability; quorum counts distinct approver names
   * (case-insensitive).
   */
  approver?: string;
  approve: boolean;
  reason?: string;
  /** The channel the vote came through (default `api`). */
  channel?: string;
}

/** Options of {@link ApprovalManager.waitFor}. */
export interface WaitForOptions {
  signal?: AbortSignal;
  /** Give up after this long (real milliseconds) and return the view as it is then. */
  timeoutMs?: number;
}

/** The result of {@link ApprovalManager.handleWebhookCallback}; `status` is the HTTP answer to give. */
export type WebhookCallbackResult =
  | { ok: true; status: 200; approval: ApprovalView }
  | {
      ok: false;
      status: number;
      /** A signature or body problem, `no_verifying_channel`, or `vote_refused` (see `code`). */
      reason: CallbackFailure | 'no_verifying_channel' | 'vote_refused';
      /** For `vote_refused`: the error code (`ERR_BURSAR_APPROVAL_DUPLICATE_VOTE`, …). */
      code?: string;
      message: string;
    };

const VoteSchema = z.strictObject({
  operator: z.custom<OperatorCapability>(
    isOperatorCapability,
    'must be a capability made by createOperator()',
  ),
  approver: z.string().trim().min(1).max(256).optional(),
  approve: z.boolean(),
  reason: z.string().max(2000).optional(),
  channel: z.string().trim().min(1).max(64).optional(),
});
const ChannelVoteSchema = z.strictObject({
  approver: z.string().trim().min(1).max(256),
  approve: z.boolean(),
  reason: z.string().max(2000).optional(),
});
const WaitSchema = z.strictObject({
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
  timeoutMs: z.number().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});
const ListSchema = z.strictObject({
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'consumed']).optional(),
  limit: z.number().int().positive().max(10_000).optional(),
});

/** One notification round (per request and level): abort stops its channels. */
interface Round {
  controller: AbortController;
  total: number;
  failures: number;
}

/** What a state change needs done once it is stored. */
type After = 'voted' | 'resolved' | 'escalated';

interface Change {
  status: ApprovalStatus;
  data: RequestData;
  after: After[];
  /** For `escalated`: the level left. */
  from?: string;
}

/**
 * Human approval for `require_approval` decisions. Pass it as the engine's `approvals` option:
 * the engine attaches it, and every `require_approval` authorization creates a request bound
 * to the canonical hash of the exact intent, holding the intent's budget until it is
 * approved and completed, rejected, cancelled or expired.
 *
 * - Approvers vote with an operator capability the engine accepts (`vote`), or through a
 *   channel (handler, terminal, webhook). Routing by amount, quorum of distinct approvers,
 *   self-approval ban and escalation on timeout are enforced here.
 * - `complete(id, intent)` is the only way to turn an approval into a final decision: it
 *   checks the intent's hash, re-runs policy, and is single-use.
 * - Channels run in the background: `authorize` never waits for a human.
 *
 * @example
 * const approvals = new ApprovalManager({ channels: [handlerChannel({ handler: myReview })] });
 * const engine = new PolicyEngine({ approvals, operators: [admin] });
 * const d = await engine.authorize(intent);
 * if (d.outcome === 'require_approval') {
 *   await approvals.waitFor(d.approvalId!, { timeoutMs: 60_000 });
 *   const final = await approvals.complete(d.approvalId!, intent); // allow / deny
 * }
 */
export class ApprovalManager implements ApprovalHook {
  /** Every state change of every request (requested, voted, escalated, resolved, consumed) and channel outcome (notified, channel_failed). */
  readonly events = new EventBus<ApprovalEventMap>();
  readonly #store: ApprovalStore;
  readonly #clockOption: Clock | undefined;
  readonly #busOption: EventBus | undefined;
  readonly #ttlMs: number;
  readonly #onExpiry: 'deny' | 'allow';
  readonly #levels: ApprovalLevel[];
  readonly #forbidSelf: boolean;
  readonly #owners: ApprovalManagerOptions['owners'];
  readonly #cooldownMs: number;
  readonly #channels: readonly ApprovalChannel[];
  readonly #providers: readonly ContextProvider[];
  readonly #contextTimeoutMs: number;
  readonly #onChannelError: NonNullable<ApprovalManagerOptions['onChannelError']>;
  readonly #sweepMs: number;
  readonly #onError: ApprovalManagerOptions['onError'];
  readonly #cooldowns = new CooldownList();
  readonly #rounds = new Map<string, Round>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #tasks = new Set<Promise<unknown>>();
  #engine: PolicyEngine | undefined;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #sweeping = false;
  #closed = false;

  constructor(options: ApprovalManagerOptions = {}) {
    const parsed = ManagerOptions.safeParse(options ?? {});
    if (!parsed.success) {
      const issues = toIssues(parsed.error.issues);
      throw new ValidationError(
        ErrorCode.INVALID_OPTIONS,
        `Invalid ApprovalManager options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        issues,
      );
    }
    const o = parsed.data;
    this.#store = o.stores?.approvals ?? new MemoryApprovalStore();
    this.#clockOption = o.clock;
    this.#busOption = o.events;
    this.#ttlMs = o.ttlMs ?? DEFAULT_TTL_MS;
    this.#onExpiry = o.onExpiry ?? 'deny';
    this.#levels = o.routing ? o.routing.levels : [DEFAULT_LEVEL];
    this.#forbidSelf = o.forbidSelfApproval ?? true;
    this.#owners = o.owners;
    this.#cooldownMs = o.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.#channels = [...(o.channels ?? [])];
    this.#providers = [...(o.contextProviders ?? [])];
    this.#contextTimeoutMs = o.contextTimeoutMs ?? DEFAULT_CONTEXT_TIMEOUT_MS;
    this.#onChannelError = o.onChannelError ?? 'reject_when_all_fail';
    this.#sweepMs = o.sweepIntervalMs ?? DEFAULT_SWEEP_MS;
    this.#onError = o.onError;
  }

  // ─── Engine hook ────────────────────────────────────────────────────────────────────

  /**
   * Called by the `PolicyEngine` constructor when this manager is its `approvals` option.
   * A manager serves one engine; attaching a second throws. With `onExpiry: 'allow'`,
   * `ttlMs` must be shorter than the engine's `holdTtlMs` (else `ERR_BURSAR_INVALID_OPTIONS`).
   */
  attach(engine: PolicyEngine): void {
    if (this.#engine !== undefined && this.#engine !== engine) {
      throw new BursarError(
        ErrorCode.INVALID_OPTIONS,
        'This ApprovalManager is already attached to an engine',
      );
    }
    if (this.#onExpiry === 'allow' && this.#ttlMs >= engine.holdTtlMs) {
      // A request never outlives its hold: expiring at the same time, the expiry approval
      // would always find the hold gone and could never allow anything.
      const message = `onExpiry 'allow' needs ttlMs (${this.#ttlMs} ms) shorter than the engine's holdTtlMs (${engine.holdTtlMs} ms), else an expired request always finds its hold expired too and is never allowed; lower ttlMs or raise the engine's holdTtlMs, leaving the caller time to complete`;
      throw new ValidationError(ErrorCode.INVALID_OPTIONS, `Invalid ApprovalManager options: ${message}`, [
        { path: 'ttlMs', message },
      ]);
    }
    this.#engine = engine;
    if (this.#sweepMs > 0 && this.#sweep === undefined && !this.#closed) {
      this.#sweep = setInterval(() => this.#sweepNow(), this.#sweepMs);
      this.#sweep.unref?.();
    }
  }

  /**
   * The engine's hook: creates the request for a `require_approval` authorization (bound to
   * `intent.hash`, holding `hold`) and announces it on every channel in the background. An
   * intent identical to one a human rejected within the cool-down is refused with
   * `approval_cooldown` instead (the engine denies and releases the hold).
   */
  async requested(args: {
    decision: Decision;
    intent: ParsedIntent;
    hold: HoldRecord;
  }): Promise<ApprovalHookAnswer> {
    this.#attached();
    if (this.#closed) throw closedError();
    const { decision, intent, hold } = args;
    const now = this.#clock.now();
    const cooldownKey = cooldownKeyOf(intent);
    const blocked = this.#cooldownMs > 0 ? this.#cooldowns.get(cooldownKey, now) : undefined;
    if (blocked) {
      return {
        deny: {
          code: 'approval_cooldown',
          message: `An identical request (${blocked.approvalId}) was rejected by ${blocked.by} at ${iso(blocked.at)}; it cannot be raised again before ${iso(blocked.until)}`,
          outcome: 'deny',
          source: 'approval',
          retryAfterMs: blocked.until - now,
          details: { approvalId: blocked.approvalId, rejectedBy: blocked.by, until: blocked.until },
        },
      };
    }
    // Derived from the hold: a retried authorize (same idempotency key, same hold) finds
    // its request instead of raising a second one.
    const id = `apr_${sha256Hex(`approval:${hold.holdId}`).slice(0, 32)}`;
    if (await this.#store.get(id)) return { approvalId: id };

    const levels = this.#levels;
    const levelIndex = routeLevel(levels, intent);
    const expiresAt = Math.min(now + this.#ttlMs, hold.expiresAt);
    const deadline = levelDeadline(levels[levelIndex]!, now, expiresAt);
    const json = intentToJSON(intent);
    const data: RequestData = {
      holdId: hold.holdId,
      intent: {
        intentId: intent.id,
        action: intent.action,
        ...(intent.amount
          ? { amount: intent.amount.toDecimalString(), currency: intent.amount.currency }
          : {}),
        ...(intent.recipient !== undefined ? { recipient: intent.recipient } : {}),
        ...(intent.protocol !== undefined ? { protocol: intent.protocol } : {}),
        ...(intent.network !== undefined ? { network: intent.network } : {}),
        ...(intent.purpose !== undefined ? { purpose: intent.purpose } : {}),
        params: structuredClone(json.params as Record<string, unknown>),
        metadata: structuredClone(json.metadata as Record<string, unknown>),
      },
      reasons: decision.reasons.filter((r) => r.outcome === 'require_approval'),
      policies: decision.policies,
      levels,
      levelIndex,
      levelStartedAt: now,
      ...(deadline !== undefined ? { levelDeadline: deadline } : {}),
      votes: [],
      cooldownKey,
    };
    const record: ApprovalRecord = {
      id,
      state: 'pending',
      version: 1,
      agentId: intent.agentId,
      intentHash: intent.hash,
      createdAt: now,
      expiresAt,
      dueAt: dueAt(expiresAt, data),
      data: data as unknown as Record<string, unknown>,
    };
    try {
      await this.#store.create(record);
    } catch (error) {
      if (BursarError.hasCode(error, ErrorCode.CONFLICT)) return { approvalId: id };
      throw error;
    }
    const stored = readRecord(record);
    const view = toView(stored);
    this.events.emit('approval.requested', { at: now, approval: view });
    this.#emitCore('approval.requested', () => ({
      ...this.#facts(stored, now),
      expiresAt,
      reasons: structuredClone(data.reasons),
    }));
    this.#notify(stored);
    return { approvalId: id };
  }

  // ─── Reading ────────────────────────────────────────────────────────────────────────

  /**
   * The agent-safe view of a request (no approver context), after expiring or escalating it
   * if it is due. `undefined` for an unknown id.
   */
  async get(approvalId: string): Promise<ApprovalView | undefined> {
    this.#attached();
    const s = await this.#refresh(checkId(approvalId));
    return s && toView(s);
  }

  /** What an approver sees: the full intent, the reasons, and every context provider's data. Operator only. */
  async getForApprover(approvalId: string, operator: OperatorCapability): Promise<ApproverView> {
    this.#requireOperator(operator);
    const id = checkId(approvalId);
    const s = await this.#refresh(id);
    if (!s) throw notFound(id);
    const request = toContextRequest(s);
    return { ...request, context: await this.#context(request) };
  }

  /** Requests, oldest first (optionally in one status). Operator only. */
  async list(
    operator: OperatorCapability,
    options: { status?: ApprovalStatus; limit?: number } = {},
  ): Promise<ApprovalView[]> {
    this.#requireOperator(operator);
    const o = parseArg(ListSchema, options ?? {}, 'list');
    const records = await this.#store.list({
      ...(o.status !== undefined ? { state: o.status } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
    });
    return records.map((r) => toView(readRecord(r)));
  }

  /**
   * Resolves when the request is no longer pending, or after `timeoutMs` (default: until it
   * expires), or when `signal` aborts, with the view at that moment. Wakes on changes made
   * in this process; it never polls.
   */
  async waitFor(approvalId: string, waitOptions: WaitForOptions = {}): Promise<ApprovalView> {
    const id = checkId(approvalId);
    const options = parseArg(WaitSchema, waitOptions ?? {}, 'waitFor');
    const first = await this.get(id);
    if (!first) throw notFound(id);
    if (first.status !== 'pending' || options.signal?.aborted || this.#closed) return first;
    // setTimeout fires at once for delays beyond 2^31 - 1 ms: cap (a bound, not a deadline).
    const bound = Math.min(
      MAX_TIMER_MS,
      Math.max(0, options.timeoutMs ?? first.expiresAt - this.#clock.now()),
    );
    await new Promise<void>((resolve) => {
      let set = this.#waiters.get(id);
      if (!set) {
        set = new Set();
        this.#waiters.set(id, set);
      }
      const waiters = set;
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
        options.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, bound);
      waiters.add(done);
      options.signal?.addEventListener('abort', done, { once: true });
      // A change between the first read and now would have been missed: look once more.
      this.#store.get(id).then(
        (r) => {
          if (r && r.state !== 'pending') done();
        },
        () => undefined,
      );
    });
    return (await this.get(id)) ?? first;
  }

  // ─── Voting ─────────────────────────────────────────────────────────────────────────

  /**
   * Casts a vote. Needs an operator capability the engine accepts. The approver must be
   * allowed at the request's current level, must not have voted at this level, and (with
   * `forbidSelfApproval`) must not be the agent or one of its owners. One rejection rejects
   * the request (its hold is released, and the same intent cannot be raised again within
   * the cool-down); `quorum` distinct approvals approve it.
   */
  async vote(approvalId: string, vote: VoteInput): Promise<ApprovalView> {
    const v = parseArg(VoteSchema, vote, 'vote');
    this.#requireOperator(v.operator);
    return this.#castVote(checkId(approvalId), {
      approver: v.approver ?? v.operator.actor,
      approve: v.approve,
      ...(v.reason !== undefined ? { reason: v.reason } : {}),
      channel: v.channel ?? 'api',
    });
  }

  /**
   * Cancels a pending or approved (not yet completed) request: it becomes `rejected` with a
   * `cancelled` resolution and its hold is released. Operator only. Starts no cool-down.
   */
  async cancel(approvalId: string, operator: OperatorCapability, reason?: string): Promise<ApprovalView> {
    const { actor } = this.#requireOperator(operator);
    const id = checkId(approvalId);
    await this.#refresh(id);
    const s = await this.#transition(id, (cur, now) => {
      if (cur.status !== 'pending' && cur.status !== 'approved') throw notPending(cur);
      return {
        status: 'rejected',
        data: {
          ...cur.data,
          resolution: { kind: 'cancelled', by: actor, ...(reason !== undefined ? { reason } : {}), at: now },
        },
        after: ['resolved'],
      };
    });
    return toView(s);
  }

  /**
   * Checks a signed verdict callback (`{ approvalId, approver, approve, reason? }` signed with
   * core's `signWebhook`) with every channel that verifies callbacks (the webhook channel),
   * then votes through that channel. A bad, expired or future-dated signature, a malformed
   * body or a refused vote changes nothing. Never throws for bad input.
   */
  async handleWebhookCallback(input: {
    header: string | null | undefined;
    body: string;
  }): Promise<WebhookCallbackResult> {
    const verifiers = this.#channels.filter((c) => typeof c.verifyCallback === 'function');
    if (verifiers.length === 0) {
      return {
        ok: false,
        status: 404,
        reason: 'no_verifying_channel',
        message: 'No channel of this manager accepts callbacks',
      };
    }
    const now = this.#clock.now();
    const body = typeof input?.body === 'string' ? input.body : '';
    let failure: CallbackFailure | undefined;
    for (const channel of verifiers) {
      let result: ReturnType<NonNullable<ApprovalChannel['verifyCallback']>>;
      try {
        result = channel.verifyCallback!({ header: input?.header, body, now });
      } catch (error) {
        this.#report(error, `channel.${channel.name}.verifyCallback`);
        continue;
      }
      if (!result.ok) {
        failure ??= result.reason;
        continue;
      }
      const verdict = result.verdict;
      try {
        const approval = await this.#castVote(checkId(verdict.approvalId), {
          approver: verdict.approver,
          approve: verdict.approve,
          ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
          channel: channel.name,
        });
        return { ok: true, status: 200, approval };
      } catch (error) {
        if (!BursarError.isInstance(error)) throw error;
        return {
          ok: false,
          status: error.status ?? 400,
          reason: 'vote_refused',
          code: error.code,
          message: error.message,
        };
      }
    }
    const reason = failure ?? 'signature_mismatch';
    return {
      ok: false,
      status: reason === 'invalid_body' ? 400 : 401,
      reason,
      message: `Callback refused: ${reason}`,
    };
  }

  // ─── Completing ─────────────────────────────────────────────────────────────────────

  /**
   * Turns an approval into the final decision, once. `intent` must hash to the intent the
   * request is bound to (else `ERR_BURSAR_APPROVAL_MISMATCH`, 409, and nothing changes).
   *
   * - pending → a `require_approval` decision (`approval_pending`); nothing changes.
   * - rejected / expired → a `deny` decision naming who or what ended it.
   * - consumed → throws `ERR_BURSAR_APPROVAL_CONSUMED` (409): an approval is single-use.
   * - approved → policy is evaluated again on the intent (its own hold not counted twice;
   *   `require_approval` reasons count as satisfied). A `deny` now denies and releases the
   *   hold; otherwise the decision is `allow` (or `flag`) with the ORIGINAL `holdId`, which
   *   the caller captures or releases, and an `approved` reason naming the approvers,
   *   channels, times and reasons. Like an allowed `authorize`, it adds the rules' risk points
   *   atomically against the policy's risk threshold; one that would cross it denies
   *   (`risk_threshold_exceeded`) and releases the hold. A hold that expired meanwhile denies
   *   (`approval_hold_expired`). The request becomes `consumed` by compare-and-set, so of
   *   two concurrent calls one wins and the other throws `ERR_BURSAR_APPROVAL_CONSUMED`.
   */
  async complete(approvalId: string, intent: IntentInput | ParsedIntent): Promise<Decision> {
    const engine = this.#attached();
    const id = checkId(approvalId);
    const parsed = this.#parse(engine, intent);
    const first = await this.#store.get(id);
    if (!first) throw notFound(id);
    if (first.intentHash !== parsed.hash) {
      throw new BursarError(
        ApprovalErrorCode.MISMATCH,
        `Approval ${id} is bound to another intent: the agent, action, amount, currency, recipient, parameters or metadata differ`,
        { status: 409, details: { approvalId: id } },
      );
    }
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const s = await this.#refresh(id);
      if (!s) throw notFound(id);
      const now = this.#clock.now();
      switch (s.status) {
        case 'consumed':
          throw consumedError(s);
        case 'pending':
          return this.#decisionOf(s, parsed, now, 'require_approval', [
            {
              code: 'approval_pending',
              message: `Approval ${id} is still pending (level ${currentLevel(s.data).name}, ${approvalsAtLevel(s.data).length} of ${currentLevel(s.data).quorum} approvals)`,
              outcome: 'require_approval',
              source: 'approval',
              details: { approvalId: id, expiresAt: s.record.expiresAt },
            },
            ...s.data.reasons,
          ]);
        case 'rejected':
        case 'expired':
          return this.#decisionOf(s, parsed, now, 'deny', [endedReason(s)]);
        default:
          break;
      }
      // Approved: re-check everything before it becomes final.
      const hold = await engine.getHold(s.data.holdId);
      let outcome: Outcome;
      let reasons: Reason[];
      let policies = s.data.policies;
      let undoRisk: (() => Promise<void>) | undefined;
      if (hold?.state !== 'held' || hold.expiresAt <= now) {
        outcome = 'deny';
        reasons = [
          {
            code: 'approval_hold_expired',
            message: `The budget hold of approval ${id} is ${hold ? (hold.state === 'held' ? 'expired' : hold.state) : 'gone'}; raise the request again`,
            outcome: 'deny',
            source: 'approval',
            details: { approvalId: id, holdId: s.data.holdId },
          },
          approvedReason(s),
        ];
      } else {
        const recheck = await engine[RECHECK_APPROVED](parsed, s.data.holdId);
        const evaluated = recheck.decision;
        policies = evaluated.policies;
        const rechecked = evaluated.reasons.map((r) =>
          r.outcome === 'require_approval'
            ? { ...r, outcome: 'allow' as const, details: { ...r.details, satisfiedBy: id } }
            : r,
        );
        outcome =
          evaluated.outcome === 'deny'
            ? 'deny'
            : rechecked.some((r) => r.outcome === 'flag')
              ? 'flag'
              : 'allow';
        reasons = [approvedReason(s), ...rechecked];
        if (outcome !== 'deny') {
          // The approved action now counts towards cumulative risk, as an allowed one would.
          const over = await recheck.addRisk();
          if (over) {
            outcome = 'deny';
            reasons.push(over);
          } else {
            undoRisk = recheck.undoRisk;
          }
        }
      }
      const next: RequestData = { ...s.data, consumedAt: now, finalOutcome: outcome };
      const won = await this.#store.update(nextRecord(s, 'consumed', next), s.record.version);
      if (!won) {
        await undoRisk?.();
        continue;
      }
      const consumed = readRecord(nextRecord(s, 'consumed', next));
      if (outcome === 'deny') await this.#release(consumed);
      this.events.emit('approval.consumed', { at: now, approval: toView(consumed), finalOutcome: outcome });
      this.#wake(id);
      const decision = this.#decisionOf(consumed, parsed, now, outcome, reasons);
      decision.policies = policies;
      if (outcome !== 'deny') decision.holdId = s.data.holdId;
      return decision;
    }
    throw conflict(id);
  }

  // ─── Expiry ─────────────────────────────────────────────────────────────────────────

  /**
   * Expires (or, with `onExpiry: 'allow'`, approves) every pending request past its expiry,
   * and escalates those whose level timed out. Returns how many changed. Runs in the
   * background every `sweepIntervalMs`; reads and votes also apply it to their request.
   * Asks the store only for the requests that are due (`ApprovalStore.listDue`), so its cost
   * does not grow with the number of requests ever made.
   */
  async expire(): Promise<number> {
    this.#attached();
    const now = this.#clock.now();
    let changed = 0;
    for (const record of await this.#store.listDue({ now })) {
      try {
        if (dueAction(readRecord(record), now) === undefined) continue;
        await this.#refresh(record.id);
        changed++;
      } catch (error) {
        this.#report(error, 'expire', record.id);
      }
    }
    return changed;
  }

  /**
   * Stops background work: the sweep timer, every channel notification (their signals
   * abort) and every `waitFor` (they resolve with the current view). Waits for running
   * notifications to settle. New requests are refused afterwards (the engine then denies);
   * reads, votes and `complete` keep working.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const round of this.#rounds.values()) round.controller.abort();
    this.#rounds.clear();
    for (const id of [...this.#waiters.keys()]) this.#wake(id);
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  // ─── Internals ──────────────────────────────────────────────────────────────────────

  get #clock(): Clock {
    return this.#clockOption ?? this.#attached().clock;
  }

  #attached(): PolicyEngine {
    if (!this.#engine) {
      throw new BursarError(
        ApprovalErrorCode.NOT_ATTACHED,
        'ApprovalManager is not attached: pass it to new PolicyEngine({ approvals })',
      );
    }
    return this.#engine;
  }

  #requireOperator(operator: unknown): OperatorCapability {
    const engine = this.#attached();
    if (!engine.acceptsOperator(operator)) {
      throw new BursarError(
        ErrorCode.UNAUTHORIZED,
        'Approvals need an operator capability that the engine accepts (engine options `operators`, or grantOperator)',
        { status: 403 },
      );
    }
    return operator;
  }

  #parse(engine: PolicyEngine, input: IntentInput | ParsedIntent): ParsedIntent {
    const p = input as Partial<ParsedIntent> | null;
    if (
      typeof p === 'object' &&
      p !== null &&
      typeof p.hash === 'string' &&
      typeof p.id === 'string' &&
      typeof p.createdAt === 'number'
    ) {
      // Never trust a given hash: hash the content again.
      const { id: _id, createdAt: _at, hash: _hash, ...content } = intentToJSON(input as ParsedIntent);
      return engine.parseIntent(content as IntentInput);
    }
    return engine.parseIntent(input as IntentInput);
  }

  async #castVote(id: string, vote: ChannelVote & { channel: string }): Promise<ApprovalView> {
    const current = await this.#refresh(id);
    if (!current) throw notFound(id);
    const approver = vote.approver.trim();
    const who = norm(approver);
    let owners: Set<string> | undefined;
    if (this.#forbidSelf && vote.approve) {
      owners = new Set((this.#owners ? await this.#owners(current.record.agentId) : []).map(norm));
      owners.add(norm(current.record.agentId));
    }
    const s = await this.#transition(id, (cur, now) => {
      if (cur.status !== 'pending') throw notPending(cur);
      if (now >= cur.record.expiresAt) throw notPending(cur, 'it has expired');
      const level = currentLevel(cur.data);
      if (owners?.has(who)) {
        throw new BursarError(
          ApprovalErrorCode.SELF_APPROVAL,
          `${approver} cannot approve a request of agent ${cur.record.agentId}: the agent and its owners may not approve it`,
          { status: 403, details: { approvalId: id, approver } },
        );
      }
      if (level.approvers && !level.approvers.some((a) => norm(a) === who)) {
        throw new BursarError(
          ApprovalErrorCode.NOT_ALLOWED,
          `${approver} is not an approver of level ${level.name} (approvers: ${level.approvers.join(', ')})`,
          { status: 403, details: { approvalId: id, approver, level: level.name } },
        );
      }
      if (cur.data.votes.some((x) => x.level === level.name && norm(x.approver) === who)) {
        throw new BursarError(
          ApprovalErrorCode.DUPLICATE_VOTE,
          `${approver} already voted on ${id} at level ${level.name}; quorum needs distinct approvers`,
          { status: 409, details: { approvalId: id, approver, level: level.name } },
        );
      }
      const cast: ApprovalVote = {
        approver,
        approve: vote.approve,
        channel: vote.channel,
        ...(vote.reason !== undefined ? { reason: vote.reason } : {}),
        at: now,
        level: level.name,
      };
      const data: RequestData = { ...cur.data, votes: [...cur.data.votes, cast] };
      const resolution: ApprovalResolution = {
        kind: 'votes',
        by: approver,
        channel: vote.channel,
        ...(vote.reason !== undefined ? { reason: vote.reason } : {}),
        at: now,
      };
      if (!vote.approve)
        return { status: 'rejected', data: { ...data, resolution }, after: ['voted', 'resolved'] };
      if (approvalsAtLevel(data).length >= level.quorum) {
        return { status: 'approved', data: { ...data, resolution }, after: ['voted', 'resolved'] };
      }
      return { status: 'pending', data, after: ['voted'] };
    });
    return toView(s);
  }

  /** Applies what is due (expiry, escalation) and returns the record; undefined if unknown. */
  async #refresh(id: string): Promise<Stored | undefined> {
    let s: Stored | undefined;
    for (let step = 0; step <= this.#levels.length + 1; step++) {
      const record = await this.#store.get(id);
      if (!record) return undefined;
      s = readRecord(record);
      if (dueAction(s, this.#clock.now()) === undefined) return s;
      s = await this.#transition(id, (cur, now) => this.#dueChange(cur, now));
    }
    return s;
  }

  #dueChange(cur: Stored, now: number): Change | undefined {
    const action = dueAction(cur, now);
    if (action === undefined) return undefined;
    const level = currentLevel(cur.data);
    if (action === 'escalate') {
      const levelIndex = cur.data.levelIndex + 1;
      const next = cur.data.levels[levelIndex]!;
      const deadline = levelDeadline(next, now, cur.record.expiresAt);
      const { levelDeadline: _old, ...rest } = cur.data;
      return {
        status: 'pending',
        data: {
          ...rest,
          levelIndex,
          levelStartedAt: now,
          ...(deadline !== undefined ? { levelDeadline: deadline } : {}),
        },
        after: ['escalated'],
        from: level.name,
      };
    }
    const why =
      now >= cur.record.expiresAt
        ? `no verdict before ${iso(cur.record.expiresAt)}`
        : `level ${level.name} timed out with no higher level`;
    if (this.#onExpiry === 'allow') {
      const vote: ApprovalVote = {
        approver: EXPIRY_ACTOR,
        approve: true,
        channel: 'system',
        reason: `${why}; onExpiry is allow`,
        at: now,
        level: level.name,
      };
      return {
        status: 'approved',
        data: {
          ...cur.data,
          votes: [...cur.data.votes, vote],
          resolution: { kind: 'expiry', by: EXPIRY_ACTOR, channel: 'system', reason: vote.reason!, at: now },
        },
        after: ['voted', 'resolved'],
      };
    }
    return {
      status: 'expired',
      data: { ...cur.data, resolution: { kind: 'expiry', by: EXPIRY_ACTOR, reason: why, at: now } },
      after: ['resolved'],
    };
  }

  /**
   * Compare-and-set loop: reads the record, asks `change` for the next state (it may throw a
   * typed error: nothing is written), writes it if nobody else wrote meanwhile, retries
   * otherwise, then runs the change's effects exactly once.
   */
  async #transition(id: string, change: (cur: Stored, now: number) => Change | undefined): Promise<Stored> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const record = await this.#store.get(id);
      if (!record) throw notFound(id);
      const cur = readRecord(record);
      const now = this.#clock.now();
      const c = change(cur, now);
      if (!c) return cur;
      const next = nextRecord(cur, c.status, c.data);
      if (!(await this.#store.update(next, record.version))) continue;
      const stored = readRecord(next);
      await this.#after(stored, c, now);
      return stored;
    }
    throw conflict(id);
  }

  async #after(s: Stored, c: Change, now: number): Promise<void> {
    const id = s.record.id;
    const view = toView(s);
    for (const step of c.after) {
      switch (step) {
        case 'voted':
          this.events.emit('approval.voted', { at: now, approval: view, vote: s.data.votes.at(-1)! });
          break;
        case 'escalated':
          this.events.emit('approval.escalated', {
            at: now,
            approval: view,
            from: c.from!,
            to: currentLevel(s.data).name,
          });
          this.#notify(s);
          break;
        case 'resolved': {
          this.#stopRound(id);
          if (s.status !== 'approved') await this.#release(s);
          const r = s.data.resolution!;
          if (s.status === 'rejected' && r.kind === 'votes' && this.#cooldownMs > 0) {
            this.#cooldowns.set(s.data.cooldownKey, {
              until: now + this.#cooldownMs,
              approvalId: id,
              by: r.by,
              at: now,
            });
          }
          this.events.emit('approval.resolved', { at: now, approval: view });
          const approvers =
            s.status === 'approved'
              ? approvalsAtLevel(s.data).map((v) => v.approver)
              : r.kind === 'votes'
                ? [r.by]
                : [];
          this.#emitCore('approval.resolved', () => ({
            ...this.#facts(s, now),
            status: r.kind === 'cancelled' ? 'cancelled' : (s.status as 'approved' | 'rejected' | 'expired'),
            approvers,
            ...(r.channel !== undefined ? { channel: r.channel } : {}),
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
          }));
          this.#wake(id);
          break;
        }
      }
    }
  }

  async #release(s: Stored): Promise<void> {
    try {
      await this.#attached().release(s.data.holdId);
    } catch (error) {
      // Already captured, released or expired: nothing left to return.
      if (!BursarError.hasCode(error, ErrorCode.HOLD_NOT_ACTIVE)) this.#report(error, 'release', s.record.id);
    }
  }

  #wake(id: string): void {
    const set = this.#waiters.get(id);
    if (set) for (const done of [...set]) done();
  }

  // ─── Channels and context ───────────────────────────────────────────────────────────

  /** Starts a notification round for the request's current level, in the background. */
  #notify(s: Stored): void {
    if (this.#channels.length === 0 || this.#closed) return;
    const id = s.record.id;
    this.#stopRound(id);
    const round: Round = { controller: new AbortController(), total: this.#channels.length, failures: 0 };
    this.#rounds.set(id, round);
    const request = toContextRequest(s);
    this.#track(
      (async () => {
        const context = await this.#context(request, round.controller.signal);
        if (round.controller.signal.aborted) return;
        const view: ApproverView = { ...request, context };
        await Promise.all(this.#channels.map((channel) => this.#deliver(channel, view, round, id)));
      })()
        .catch((error: unknown) => this.#report(error, 'notify', id))
        .finally(() => {
          if (this.#rounds.get(id) === round) this.#rounds.delete(id);
        }),
    );
  }

  async #deliver(channel: ApprovalChannel, view: ApproverView, round: Round, id: string): Promise<void> {
    const context: ChannelContext = {
      vote: async (vote) => {
        const v = parseArg(ChannelVoteSchema, vote, `${channel.name} vote`);
        return this.#castVote(id, {
          approver: v.approver,
          approve: v.approve,
          ...(v.reason !== undefined ? { reason: v.reason } : {}),
          channel: channel.name,
        });
      },
      signal: round.controller.signal,
      clock: this.#clock,
    };
    try {
      await channel.notify(structuredClone(view), context);
      if (!round.controller.signal.aborted) {
        this.events.emit('approval.notified', {
          at: this.#clock.now(),
          approvalId: id,
          channel: channel.name,
          level: view.level,
        });
      }
    } catch (error) {
      if (round.controller.signal.aborted) return; // stopped on purpose
      round.failures++;
      this.#report(error, `channel.${channel.name}`, id);
      this.events.emit('approval.channel_failed', {
        at: this.#clock.now(),
        approvalId: id,
        channel: channel.name,
        error,
      });
      const policy = this.#onChannelError;
      if (policy === 'reject' || (policy === 'reject_when_all_fail' && round.failures === round.total)) {
        await this.#systemReject(id, channel.name, error);
      }
    }
  }

  async #systemReject(id: string, channel: string, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    try {
      await this.#transition(id, (cur, now) => {
        if (cur.status !== 'pending') return undefined;
        return {
          status: 'rejected',
          data: {
            ...cur.data,
            resolution: {
              kind: 'channel_error',
              by: CHANNEL_ACTOR,
              channel,
              reason: `${channel}: ${message}`,
              at: now,
            },
          },
          after: ['resolved'],
        };
      });
    } catch (e) {
      this.#report(e, 'channel.reject', id);
    }
  }

  #stopRound(id: string): void {
    const round = this.#rounds.get(id);
    if (!round) return;
    this.#rounds.delete(id);
    round.controller.abort();
  }

  async #context(request: ContextRequest, signal?: AbortSignal): Promise<Record<string, unknown>> {
    if (this.#providers.length === 0) return {};
    const engine = this.#attached();
    const now = this.#clock.now();
    const results = await Promise.all(
      this.#providers.map(async (provider) => {
        const controller = new AbortController();
        const stop = () => controller.abort();
        signal?.addEventListener('abort', stop, { once: true });
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          const value = await Promise.race([
            Promise.resolve().then(() =>
              provider.provide(structuredClone(request), { engine, now, signal: controller.signal }),
            ),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () =>
                  reject(
                    new Error(
                      `context provider ${provider.name} timed out after ${this.#contextTimeoutMs} ms`,
                    ),
                  ),
                this.#contextTimeoutMs,
              );
            }),
          ]);
          return value === undefined ? null : value;
        } catch (error) {
          this.#report(error, `context.${provider.name}`, request.id);
          return { error: error instanceof Error ? error.message : String(error) };
        } finally {
          clearTimeout(timer);
          controller.abort();
          signal?.removeEventListener('abort', stop);
        }
      }),
    );
    const out: Record<string, unknown> = {};
    this.#providers.forEach((p, i) => {
      out[p.name] = results[i];
    });
    return out;
  }

  // ─── Helpers ────────────────────────────────────────────────────────────────────────

  #sweepNow(): void {
    if (this.#sweeping || this.#closed) return;
    this.#sweeping = true;
    this.#track(
      this.expire()
        .catch((error: unknown) => this.#report(error, 'sweep'))
        .finally(() => {
          this.#sweeping = false;
        }),
    );
  }

  #track(task: Promise<unknown>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task)).catch(() => undefined);
  }

  #decisionOf(s: Stored, intent: ParsedIntent, now: number, outcome: Outcome, reasons: Reason[]): Decision {
    return {
      outcome,
      reasons: sortReasons(reasons),
      policies: s.data.policies.map((p) => ({ ...p })),
      intentId: s.data.intent.intentId,
      intentHash: intent.hash,
      agentId: intent.agentId,
      evaluatedAt: now,
      approvalId: s.record.id,
      ...(outcome === 'require_approval' ? { holdId: s.data.holdId } : {}),
    };
  }

  #facts(s: Stored, at: number): PaymentFacts & { approvalId: string } {
    const i = s.data.intent;
    return {
      at,
      agentId: s.record.agentId,
      approvalId: s.record.id,
      action: i.action,
      intentId: i.intentId,
      intentHash: s.record.intentHash,
      holdId: s.data.holdId,
      ...(i.amount !== undefined ? { amount: i.amount } : {}),
      ...(i.currency !== undefined ? { currency: i.currency } : {}),
      ...(i.recipient !== undefined ? { recipient: i.recipient } : {}),
      ...(i.protocol !== undefined ? { protocol: i.protocol } : {}),
      ...(i.network !== undefined ? { network: i.network } : {}),
    };
  }

  #emitCore<K extends 'approval.requested' | 'approval.resolved'>(
    type: K,
    make: () => BursarEventMap[K],
  ): void {
    const bus = this.#busOption ?? this.#attached().events;
    if (typeof bus.listenerCount === 'function' && bus.listenerCount(type) === 0) return;
    bus.emit(type, make());
  }

  #report(error: unknown, operation: string, approvalId?: string): void {
    if (!this.#onError) return;
    try {
      this.#onError(error, { operation, ...(approvalId !== undefined ? { approvalId } : {}) });
    } catch {
      // A failing logger must not break the workflow.
    }
  }
}

/** What is due for a pending request at `now`. */
function dueAction(s: Stored, now: number): 'expire' | 'escalate' | undefined {
  if (s.status !== 'pending') return undefined;
  if (now >= s.record.expiresAt) return 'expire';
  const deadline = s.data.levelDeadline;
  if (deadline !== undefined && now >= deadline) {
    return s.data.levelIndex + 1 < s.data.levels.length ? 'escalate' : 'expire';
  }
  return undefined;
}

function approvedReason(s: Stored): Reason {
  const votes = approvalsAtLevel(s.data);
  const names = votes.map(
    (v) =>
      `${v.approver} (${v.channel}) at ${iso(v.at)}${v.reason !== undefined ? `: ${JSON.stringify(v.reason)}` : ''}`,
  );
  const last = votes.at(-1);
  return {
    code: 'approved',
    message: `Approved at level ${currentLevel(s.data).name} by ${names.join('; ')}`,
    outcome: 'allow',
    source: 'approval',
    details: {
      approvalId: s.record.id,
      level: currentLevel(s.data).name,
      approvers: votes.map((v) => ({
        approver: v.approver,
        channel: v.channel,
        at: v.at,
        ...(v.reason !== undefined ? { reason: v.reason } : {}),
      })),
      ...(last ? { channel: last.channel, at: last.at } : {}),
    },
  };
}

function endedReason(s: Stored): Reason {
  const r = s.data.resolution;
  const id = s.record.id;
  const by = r ? `${r.by}${r.channel !== undefined ? ` (${r.channel})` : ''} at ${iso(r.at)}` : 'unknown';
  const why = r?.reason !== undefined ? `: ${JSON.stringify(r.reason)}` : '';
  const code =
    s.status === 'expired'
      ? 'approval_expired'
      : r?.kind === 'cancelled'
        ? 'approval_cancelled'
        : r?.kind === 'channel_error'
          ? 'approval_channel_failed'
          : 'approval_rejected';
  const what =
    code === 'approval_expired'
      ? 'expired'
      : code === 'approval_cancelled'
        ? 'was cancelled by'
        : code === 'approval_channel_failed'
          ? 'was rejected because no approver could be reached, by'
          : 'was rejected by';
  return {
    code,
    message:
      code === 'approval_expired' ? `Approval ${id} expired${why}` : `Approval ${id} ${what} ${by}${why}`,
    outcome: 'deny',
    source: 'approval',
    details: { approvalId: id, ...(r ? { resolution: { ...r } } : {}) },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'An approval id must be a non-empty string');
  }
  return id;
}

function notFound(id: string): BursarError {
  return new BursarError(ApprovalErrorCode.NOT_FOUND, `No approval request ${id}`, {
    status: 404,
    details: { approvalId: id },
  });
}

function notPending(s: Stored, why?: string): BursarError {
  return new BursarError(
    ApprovalErrorCode.NOT_PENDING,
    `Approval ${s.record.id} is ${why ?? s.status}; it can no longer change`,
    { status: 409, details: { approvalId: s.record.id, status: s.status } },
  );
}

function consumedError(s: Stored): BursarError {
  return new BursarError(
    ApprovalErrorCode.CONSUMED,
    `Approval ${s.record.id} was already used for a final decision; an approval is single-use`,
    { status: 409, details: { approvalId: s.record.id } },
  );
}

function conflict(id: string): BursarError {
  return new BursarError(ErrorCode.CONFLICT, `Approval ${id} kept changing concurrently; try again`, {
    status: 409,
    details: { approvalId: id },
  });
}

function closedError(): BursarError {
  return new BursarError(
    ApprovalErrorCode.CLOSED,
    'The ApprovalManager was closed; it takes no new requests',
  );
}

function parseArg<T extends z.ZodType>(schema: T, value: unknown, method: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = toIssues(r.error.issues);
    throw new ValidationError(
      ErrorCode.INVALID_ARGUMENT,
      `Invalid ${method} argument: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return r.data;
}
