import type { AuditRecord } from '@bursar/core';
import { fastCanonicalJson } from '../chain/fast-canonical.js';

/**
 * One line of a compliance export: the fields a reviewer reads, flattened, then the full
 * record they were taken from (which is what the hashes cover). Fields the record does not
 * have are left out. Every field is derived from `record` by {@link toExportRow}, and the
 * verifier re-derives them, so an edited field is caught even though it is outside the hash.
 */
export interface AuditExportRow {
  seq: number;
  /** ISO-8601 time of the record. */
  time: string;
  /** The record type, e.g. `decision.made`, `approval.resolved`, `payment.settled`. */
  event: string;
  agent?: string;
  action?: string;
  /** Intent id (or payment / hold id) of the payment the record belongs to. */
  payment?: string;
  /** Exact decimal string. */
  amount?: string;
  currency?: string;
  recipient?: string;
  /** Decision outcome, or the status/resolution the record reports. */
  decision?: string;
  /** The rule that decided (first reason's rule id or code). */
  rule?: string;
  /** Who approved or acted (comma-separated when several). */
  approver?: string;
  /** Approval channel. */
  channel?: string;
  reason?: string;
  /** Milliseconds since the payment's first record. */
  durationMs?: number;
  prevHash: string;
  hash: string;
  record: AuditRecord;
}

type Data = Readonly<Record<string, unknown>>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function firstReason(d: Data): Record<string, unknown> | undefined {
  const reasons = d.reasons;
  if (!Array.isArray(reasons)) return undefined;
  const first: unknown = reasons[0];
  return typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : undefined;
}

function isoTime(at: number): string {
  const date = new Date(at);
  return Number.isFinite(date.getTime()) ? date.toISOString() : String(at);
}

/** The compliance fields of a record, in their fixed order, followed by the record. */
export function toExportRow(record: AuditRecord): AuditExportRow {
  const row = exportFields(record);
  row.record = record;
  return row as unknown as AuditExportRow;
}

/** The flattened fields, in their fixed order, without the record. */
function exportFields(record: AuditRecord): Record<string, unknown> {
  const d = record.data;
  const reason = firstReason(d);
  const approvers = Array.isArray(d.approvers)
    ? d.approvers.filter((a): a is string => typeof a === 'string').join(', ')
    : undefined;
  const row: Record<string, unknown> = { seq: record.seq, time: isoTime(record.at), event: record.type };
  const put = (key: string, value: unknown) => {
    if (value !== undefined) row[key] = value;
  };
  put('agent', str(d.agentId));
  put('action', str(d.action));
  put('payment', str(d.intentId) ?? str(d.paymentId) ?? str(d.holdId));
  put('amount', str(d.amount));
  put('currency', str(d.currency));
  put('recipient', str(d.recipient));
  put('decision', str(d.outcome) ?? str(d.status) ?? str(d.resolution));
  put('rule', str(d.ruleId) ?? str(reason?.ruleId) ?? str(reason?.code));
  put('approver', str(approvers) ?? str(d.approver) ?? str(d.resolvedBy) ?? str(d.actor));
  put('channel', str(d.channel));
  put('reason', str(d.reason) ?? str(reason?.message));
  put(
    'durationMs',
    typeof d.durationMs === 'number' && Number.isFinite(d.durationMs) ? d.durationMs : undefined,
  );
  row.prevHash = record.prevHash;
  row.hash = record.hash;
  return row;
}

/**
 * The exact text of a record's export line (without the newline): the flattened fields by
 * `JSON.stringify` in their fixed order, then `"record":` and the record's canonical JSON.
 */
export function formatExportLine(record: AuditRecord): string {
  const { seq, at, type, data, prevHash, hash } = record;
  const head = JSON.stringify(exportFields(record));
  return `${head.slice(0, -1)},"record":${fastCanonicalJson({ seq, at, type, data, prevHash, hash })}}`;
}
