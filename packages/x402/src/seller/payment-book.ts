import type { IntentInput, Money, ParsedIntent } from '@bursar/core';
import { LinkedList } from '../internal/linked-list.js';

/** Where a guarded payment stands. */
export type PaymentState =
  /** The policy is being asked (`evaluate` before verification, or `authorize`). */
  | 'authorizing'
  /**
   * The policy would allow it (`evaluate`, no side effects); nothing is held until the
   * facilitator has verified the payment and so authenticated its payer.
   */
  | 'evaluated'
  /** Budget held (or allowed without a hold); verification pending. */
  | 'held'
  /** The facilitator (or a hook) said the payment is valid. */
  | 'verified'
  /** Settlement is running. */
  | 'settling'
  /** The facilitator answered that settlement failed; the hold is released when settle returns. */
  | 'settle_failed'
  /** Settled and captured (charged once). */
  | 'settled'
  /** The hold was returned (invalid, failed, canceled). */
  | 'released'
  /** The policy denied it; nothing was held. */
  | 'denied'
  /**
   * Settlement outcome unknown: the money may have moved, so the hold was captured at once (the
   * budget counts it) and the payment waits for `reconcile()`.
   */
  | 'pending_reconciliation'
  /**
   * Reconciled as not settled after its budget was captured: the budget stays consumed (it is
   * never re-charged nor silently returned); an operator adjusts it if needed.
   */
  | 'not_settled';

const ACTIVE: ReadonlySet<PaymentState> = new Set([
  'authorizing',
  'evaluated',
  'held',
  'verified',
  'settling',
  'settle_failed',
]);

/** One payment the seller guard tracks. */
export interface PaymentEntry {
  readonly paymentId: string;
  payloadHash: string;
  /** The money terms, for payments with an explicit payment id (empty otherwise). */
  termsKey: string;
  state: PaymentState;
  /** Authorization attempts so far (a released payment may be tried again). */
  attempt: number;
  agentId?: string;
  payer?: string;
  resource?: string;
  recipient?: string;
  network: string;
  scheme: string;
  asset: string;
  payTo: string;
  /** The authorized amount. */
  money?: Money;
  /** The amount asked for at settle (≤ authorized). */
  settleAtomic?: string;
  /**
   * The intent `evaluate` decided on before verification, authorized after it (parsed once by
   * the engine's `parseIntent` when it has one).
   */
  intent?: IntentInput | ParsedIntent;
  /** What the hold's capture charged to the budget, once captured (never captured twice). */
  charged?: Money;
  /** Why it was captured: `settlement`, or `ambiguous_settlement` (outcome unknown). */
  chargeSource?: string;
  intentId?: string;
  intentHash?: string;
  holdId?: string;
  verifySource?: string;
  settleSource?: string;
  facilitator?: string;
  transaction?: string;
  settledPhase?: string;
  failure?: string;
  updatedAt: number;
  /**
   * The book's own fields: the neighbours in its last-touched order, and whether the entry is in
   * that order now (the entry is its own list node: no node object per payment).
   */
  prev?: PaymentEntry | undefined;
  next?: PaymentEntry | undefined;
  listed?: boolean;
}

/** Options of a {@link PaymentBook}. */
export interface PaymentBookOptions {
  /** Most finished payments remembered (for replay checks). */
  maxEntries: number;
  /** How long a finished payment is remembered after its last change. */
  retentionMs: number;
  /** How long an unfinished payment is kept without any change (its hold expires in the engine). */
  activeTtlMs: number;
}

/** `sha256:<payloadHash>`: the id a payment without an explicit payment id gets. */
function isHashId(paymentId: string, payloadHash: string): boolean {
  return (
    paymentId.length === payloadHash.length + 7 &&
    paymentId.startsWith('sha256:') &&
    paymentId.endsWith(payloadHash)
  );
}

/**
 * The guard's memory of payments: bounded in size and time, so it does not grow with history.
 * Entries are kept in last-touched order on a doubly linked list whose nodes are the entries
 * themselves (a Map gives O(1) lookup; iterating a Map from its front after many deletions is
 * not O(1) in V8, a list is). Each touch moves an entry to the back and drops a few stale ones
 * from the front. Payments pending reconciliation hold money, so they live in a separate map
 * only `reconcile()` empties.
 *
 * A payment is found by its id, or by its signed payload under another id. A payment without an
 * explicit id is keyed by `sha256:<payloadHash>`, which already names its payload: only entries
 * under other ids (explicit payment ids) need an alias from their payload hash, so the usual
 * payment costs one map entry.
 */
export class PaymentBook {
  readonly #o: PaymentBookOptions;
  readonly #byId = new Map<string, PaymentEntry>();
  /** payloadHash → paymentId, for entries whose id is not `sha256:<payloadHash>`. */
  readonly #aliases = new Map<string, string>();
  readonly #pending = new Map<string, PaymentEntry>();
  /** Entries in last-touched order, oldest first. */
  readonly #order = new LinkedList<PaymentEntry>();

  constructor(options: PaymentBookOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#byId.size;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The entry of a payment id, or of the same signed payload under another id. */
  find(paymentId: string, payloadHash: string): PaymentEntry | undefined {
    const direct = this.get(paymentId);
    if (direct) return direct;
    if (this.#aliases.size > 0) {
      const alias = this.#aliases.get(payloadHash);
      if (alias !== undefined) return this.get(alias);
    }
    // Asked by an explicit id: the same payload may be known under its hash id.
    return isHashId(paymentId, payloadHash) ? undefined : this.get(`sha256:${payloadHash}`);
  }

  get(paymentId: string): PaymentEntry | undefined {
    const pending = this.#pending.size > 0 ? this.#pending.get(paymentId) : undefined;
    return pending ?? this.#byId.get(paymentId);
  }

  /**
   * True when `entry` is the book's entry for its payment id: then `get(entry.paymentId)` and
   * `find(entry.paymentId, …)` return it. The book holds at most one entry per payment id.
   */
  holds(entry: PaymentEntry): boolean {
    return entry.listed === true || (this.#pending.size > 0 && this.#pending.get(entry.paymentId) === entry);
  }

  /** Adds or refreshes an entry (moves it to the back of the order) and sweeps stale ones. */
  touch(entry: PaymentEntry, now: number): void {
    entry.updatedAt = now;
    const id = entry.paymentId;
    if (entry.state === 'pending_reconciliation') {
      if (entry.listed) this.#remove(entry);
      else {
        const other = this.#byId.get(id);
        if (other) this.#remove(other);
      }
      this.#pending.set(id, entry);
      this.#alias(entry);
    } else if (entry.listed) {
      // Already in the order: moved within the list only, no map is touched.
      this.#order.moveToBack(entry);
    } else {
      if (this.#pending.size > 0) this.#pending.delete(id);
      // Another entry under this id (not expected: callers look an id up before creating one).
      const other = this.#byId.get(id);
      if (other) this.#remove(other);
      entry.listed = true;
      this.#byId.set(id, entry);
      this.#order.append(entry);
      this.#alias(entry);
    }
    this.#sweep(now, 4);
  }

  /** Points the entry at a new signed payload (a fresh signature for the same payment id). */
  rekey(entry: PaymentEntry, payloadHash: string): void {
    if (entry.payloadHash === payloadHash) return;
    this.#unalias(entry);
    entry.payloadHash = payloadHash;
    if (this.holds(entry)) this.#alias(entry);
  }

  /** Payments waiting for reconciliation, oldest first. */
  pending(): PaymentEntry[] {
    return [...this.#pending.values()];
  }

  #alias(entry: PaymentEntry): void {
    if (!isHashId(entry.paymentId, entry.payloadHash)) this.#aliases.set(entry.payloadHash, entry.paymentId);
  }

  #unalias(entry: PaymentEntry): void {
    if (this.#aliases.size > 0 && this.#aliases.get(entry.payloadHash) === entry.paymentId) {
      this.#aliases.delete(entry.payloadHash);
    }
  }

  /** Forgets an entry of the order: out of the list and out of the map. */
  #remove(entry: PaymentEntry): void {
    this.#order.unlink(entry);
    entry.listed = false;
    // The book keeps one entry per payment id, so the id's entry is this one.
    this.#byId.delete(entry.paymentId);
  }

  /** Drops stale entries from the front; `limit` bounds the work of one call. */
  #sweep(now: number, limit: number): void {
    const o = this.#o;
    const soonest = Math.min(o.activeTtlMs, o.retentionMs);
    for (let i = 0; i < limit; i++) {
      const e = this.#order.head;
      if (!e) return;
      // The usual case, decided without looking at the state: the oldest entry is fresh.
      if (now - e.updatedAt < soonest && this.#byId.size <= o.maxEntries) return;
      const active = ACTIVE.has(e.state);
      const expired = now - e.updatedAt >= (active ? o.activeTtlMs : o.retentionMs);
      const over = this.#byId.size > o.maxEntries && !active;
      if (!expired && !over) return;
      this.#remove(e);
      this.#unalias(e);
    }
  }
}
