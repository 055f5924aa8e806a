import type { AuditRecord } from '@bursar/core';
import { Float64Column, Int32Column, ValueColumn } from '../internal/chunked-columns.js';
import { TimeList } from '../internal/time-list.js';

/** The data fields that name a payment, in order of preference for its key. */
const ID_FIELDS = ['intentId', 'paymentId', 'holdId', 'approvalId'] as const;

/**
 * In-memory indexes over the provenance log: one payment's records (joined through any of its
 * intent, hold, approval or payment ids), an agent's records sorted by time, and the approval
 * records of each approver. Each append costs O(1) amortised (a sorted insert into one chunk
 * only when a clock steps back); queries never scan the log.
 *
 * What it keeps per record is a few bytes, not objects: records are numbered in the order they
 * are added (their ordinal), and each payment's records form a chain through a per-record
 * "previous record of the same payment" slot in chunked typed arrays. A payment is a number
 * with columns of its own (newest record, record count, first time, key); ids map to it.
 */
export class PaymentIndex {
  /** Any id of a payment → the payment's number. */
  readonly #byAlias = new Map<string, number>();
  readonly #byAgent = new Map<string, TimeList>();
  readonly #byApprover = new Map<string, TimeList>();

  /** Per record (by ordinal): its seq. */
  readonly #seq = new Float64Column();
  /** Per record: 1 + ordinal of the previous record of the same payment; 0 for the first. */
  readonly #prev = new Int32Column();
  #records = 0;

  /** Per payment: 1 + ordinal of its newest record (0 while it has none). */
  readonly #last = new Int32Column();
  /** Per payment: how many records its chain holds. */
  readonly #count = new Int32Column();
  /** Per payment: `at` of its first record, the start its durations are measured from. */
  readonly #firstAt = new Float64Column();
  /** Per payment: rank of its key in ID_FIELDS (lower is better). */
  readonly #keyRank = new Int32Column();
  /** Per payment: its best id (its intent id when known). */
  readonly #key = new ValueColumn<string>();
  /** Every id that names a payment, for the few payments with more than their key. */
  readonly #aliases = new Map<number, string[]>();
  #payments = 0;

  /** Adds a record (records arrive in seq order). */
  add(record: AuditRecord): void {
    const d = record.data as Record<string, unknown>;
    const intentId = d.intentId;
    const paymentId = d.paymentId;
    const holdId = d.holdId;
    const approvalId = d.approvalId;
    let payment: number | undefined;
    if (
      typeof intentId === 'string' &&
      intentId.length > 0 &&
      paymentId === undefined &&
      holdId === undefined &&
      approvalId === undefined
    ) {
      // The common case: one id. One lookup, no alias bookkeeping.
      payment = this.#byAlias.get(intentId);
      if (payment === undefined) {
        payment = this.#newPayment(intentId, 0, record.at);
        this.#byAlias.set(intentId, payment);
      }
    } else {
      payment = this.#paymentFor([intentId, paymentId, holdId, approvalId], record.at);
    }
    const ordinal = this.#records++;
    this.#seq.set(ordinal, record.seq);
    if (payment !== undefined) {
      this.#prev.set(ordinal, this.#last.get(payment));
      this.#last.set(payment, ordinal + 1);
      this.#count.set(payment, this.#count.get(payment) + 1);
    }
    const agentId = d.agentId;
    if (typeof agentId === 'string') timed(this.#byAgent, agentId).add(record.at, record.seq);
    if (d.approvers !== undefined || d.approver !== undefined) {
      for (const approver of approversOf(d)) timed(this.#byApprover, approver).add(record.at, record.seq);
    }
  }

  /** The payment key (its first id) an id belongs to. */
  keyOf(id: string): string | undefined {
    const payment = this.#byAlias.get(id);
    return payment === undefined ? undefined : this.#key.get(payment);
  }

  /** `at` of the first record of the payment some of these ids name, if it is known. */
  firstAtOf(data: Readonly<Record<string, unknown>>): number | undefined {
    for (const field of ID_FIELDS) {
      const id = data[field];
      if (typeof id === 'string') {
        const payment = this.#byAlias.get(id);
        if (payment !== undefined) return this.#firstAt.get(payment);
      }
    }
    return undefined;
  }

  /** Seqs of one payment's records, ascending (empty when unknown). */
  paymentSeqs(id: string): readonly number[] {
    const payment = this.#byAlias.get(id);
    if (payment === undefined) return [];
    const ordinals = this.#chainOf(payment);
    const out = new Array<number>(ordinals.length);
    for (let i = 0; i < ordinals.length; i++) out[i] = this.#seq.get(ordinals[i]!);
    return out;
  }

  /** Seqs of an agent's records with `from ≤ at < to`, in time order. */
  agentSeqs(agentId: string, from: number, to: number): number[] {
    return this.#byAgent.get(agentId)?.range(from, to) ?? [];
  }

  /** Seqs of the records naming `approver`, with `from ≤ at < to`. */
  approverSeqs(approver: string, from: number, to: number): number[] {
    return this.#byApprover.get(approver)?.range(from, to) ?? [];
  }

  #newPayment(key: string, keyRank: number, firstAt: number): number {
    const payment = this.#payments++;
    this.#key.set(payment, key);
    this.#keyRank.set(payment, keyRank);
    this.#firstAt.set(payment, firstAt);
    return payment;
  }

  /** Ordinals of a payment's records, oldest first. */
  #chainOf(payment: number): number[] {
    const out = new Array<number>(this.#count.get(payment));
    let i = out.length;
    for (let link = this.#last.get(payment); link !== 0 && i > 0; link = this.#prev.get(link - 1)) {
      out[--i] = link - 1;
    }
    return out;
  }

  /** The payment these ids (intent, payment, hold, approval; in that order) name, joining chains as needed. */
  #paymentFor(ids: readonly unknown[], at: number): number | undefined {
    let payment: number | undefined;
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
      if (payment === undefined) payment = known;
      else if (known !== payment) payment = this.#merge(payment, known);
    }
    if (firstId === undefined) return undefined;
    payment ??= this.#newPayment(firstId, firstRank, at);
    for (let rank = 0; rank < ids.length; rank++) {
      const id = ids[rank];
      if (typeof id === 'string' && id.length > 0 && this.#byAlias.get(id) !== payment) {
        this.#byAlias.set(id, payment);
        if (id !== this.#key.get(payment)) this.#addAlias(payment, id);
      }
    }
    if (firstRank < this.#keyRank.get(payment)) {
      // A better id (an intent id) names the payment from now on; the old key stays an alias.
      this.#addAlias(payment, this.#key.get(payment)!);
      this.#key.set(payment, firstId);
      this.#keyRank.set(payment, firstRank);
    }
    return payment;
  }

  /** Two chains turned out to be one payment (a record named ids of both): join them. */
  #merge(a: number, b: number): number {
    const [keep, drop] = this.#count.get(a) >= this.#count.get(b) ? [a, b] : [b, a];
    this.#relink(keep, this.#mergeChains(this.#chainOf(keep), this.#chainOf(drop)));
    this.#count.set(keep, this.#count.get(keep) + this.#count.get(drop));
    this.#firstAt.set(keep, Math.min(this.#firstAt.get(keep), this.#firstAt.get(drop)));
    if (this.#keyRank.get(drop) < this.#keyRank.get(keep)) {
      // The old key stays a name of the payment, so a later join still moves it along.
      this.#addAlias(keep, this.#key.get(keep)!);
      this.#key.set(keep, this.#key.get(drop)!);
      this.#keyRank.set(keep, this.#keyRank.get(drop));
    }
    for (const alias of this.#aliases.get(drop) ?? [this.#key.get(drop)!]) {
      this.#addAlias(keep, alias);
      this.#byAlias.set(alias, keep);
    }
    this.#aliases.delete(drop);
    return keep;
  }

  /** Both chains' ordinals in seq order (on equal seqs, `a`'s first). */
  #mergeChains(a: number[], b: number[]): number[] {
    const out: number[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      out.push(this.#seq.get(a[i]!) <= this.#seq.get(b[j]!) ? a[i++]! : b[j++]!);
    }
    while (i < a.length) out.push(a[i++]!);
    while (j < b.length) out.push(b[j++]!);
    return out;
  }

  /** Makes `ordinals` (oldest first) the chain of `payment`. */
  #relink(payment: number, ordinals: number[]): void {
    let link = 0;
    for (const ordinal of ordinals) {
      this.#prev.set(ordinal, link);
      link = ordinal + 1;
    }
    this.#last.set(payment, link);
  }

  /** Records `id` as one more name of the payment (its key is always one). */
  #addAlias(payment: number, id: string): void {
    let aliases = this.#aliases.get(payment);
    if (aliases === undefined) {
      aliases = [this.#key.get(payment)!];
      this.#aliases.set(payment, aliases);
    }
    if (!aliases.includes(id)) aliases.push(id);
  }
}

function timed(map: Map<string, TimeList>, key: string): TimeList {
  let list = map.get(key);
  if (list === undefined) {
    list = new TimeList();
    map.set(key, list);
  }
  return list;
}

function approversOf(d: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (Array.isArray(d.approvers)) {
    for (const a of d.approvers) if (typeof a === 'string' && !out.includes(a)) out.push(a);
  }
  if (typeof d.approver === 'string' && !out.includes(d.approver)) out.push(d.approver);
  return out;
}
