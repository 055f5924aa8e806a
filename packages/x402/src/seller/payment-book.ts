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
  /** The book's list node of this entry while the book keeps it (the book's own field). */
  bookNode?: BookNode | undefined;
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

/** An entry's place in the book's last-touched order. */
export interface BookNode {
  readonly entry: PaymentEntry;
  prev: BookNode | undefined;
  next: BookNode | undefined;
}

type Node = BookNode;

/**
 * The guard's memory of payments: bounded in size and time, so it does not grow with history.
 * Entries are kept in last-touched order on a doubly linked list (a Map gives O(1) lookup;
 * iterating a Map from its front after many deletions is not O(1) in V8, a list is). Each touch
 * moves an entry to the back and drops a few stale ones from the front. Payments pending
 * reconciliation hold money, so they live in a separate map only `reconcile()` empties.
 */
export class PaymentBook {
  readonly #o: PaymentBookOptions;
  readonly #nodes = new Map<string, Node>();
  readonly #byPayload = new Map<string, string>();
  readonly #pending = new Map<string, PaymentEntry>();
  /** Entries in last-touched order, oldest first. */
  readonly #order = new LinkedList<Node>();

  constructor(options: PaymentBookOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#nodes.size;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The entry of a payment id, or of the same signed payload under another id. */
  find(paymentId: string, payloadHash: string): PaymentEntry | undefined {
    const direct = this.get(paymentId);
    if (direct) return direct;
    const alias = this.#byPayload.get(payloadHash);
    return alias === undefined ? undefined : this.get(alias);
  }

  get(paymentId: string): PaymentEntry | undefined {
    const pending = this.#pending.size > 0 ? this.#pending.get(paymentId) : undefined;
    return pending ?? this.#nodes.get(paymentId)?.entry;
  }

  /**
   * True when `entry` is the book's entry for its payment id: then `get(entry.paymentId)` and
   * `find(entry.paymentId, …)` return it. The book holds at most one entry per payment id.
   */
  holds(entry: PaymentEntry): boolean {
    return (
      entry.bookNode !== undefined || (this.#pending.size > 0 && this.#pending.get(entry.paymentId) === entry)
    );
  }

  /** Adds or refreshes an entry (moves it to the back of the order) and sweeps stale ones. */
  touch(entry: PaymentEntry, now: number): void {
    entry.updatedAt = now;
    const id = entry.paymentId;
    if (entry.state === 'pending_reconciliation') {
      const node = entry.bookNode ?? this.#nodes.get(id);
      if (node) this.#remove(node);
      this.#pending.set(id, entry);
      this.#byPayload.set(entry.payloadHash, id);
    } else {
      const node = entry.bookNode;
      if (node) {
        // Already in the order: moved within the list only, no map is touched.
        this.#order.moveToBack(node);
      } else {
        if (this.#pending.size > 0) this.#pending.delete(id);
        // Another entry under this id (not expected: callers look an id up before creating one).
        const other = this.#nodes.get(id);
        if (other) this.#remove(other);
        const added: Node = { entry, prev: undefined, next: undefined };
        entry.bookNode = added;
        this.#nodes.set(id, added);
        this.#order.append(added);
        this.#byPayload.set(entry.payloadHash, id);
      }
    }
    this.#sweep(now, 4);
  }

  /** Points the entry at a new signed payload (a fresh signature for the same payment id). */
  rekey(entry: PaymentEntry, payloadHash: string): void {
    if (entry.payloadHash === payloadHash) return;
    if (this.#byPayload.get(entry.payloadHash) === entry.paymentId) this.#byPayload.delete(entry.payloadHash);
    entry.payloadHash = payloadHash;
    if (this.holds(entry)) this.#byPayload.set(payloadHash, entry.paymentId);
  }

  /** Payments waiting for reconciliation, oldest first. */
  pending(): PaymentEntry[] {
    return [...this.#pending.values()];
  }

  /** Forgets a node: out of the order and out of the map. */
  #remove(node: Node): void {
    this.#order.unlink(node);
    const e = node.entry;
    e.bookNode = undefined;
    // The book keeps one node per payment id, so the id's node is this one.
    this.#nodes.delete(e.paymentId);
  }

  /** Drops stale entries from the front; `limit` bounds the work of one call. */
  #sweep(now: number, limit: number): void {
    const o = this.#o;
    const soonest = Math.min(o.activeTtlMs, o.retentionMs);
    for (let i = 0; i < limit; i++) {
      const node = this.#order.head;
      if (!node) return;
      const e = node.entry;
      // The usual case, decided without looking at the state: the oldest entry is fresh.
      if (now - e.updatedAt < soonest && this.#nodes.size <= o.maxEntries) return;
      const active = ACTIVE.has(e.state);
      const expired = now - e.updatedAt >= (active ? this.#o.activeTtlMs : this.#o.retentionMs);
      const over = this.#nodes.size > this.#o.maxEntries && !active;
      if (!expired && !over) return;
      this.#remove(node);
      if (this.#byPayload.get(e.payloadHash) === e.paymentId) this.#byPayload.delete(e.payloadHash);
    }
  }
}
