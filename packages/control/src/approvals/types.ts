import type { Clock, Outcome, PolicyRef, Reason } from '@bursar/core';
import type { PolicyEngine } from '../engine/policy-engine.js';

/**
 * Where a request stands. `pending` waits for votes; `approved` waits for `complete()`;
 * `consumed` was turned into a final decision (single-use); `rejected` (by a vote, a cancel
 * or a failed channel) and `expired` end it, and their hold is released.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'consumed';

/** One approver's vote. */
export interface ApprovalVote {
  /** Who voted (the operator's actor unless the caller named the approver). */
  approver: string;
  approve: boolean;
  /** Which channel carried the vote (`api`, `terminal`, `webhook`, `system`, …). */
  channel: string;
  reason?: string;
  /** Epoch ms. */
  at: number;
  /** The routing level the vote counts for. */
  level: string;
}

/** How a request left `pending`. */
export interface ApprovalResolution {
  /** `votes`: quorum or a rejection; `expiry`; `cancelled` by an operator; `channel_error`. */
  kind: 'votes' | 'expiry' | 'cancelled' | 'channel_error';
  /** The approver, operator or `system:*` actor that ended it. */
  by: string;
  channel?: string;
  reason?: string;
  at: number;
}

/**
 * What anyone, the requesting agent included, may see of a request. It carries no approver
 * context: that goes to approvers only ({@link ApproverView}).
 */
export interface ApprovalView {
  id: string;
  status: ApprovalStatus;
  agentId: string;
  action: string;
  /** Exact decimal string of `currency`; absent for tool calls without an amount. */
  amount?: string;
  currency?: string;
  recipient?: string;
  /** The canonical hash of the exact intent this request is bound to. */
  intentHash: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; no later than the hold's own expiry. */
  expiresAt: number;
  /** The routing level that decides now (`default` without routing). */
  level: string;
  /** Approvals the current level needs (its quorum). */
  required: number;
  votes: ApprovalVote[];
  resolution?: ApprovalResolution;
  consumedAt?: number;
  /** The outcome `complete()` returned. */
  finalOutcome?: Outcome;
}

/** What an approver sees: the agent-safe view plus the full intent, the reasons and context. */
export interface ApproverView extends ApprovalView {
  holdId: string;
  protocol?: string;
  network?: string;
  /** The agent's stated purpose (agent-asserted: read it as a claim, not a fact). */
  purpose?: string;
  params: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** Why approval is required: the reasons of the `require_approval` decision. */
  reasons: Reason[];
  policies: PolicyRef[];
  /** Who may vote at the current level (absent: any operator-authorised approver). */
  approvers?: string[];
  /** When the current level escalates (or the request expires, on the last level). */
  levelDeadline?: number;
  /** What each context provider added, by provider name. Never shown to the agent. */
  context: Record<string, unknown>;
}

/** A channel's vote: the channel's name is recorded as the vote's channel. */
export interface ChannelVote {
  approver: string;
  approve: boolean;
  reason?: string;
}

/** What a channel gets with each request. */
export interface ChannelContext {
  /**
   * Casts a vote through the manager, with the same checks as `vote()` (routing, distinct
   * approvers, self-approval, expiry). Channels are configured by the operator, so they need
   * no operator capability of their own.
   */
  vote(vote: ChannelVote): Promise<ApprovalView>;
  /** Aborted when the request leaves its level (resolved, escalated, expired) or the manager closes. */
  signal: AbortSignal;
  /** The manager's clock. */
  clock: Clock;
}

/** The verdict a signed callback carries. */
export interface CallbackVerdict {
  approvalId: string;
  approver: string;
  approve: boolean;
  reason?: string;
}

/** Why a callback was refused (signature checks come from core's `verifyWebhook`). */
export type CallbackFailure =
  | 'missing_header'
  | 'malformed_header'
  | 'timestamp_out_of_tolerance'
  | 'signature_mismatch'
  | 'invalid_body';

/** The result of a channel checking a callback. */
export type CallbackVerification =
  | { ok: true; verdict: CallbackVerdict }
  | { ok: false; reason: CallbackFailure };

/**
 * A way to reach approvers. Implement it to add one (chat, e-mail, pager): `notify` is called
 * in the background for every new request (and again when a request escalates), never on the
 * decision path, so a slow or failing channel cannot hang the engine. A channel either
 * collects the verdict itself and calls `context.vote`, or only delivers the request and lets
 * the verdict arrive another way (the API, a signed callback). A rejected promise is a
 * delivery failure (see the manager's `onChannelError`); stop work when `context.signal`
 * aborts.
 */
export interface ApprovalChannel {
  /** Unique among the manager's channels; recorded on the votes it carries. */
  readonly name: string;
  notify(request: ApproverView, context: ChannelContext): Promise<void>;
  /**
   * Optional: checks a signed callback for `handleWebhookCallback` (the webhook channel
   * implements it). Must not throw.
   */
  verifyCallback?(input: {
    header: string | null | undefined;
    body: string;
    now: number;
  }): CallbackVerification;
}

/** What a context provider is asked about: the request without context. */
export type ContextRequest = Omit<ApproverView, 'context'>;

/**
 * Adds what an approver needs to decide (balance, remaining budgets, recent spend with this
 * recipient, anomaly signals). Its result is shown to approvers only, never to the agent.
 * Return JSON-safe data; a throw or a timeout shows as `{ error }` under the provider's name.
 */
export interface ContextProvider {
  readonly name: string;
  provide(
    request: ContextRequest,
    tools: { engine: PolicyEngine; now: number; signal: AbortSignal },
  ): unknown | Promise<unknown>;
}

/** Every approval event carries the time and the agent-safe view after the change. */
export interface ApprovalEvent {
  at: number;
  approval: ApprovalView;
}

/**
 * The approval lifecycle on `approvals.events`: every state change, and every channel
 * delivery or failure. The engine's bus also
 * gets core's `approval.requested` and `approval.resolved`.
 */
export interface ApprovalEventMap {
  'approval.requested': ApprovalEvent;
  'approval.voted': ApprovalEvent & { vote: ApprovalVote };
  'approval.escalated': ApprovalEvent & { from: string; to: string };
  'approval.resolved': ApprovalEvent;
  'approval.consumed': ApprovalEvent & { finalOutcome: Outcome };
  /** A channel's `notify` finished without error (delivered; for terminal and handler: answered or abstained). */
  'approval.notified': { at: number; approvalId: string; channel: string; level: string };
  'approval.channel_failed': { at: number; approvalId: string; channel: string; error: unknown };
  'listener.error': { event: string; error: unknown };
}
