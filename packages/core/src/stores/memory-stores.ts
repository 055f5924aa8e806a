import { BursarError, ErrorCode } from '../errors/index.js';
import { MemorySpendStore } from './memory-spend-store.js';
import { MinHeap } from './min-heap.js';
import type {
  AgentState,
  AgentStateStore,
  ApprovalRecord,
  ApprovalStore,
  AuditRecord,
  AuditStore,
  BursarStores,
  IdempotencyBegin,
  IdempotencyStore,
  KillSwitch,
  KillSwitchScope,
} from './other-stores.js';

/** Deep-freezes a JSON-like value in place and returns it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

interface IdemEntry {
  fingerprint: string;
  status: 'in_progress' | 'completed';
  value?: unknown;
  expiresAt: number;
}

/** In-memory idempotency records, forgotten after their TTL. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, IdemEntry>();
  readonly #gc = new MinHeap<string>();

  async begin(args: {
    key: string;
    fingerprint: string;
    now: number;
    ttlMs: number;
  }): Promise<IdempotencyBegin> {
    this.#sweep(args.now);
    const entry = this.#entries.get(args.key);
    if (entry && entry.expiresAt > args.now) {
      return entry.status === 'completed'
        ? { status: 'completed', fingerprint: entry.fingerprint, value: entry.value }
        : { status: 'in_progress', fingerprint: entry.fingerprint };
    }
    const expiresAt = args.now + args.ttlMs;
    this.#entries.set(args.key, { fingerprint: args.fingerprint, status: 'in_progress', expiresAt });
    this.#gc.push(expiresAt, args.key);
    return { status: 'started' };
  }

  async complete(args: { key: string; value: unknown; now: number; ttlMs: number }): Promise<void> {
    const entry = this.#entries.get(args.key);
    if (!entry) {
      throw new BursarError(ErrorCode.NOT_FOUND, `Idempotency key ${args.key} was not started`);
    }
    entry.status = 'completed';
    entry.value = deepFreeze(structuredClone(args.value));
    entry.expiresAt = args.now + args.ttlMs;
    this.#gc.push(entry.expiresAt, args.key);
  }

  async abandon(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry?.status === 'in_progress') this.#entries.delete(key);
  }

  #sweep(now: number): void {
    const gc = this.#gc;
    while (gc.size > 0 && gc.peekAt() <= now) {
      const key = gc.pop()!;
      const e = this.#entries.get(key);
      if (e && e.expiresAt <= now) this.#entries.delete(key);
    }
  }
}

/** Options of {@link MemoryApprovalStore}. */
export interface MemoryApprovalStoreOptions {
  /**
   * How long a record that is no longer pending (approved, rejected, expired, consumed) stays
   * readable, counted from its `expiresAt` (ms). Default 24 hours. Keep it longer than the
   * engine's `holdTtlMs`: an approved request that is forgotten can no longer be completed.
   */
  resolvedRetentionMs?: number;
}

const DEFAULT_APPROVAL_RETENTION_MS = 86_400_000;

/** When a pending record needs attention. */
const dueOf = (r: ApprovalRecord): number => r.dueAt ?? r.expiresAt;

/**
 * In-memory approval records with compare-and-set updates. Pending records are indexed by
 * due time, so `listDue` costs what it returns; records that are no longer pending are
 * forgotten `resolvedRetentionMs` after their expiry, so memory does not grow with history.
 * Time comes from the callers (`createdAt` of new records, `now` of `listDue`).
 */
export class MemoryApprovalStore implements ApprovalStore {
  readonly #records = new Map<string, ApprovalRecord>();
  /** Pending records by due time. An entry whose record moved on is dropped when reached. */
  readonly #due = new MinHeap<string>();
  /** Resolved records by when they may be forgotten. */
  readonly #gc = new MinHeap<string>();
  readonly #retention: number;

  constructor(options: MemoryApprovalStoreOptions = {}) {
    const retention = options?.resolvedRetentionMs ?? DEFAULT_APPROVAL_RETENTION_MS;
    if (typeof retention !== 'number' || !Number.isFinite(retention) || retention < 0) {
      throw new BursarError(
        ErrorCode.INVALID_OPTIONS,
        `MemoryApprovalStore: resolvedRetentionMs must be a non-negative number of ms; got ${String(retention)}`,
      );
    }
    this.#retention = retention;
  }

  async create(record: ApprovalRecord): Promise<void> {
    this.#evict(record.createdAt);
    if (this.#records.has(record.id)) {
      throw new BursarError(ErrorCode.CONFLICT, `Approval ${record.id} already exists`, { status: 409 });
    }
    const stored = deepFreeze(structuredClone(record));
    this.#records.set(record.id, stored);
    this.#index(stored, undefined);
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    return this.#records.get(id);
  }

  async update(record: ApprovalRecord, expectedVersion: number): Promise<boolean> {
    const current = this.#records.get(record.id);
    if (!current) throw new BursarError(ErrorCode.NOT_FOUND, `No approval ${record.id}`, { status: 404 });
    if (current.version !== expectedVersion) return false;
    if (record.version !== expectedVersion + 1) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `Approval update must set version ${expectedVersion + 1}`,
      );
    }
    const stored = deepFreeze(structuredClone(record));
    this.#records.set(record.id, stored);
    this.#index(stored, current);
    return true;
  }

  async list(args: { state?: string; limit?: number } = {}): Promise<ApprovalRecord[]> {
    const out: ApprovalRecord[] = [];
    const limit = args.limit ?? Number.POSITIVE_INFINITY;
    for (const r of this.#records.values()) {
      if (out.length >= limit) break;
      if (args.state === undefined || r.state === args.state) out.push(r);
    }
    return out;
  }

  async listDue(args: { now: number; limit?: number }): Promise<ApprovalRecord[]> {
    const { now } = args;
    const limit = args.limit ?? Number.POSITIVE_INFINITY;
    this.#evict(now);
    const out: ApprovalRecord[] = [];
    const seen = new Set<string>();
    const due: Array<{ at: number; id: string }> = [];
    const heap = this.#due;
    while (heap.size > 0 && heap.peekAt() <= now && out.length < limit) {
      const top = { at: heap.peekAt(), id: heap.pop()! };
      if (seen.has(top.id) || this.#stale(top.at, top.id)) continue;
      seen.add(top.id);
      out.push(this.#records.get(top.id)!);
      due.push(top);
    }
    // Still due until the caller changes them: keep them indexed.
    for (const entry of due) heap.push(entry.at, entry.id);
    return out;
  }

  /** Numbers of records kept and of due-index entries (for memory checks). */
  stats(): { records: number; dueIndex: number } {
    return { records: this.#records.size, dueIndex: this.#due.size };
  }

  /** Resolved, forgotten or re-scheduled since this entry was made. */
  #stale(at: number, id: string): boolean {
    const r = this.#records.get(id);
    return r?.state !== 'pending' || dueOf(r) !== at;
  }

  #index(record: ApprovalRecord, previous: ApprovalRecord | undefined): void {
    if (record.state === 'pending') {
      if (previous?.state !== 'pending' || dueOf(previous) !== dueOf(record)) {
        this.#due.push(dueOf(record), record.id);
      }
    } else if (!previous || previous.state === 'pending') {
      this.#gc.push(record.expiresAt + this.#retention, record.id);
    }
  }

  #evict(now: number): void {
    // Index entries of requests resolved before they fell due: drop them from the top.
    const due = this.#due;
    while (due.size > 0 && due.peekAt() <= now && this.#stale(due.peekAt(), due.peek()!)) {
      due.pop();
    }
    const gc = this.#gc;
    while (gc.size > 0 && gc.peekAt() <= now) {
      const id = gc.pop()!;
      const r = this.#records.get(id);
      if (r && r.state !== 'pending' && r.expiresAt + this.#retention <= now) this.#records.delete(id);
    }
  }
}

/** In-memory append-only audit log. Records are frozen copies; nothing can be edited through the API. */
export class MemoryAuditStore implements AuditStore {
  readonly #records: AuditRecord[] = [];

  async head(): Promise<{ seq: number; hash: string } | null> {
    const last = this.#records[this.#records.length - 1];
    return last ? { seq: last.seq, hash: last.hash } : null;
  }

  async append(record: AuditRecord): Promise<void> {
    const last = this.#records[this.#records.length - 1];
    const expectedSeq = last ? last.seq + 1 : 1;
    if (record.seq !== expectedSeq || (last && record.prevHash !== last.hash)) {
      throw new BursarError(
        ErrorCode.CONFLICT,
        `Audit append out of order: expected seq ${expectedSeq}${last ? ` after ${last.hash.slice(0, 12)}…` : ''}`,
        { details: { expectedSeq, gotSeq: record.seq } },
      );
    }
    this.#records.push(deepFreeze(structuredClone(record)));
  }

  async read(args: { fromSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const from = Math.max(1, args.fromSeq ?? 1);
    const limit = args.limit ?? Number.POSITIVE_INFINITY;
    return this.#records.slice(from - 1, Number.isFinite(limit) ? from - 1 + limit : undefined);
  }
}

/** In-memory agent state, risk counters, strikes and kill switches. */
export class MemoryAgentStateStore implements AgentStateStore {
  readonly #agents = new Map<string, AgentState>();
  readonly #risk = new Map<string, { total: number; retainUntil: number }>();
  readonly #riskGc = new MinHeap<string>();
  readonly #strikes = new Map<string, number[]>();
  readonly #switches = new Map<string, KillSwitch>();

  async getAgent(agentId: string): Promise<AgentState> {
    return this.getAgentSync(agentId);
  }

  /** Synchronous form of {@link getAgent}. */
  getAgentSync(agentId: string): AgentState {
    return this.#agents.get(agentId) ?? { agentId, suspended: false };
  }

  async addRisk(args: {
    key: string;
    points: number;
    threshold: number;
    retainUntil: number;
    now: number;
  }): Promise<{ ok: boolean; total: number }> {
    this.#sweepRisk(args.now);
    let entry = this.#risk.get(args.key);
    const total = entry?.total ?? 0;
    if (args.points > 0 && total + args.points > args.threshold) return { ok: false, total };
    if (!entry) {
      entry = { total: 0, retainUntil: args.retainUntil };
      this.#risk.set(args.key, entry);
      this.#riskGc.push(args.retainUntil, args.key);
    }
    entry.total = Math.max(0, total + args.points);
    return { ok: true, total: entry.total };
  }

  async getRisk(key: string, now: number): Promise<number> {
    this.#sweepRisk(now);
    return this.#risk.get(key)?.total ?? 0;
  }

  async resetRisk(key: string): Promise<void> {
    this.#risk.delete(key);
  }

  async recordStrike(args: {
    agentId: string;
    now: number;
    windowMs: number;
    max: number;
    actor: string;
  }): Promise<{ strikes: number; suspended: boolean; newlySuspended: boolean }> {
    const kept = (this.#strikes.get(args.agentId) ?? []).filter((t) => t > args.now - args.windowMs);
    kept.push(args.now);
    // Only the last `max` strikes can matter: memory stays bounded.
    while (kept.length > Math.max(1, args.max)) kept.shift();
    this.#strikes.set(args.agentId, kept);
    const agent = await this.getAgent(args.agentId);
    if (!agent.suspended && kept.length >= args.max) {
      this.#agents.set(args.agentId, {
        agentId: args.agentId,
        suspended: true,
        suspendedAt: args.now,
        suspendedBy: args.actor,
        suspendReason: `${kept.length} denied attempts within ${args.windowMs} ms`,
      });
      return { strikes: kept.length, suspended: true, newlySuspended: true };
    }
    return { strikes: kept.length, suspended: agent.suspended, newlySuspended: false };
  }

  async getStrikes(agentId: string, now: number, windowMs: number): Promise<number> {
    return (this.#strikes.get(agentId) ?? []).filter((t) => t > now - windowMs).length;
  }

  async setSuspended(args: {
    agentId: string;
    suspended: boolean;
    actor: string;
    reason?: string;
    now: number;
  }): Promise<AgentState> {
    const state: AgentState = args.suspended
      ? {
          agentId: args.agentId,
          suspended: true,
          suspendedAt: args.now,
          suspendedBy: args.actor,
          ...(args.reason !== undefined ? { suspendReason: args.reason } : {}),
        }
      : { agentId: args.agentId, suspended: false };
    if (args.suspended) this.#agents.set(args.agentId, state);
    else {
      this.#agents.delete(args.agentId);
      this.#strikes.delete(args.agentId);
    }
    return state;
  }

  async setKillSwitch(args: {
    scope: KillSwitchScope;
    target?: string;
    engaged: boolean;
    actor: string;
    reason?: string;
    now: number;
  }): Promise<void> {
    const key = `${args.scope}|${args.target ?? ''}`;
    if (!args.engaged) {
      this.#switches.delete(key);
      return;
    }
    this.#switches.set(key, {
      scope: args.scope,
      ...(args.target !== undefined ? { target: args.target } : {}),
      actor: args.actor,
      ...(args.reason !== undefined ? { reason: args.reason } : {}),
      at: args.now,
    });
  }

  async listKillSwitches(): Promise<KillSwitch[]> {
    return this.listKillSwitchesSync();
  }

  /** Synchronous form of {@link listKillSwitches}. */
  listKillSwitchesSync(): KillSwitch[] {
    // Asked on every decision, and usually nothing is engaged: no iterator then.
    return this.#switches.size === 0 ? [] : [...this.#switches.values()];
  }

  #sweepRisk(now: number): void {
    const gc = this.#riskGc;
    while (gc.size > 0 && gc.peekAt() < now) {
      const at = gc.peekAt();
      const key = gc.pop()!;
      const e = this.#risk.get(key);
      if (e && e.retainUntil <= at) this.#risk.delete(key);
    }
  }
}

/** A fresh set of in-memory stores: the zero-config default. */
export function createMemoryStores(): BursarStores {
  return {
    spend: new MemorySpendStore(),
    idempotency: new MemoryIdempotencyStore(),
    approvals: new MemoryApprovalStore(),
    audit: new MemoryAuditStore(),
    agents: new MemoryAgentStateStore(),
  };
}
