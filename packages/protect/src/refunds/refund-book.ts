import { type AuditRecord, BursarError, type Clock, ErrorCode, Money, systemClock } from '@bursar/core';
import { z } from 'zod';
import { ProtectErrorCode } from '../errors.js';
import { KeyedQueue } from '../internal/keyed-queue.js';
import { hasMethods, parseOptions } from '../internal/options.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { type LoggedSettlement, loggedRefundsOf, loggedSettlementOf } from './logged-settlement.js';

/** Options of {@link RefundBook}. */
export interface RefundBookOptions {
  /**
   * The log that bounds every settled amount: a payment it shows no settlement for cannot be
   * refunded, and no statement may exceed what it shows settled. It also carries a payment's
   * refund history over a restart or an eviction (its `dispute.*` and `recovery.*` records).
   */
  provenance?: ProvenanceLog;
  /** The most payments kept in memory (default 100,000); see {@link RefundBook}. */
  maxPayments?: number;
  /**
   * How long a payment with nothing in flight (no unresolved dispute, no recovery short of
   * success) stays in memory after its last change, in ms of `clock` (default 30 days). Then it
   * is forgotten; see {@link RefundBook} for what that means for later refunds.
   */
  resolvedRetentionMs?: number;
  /**
   * The most forgotten payments remembered as "evicted" (default 1,000,000): those whose
   * refunds the provenance log cannot give back, so that a later refund of them is refused.
   */
  maxEvicted?: number;
  /** Measures `resolvedRetentionMs` (default: the system clock). */
  clock?: Clock;
}

/** 30 days: long enough for a chargeback window's worth of follow-up on a resolved payment. */
export const DEFAULT_RESOLVED_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

const Options = z.strictObject({
  provenance: z
    .custom<ProvenanceLog>((v) => v instanceof ProvenanceLog, 'must be a ProvenanceLog')
    .optional(),
  maxPayments: z.number().int().min(1).max(10_000_000).optional(),
  resolvedRetentionMs: z.number().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  maxEvicted: z.number().int().min(0).max(100_000_000).optional(),
  clock: hasMethods<Clock>(['now'], 'must be a Clock').optional(),
});

/** One payment's ledger, as a frozen snapshot. */
export interface PaymentRefunds {
  readonly paymentId: string;
  /** The settled amount, pinned by the first statement (or read from the log). */
  readonly settled: Money;
  /** Everything counted against `settled`: `outside + granted + recovered`. */
  readonly refunded: Money;
  /** `settled − refunded`: what may still be refunded or credited. */
  readonly remaining: Money;
  /** Refunds made elsewhere, as declared by callers (the largest declaration). */
  readonly outside: Money;
  /** Refunds granted by resolved disputes. */
  readonly granted: Money;
  /** Recoveries not covered by a dispute's grant (undelivered payments), succeeded or not. */
  readonly recovered: Money;
  /** The payment's unresolved dispute, if any. */
  readonly openDispute?: string;
}

interface RecoveryShare {
  amount: Money;
  /** Set for a dispute's recovery: it draws on that dispute's grant when the book has it. */
  disputeId?: string;
  /** False while the recovery has not succeeded (the account is then never evicted). */
  done: boolean;
  /** True once it succeeded (known in this process or from a `recovery.succeeded` record). */
  succeeded?: boolean;
}

/** One payment's refund state. Internal: managers change it inside {@link Ledger.lock}. */
export class Account {
  readonly paymentId: string;
  readonly settled: Money;
  outside: Money;
  readonly grants = new Map<string, Money>();
  readonly recoveries = new Map<string, RecoveryShare>();
  activeDispute: string | undefined;
  /**
   * True when some of this account's refunds may be missing from the book's provenance log
   * (recorded to another log or none, or a best-effort record that failed): forgetting it would
   * lose them, so a forgotten one is remembered as evicted instead.
   */
  unlogged = false;
  /** When it last became idle, on the book's clock (meaningful only while idle). */
  idleSince = 0;

  constructor(paymentId: string, settled: Money) {
    this.paymentId = paymentId;
    this.settled = settled;
    this.outside = Money.zero(settled.asset);
  }

  /** Refunds counted against settled, with `outside` as the outside refunds. */
  refunded(outside: Money = this.outside): Money {
    return outside.add(this.granted()).add(this.recovered());
  }

  granted(): Money {
    let total = Money.zero(this.settled.asset);
    for (const g of this.grants.values()) total = total.add(g);
    return total;
  }

  /** Recoveries not backed by a grant in this book. */
  recovered(): Money {
    let total = Money.zero(this.settled.asset);
    for (const r of this.recoveries.values()) {
      if (r.disputeId === undefined || !this.grants.has(r.disputeId)) total = total.add(r.amount);
    }
    return total;
  }

  /** What recoveries have already drawn on a dispute's grant. */
  drawn(disputeId: string): Money {
    let total = Money.zero(this.settled.asset);
    for (const r of this.recoveries.values()) if (r.disputeId === disputeId) total = total.add(r.amount);
    return total;
  }

  /** Nothing in flight: no unresolved dispute, no recovery short of success. */
  get idle(): boolean {
    if (this.activeDispute !== undefined) return false;
    for (const r of this.recoveries.values()) if (!r.done) return false;
    return true;
  }

  snapshot(): PaymentRefunds {
    const refunded = this.refunded();
    return Object.freeze({
      paymentId: this.paymentId,
      settled: this.settled,
      refunded,
      remaining: Money.max(this.settled.subtract(refunded), Money.zero(this.settled.asset)),
      outside: this.outside,
      granted: this.granted(),
      recovered: this.recovered(),
      ...(this.activeDispute !== undefined ? { openDispute: this.activeDispute } : {}),
    });
  }
}

/** What {@link Ledger.account} is told about the settled amount. */
export interface Statement {
  /** The settled amount the caller states: pinned when first, else it must equal the pin. */
  stated?: Money;
  /** Pinned when nothing else is known (no statement, no log): an undelivered recovery's amount. */
  fallback?: Money;
  /** More logs to check a statement against, besides the book's own. */
  logs?: readonly (ProvenanceLog | undefined)[];
}

function mismatch(
  paymentId: string,
  reason: 'pinned' | 'currency' | 'not_settled' | 'above_logged' | 'unreadable',
  message: string,
  details: Record<string, unknown> = {},
): BursarError {
  return new BursarError(ProtectErrorCode.SETTLEMENT_MISMATCH, message, {
    status: 409,
    details: { paymentId, reason, ...details },
  });
}

function sameAsset(a: Money, b: Money): boolean {
  return a.currency.toUpperCase() === b.currency.toUpperCase() && a.decimals === b.decimals;
}

/** The amount a log shows settled, or a SETTLEMENT_MISMATCH saying why it shows none. */
function settledOrThrow(paymentId: string, settlement: LoggedSettlement, asset: Money['asset']): Money {
  switch (settlement.kind) {
    case 'settled':
      return settlement.amount;
    case 'none':
      throw mismatch(
        paymentId,
        'not_settled',
        `The provenance log shows no settlement of payment ${paymentId}`,
      );
    case 'currency':
      throw mismatch(
        paymentId,
        'currency',
        `The provenance log shows payment ${paymentId} settled in ${settlement.currency}, not ${asset.symbol}`,
        { source: settlement.source, loggedCurrency: settlement.currency },
      );
    case 'unreadable':
      throw mismatch(
        paymentId,
        'unreadable',
        `The settled amount of payment ${paymentId} in record #${settlement.seq} cannot be read as ${asset.symbol}`,
        { source: settlement.source, seq: settlement.seq },
      );
  }
}

/**
 * The state behind a {@link RefundBook}. Internal to this package: the managers serialise each
 * payment's check-then-change through {@link lock}, so two calls on one payment never both pass
 * an amount check.
 */
export class Ledger {
  readonly provenance: ProvenanceLog | undefined;
  readonly #max: number;
  readonly #retention: number;
  readonly #maxEvicted: number;
  readonly #clock: Clock;
  readonly #accounts = new Map<string, Account>();
  /**
   * Idle accounts in the order they became idle: the retention queue (its front is due first)
   * and the order in which the cap forgets them. An account leaves it when it changes.
   */
  readonly #idle = new Map<string, Account>();
  /** Forgotten payments whose refunds the log cannot give back, with when they were forgotten. */
  readonly #evicted = new Map<string, number>();
  readonly #queue = new KeyedQueue();

  constructor(
    provenance: ProvenanceLog | undefined,
    options: { maxPayments: number; resolvedRetentionMs: number; maxEvicted: number; clock: Clock },
  ) {
    this.provenance = provenance;
    this.#max = options.maxPayments;
    this.#retention = options.resolvedRetentionMs;
    this.#maxEvicted = options.maxEvicted;
    this.#clock = options.clock;
  }

  get size(): number {
    return this.#accounts.size;
  }

  get evictedCount(): number {
    return this.#evicted.size;
  }

  /** When the payment's ledger was forgotten without a log able to give it back, if it was. */
  evictedAt(paymentId: string): number | undefined {
    return this.#evicted.get(paymentId);
  }

  /** Runs `task` after every earlier task of this payment has finished. */
  lock<T>(paymentId: string, task: () => Promise<T>): Promise<T> {
    return this.#queue.run(paymentId, task);
  }

  peek(paymentId: string): Account | undefined {
    return this.#accounts.get(paymentId);
  }

  /**
   * The payment's account, checking the statement: the stored one, or a new one that is not kept
   * until {@link keep} (so a call that fails later changes nothing). A new account is pinned at
   * the statement, else at the log's first `dispute.opened` statement, else at what the log shows
   * settled, else at `fallback`; it starts with the refunds the book's log shows.
   */
  async account(paymentId: string, statement: Statement): Promise<Account> {
    this.sweep();
    const existing = this.#accounts.get(paymentId);
    if (!existing) this.#checkRoom(paymentId);
    const { stated } = statement;
    if (existing && stated && !sameAsset(stated, existing.settled)) {
      throw mismatch(
        paymentId,
        'currency',
        `Payment ${paymentId} settled in ${existing.settled.currency}, not ${stated.currency}`,
        { stated: stated.toJSON(), pinned: existing.settled.toJSON() },
      );
    }
    if (existing && stated && !stated.equals(existing.settled)) {
      throw mismatch(
        paymentId,
        'pinned',
        `Payment ${paymentId} was stated to have settled ${existing.settled.format()}, not ${stated.format()}`,
        { stated: stated.toJSON(), pinned: existing.settled.toJSON() },
      );
    }
    if (existing && !stated) return existing;
    const asset = (stated ?? existing?.settled ?? statement.fallback)?.asset;
    if (!asset) throw new BursarError(ErrorCode.INTERNAL, 'A new refund account needs an amount');
    const logs: ProvenanceLog[] = [];
    for (const log of [this.provenance, ...(statement.logs ?? [])]) {
      if (log && !logs.includes(log)) logs.push(log);
    }
    let logged: Money | undefined;
    let own: readonly AuditRecord[] | undefined;
    for (const log of logs) {
      const records = await log.chain(paymentId);
      if (log === this.provenance) own = records;
      const amount = settledOrThrow(paymentId, loggedSettlementOf(records, asset), asset);
      logged = logged === undefined ? amount : Money.min(logged, amount);
    }
    const pinned = existing?.settled ?? stated;
    if (logged && pinned?.gt(logged)) {
      throw mismatch(
        paymentId,
        'above_logged',
        `Payment ${paymentId} is stated to have settled ${pinned.format()}, but the provenance log shows ${logged.format()}`,
        { stated: pinned.toJSON(), logged: logged.toJSON() },
      );
    }
    if (existing) return existing;
    const history = own ? loggedRefundsOf(own, asset) : undefined;
    const first = history?.firstStatement;
    if (first && stated && !first.equals(stated)) {
      throw mismatch(
        paymentId,
        'pinned',
        `Payment ${paymentId} was stated to have settled ${first.format()} (in the provenance log), not ${stated.format()}`,
        { stated: stated.toJSON(), pinned: first.toJSON() },
      );
    }
    if (first && logged && first.gt(logged)) {
      throw mismatch(
        paymentId,
        'above_logged',
        `Payment ${paymentId} was stated to have settled ${first.format()}, but the provenance log shows ${logged.format()}`,
        { stated: first.toJSON(), logged: logged.toJSON() },
      );
    }
    const settled = stated ?? first ?? logged ?? statement.fallback!;
    if (settled.isNegative() || settled.isZero()) {
      throw mismatch(paymentId, 'not_settled', `Payment ${paymentId} settled nothing`, {
        settled: settled.toJSON(),
      });
    }
    const account = new Account(paymentId, settled);
    if (history) {
      for (const [disputeId, amount] of history.grants) account.grants.set(disputeId, amount);
      for (const [key, r] of history.recoveries) account.recoveries.set(key, { ...r, done: true });
      if (history.outside && sameAsset(history.outside, settled)) account.outside = history.outside;
    }
    // A check may have awaited the log: the payment may have been forgotten meanwhile.
    if (!this.#accounts.has(paymentId)) this.#checkRoom(paymentId);
    return account;
  }

  /**
   * Stores (or refreshes) an account after a change: an idle one joins the back of the retention
   * queue. Then forgets what is due, and idle accounts beyond the cap, oldest idle first.
   */
  keep(account: Account): void {
    const id = account.paymentId;
    this.#accounts.set(id, account);
    this.#evicted.delete(id);
    this.#idle.delete(id);
    if (account.idle) {
      account.idleSince = this.#clock.now();
      this.#idle.set(id, account);
    }
    this.sweep();
  }

  /**
   * Forgets idle accounts whose retention has passed, then idle accounts beyond `maxPayments`.
   * Costs what it forgets: the queue is in idle order, so it stops at the first one not due. A
   * clock that went back only makes it forget later, never sooner.
   */
  sweep(): void {
    const now = this.#clock.now();
    for (const a of this.#idle.values()) {
      if (a.idleSince + this.#retention > now || !this.#forget(a, now)) break;
    }
    if (this.#accounts.size <= this.#max) return;
    for (const a of this.#idle.values()) {
      if (this.#accounts.size <= this.#max || !this.#forget(a, now)) break;
    }
  }

  /** Refuses a payment the book forgot without a way back, or one it has no room for. */
  #checkRoom(paymentId: string): void {
    const at = this.#evicted.get(paymentId);
    if (at !== undefined) {
      throw new BursarError(
        ProtectErrorCode.REFUND_HISTORY_EVICTED,
        `The refund history of payment ${paymentId} was evicted and no provenance log holds all of it; refusing rather than risking a second refund`,
        { status: 409, details: { paymentId, evictedAt: at } },
      );
    }
    if (this.#accounts.size < this.#max) return;
    const first = this.#idle.values().next();
    // Accounts in flight may exceed the cap (they are current work, not history); idle ones left
    // above it are there because forgetting them would lose refunds nothing else remembers.
    if (!first.done && !this.#forgettable(first.value)) {
      throw new BursarError(
        ProtectErrorCode.REFUND_BOOK_FULL,
        `The refund book holds ${this.#accounts.size} payments and cannot forget any without losing refund history; give it a provenance log or raise maxPayments / maxEvicted`,
        { status: 503, details: { paymentId, maxPayments: this.#max, maxEvicted: this.#maxEvicted } },
      );
    }
  }

  /** Whether the log can give the account back (or there is nothing to lose). */
  #rebuildable(a: Account): boolean {
    return (this.provenance !== undefined && !a.unlogged) || a.refunded().isZero();
  }

  #forgettable(a: Account): boolean {
    return this.#rebuildable(a) || this.#evicted.size < this.#maxEvicted;
  }

  #forget(a: Account, now: number): boolean {
    if (!this.#rebuildable(a)) {
      if (this.#evicted.size >= this.#maxEvicted) return false;
      this.#evicted.set(a.paymentId, now);
    }
    this.#accounts.delete(a.paymentId);
    this.#idle.delete(a.paymentId);
    return true;
  }
}

const LEDGERS = new WeakMap<RefundBook, Ledger>();

/** The ledger of a book (internal to this package). */
export function ledgerOf(book: RefundBook): Ledger {
  const ledger = LEDGERS.get(book);
  if (!ledger) throw new BursarError(ErrorCode.INTERNAL, 'Not a RefundBook of this package copy');
  return ledger;
}

/**
 * One refund ledger per payment, shared by the {@link DisputeManager} and the
 * {@link RecoveryManager} that refund the same payments. It pins each payment's settled amount
 * and currency at the first statement (a later, different one is `ERR_BURSAR_SETTLEMENT_MISMATCH`),
 * checks statements against its provenance log's settlement records when it has one, and counts
 * every refund and credit: outside refunds callers declare, refunds resolved disputes grant, and
 * recoveries of undelivered payments. Nothing is refunded beyond what settled. Changes to one
 * payment are serialised.
 *
 * Memory: a payment with nothing in flight is forgotten `resolvedRetentionMs` (default 30 days)
 * after its last change, or earlier beyond `maxPayments` (default 100,000), longest idle first;
 * payments in flight are never forgotten. When the provenance log holds all of a forgotten
 * payment's refunds, they are read back from it when the payment comes up again. Otherwise (no
 * log, or refunds recorded elsewhere) a forgotten payment with refunds is remembered as evicted,
 * and every later refund of it is refused with `ERR_BURSAR_REFUND_HISTORY_EVICTED` (fail closed);
 * once `maxEvicted` are remembered and nothing more can be forgotten, new payments are refused
 * with `ERR_BURSAR_REFUND_BOOK_FULL`.
 *
 * @example
 * const refunds = new RefundBook({ provenance: log });
 * const disputes = new DisputeManager({ provenance: log, refunds });
 * const recovery = new RecoveryManager({ executor, provenance: log, refunds });
 * refunds.get('int_1')?.remaining; // what may still be refunded
 */
export class RefundBook {
  readonly #ledger: Ledger;

  constructor(options: RefundBookOptions = {}) {
    const o = parseOptions('RefundBook', Options, options);
    this.#ledger = new Ledger(o.provenance, {
      maxPayments: o.maxPayments ?? 100_000,
      resolvedRetentionMs: o.resolvedRetentionMs ?? DEFAULT_RESOLVED_RETENTION_MS,
      maxEvicted: o.maxEvicted ?? 1_000_000,
      clock: o.clock ?? systemClock,
    });
    LEDGERS.set(this, this.#ledger);
  }

  /** The log settled amounts are checked against, if any. */
  get provenance(): ProvenanceLog | undefined {
    return this.#ledger.provenance;
  }

  /** How many payments the book holds (forgetting those that are due first). */
  get size(): number {
    this.#ledger.sweep();
    return this.#ledger.size;
  }

  /** How many forgotten payments are remembered as evicted (refunds of them are refused). */
  get evictedCount(): number {
    this.#ledger.sweep();
    return this.#ledger.evictedCount;
  }

  /**
   * One payment's ledger, or undefined when the book does not hold it: never stated, or
   * forgotten after its retention ({@link isEvicted} tells the second kind apart when the log
   * cannot give it back; with such a log the next call on the payment reads it back).
   */
  get(paymentId: string): PaymentRefunds | undefined {
    this.#ledger.sweep();
    return this.#ledger.peek(paymentId)?.snapshot();
  }

  /**
   * True when the payment's ledger was forgotten and no provenance log holds all of it: every
   * later dispute, refund or recovery of it is refused with `ERR_BURSAR_REFUND_HISTORY_EVICTED`.
   */
  isEvicted(paymentId: string): boolean {
    this.#ledger.sweep();
    return this.#ledger.evictedAt(paymentId) !== undefined;
  }
}
