// The PaymentIndex as it was before its records moved into chunked columns (plus one fix: a
// payment's replaced key stays among its aliases when two chains join), the reference model its
// property test holds the current one to. Not shipped; tests only.
import type { AuditRecord } from '@bursar/core';

interface PaymentEntry {
  /** The best id of the payment: its intent id when known. */
  key: string;
  /** Rank of `key` in ID_FIELDS (lower is better). */
  keyRank: number;
  /** Seqs of the payment's records, ascending. */
  seqs: number[];
  /** `at` of the payment's first record: the start its durations are measured from. */
  firstAt: number;
  /** Every id that names this payment; undefined while `key` is the only one (the usual case). */
  aliases: string[] | undefined;
}

interface TimeIndex {
  /** Ascending record times, parallel to `seqs`. */
  ats: number[];
  seqs: number[];
}

/** The data fields that name a payment, in order of preference for its key. */
const ID_FIELDS = ['intentId', 'paymentId', 'holdId', 'approvalId'] as const;

/**
 * In-memory indexes over the provenance log: one payment's records (joined through any of its
 * intent, hold, approval or payment ids), an agent's records sorted by time, and the approval
 * records of each approver. Each append costs O(1) amortised (a sorted insert only when a
 * clock steps back); queries never scan the log.
 */
export class ReferencePaymentIndex {
  readonly #byAlias = new Map<string, PaymentEntry>();
  readonly #byAgent = new Map<string, TimeIndex>();
  readonly #byApprover = new Map<string, TimeIndex>();

  /** Adds a record (records arrive in seq order). */
  add(record: AuditRecord): void {
    const d = record.data as Record<string, unknown>;
    const intentId = d.intentId;
    const paymentId = d.paymentId;
    const holdId = d.holdId;
    const approvalId = d.approvalId;
    let entry: PaymentEntry | undefined;
    if (
      typeof intentId === 'string' &&
      intentId.length > 0 &&
      paymentId === undefined &&
      holdId === undefined &&
      approvalId === undefined
    ) {
      // The common case: one id. One lookup, no alias bookkeeping.
      entry = this.#byAlias.get(intentId);
      if (entry === undefined) {
        // Built whole (seqs included) in one literal: the cheapest shape to create and keep.
        this.#byAlias.set(intentId, {
          key: intentId,
          keyRank: 0,
          seqs: [record.seq],
          firstAt: record.at,
          aliases: undefined,
        });
      } else {
        entry.seqs.push(record.seq);
      }
    } else {
      entry = this.#paymentFor([intentId, paymentId, holdId, approvalId], record.at);
      if (entry) entry.seqs.push(record.seq);
    }
    const agentId = d.agentId;
    if (typeof agentId === 'string') insertTimed(this.#byAgent, agentId, record.at, record.seq);
    if (d.approvers !== undefined || d.approver !== undefined) {
      for (const approver of approversOf(d)) insertTimed(this.#byApprover, approver, record.at, record.seq);
    }
  }

  /** The payment key (its first id) an id belongs to. */
  keyOf(id: string): string | undefined {
    return this.#byAlias.get(id)?.key;
  }

  /** `at` of the first record of the payment some of these ids name, if it is known. */
  firstAtOf(data: Readonly<Record<string, unknown>>): number | undefined {
    for (const field of ID_FIELDS) {
      const id = data[field];
      if (typeof id === 'string') {
        const entry = this.#byAlias.get(id);
        if (entry) return entry.firstAt;
      }
    }
    return undefined;
  }

  /** Seqs of one payment's records, ascending (empty when unknown). */
  paymentSeqs(id: string): readonly number[] {
    return this.#byAlias.get(id)?.seqs ?? [];
  }

  /** Seqs of an agent's records with `from ≤ at < to`, in time order. */
  agentSeqs(agentId: string, from: number, to: number): number[] {
    return rangeOf(this.#byAgent.get(agentId), from, to);
  }

  /** Seqs of the records naming `approver`, with `from ≤ at < to`. */
  approverSeqs(approver: string, from: number, to: number): number[] {
    return rangeOf(this.#byApprover.get(approver), from, to);
  }

  /** The payment these ids (intent, payment, hold, approval; in that order) name, joining chains as needed. */
  #paymentFor(ids: readonly unknown[], at: number): PaymentEntry | undefined {
    let entry: PaymentEntry | undefined;
    let firstId: string | undefined;
    let firstRank = 0;
    for (let rank = 0; rank < ids.length; rank++) {
      const id = ids[rank];
      if (typeof id !== 'string' || id.length === 0) continue;
      if (firstId === undefined) {
        firstId = id;
        firstRank = rank;
      }
      const known = this.#byAlias.get(id);
      if (known === undefined) continue;
      if (entry === undefined) entry = known;
      else if (known !== entry) entry = this.#merge(entry, known);
    }
    if (firstId === undefined) return undefined;
    entry ??= { key: firstId, keyRank: firstRank, seqs: [], firstAt: at, aliases: undefined };
    for (let rank = 0; rank < ids.length; rank++) {
      const id = ids[rank];
      if (typeof id === 'string' && id.length > 0 && this.#byAlias.get(id) !== entry) {
        this.#byAlias.set(id, entry);
        if (id !== entry.key) addAlias(entry, id);
      }
    }
    if (firstRank < entry.keyRank) {
      // A better id (an intent id) names the payment from now on; the old key stays an alias.
      addAlias(entry, entry.key);
      entry.key = firstId;
      entry.keyRank = firstRank;
    }
    return entry;
  }

  /** Two chains turned out to be one payment (a record named ids of both): join them. */
  #merge(a: PaymentEntry, b: PaymentEntry): PaymentEntry {
    const [keep, drop] = a.seqs.length >= b.seqs.length ? [a, b] : [b, a];
    keep.seqs = mergeSorted(keep.seqs, drop.seqs);
    keep.firstAt = Math.min(keep.firstAt, drop.firstAt);
    if (drop.keyRank < keep.keyRank) {
      addAlias(keep, keep.key); // fixed here too: the old key stays an alias (it was dropped before)
      keep.key = drop.key;
      keep.keyRank = drop.keyRank;
    }
    for (const alias of drop.aliases ?? [drop.key]) {
      addAlias(keep, alias);
      this.#byAlias.set(alias, keep);
    }
    return keep;
  }
}

/** Records `id` as one more name of the payment (its key is always one). */
function addAlias(entry: PaymentEntry, id: string): void {
  entry.aliases ??= [entry.key];
  if (!entry.aliases.includes(id)) entry.aliases.push(id);
}

function approversOf(d: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (Array.isArray(d.approvers)) {
    for (const a of d.approvers) if (typeof a === 'string' && !out.includes(a)) out.push(a);
  }
  if (typeof d.approver === 'string' && !out.includes(d.approver)) out.push(d.approver);
  return out;
}

function insertTimed(map: Map<string, TimeIndex>, key: string, at: number, seq: number): void {
  let idx = map.get(key);
  if (!idx) {
    idx = { ats: [], seqs: [] };
    map.set(key, idx);
  }
  const n = idx.ats.length;
  if (n === 0 || idx.ats[n - 1]! <= at) {
    idx.ats.push(at);
    idx.seqs.push(seq);
    return;
  }
  // The clock stepped back: keep the index sorted by time.
  const i = upperBound(idx.ats, at);
  idx.ats.splice(i, 0, at);
  idx.seqs.splice(i, 0, seq);
}

function rangeOf(idx: TimeIndex | undefined, from: number, to: number): number[] {
  if (!idx) return [];
  const start = lowerBound(idx.ats, from);
  const end = lowerBound(idx.ats, to);
  return idx.seqs.slice(start, end);
}

/** First index with ats[i] ≥ value. */
function lowerBound(ats: number[], value: number): number {
  let lo = 0;
  let hi = ats.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ats[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with ats[i] > value. */
function upperBound(ats: number[], value: number): number {
  let lo = 0;
  let hi = ats.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ats[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeSorted(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i]! <= b[j]! ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
