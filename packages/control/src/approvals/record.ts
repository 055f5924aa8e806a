import type { ApprovalRecord, Outcome, PolicyRef, Reason } from '@bursar/core';
import type { ApprovalLevel } from './options.js';
import type {
  ApprovalResolution,
  ApprovalStatus,
  ApprovalView,
  ApprovalVote,
  ContextRequest,
} from './types.js';

/** The intent a request is bound to, as stored (amount as an exact decimal string). */
export interface StoredIntent {
  intentId: string;
  action: string;
  amount?: string;
  currency?: string;
  recipient?: string;
  protocol?: string;
  network?: string;
  purpose?: string;
  params: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** What the manager keeps in `ApprovalRecord.data`. JSON-safe. */
export interface RequestData {
  holdId: string;
  intent: StoredIntent;
  reasons: Reason[];
  policies: PolicyRef[];
  /** The routing levels at creation, so a request keeps its rules across restarts. */
  levels: ApprovalLevel[];
  levelIndex: number;
  levelStartedAt: number;
  levelDeadline?: number;
  votes: ApprovalVote[];
  resolution?: ApprovalResolution;
  consumedAt?: number;
  finalOutcome?: Outcome;
  /** Identifies "the same request" for the rejection cool-down. */
  cooldownKey: string;
}

/** A stored request with its data typed. */
export interface Stored {
  record: ApprovalRecord;
  status: ApprovalStatus;
  data: RequestData;
}

const STATUSES = new Set<string>(['pending', 'approved', 'rejected', 'expired', 'consumed']);

/** Reads a store record; a record this manager did not write is refused. */
export function readRecord(record: ApprovalRecord): Stored {
  const data = record.data as unknown as RequestData;
  if (
    !STATUSES.has(record.state) ||
    typeof data?.holdId !== 'string' ||
    !Array.isArray(data.levels) ||
    !Array.isArray(data.votes)
  ) {
    throw new TypeError(`Approval record ${record.id} is not an approval request`);
  }
  return { record, status: record.state as ApprovalStatus, data };
}

/** A new record version with `status` and `data`, for compare-and-set. */
export function nextRecord(current: Stored, status: ApprovalStatus, data: RequestData): ApprovalRecord {
  return {
    ...current.record,
    state: status,
    version: current.record.version + 1,
    dueAt: dueAt(current.record.expiresAt, data),
    data: data as unknown as Record<string, unknown>,
  };
}

/**
 * When a pending request next needs the sweep: its level's deadline (escalation), else its
 * expiry. Stores index pending records by it, so a sweep costs the requests that are due.
 */
export function dueAt(expiresAt: number, data: Pick<RequestData, 'levelDeadline'>): number {
  return data.levelDeadline === undefined ? expiresAt : Math.min(data.levelDeadline, expiresAt);
}

/** The level a request is at. */
export function currentLevel(data: RequestData): ApprovalLevel {
  return data.levels[data.levelIndex]!;
}

/** The agent-safe view. */
export function toView(s: Stored): ApprovalView {
  const { record, data } = s;
  const level = currentLevel(data);
  return {
    id: record.id,
    status: s.status,
    agentId: record.agentId,
    action: data.intent.action,
    ...(data.intent.amount !== undefined ? { amount: data.intent.amount } : {}),
    ...(data.intent.currency !== undefined ? { currency: data.intent.currency } : {}),
    ...(data.intent.recipient !== undefined ? { recipient: data.intent.recipient } : {}),
    intentHash: record.intentHash,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    level: level.name,
    required: level.quorum,
    votes: data.votes.map((v) => ({ ...v })),
    ...(data.resolution ? { resolution: { ...data.resolution } } : {}),
    ...(data.consumedAt !== undefined ? { consumedAt: data.consumedAt } : {}),
    ...(data.finalOutcome !== undefined ? { finalOutcome: data.finalOutcome } : {}),
  };
}

/** The approver view without context (what context providers are asked about). */
export function toContextRequest(s: Stored): ContextRequest {
  const { data } = s;
  const level = currentLevel(data);
  const i = data.intent;
  return {
    ...toView(s),
    holdId: data.holdId,
    ...(i.protocol !== undefined ? { protocol: i.protocol } : {}),
    ...(i.network !== undefined ? { network: i.network } : {}),
    ...(i.purpose !== undefined ? { purpose: i.purpose } : {}),
    params: structuredClone(i.params),
    metadata: structuredClone(i.metadata),
    reasons: structuredClone(data.reasons),
    policies: data.policies.map((p) => ({ ...p })),
    ...(level.approvers ? { approvers: [...level.approvers] } : {}),
    ...(data.levelDeadline !== undefined ? { levelDeadline: data.levelDeadline } : {}),
  };
}

/** Approvals at the current level. */
export function approvalsAtLevel(data: RequestData): ApprovalVote[] {
  const name = currentLevel(data).name;
  return data.votes.filter((v) => v.level === name && v.approve);
}

/** When the current level ends: its timeout, capped by the request's expiry. */
export function levelDeadline(
  level: ApprovalLevel,
  startedAt: number,
  expiresAt: number,
): number | undefined {
  return level.timeoutMs === undefined ? undefined : Math.min(startedAt + level.timeoutMs, expiresAt);
}
