import { BursarError, type Clock, ErrorCode, Money, newId, systemClock } from '@bursar/core';
import { z } from 'zod';
import { canonicalCopy } from '../chain/fast-canonical.js';
import { ProtectErrorCode } from '../errors.js';
import { hasMethods, parseOptions } from '../internal/options.js';
import { SerialQueue } from '../internal/serial-queue.js';
import { assessCompleteness } from '../provenance/completeness.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import {
  type Account,
  DEFAULT_RESOLVED_RETENTION_MS,
  type Ledger,
  ledgerOf,
  RefundBook,
} from '../refunds/refund-book.js';
import type {
  Dispute,
  DisputeEvidence,
  DisputeResolution,
  DisputeState,
  ProvenanceEvidence,
  SettledPayment,
} from './dispute.js';

/** Options of {@link DisputeManager}. */
export interface DisputeManagerOptions {
  /** Stamps every change (default: the system clock). */
  clock?: Clock;
  /**
   * Where each transition is recorded (`dispute.opened`, `dispute.evidence`, `dispute.resolved`),
   * and where the payment's chain is taken from as evidence.
   */
  provenance?: ProvenanceLog;
  /**
   * The refund ledger shared with the {@link RecoveryManager} that executes the refunds (default:
   * a new {@link RefundBook} on `provenance`). Pass the same book to both managers so that dispute
   * refunds and undelivered-payment recoveries of one payment never add up beyond what settled.
   */
  refunds?: RefundBook;
  /**
   * How long a resolved dispute stays readable (`get`, `list`, `granted`) after it was resolved,
   * in ms of `clock` (default 30 days). Then it is forgotten; the provenance log keeps its
   * records. Unresolved disputes are never forgotten.
   */
  resolvedRetentionMs?: number;
  /** The most resolved disputes kept; beyond it the longest resolved go first (default 100,000). */
  maxResolved?: number;
}

const Options = z.strictObject({
  clock: hasMethods<Clock>(['now'], 'must be a Clock').optional(),
  provenance: z
    .custom<ProvenanceLog>((v) => v instanceof ProvenanceLog, 'must be a ProvenanceLog')
    .optional(),
  refunds: z.custom<RefundBook>((v) => v instanceof RefundBook, 'must be a RefundBook').optional(),
  resolvedRetentionMs: z.number().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  maxResolved: z.number().int().min(0).max(10_000_000).optional(),
});

/** What {@link DisputeManager.open} takes. */
export interface OpenDisputeInput {
  payment: SettledPayment;
  /** The disputed amount (default: all that is still refundable). */
  amount?: Money;
  reason: string;
  openedBy?: string;
  /** Your own id for the dispute (default: a new `dsp_…` id). */
  id?: string;
}

/** What {@link DisputeManager.addEvidence} takes. */
export interface EvidenceInput {
  kind: string;
  description?: string;
  data?: Readonly<Record<string, unknown>>;
  submittedBy?: string;
}

/** What {@link DisputeManager.resolve} takes. */
export interface ResolveDisputeInput {
  resolution: DisputeResolution;
  /** Required for `partially_refunded`; defaults to the disputed amount for `refunded`; zero or absent for `rejected`. */
  refundAmount?: Money;
  resolvedBy?: string;
  note?: string;
}

/** The transitions a dispute may make. Adding more evidence keeps it in `evidence`. */
const ALLOWED: Readonly<Record<DisputeState, readonly DisputeState[]>> = {
  open: ['evidence'],
  evidence: ['evidence', 'resolved'],
  resolved: [],
};

interface Entry {
  dispute: Dispute;
}

const TEXT_MAX = 2000;

function invalidArgument(message: string, details?: Record<string, unknown>): BursarError {
  return new BursarError(ErrorCode.INVALID_ARGUMENT, message, details ? { details } : {});
}

function text(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > TEXT_MAX) {
    throw invalidArgument(`${field} must be a non-empty string of at most ${TEXT_MAX} characters`);
  }
  return value;
}

function money(value: unknown, field: string): Money {
  if (!Money.isMoney(value)) throw invalidArgument(`${field} must be a Money`);
  return value;
}

/** Throws core's ASSET_MISMATCH unless `value` is in the settled payment's currency. */
function sameCurrency(value: Money, settled: Money, field: string): void {
  if (
    value.currency.toUpperCase() !== settled.currency.toUpperCase() ||
    value.decimals !== settled.decimals
  ) {
    throw new BursarError(
      ErrorCode.ASSET_MISMATCH,
      `${field} is in ${value.currency} but the payment settled in ${settled.currency}`,
      { details: { field, currency: value.currency, settledCurrency: settled.currency } },
    );
  }
}

/**
 * Disputes over settled payments, as an explicit state machine: `open → evidence → resolved`
 * (`refunded`, `partially_refunded` or `rejected`). Any other transition throws
 * `ERR_BURSAR_INVALID_TRANSITION`. The first statement of a payment's settled amount and
 * currency is pinned in the {@link RefundBook}; a later, different one is
 * `ERR_BURSAR_SETTLEMENT_MISMATCH`, and so is one the provenance log contradicts (no settlement
 * recorded, another currency, less settled than stated). Amounts are checked against the pinned
 * settlement: same currency (`ERR_BURSAR_ASSET_MISMATCH`), a disputed amount never above what is
 * still refundable (`ERR_BURSAR_DISPUTE_EXCEEDS_SETTLED`), a refund never above settled minus
 * every earlier refund or recovery in the book (`ERR_BURSAR_REFUND_EXCEEDS_SETTLED`). With a
 * provenance log, each transition is recorded and the payment's chain is attached as evidence.
 * A failed call changes nothing.
 *
 * State is held in memory. Resolving grants a refund; {@link RecoveryManager} executes it.
 * Unresolved disputes are kept until resolved; resolved ones `resolvedRetentionMs` after their
 * resolution (and at most `maxResolved` of them), then `get` answers undefined and `resolve` /
 * `addEvidence` `ERR_BURSAR_NOT_FOUND`: the provenance log is the durable record. The refunds
 * they granted stay counted in the {@link RefundBook}.
 *
 * @example
 * const disputes = new DisputeManager({ clock, provenance: log });
 * const recovery = new RecoveryManager({ executor, provenance: log, refunds: disputes.refunds });
 * const d = await disputes.open({ payment: { paymentId, amount: Money.parse('24', 'USDC') }, reason: 'not delivered' });
 * await disputes.addEvidence(d.id, { kind: 'note', description: 'seller confirms timeout' });
 * const resolved = await disputes.resolve(d.id, { resolution: 'refunded', resolvedBy: 'ops@example.com' });
 */
export class DisputeManager {
  readonly #clock: Clock;
  readonly #provenance: ProvenanceLog | undefined;
  readonly #queue = new SerialQueue();
  readonly #disputes = new Map<string, Entry>();
  /** Resolved disputes in the order they were resolved, with when: the retention queue. */
  readonly #resolved = new Map<string, number>();
  /** Disputes held per payment; a payment's entry (and its `#granted`) goes with its last one. */
  readonly #perPayment = new Map<string, number>();
  /** Refunds granted by resolved disputes of this manager that it still holds, per payment. */
  readonly #granted = new Map<string, Money>();
  readonly #retention: number;
  readonly #maxResolved: number;
  readonly #book: RefundBook;
  readonly #ledger: Ledger;

  constructor(options: DisputeManagerOptions = {}) {
    const o = parseOptions('DisputeManager', Options, options);
    this.#clock = o.clock ?? systemClock;
    this.#provenance = o.provenance;
    this.#retention = o.resolvedRetentionMs ?? DEFAULT_RESOLVED_RETENTION_MS;
    this.#maxResolved = o.maxResolved ?? 100_000;
    this.#book =
      o.refunds ??
      new RefundBook({
        clock: this.#clock,
        ...(o.provenance ? { provenance: o.provenance } : {}),
        ...(o.resolvedRetentionMs !== undefined ? { resolvedRetentionMs: o.resolvedRetentionMs } : {}),
      });
    this.#ledger = ledgerOf(this.#book);
  }

  /** How many disputes the manager holds (unresolved, and resolved within their retention). */
  get size(): number {
    this.#sweep();
    return this.#disputes.size;
  }

  /** The refund ledger this manager counts refunds in: give it to the {@link RecoveryManager}. */
  get refunds(): RefundBook {
    return this.#book;
  }

  /**
   * Opens a dispute over a settled payment. The payment's first statement of its settled amount
   * pins it; a later, different statement, or one the provenance log contradicts, throws
   * `ERR_BURSAR_SETTLEMENT_MISMATCH`. Throws `ERR_BURSAR_CONFLICT` while the payment has an
   * unresolved dispute (in any manager sharing the book) or when the id is taken.
   */
  open(input: OpenDisputeInput): Promise<Dispute> {
    return this.#queue.run(async () => {
      if (typeof input !== 'object' || input === null) throw invalidArgument('open needs an input object');
      const payment = input.payment;
      if (typeof payment !== 'object' || payment === null) throw invalidArgument('payment is required');
      const paymentId = text(payment.paymentId, 'payment.paymentId', true)!;
      const settled = money(payment.amount, 'payment.amount');
      if (settled.isNegative() || settled.isZero()) {
        throw new BursarError(ErrorCode.INVALID_AMOUNT, 'payment.amount must be more than zero');
      }
      const outside =
        payment.refunded === undefined
          ? Money.zero(settled.asset)
          : money(payment.refunded, 'payment.refunded');
      sameCurrency(outside, settled, 'payment.refunded');
      if (outside.isNegative())
        throw new BursarError(ErrorCode.INVALID_AMOUNT, 'payment.refunded must not be negative');
      const reason = text(input.reason, 'reason', true)!;
      const openedBy = text(input.openedBy, 'openedBy', false);
      const id = text(input.id, 'id', false) ?? newId('dsp');
      const disputed = input.amount === undefined ? undefined : money(input.amount, 'amount');
      this.#sweep();
      if (this.#disputes.has(id)) {
        throw new BursarError(ErrorCode.CONFLICT, `Dispute ${id} already exists`, { status: 409 });
      }
      return this.#ledger.lock(paymentId, async () => {
        // Inside the payment's lock: nothing can open or resolve a dispute of it meanwhile.
        this.#checkNoActive(paymentId);
        const account = await this.#ledger.account(paymentId, {
          stated: settled,
          logs: [this.#provenance],
        });
        if (account.grants.has(id)) {
          // A forgotten dispute's id: its grant is still counted under it, so it cannot be reused.
          throw new BursarError(ErrorCode.CONFLICT, `Dispute ${id} already exists`, { status: 409 });
        }
        // Outside refunds only ever grow: the largest declaration counts.
        const declared = Money.max(account.outside, outside);
        const refundedBefore = account.refunded(declared);
        const refundable = settled.subtract(refundedBefore);
        if (refundable.isNegative()) {
          throw new BursarError(
            ProtectErrorCode.REFUND_EXCEEDS_SETTLED,
            `Payment ${paymentId} has refunds of ${refundedBefore.format()}, more than the ${settled.format()} settled`,
            { details: { paymentId, settled: settled.toJSON(), refunded: refundedBefore.toJSON() } },
          );
        }
        const amount = disputed ?? refundable;
        sameCurrency(amount, settled, 'amount');
        if (amount.isNegative() || amount.isZero()) {
          throw new BursarError(ErrorCode.INVALID_AMOUNT, 'The disputed amount must be more than zero', {
            details: { paymentId, refundable: refundable.toJSON() },
          });
        }
        if (amount.gt(refundable)) {
          throw new BursarError(
            ProtectErrorCode.DISPUTE_EXCEEDS_SETTLED,
            `Cannot dispute ${amount.format()}: only ${refundable.format()} of the ${settled.format()} settled is still refundable`,
            { details: { paymentId, amount: amount.toJSON(), refundable: refundable.toJSON() } },
          );
        }
        const at = this.#clock.now();
        await this.#record('dispute.opened', {
          paymentId,
          disputeId: id,
          amount: amount.toDecimalString(),
          currency: amount.currency,
          settledAmount: settled.toDecimalString(),
          refundedBefore: refundedBefore.toDecimalString(),
          refundedOutside: declared.toDecimalString(),
          reason,
          ...(openedBy !== undefined ? { openedBy, actor: openedBy } : {}),
        });
        const dispute: Dispute = freeze({
          id,
          paymentId,
          state: 'open',
          amount,
          settled,
          refundedBefore,
          reason,
          ...(openedBy !== undefined ? { openedBy } : {}),
          openedAt: at,
          updatedAt: at,
          evidence: [],
          history: [{ from: null, to: 'open', at, ...(openedBy !== undefined ? { actor: openedBy } : {}) }],
        });
        account.outside = declared;
        account.activeDispute = id;
        this.#markLogged(account);
        this.#ledger.keep(account);
        this.#disputes.set(id, { dispute });
        this.#perPayment.set(paymentId, (this.#perPayment.get(paymentId) ?? 0) + 1);
        return dispute;
      });
    });
  }

  /**
   * Adds evidence: `open → evidence`, or more evidence while in `evidence`. The first time, the
   * payment's provenance chain (records, completeness, log head) is attached as `provenance`
   * evidence when the manager has a provenance log.
   */
  addEvidence(disputeId: string, input: EvidenceInput): Promise<Dispute> {
    return this.#queue.run(async () => {
      this.#sweep();
      const entry = this.#require(disputeId);
      const current = entry.dispute;
      this.#checkTransition(current, 'evidence');
      if (typeof input !== 'object' || input === null)
        throw invalidArgument('addEvidence needs an input object');
      const kind = text(input.kind, 'kind', true)!;
      if (kind === 'provenance')
        throw invalidArgument('the evidence kind "provenance" is reserved for the attached chain');
      const description = text(input.description, 'description', false);
      const submittedBy = text(input.submittedBy, 'submittedBy', false);
      if (
        input.data !== undefined &&
        (typeof input.data !== 'object' || input.data === null || Array.isArray(input.data))
      ) {
        throw invalidArgument('data must be an object');
      }
      const data =
        input.data === undefined
          ? undefined
          : (canonicalCopy(input.data).copy as Readonly<Record<string, unknown>>);
      const at = this.#clock.now();
      const added: DisputeEvidence[] = [];
      if (current.state === 'open' && this.#provenance) {
        added.push(await this.#provenanceEvidence(current.paymentId, at));
      }
      added.push({
        kind,
        ...(description !== undefined ? { description } : {}),
        ...(data !== undefined ? { data } : {}),
        ...(submittedBy !== undefined ? { submittedBy } : {}),
        at,
      });
      const chain = added.find((e): e is ProvenanceEvidence => e.kind === 'provenance');
      await this.#record('dispute.evidence', {
        paymentId: current.paymentId,
        disputeId,
        kind,
        ...(description !== undefined ? { description } : {}),
        ...(submittedBy !== undefined ? { submittedBy, actor: submittedBy } : {}),
        ...(chain ? { chainRecords: chain.records.length, chainHead: chain.head } : {}),
      });
      const next = freeze({
        ...current,
        state: 'evidence' as const,
        updatedAt: at,
        evidence: [...current.evidence, ...added],
        history:
          current.state === 'evidence'
            ? current.history
            : [
                ...current.history,
                {
                  from: current.state,
                  to: 'evidence' as const,
                  at,
                  ...(submittedBy ? { actor: submittedBy } : {}),
                },
              ],
      });
      entry.dispute = next;
      return next;
    });
  }

  /**
   * Resolves a dispute that has evidence. `refunded` grants the whole disputed amount,
   * `partially_refunded` a smaller positive `refundAmount`, `rejected` nothing. The refund must
   * fit in what was settled minus every earlier refund.
   */
  resolve(disputeId: string, input: ResolveDisputeInput): Promise<Dispute> {
    return this.#queue.run(async () => {
      this.#sweep();
      const entry = this.#require(disputeId);
      return this.#ledger.lock(entry.dispute.paymentId, () => this.#resolve(entry, disputeId, input));
    });
  }

  async #resolve(entry: Entry, disputeId: string, input: ResolveDisputeInput): Promise<Dispute> {
    const current = entry.dispute;
    this.#checkTransition(current, 'resolved');
    if (typeof input !== 'object' || input === null) throw invalidArgument('resolve needs an input object');
    const { resolution } = input;
    if (resolution !== 'refunded' && resolution !== 'partially_refunded' && resolution !== 'rejected') {
      throw invalidArgument('resolution must be refunded, partially_refunded or rejected');
    }
    const resolvedBy = text(input.resolvedBy, 'resolvedBy', false);
    const note = text(input.note, 'note', false);
    const account = this.#ledger.peek(current.paymentId);
    if (account?.activeDispute !== disputeId) {
      // The book holds an unresolved dispute until it is resolved; anything else is a bug.
      throw new BursarError(
        ErrorCode.INTERNAL,
        `The refund book does not hold dispute ${disputeId} of payment ${current.paymentId}`,
      );
    }
    const zero = Money.zero(current.settled.asset);
    let refund: Money;
    if (resolution === 'rejected') {
      refund = input.refundAmount === undefined ? zero : money(input.refundAmount, 'refundAmount');
      sameCurrency(refund, current.settled, 'refundAmount');
      if (!refund.isZero()) throw invalidArgument('a rejected dispute refunds nothing');
    } else {
      if (input.refundAmount === undefined && resolution === 'partially_refunded') {
        throw invalidArgument('partially_refunded needs a refundAmount');
      }
      refund = input.refundAmount === undefined ? current.amount : money(input.refundAmount, 'refundAmount');
      sameCurrency(refund, current.settled, 'refundAmount');
      if (refund.isNegative() || refund.isZero()) {
        throw new BursarError(ErrorCode.INVALID_AMOUNT, 'refundAmount must be more than zero');
      }
      // Everything in the book counts: earlier disputes, recoveries, declared outside refunds.
      const refundable = account.settled.subtract(account.refunded());
      if (refund.gt(refundable)) {
        throw new BursarError(
          ProtectErrorCode.REFUND_EXCEEDS_SETTLED,
          `Cannot refund ${refund.format()}: only ${Money.max(refundable, zero).format()} of the ${current.settled.format()} settled is left after earlier refunds`,
          {
            details: {
              disputeId,
              paymentId: current.paymentId,
              refund: refund.toJSON(),
              refundable: Money.max(refundable, zero).toJSON(),
            },
          },
        );
      }
      if (refund.gt(current.amount)) {
        throw invalidArgument(
          `Cannot refund ${refund.format()}: the dispute is over ${current.amount.format()}`,
          {
            disputeId,
          },
        );
      }
      if (resolution === 'refunded' && !refund.equals(current.amount)) {
        throw invalidArgument('refunded means the whole disputed amount; use partially_refunded for less');
      }
      if (resolution === 'partially_refunded' && refund.equals(current.amount)) {
        throw invalidArgument('partially_refunded needs less than the disputed amount; use refunded');
      }
    }
    const at = this.#clock.now();
    await this.#record('dispute.resolved', {
      paymentId: current.paymentId,
      disputeId,
      resolution,
      amount: refund.toDecimalString(),
      currency: refund.currency,
      ...(resolvedBy !== undefined ? { resolvedBy } : {}),
      ...(note !== undefined ? { reason: note } : {}),
    });
    if (!refund.isZero()) {
      account.grants.set(disputeId, refund);
      const granted = this.#granted.get(current.paymentId);
      this.#granted.set(current.paymentId, granted ? granted.add(refund) : refund);
    }
    account.activeDispute = undefined;
    this.#markLogged(account);
    this.#ledger.keep(account);
    const next = freeze({
      ...current,
      state: 'resolved' as const,
      resolution,
      refundAmount: refund,
      ...(resolvedBy !== undefined ? { resolvedBy } : {}),
      ...(note !== undefined ? { note } : {}),
      updatedAt: at,
      history: [
        ...current.history,
        { from: current.state, to: 'resolved' as const, at, ...(resolvedBy ? { actor: resolvedBy } : {}) },
      ],
    });
    entry.dispute = next;
    this.#resolved.set(disputeId, at);
    this.#sweep();
    return next;
  }

  /**
   * The dispute with this id, or undefined: never opened here, or resolved longer than
   * `resolvedRetentionMs` ago (or beyond `maxResolved`) and forgotten. The provenance log keeps
   * a forgotten dispute's records (`dispute.*` in the payment's chain).
   */
  get(disputeId: string): Dispute | undefined {
    this.#sweep();
    return this.#disputes.get(disputeId)?.dispute;
  }

  /** Disputes held, oldest first, optionally of one payment and/or in one state. */
  list(filter: { paymentId?: string; state?: DisputeState } = {}): Dispute[] {
    this.#sweep();
    const out: Dispute[] = [];
    for (const { dispute } of this.#disputes.values()) {
      if (filter.paymentId !== undefined && dispute.paymentId !== filter.paymentId) continue;
      if (filter.state !== undefined && dispute.state !== filter.state) continue;
      out.push(dispute);
    }
    return out;
  }

  /**
   * The total refund granted by the disputes of a payment this manager still holds, or undefined
   * when none (forgotten disputes no longer count here). The book ({@link refunds}) counts every
   * refund of the payment, from any manager, forgotten disputes included.
   */
  granted(paymentId: string): Money | undefined {
    this.#sweep();
    return this.#granted.get(paymentId);
  }

  /**
   * Forgets resolved disputes whose retention has passed, then the longest resolved beyond
   * `maxResolved`. Costs what it forgets: the queue is in resolution order.
   */
  #sweep(): void {
    if (this.#resolved.size === 0) return;
    const now = this.#clock.now();
    for (const [id, at] of this.#resolved) {
      if (at + this.#retention > now && this.#resolved.size <= this.#maxResolved) break;
      this.#forget(id);
    }
  }

  #forget(disputeId: string): void {
    const entry = this.#disputes.get(disputeId);
    this.#resolved.delete(disputeId);
    if (!entry) return;
    this.#disputes.delete(disputeId);
    const { paymentId } = entry.dispute;
    const left = (this.#perPayment.get(paymentId) ?? 1) - 1;
    if (left > 0) {
      this.#perPayment.set(paymentId, left);
      const refund = entry.dispute.refundAmount;
      const granted = this.#granted.get(paymentId);
      if (refund && granted && !refund.isZero()) {
        const rest = granted.subtract(refund);
        if (rest.isZero() || rest.isNegative()) this.#granted.delete(paymentId);
        else this.#granted.set(paymentId, rest);
      }
    } else {
      this.#perPayment.delete(paymentId);
      this.#granted.delete(paymentId);
    }
  }

  /** A change the book's own log did not record may be lost if the book forgets the payment. */
  #markLogged(account: Account): void {
    if (this.#provenance === undefined || this.#provenance !== this.#ledger.provenance) {
      account.unlogged = true;
    }
  }

  #require(disputeId: string): Entry {
    const entry = typeof disputeId === 'string' ? this.#disputes.get(disputeId) : undefined;
    if (!entry) {
      throw new BursarError(
        ErrorCode.NOT_FOUND,
        `No dispute ${String(disputeId)} (never opened here, or resolved and forgotten after resolvedRetentionMs)`,
        { status: 404, details: { disputeId } },
      );
    }
    return entry;
  }

  #checkTransition(dispute: Dispute, to: DisputeState): void {
    if (!ALLOWED[dispute.state].includes(to)) {
      const hint =
        dispute.state === 'resolved'
          ? 'a resolved dispute is final'
          : to === 'resolved'
            ? 'a dispute needs evidence before it is resolved'
            : `allowed from ${dispute.state}: ${ALLOWED[dispute.state].join(', ')}`;
      throw new BursarError(
        ProtectErrorCode.INVALID_TRANSITION,
        `Dispute ${dispute.id} cannot go from ${dispute.state} to ${to}: ${hint}`,
        { status: 409, details: { disputeId: dispute.id, from: dispute.state, to } },
      );
    }
  }

  /** One unresolved dispute per payment, across every manager sharing the book. */
  #checkNoActive(paymentId: string): void {
    const active = this.#ledger.peek(paymentId)?.activeDispute;
    if (active !== undefined) {
      throw new BursarError(
        ErrorCode.CONFLICT,
        `Payment ${paymentId} already has an open dispute (${active})`,
        {
          status: 409,
          details: { paymentId, disputeId: active },
        },
      );
    }
  }

  async #provenanceEvidence(paymentId: string, at: number): Promise<ProvenanceEvidence> {
    const log = this.#provenance!;
    const records = await log.chain(paymentId);
    const head = await log.head();
    return {
      kind: 'provenance',
      description: `Provenance chain of payment ${paymentId} (${records.length} records)`,
      records,
      completeness: assessCompleteness(paymentId, records),
      head,
      at,
    };
  }

  async #record(type: string, data: Record<string, unknown>): Promise<void> {
    if (this.#provenance) await this.#provenance.append(type, data);
  }
}

function freeze(dispute: Dispute): Dispute {
  Object.freeze(dispute.evidence);
  Object.freeze(dispute.history);
  for (const e of dispute.evidence) Object.freeze(e);
  for (const h of dispute.history) Object.freeze(h);
  return Object.freeze(dispute);
}
