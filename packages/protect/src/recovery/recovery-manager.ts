import { BursarError, type Clock, canonicalHash, ErrorCode, Money, systemClock } from '@bursar/core';
import { z } from 'zod';
import type { Dispute } from '../disputes/dispute.js';
import { ProtectErrorCode } from '../errors.js';
import { fn, hasMethods, parseOptions } from '../internal/options.js';
import { type ErrorReporter, reportError } from '../internal/report.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { DEFAULT_RESOLVED_RETENTION_MS, type Ledger, ledgerOf, RefundBook } from '../refunds/refund-book.js';

/** What a recovery gives back: the money itself, or a credit toward later use. */
export type RecoveryKind = 'refund' | 'credit';

/** Why a recovery exists. */
export type RecoveryCause = 'undelivered' | 'dispute';

/** `pending → in_progress → succeeded | failed`; a failed recovery may be started again. */
export type RecoveryStatus = 'pending' | 'in_progress' | 'succeeded' | 'failed';

/** What the executor is asked to do. The same recovery always carries the same idempotency key. */
export interface RecoveryAction {
  kind: RecoveryKind;
  /** Pass it to the payment rail so a retried call can never refund twice. */
  idempotencyKey: string;
  paymentId: string;
  amount: Money;
  reason: string;
}

/** Performs a refund or credit on the rail. Throws (or rejects) when it did not happen. */
export type RecoveryExecutor = (action: RecoveryAction) => Promise<{ reference: string }>;

/** Exponential backoff between attempts: `min(maxMs, initialMs × factor^(attempt−1))`. */
export interface BackoffOptions {
  /** Default 500 ms. */
  initialMs?: number;
  /** Default 2. */
  factor?: number;
  /** Default 30 s. */
  maxMs?: number;
}

/** Options of {@link RecoveryManager}. */
export interface RecoveryManagerOptions {
  executor: RecoveryExecutor;
  clock?: Clock;
  /** Waits between attempts (default: a timer). Inject a fake in tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts per run before the recovery is `failed` (default 5). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Whether an executor error is worth another attempt (default: every error is). */
  isRetryable?: (error: unknown) => boolean;
  /** Where each step is recorded (`recovery.started`, `recovery.attempt_failed`, `recovery.succeeded`, `recovery.failed`). */
  provenance?: ProvenanceLog;
  /** Receives provenance write failures (they never change a recovery's outcome). */
  onError?: ErrorReporter;
  /**
   * The refund ledger shared with the {@link DisputeManager} whose refunds this manager executes
   * (`disputes.refunds`). Default: a book of its own, which knows only this manager's recoveries.
   */
  refunds?: RefundBook;
  /**
   * How long a succeeded recovery stays readable (`get`, `list`) after it succeeded, in ms of
   * `clock` (default 30 days). Then it is forgotten; asking for it again is
   * `ERR_BURSAR_ALREADY_RECOVERED` while the refund book remembers its success. Pending, running
   * and failed recoveries are never forgotten.
   */
  resolvedRetentionMs?: number;
  /** The most succeeded recoveries kept; beyond it the longest succeeded go first (default 100,000). */
  maxResolved?: number;
}

const Options = z.strictObject({
  executor: fn<RecoveryExecutor>('executor must be a function'),
  clock: hasMethods<Clock>(['now'], 'must be a Clock').optional(),
  sleep: fn<(ms: number) => Promise<void>>().optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
  backoff: z
    .strictObject({
      initialMs: z.number().min(0).max(3_600_000).optional(),
      factor: z.number().min(1).max(10).optional(),
      maxMs: z.number().min(0).max(86_400_000).optional(),
    })
    .optional(),
  isRetryable: fn<(error: unknown) => boolean>().optional(),
  provenance: z
    .custom<ProvenanceLog>((v) => v instanceof ProvenanceLog, 'must be a ProvenanceLog')
    .optional(),
  onError: fn<ErrorReporter>().optional(),
  refunds: z.custom<RefundBook>((v) => v instanceof RefundBook, 'must be a RefundBook').optional(),
  resolvedRetentionMs: z.number().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  maxResolved: z.number().int().min(0).max(10_000_000).optional(),
});

/** What {@link RecoveryManager.recover} takes. */
export interface RecoveryRequest {
  kind: RecoveryKind;
  cause: RecoveryCause;
  paymentId: string;
  amount: Money;
  reason: string;
  /** Required when `cause` is `dispute`. */
  disputeId?: string;
  /**
   * What the payment settled. The first statement is pinned in the refund book (a later,
   * different one is `ERR_BURSAR_SETTLEMENT_MISMATCH`). When the book knows nothing of the payment
   * and this is absent, the book's provenance log says what settled, or else `amount` is taken
   * as the whole settled amount.
   */
  settled?: Money;
  /** Refunds made outside the refund book so far (the book keeps the largest declaration). */
  refunded?: Money;
}

/** What {@link RecoveryManager.recoverUndelivered} takes. */
export interface UndeliveredRecoveryInput {
  paymentId: string;
  amount: Money;
  reason?: string;
  kind?: RecoveryKind;
  /** What the payment settled; see {@link RecoveryRequest.settled}. */
  settled?: Money;
  /** Refunds made outside the refund book so far. */
  refunded?: Money;
}

/** One call of the executor. */
export interface RecoveryAttempt {
  readonly attempt: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
  readonly reference?: string;
  readonly error?: string;
}

/** A recovery, as a frozen snapshot. */
export interface Recovery {
  /** Also its id: one recovery per payment, kind, cause (and dispute). */
  readonly idempotencyKey: string;
  readonly kind: RecoveryKind;
  readonly cause: RecoveryCause;
  readonly paymentId: string;
  readonly disputeId?: string;
  readonly amount: Money;
  readonly reason: string;
  readonly status: RecoveryStatus;
  readonly attempts: readonly RecoveryAttempt[];
  /** The rail's reference, once succeeded. */
  readonly reference?: string;
  readonly lastError?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

function invalidArgument(message: string): BursarError {
  return new BursarError(ErrorCode.INVALID_ARGUMENT, message);
}

function sameAsset(a: Money, b: Money): boolean {
  return a.currency.toUpperCase() === b.currency.toUpperCase() && a.decimals === b.decimals;
}

/** A request as validated: copied, so a caller changing its object later changes nothing. */
type Checked = Readonly<RecoveryRequest>;

/**
 * Executes refunds and credits for payments that settled but were not delivered (the x402
 * settle-timeout case) and for resolved disputes, through a user-supplied executor.
 *
 * Each recovery has one idempotency key, derived from payment, kind, cause and dispute, and
 * passed to the executor on every attempt, so the rail can deduplicate. Attempts are bounded,
 * with exponential backoff between them. Once a recovery has succeeded, `recover()` returns it
 * without calling the executor again; concurrent calls share one run. The same key with a
 * different amount or currency is `ERR_BURSAR_IDEMPOTENCY_CONFLICT`. State is held in memory;
 * across processes the executor's idempotency key is what prevents a second refund.
 *
 * Every recovery is counted in the {@link RefundBook} before the executor is called: one that
 * would take the payment's refunds and credits (disputes, other recoveries, declared outside
 * refunds) above what settled is `ERR_BURSAR_REFUND_EXCEEDS_SETTLED`, and a dispute's recoveries
 * never exceed what it granted. A recovery stays counted once started, also when it failed (its
 * money may have moved; it can be started again with the same key).
 *
 * Succeeded recoveries are kept `resolvedRetentionMs` after success (at most `maxResolved`),
 * then forgotten: `get` answers undefined, and `recover()` of one is
 * `ERR_BURSAR_ALREADY_RECOVERED` (never a second execution) while the book, or its provenance
 * log, knows it succeeded. Other recoveries are never forgotten.
 *
 * @example
 * const recovery = new RecoveryManager({ executor: (a) => rail.refund(a), clock, refunds: disputes.refunds });
 * const r = await recovery.recoverDispute(resolvedDispute);
 * if (r.status === 'failed') page(r.lastError);
 */
export class RecoveryManager {
  readonly #executor: RecoveryExecutor;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxAttempts: number;
  readonly #backoff: Required<BackoffOptions>;
  readonly #isRetryable: (error: unknown) => boolean;
  readonly #provenance: ProvenanceLog | undefined;
  readonly #onError: ErrorReporter | undefined;
  readonly #recoveries = new Map<string, Recovery>();
  /** Succeeded recoveries in the order they succeeded, with when: the retention queue. */
  readonly #succeeded = new Map<string, number>();
  readonly #retention: number;
  readonly #maxResolved: number;
  readonly #running = new Map<string, Promise<Recovery>>();
  readonly #book: RefundBook;
  readonly #ledger: Ledger;

  constructor(options: RecoveryManagerOptions) {
    const o = parseOptions('RecoveryManager', Options, options);
    this.#executor = o.executor;
    this.#clock = o.clock ?? systemClock;
    this.#sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#maxAttempts = o.maxAttempts ?? 5;
    this.#backoff = {
      initialMs: o.backoff?.initialMs ?? 500,
      factor: o.backoff?.factor ?? 2,
      maxMs: o.backoff?.maxMs ?? 30_000,
    };
    this.#isRetryable = o.isRetryable ?? (() => true);
    this.#provenance = o.provenance;
    this.#onError = o.onError;
    this.#retention = o.resolvedRetentionMs ?? DEFAULT_RESOLVED_RETENTION_MS;
    this.#maxResolved = o.maxResolved ?? 100_000;
    this.#book =
      o.refunds ??
      new RefundBook({
        clock: this.#clock,
        ...(o.resolvedRetentionMs !== undefined ? { resolvedRetentionMs: o.resolvedRetentionMs } : {}),
      });
    this.#ledger = ledgerOf(this.#book);
  }

  /** The refund ledger recoveries are counted in. */
  get refunds(): RefundBook {
    return this.#book;
  }

  /** How many recoveries the manager holds (in flight, failed, and succeeded within retention). */
  get size(): number {
    this.#sweep();
    return this.#recoveries.size;
  }

  /**
   * The idempotency key of a recovery: `rcv_` and 40 hex of SHA-256 over the canonical JSON of
   * payment id, kind, cause and dispute id. Amount is not part of it: the same recovery asked
   * for with another amount is a conflict, not a second recovery.
   */
  static keyFor(request: Pick<RecoveryRequest, 'kind' | 'cause' | 'paymentId' | 'disputeId'>): string {
    return `rcv_${canonicalHash({
      v: 1,
      paymentId: request.paymentId,
      kind: request.kind,
      cause: request.cause,
      disputeId: request.disputeId ?? null,
    }).slice(0, 40)}`;
  }

  /** The delay before attempt `attempt + 1`, after `attempt` failed. */
  backoffMs(attempt: number): number {
    const { initialMs, factor, maxMs } = this.#backoff;
    return Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1));
  }

  /**
   * Runs a recovery to `succeeded` or `failed` and resolves with it (it does not reject for an
   * executor failure: check `status`). Already succeeded: returned as is. Running: the same
   * promise. Failed earlier: started again, with the same idempotency key. Rejects, changing
   * nothing, when the recovery does not fit in what the payment settled.
   */
  recover(request: RecoveryRequest): Promise<Recovery> {
    let key: string;
    let checked: Checked;
    try {
      this.#sweep();
      checked = this.#validate(request);
      key = RecoveryManager.keyFor(checked);
      this.#checkSameAmount(key, checked);
    } catch (error) {
      return Promise.reject(error);
    }
    const running = this.#running.get(key);
    if (running) return running;
    const existing = this.#recoveries.get(key);
    if (existing?.status === 'succeeded') return Promise.resolve(existing);
    const run = this.#ledger
      .lock(checked.paymentId, () => this.#reserve(key, checked))
      .then(() => this.#run(key))
      .finally(() => this.#running.delete(key));
    this.#running.set(key, run);
    return run;
  }

  /** Refunds (or credits) a payment that settled but was not delivered. */
  recoverUndelivered(input: UndeliveredRecoveryInput): Promise<Recovery> {
    if (typeof input !== 'object' || input === null) {
      return Promise.reject(invalidArgument('recoverUndelivered needs an input object'));
    }
    return this.recover({
      kind: input.kind ?? 'refund',
      cause: 'undelivered',
      paymentId: input.paymentId,
      amount: input.amount,
      reason: input.reason ?? 'settled but not delivered',
      ...(input.settled !== undefined ? { settled: input.settled } : {}),
      ...(input.refunded !== undefined ? { refunded: input.refunded } : {}),
    });
  }

  /** Executes the refund a resolved dispute granted. Throws for a dispute that is not resolved or granted nothing. */
  recoverDispute(dispute: Dispute, options: { kind?: RecoveryKind } = {}): Promise<Recovery> {
    if (dispute?.state !== 'resolved') {
      return Promise.reject(
        new BursarError(
          ProtectErrorCode.INVALID_TRANSITION,
          `Dispute ${String(dispute?.id)} is ${String(dispute?.state)}; only a resolved dispute can be recovered`,
          { details: { disputeId: dispute?.id, state: dispute?.state } },
        ),
      );
    }
    if (!dispute.refundAmount || dispute.refundAmount.isZero()) {
      return Promise.reject(
        invalidArgument(`Dispute ${dispute.id} was ${dispute.resolution}: there is nothing to refund`),
      );
    }
    return this.recover({
      kind: options.kind ?? 'refund',
      cause: 'dispute',
      paymentId: dispute.paymentId,
      disputeId: dispute.id,
      amount: dispute.refundAmount,
      reason: `dispute ${dispute.id} ${dispute.resolution}${dispute.note ? `: ${dispute.note}` : ''}`,
      settled: dispute.settled,
    });
  }

  /**
   * The recovery with this idempotency key, or undefined: never asked for here, or succeeded
   * longer than `resolvedRetentionMs` ago (or beyond `maxResolved`) and forgotten. The provenance
   * log keeps a forgotten recovery's records (`recovery.*` in the payment's chain).
   */
  get(idempotencyKey: string): Recovery | undefined {
    this.#sweep();
    return this.#recoveries.get(idempotencyKey);
  }

  /** Recoveries held, oldest first, optionally of one payment and/or in one status. */
  list(filter: { paymentId?: string; status?: RecoveryStatus } = {}): Recovery[] {
    this.#sweep();
    return [...this.#recoveries.values()].filter(
      (r) =>
        (filter.paymentId === undefined || r.paymentId === filter.paymentId) &&
        (filter.status === undefined || r.status === filter.status),
    );
  }

  #validate(request: RecoveryRequest): Checked {
    if (typeof request !== 'object' || request === null)
      throw invalidArgument('recover needs a request object');
    if (request.kind !== 'refund' && request.kind !== 'credit')
      throw invalidArgument('kind must be refund or credit');
    if (request.cause !== 'undelivered' && request.cause !== 'dispute') {
      throw invalidArgument('cause must be undelivered or dispute');
    }
    if (typeof request.paymentId !== 'string' || request.paymentId.length === 0) {
      throw invalidArgument('paymentId must be a non-empty string');
    }
    if (
      request.cause === 'dispute' &&
      (typeof request.disputeId !== 'string' || request.disputeId.length === 0)
    ) {
      throw invalidArgument('a dispute recovery needs its disputeId');
    }
    if (typeof request.reason !== 'string' || request.reason.length === 0) {
      throw invalidArgument('reason must be a non-empty string');
    }
    if (!Money.isMoney(request.amount)) throw invalidArgument('amount must be a Money');
    if (request.amount.isNegative() || request.amount.isZero()) {
      throw new BursarError(ErrorCode.INVALID_AMOUNT, 'A recovery amount must be more than zero');
    }
    const { settled, refunded } = request;
    if (settled !== undefined) {
      if (!Money.isMoney(settled)) throw invalidArgument('settled must be a Money');
      if (settled.isNegative() || settled.isZero()) {
        throw new BursarError(ErrorCode.INVALID_AMOUNT, 'settled must be more than zero');
      }
      this.#sameCurrency(request.amount, settled, 'amount');
    }
    if (refunded !== undefined) {
      if (!Money.isMoney(refunded)) throw invalidArgument('refunded must be a Money');
      if (refunded.isNegative()) {
        throw new BursarError(ErrorCode.INVALID_AMOUNT, 'refunded must not be negative');
      }
      this.#sameCurrency(refunded, request.amount, 'refunded');
    }
    return Object.freeze({
      kind: request.kind,
      cause: request.cause,
      paymentId: request.paymentId,
      amount: request.amount,
      reason: request.reason,
      ...(request.disputeId !== undefined ? { disputeId: request.disputeId } : {}),
      ...(settled !== undefined ? { settled } : {}),
      ...(refunded !== undefined ? { refunded } : {}),
    });
  }

  /** The same key with another amount is a conflict, not a second recovery. */
  #checkSameAmount(key: string, request: Checked): void {
    const existing = this.#recoveries.get(key);
    if (
      existing &&
      (existing.amount.currency.toUpperCase() !== request.amount.currency.toUpperCase() ||
        existing.amount.minor !== request.amount.minor)
    ) {
      throw new BursarError(
        ErrorCode.IDEMPOTENCY_CONFLICT,
        `Recovery ${key} is for ${existing.amount.format()}, not ${request.amount.format()}`,
        { status: 409, details: { idempotencyKey: key } },
      );
    }
  }

  #sameCurrency(value: Money, settled: Money, field: string): void {
    if (!sameAsset(value, settled)) {
      throw new BursarError(
        ErrorCode.ASSET_MISMATCH,
        `${field} is in ${value.currency} but the payment settled in ${settled.currency}`,
        { details: { field, currency: value.currency, settledCurrency: settled.currency } },
      );
    }
  }

  /**
   * Counts the recovery in the refund book (inside the payment's lock), then creates it as
   * `pending`. Throws, changing nothing, when it does not fit.
   */
  async #reserve(key: string, request: Checked): Promise<void> {
    const { paymentId, amount } = request;
    let account = this.#ledger.peek(paymentId);
    if (!account?.recoveries.has(key)) {
      account = await this.#ledger.account(paymentId, {
        ...(request.settled !== undefined ? { stated: request.settled } : {}),
        fallback: amount,
      });
    }
    const known = account.recoveries.get(key);
    if (known) {
      // Started before (a retry, another manager on this book, or read back from the log): counted already.
      if (!known.amount.equals(amount)) {
        throw new BursarError(
          ErrorCode.IDEMPOTENCY_CONFLICT,
          `Recovery ${key} is for ${known.amount.format()}, not ${amount.format()}`,
          { status: 409, details: { idempotencyKey: key } },
        );
      }
      if (known.succeeded && !this.#recoveries.has(key)) {
        throw new BursarError(
          ProtectErrorCode.ALREADY_RECOVERED,
          `Recovery ${key} of payment ${paymentId} already succeeded; this manager no longer holds its record (see the provenance log), and it is not executed again`,
          { status: 409, details: { idempotencyKey: key, paymentId } },
        );
      }
      known.done = false;
    } else {
      const settled = account.settled;
      this.#sameCurrency(amount, settled, 'amount');
      const outside = request.refunded ?? Money.zero(settled.asset);
      this.#sameCurrency(outside, settled, 'refunded');
      const declared = Money.max(account.outside, outside);
      const grant =
        request.cause === 'dispute' && request.disputeId !== undefined
          ? account.grants.get(request.disputeId)
          : undefined;
      const refunded = account.refunded(declared);
      if (grant) {
        // A dispute's recoveries draw on its grant, which the book counts already.
        const left = grant.subtract(account.drawn(request.disputeId!));
        if (amount.gt(left) || refunded.gt(settled)) {
          throw this.#exceeds(request, key, settled, refunded, Money.max(left, Money.zero(settled.asset)));
        }
      } else if (refunded.add(amount).gt(settled)) {
        throw this.#exceeds(
          request,
          key,
          settled,
          refunded,
          Money.max(settled.subtract(refunded), Money.zero(settled.asset)),
        );
      }
      account.outside = declared;
      if (this.#provenance === undefined || this.#provenance !== this.#ledger.provenance) {
        account.unlogged = true;
      }
      account.recoveries.set(key, {
        amount,
        ...(request.cause === 'dispute' ? { disputeId: request.disputeId! } : {}),
        done: false,
      });
    }
    this.#ledger.keep(account);
    if (this.#recoveries.has(key)) return;
    const now = this.#clock.now();
    this.#recoveries.set(
      key,
      Object.freeze({
        idempotencyKey: key,
        kind: request.kind,
        cause: request.cause,
        paymentId,
        ...(request.disputeId !== undefined ? { disputeId: request.disputeId } : {}),
        amount,
        reason: request.reason,
        status: 'pending' as const,
        attempts: Object.freeze([]),
        createdAt: now,
        updatedAt: now,
      }),
    );
  }

  #exceeds(request: Checked, key: string, settled: Money, refunded: Money, left: Money): BursarError {
    return new BursarError(
      ProtectErrorCode.REFUND_EXCEEDS_SETTLED,
      `Cannot recover ${request.amount.format()} for payment ${request.paymentId}: ${refunded.format()} of the ${settled.format()} settled is refunded or credited already, ${left.format()} is left${request.disputeId !== undefined ? ` for dispute ${request.disputeId}` : ''}`,
      {
        status: 409,
        details: {
          paymentId: request.paymentId,
          idempotencyKey: key,
          amount: request.amount.toJSON(),
          settled: settled.toJSON(),
          refunded: refunded.toJSON(),
          remaining: left.toJSON(),
        },
      },
    );
  }

  async #run(key: string): Promise<Recovery> {
    let r = this.#update(key, { status: 'in_progress' });
    const base = r.attempts.length;
    if (base === 0) {
      const account = this.#ledger.peek(r.paymentId);
      const outside = account?.outside;
      const logged = await this.#record(
        'recovery.started',
        r,
        outside && !outside.isZero() ? { refundedOutside: outside.toDecimalString() } : {},
      );
      // The book reads a forgotten payment back from this record: without it, keep the payment.
      if (!logged && account) account.unlogged = true;
    }
    for (let i = 1; i <= this.#maxAttempts; i++) {
      const attempt = base + i;
      const startedAt = this.#clock.now();
      let reference: string | undefined;
      let failure: unknown;
      try {
        const result = await this.#executor(
          Object.freeze({
            kind: r.kind,
            idempotencyKey: key,
            paymentId: r.paymentId,
            amount: r.amount,
            reason: r.reason,
          }),
        );
        reference = result?.reference;
        if (typeof reference !== 'string' || reference.length === 0) {
          failure = new BursarError(ErrorCode.INTERNAL, 'The recovery executor returned no reference');
          reference = undefined;
        }
      } catch (error) {
        failure = error;
      }
      const endedAt = this.#clock.now();
      if (failure === undefined) {
        r = this.#update(key, {
          status: 'succeeded',
          reference: reference!,
          attempts: [
            ...r.attempts,
            Object.freeze({ attempt, startedAt, endedAt, ok: true, reference: reference! }),
          ],
        });
        this.#succeeded.set(key, this.#clock.now());
        const account = this.#ledger.peek(r.paymentId);
        const share = account?.recoveries.get(key);
        if (share) {
          share.done = true;
          share.succeeded = true;
          // The payment may have become idle: it joins the book's retention queue.
          this.#ledger.keep(account!);
        }
        await this.#record('recovery.succeeded', r, { attempt, reference: reference! });
        this.#sweep();
        return r;
      }
      const message = failure instanceof Error ? failure.message : String(failure);
      r = this.#update(key, {
        lastError: message,
        attempts: [...r.attempts, Object.freeze({ attempt, startedAt, endedAt, ok: false, error: message })],
      });
      let retryable: boolean;
      try {
        retryable = this.#isRetryable(failure);
      } catch {
        retryable = false;
      }
      if (!retryable || i === this.#maxAttempts) break;
      await this.#record('recovery.attempt_failed', r, { attempt, error: message });
      await this.#sleep(this.backoffMs(i));
    }
    r = this.#update(key, { status: 'failed' });
    await this.#record('recovery.failed', r, { attempt: r.attempts.length, error: r.lastError ?? 'failed' });
    return r;
  }

  #update(key: string, patch: Partial<Recovery>): Recovery {
    const current = this.#recoveries.get(key)!;
    const next: Recovery = Object.freeze({
      ...current,
      ...patch,
      ...(patch.attempts ? { attempts: Object.freeze(patch.attempts) } : {}),
      updatedAt: this.#clock.now(),
    });
    this.#recoveries.set(key, next);
    return next;
  }

  /**
   * Forgets succeeded recoveries whose retention has passed, then the longest succeeded beyond
   * `maxResolved`. Costs what it forgets: the queue is in the order they succeeded.
   */
  #sweep(): void {
    if (this.#succeeded.size === 0) return;
    const now = this.#clock.now();
    for (const [key, at] of this.#succeeded) {
      if (at + this.#retention > now && this.#succeeded.size <= this.#maxResolved) break;
      this.#succeeded.delete(key);
      this.#recoveries.delete(key);
    }
  }

  /**
   * Best effort: a provenance failure is reported and never changes (or repeats) a recovery.
   * Resolves with whether the record was written.
   */
  async #record(type: string, r: Recovery, extra: Record<string, unknown>): Promise<boolean> {
    if (!this.#provenance) return false;
    try {
      await this.#provenance.append(type, {
        paymentId: r.paymentId,
        ...(r.disputeId !== undefined ? { disputeId: r.disputeId } : {}),
        kind: r.kind,
        cause: r.cause,
        idempotencyKey: r.idempotencyKey,
        amount: r.amount.toDecimalString(),
        currency: r.amount.currency,
        status: r.status,
        reason: r.reason,
        ...extra,
      });
      return true;
    } catch (error) {
      reportError(this.#onError, error, { operation: 'provenance', event: type });
      return false;
    }
  }
}
