/** Outcome of starting an idempotent operation. */
export type IdempotencyBegin =
  | { status: 'started' }
  | { status: 'in_progress'; fingerprint: string }
  | { status: 'completed'; fingerprint: string; value: unknown };

/**
 * Idempotency records: the first caller of a key starts the work; later callers see it in
 * progress or get its stored result. The store only compares; callers decide that the same
 * key with another fingerprint is a conflict.
 */
export interface IdempotencyStore {
  /** Atomically creates the record when absent (or expired), otherwise reports it. */
  begin(args: { key: string; fingerprint: string; now: number; ttlMs: number }): Promise<IdempotencyBegin>;
  /** Stores the JSON-safe result of a started key. */
  complete(args: { key: string; value: unknown; now: number; ttlMs: number }): Promise<void>;
  /** Forgets a started key (the work failed before any effect), so it may be tried again. */
  abandon(key: string): Promise<void>;
}

/** An approval request as stored. Control owns what is inside `data`. */
export interface ApprovalRecord {
  id: string;
  state: string;
  /** Incremented by every update: the compare-and-set token. */
  version: number;
  agentId: string;
  intentHash: string;
  createdAt: number;
  expiresAt: number;
  /**
   * When a pending record next needs attention: its expiry, or an earlier deadline such as an
   * escalation (default `expiresAt`). Stores index pending records by it for `listDue`.
   */
  dueAt?: number;
  data: Readonly<Record<string, unknown>>;
}

export interface ApprovalStore {
  /** Throws `ERR_BURSAR_CONFLICT` when the id exists. */
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /**
   * Replaces the record if its stored version is still `expectedVersion` (the new record's
   * version must be `expectedVersion + 1`). Returns false when someone else won.
   */
  update(record: ApprovalRecord, expectedVersion: number): Promise<boolean>;
  /** Records in a state, oldest first. */
  list(args?: { state?: string; limit?: number }): Promise<ApprovalRecord[]>;
  /**
   * Pending records whose `dueAt` (else `expiresAt`) is at or before `now`, soonest first, at
   * most `limit`. Its cost must depend on the records it returns, not on how many records
   * exist: index pending records by due time (a sorted index, a min-heap). The approval
   * sweep calls it every few seconds.
   */
  listDue(args: { now: number; limit?: number }): Promise<ApprovalRecord[]>;
}

/** One hash-linked audit record. */
export interface AuditRecord {
  /** 1, 2, 3 … without gaps. */
  seq: number;
  at: number;
  type: string;
  data: Readonly<Record<string, unknown>>;
  /** Hash of the previous record (the genesis value for seq 1). */
  prevHash: string;
  hash: string;
}

export interface AuditStore {
  /** The last record's seq and hash, or null for an empty log. */
  head(): Promise<{ seq: number; hash: string } | null>;
  /**
   * Appends atomically if `record.seq` is head.seq + 1 (1 when empty) and `prevHash` is the
   * head's hash; otherwise throws `ERR_BURSAR_CONFLICT` and writes nothing. Never overwrites.
   */
  append(record: AuditRecord): Promise<void>;
  /** Records from `fromSeq` (default 1), at most `limit`, in order. Readers get copies. */
  read(args?: { fromSeq?: number; limit?: number }): Promise<AuditRecord[]>;
}

export type KillSwitchScope = 'global' | 'agent' | 'recipient' | 'action';

export interface KillSwitch {
  scope: KillSwitchScope;
  /** The agent id, recipient or action glob; absent for `global`. */
  target?: string;
  actor: string;
  reason?: string;
  at: number;
}

export interface AgentState {
  agentId: string;
  suspended: boolean;
  suspendedAt?: number;
  suspendedBy?: string;
  suspendReason?: string;
}

/**
 * Per-agent state: cumulative risk, strikes, suspension, and kill switches. Each mutation
 * is one atomic operation.
 */
export interface AgentStateStore {
  getAgent(agentId: string): Promise<AgentState>;
  /**
   * Adds `points` to the risk counter `key` if the total stays ≤ `threshold`; returns the
   * total after (or the unchanged total when refused). Negative points undo an earlier add
   * (always accepted; the total never goes below 0).
   */
  addRisk(args: {
    key: string;
    points: number;
    threshold: number;
    retainUntil: number;
    now: number;
  }): Promise<{ ok: boolean; total: number }>;
  getRisk(key: string, now: number): Promise<number>;
  resetRisk(key: string): Promise<void>;
  /**
   * Records a strike at `now`, drops strikes older than `windowMs`, and suspends the agent
   * when `max` strikes are inside the window. Returns the count and the suspension state.
   */
  recordStrike(args: {
    agentId: string;
    now: number;
    windowMs: number;
    max: number;
    actor: string;
  }): Promise<{ strikes: number; suspended: boolean; newlySuspended: boolean }>;
  /** Strikes inside the window ending at `now`. */
  getStrikes(agentId: string, now: number, windowMs: number): Promise<number>;
  setSuspended(args: {
    agentId: string;
    suspended: boolean;
    actor: string;
    reason?: string;
    now: number;
  }): Promise<AgentState>;
  setKillSwitch(args: {
    scope: KillSwitchScope;
    target?: string;
    engaged: boolean;
    actor: string;
    reason?: string;
    now: number;
  }): Promise<void>;
  listKillSwitches(): Promise<KillSwitch[]>;
}

import type { SpendStore } from './spend-store.js';

/** Every store Bursar uses; engines take this bundle. */
export interface BursarStores {
  spend: SpendStore;
  idempotency: IdempotencyStore;
  approvals: ApprovalStore;
  audit: AuditStore;
  agents: AgentStateStore;
}
