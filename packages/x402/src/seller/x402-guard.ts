import {
  type AssetRegistry,
  BursarError,
  type Clock,
  type Decision,
  defaultAssets,
  ErrorCode,
  type IntentInput,
  Money,
  type ParsedIntent,
  systemClock,
} from '@bursar/core';
import type {
  AfterSettleHook,
  AfterVerifyHook,
  BeforeSettleHook,
  BeforeVerifyHook,
  OnSettleFailureHook,
  OnVerifiedPaymentCanceledHook,
  OnVerifyFailureHook,
  SettleContext,
  SettleFailureContext,
  SettleResultContext,
  VerifiedPaymentCanceledContext,
  VerifyContext,
  VerifyFailureContext,
  VerifyResultContext,
} from '@x402/core/server';
import type {
  DeepReadonly,
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  VerifyResponse,
} from '@x402/core/types';
import { z } from 'zod';
import { X402ErrorCode, X402Reason } from '../errors/index.js';
import {
  classifyFacilitatorError,
  classifyFacilitatorResult,
  isAmbiguousSettleFailure,
} from '../facilitator/classify.js';
import { facilitatorResultOrigin } from '../facilitator/result-origin.js';
import { Effects } from '../internal/effects.js';
import { ObjectTag } from '../internal/object-tag.js';
import { parseOptions } from '../internal/options.js';
import {
  agentOfPayer,
  buildIntent,
  defaultPayer,
  defaultResource,
  isEvmNetwork,
  type MappedAmount,
  type MapResult,
  mapAmount,
  type PaymentFacts,
  withPayer,
  type X402PaymentContext,
} from './intent-mapping.js';
import { PaymentBook, type PaymentEntry, type PaymentState } from './payment-book.js';
import {
  explicitPaymentId,
  type PaymentIdentity,
  payloadHashOf,
  paymentTermsKey,
} from './payment-identity.js';
import type { X402PolicyEngine } from './ports.js';
import { X402GuardOptions } from './x402-guard-options.js';

/** The resource-server surface the guard registers on (an `x402ResourceServer`). */
export interface GuardableResourceServer {
  onBeforeVerify(hook: BeforeVerifyHook): unknown;
  onAfterVerify(hook: AfterVerifyHook): unknown;
  onVerifyFailure(hook: OnVerifyFailureHook): unknown;
  onBeforeSettle(hook: BeforeSettleHook): unknown;
  onAfterSettle(hook: AfterSettleHook): unknown;
  onSettleFailure(hook: OnSettleFailureHook): unknown;
  onVerifiedPaymentCanceled(hook: OnVerifiedPaymentCanceledHook): unknown;
  verifyPayment?(
    paymentPayload: PaymentPayload,
    requirements: PaymentRequirements,
    ...rest: unknown[]
  ): Promise<VerifyResponse>;
  settlePayment?(
    paymentPayload: PaymentPayload,
    requirements: PaymentRequirements,
    ...rest: unknown[]
  ): Promise<SettleResponse>;
}

/**
 * How an operator (or a reconciliation job) resolves a payment whose settle outcome was unknown.
 * Its budget was already captured when the outcome became unknown: `settled: true` records the
 * settlement without capturing again; `settled: false` records that it did not settle, and the
 * budget stays consumed (`budgetReturned: false`).
 */
export const ReconcileOutcome = z.strictObject({
  /** True when the money moved (found on chain / at the facilitator); false when it did not. */
  settled: z.boolean(),
  /** The transaction hash, when settled. */
  transaction: z.string().min(1).max(512).optional(),
  /** Atomic amount actually settled (default: the amount that was being settled). */
  amount: z.string().regex(/^\d+$/, 'must be an atomic amount (digits)').optional(),
  /** Who reconciled (for provenance). */
  actor: z.string().min(1).max(256).optional(),
});
export type ReconcileOutcome = z.input<typeof ReconcileOutcome>;

/** A payment as the guard sees it. Amounts are exact decimal strings. */
export interface X402PaymentStatus {
  paymentId: string;
  state: PaymentState;
  agentId?: string;
  payer?: string;
  amount?: string;
  currency?: string;
  network: string;
  payTo: string;
  resource?: string;
  intentId?: string;
  holdId?: string;
  transaction?: string;
  verifySource?: string;
  settleSource?: string;
  facilitator?: string;
  failure?: string;
  /**
   * For a payment whose settle outcome was unknown (`pending_reconciliation`, `not_settled`):
   * false when its budget was captured and stays consumed (the money may have moved), true
   * when the budget does not count it (the capture could not be made, or it was released).
   */
  budgetReturned?: boolean;
  /** Epoch ms of the last change. */
  updatedAt: number;
}

type Abort = { abort: true; reason: string; message?: string };

const abort = (reason: string, message?: string): Abort => ({
  abort: true,
  reason,
  ...(message ? { message } : {}),
});

const GUARDED = Symbol.for('bursar.x402.guarded');

/** What a capture without an error or a discrepancy reports (one shared, frozen object). */
const NOTHING_TO_REPORT: { captureError?: string; discrepancy?: string } = Object.freeze({});

type MaybePromise<T> = T | Promise<T>;
/** What the guard's steps read of a hook's context (every x402 hook context has these). */
type HookContext = Omit<X402PaymentContext, 'payer'>;

/** One request's view of its payment: its identity (computed once) and the payment it claimed. */
interface PaymentRequest extends PaymentIdentity {
  /** The payment this request claimed, and at which attempt: only that request moves it on. */
  entry: PaymentEntry | undefined;
  attempt: number;
}
type FactsResult = MapResult<PaymentFacts>;
type IntentResult = { ok: true; value: IntentInput } | { ok: false; abort: Abort };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** Two addresses are the same: exactly, or ignoring case on EVM networks. */
function sameAddress(evm: boolean, a: string, b: string): boolean {
  return a === b || (evm && a.toLowerCase() === b.toLowerCase());
}

function reasonOf(decision: Decision): { code: string; message: string } {
  const top = decision.reasons.find((r) => r.outcome === decision.outcome) ?? decision.reasons[0];
  return top
    ? { code: top.code, message: top.message }
    : { code: X402Reason.POLICY_DENIED, message: 'denied by policy' };
}

/**
 * Guards an `x402ResourceServer` with Bursar's policy engine. Create it with
 * {@link createX402Guard}, then `attach(resourceServer)`.
 */
export class X402Guard {
  readonly #o: z.output<typeof X402GuardOptions>;
  readonly #engine: X402PolicyEngine;
  readonly #assets: AssetRegistry;
  readonly #clock: Clock;
  readonly #fx: Effects;
  readonly #book: PaymentBook;
  /**
   * Per request (attached to its payload object): the payment's identity, computed once, and the
   * payment it drives. Only the request that claimed a payment may move its state.
   */
  readonly #requests = new ObjectTag<PaymentRequest>();
  #observing = false;
  /** Payments a `reconcile()` call is resolving right now (a concurrent second call is refused). */
  readonly #reconciling = new Set<string>();
  /**
   * True when the engine can decide without side effects: policy is then checked with
   * `evaluate` before verification, and the hold is placed only after it (an authenticated payer).
   */
  readonly #evaluates: boolean;
  /** The last requirement amount mapped (see {@link #amountOf}). */
  #lastAmount: { atomic: string; mapped: MapResult<MappedAmount> & { ok: true } } | undefined;

  constructor(options: X402GuardOptions) {
    this.#o = parseOptions(X402GuardOptions, options, 'createX402Guard');
    this.#engine = this.#o.engine;
    this.#evaluates = typeof this.#engine.evaluate === 'function';
    this.#assets = this.#o.assets ?? this.#engine.assets ?? defaultAssets;
    this.#clock = this.#o.clock ?? systemClock;
    this.#fx = new Effects({
      events: this.#o.events ?? this.#engine.events,
      tracker: this.#o.tracker,
      provenance: this.#o.provenance,
      onError: this.#o.onError,
    });
    this.#book = new PaymentBook({
      maxEntries: this.#o.maxPayments,
      retentionMs: this.#o.retentionMs,
      activeTtlMs: this.#o.activeTtlMs,
    });
  }

  /**
   * Registers the seven lifecycle hooks on a resource server (and, unless
   * `observeResults: false`, wraps its `verifyPayment` / `settlePayment` to observe final
   * outcomes). Attach before other hooks that may `skip` or `recover`, so the guard sees every
   * payment first. A server takes one guard; a second `attach` throws
   * `ERR_BURSAR_X402_ALREADY_ATTACHED`.
   */
  attach(server: GuardableResourceServer): this {
    const marked = server as unknown as { [GUARDED]?: true };
    if (marked[GUARDED]) {
      throw new BursarError(
        X402ErrorCode.ALREADY_ATTACHED,
        'This resource server already has a Bursar x402 guard',
      );
    }
    Object.defineProperty(server, GUARDED, { value: true });
    // No hook throws (a throwing x402 hook fails open): each hook method catches every failure
    // of its own body (an async method with one try/catch: no wrapper promise or closure per call).
    server.onBeforeVerify((ctx) => this.#beforeVerify(ctx));
    server.onAfterVerify((ctx) => this.#afterVerify(ctx));
    server.onVerifyFailure((ctx) => this.#verifyFailure(ctx));
    // The settle hook may answer without a promise (see #beforeSettle); x402 awaits it either way.
    server.onBeforeSettle((ctx) => this.#beforeSettle(ctx) as Promise<Abort | undefined>);
    server.onAfterSettle((ctx) => this.#afterSettle(ctx));
    server.onSettleFailure((ctx) => this.#settleFailure(ctx));
    server.onVerifiedPaymentCanceled((ctx) => this.#canceled(ctx));
    if (this.#o.observeResults) this.#observe(server);
    return this;
  }

  /** The id the guard gives a payment (`pid:<payment-identifier>` or `sha256:<payload hash>`). */
  paymentIdOf(payload: DeepReadonly<PaymentPayload>): string {
    return this.#identity(payload).paymentId;
  }

  /** What the guard knows about a payment, or undefined when it is not (or no longer) tracked. */
  status(paymentId: string): X402PaymentStatus | undefined {
    const e = this.#book.get(paymentId);
    return e ? view(e) : undefined;
  }

  /** Payments whose settle outcome is unknown (their budget is captured): they wait for {@link reconcile}. */
  pending(): X402PaymentStatus[] {
    return this.#book.pending().map(view);
  }

  /** Tracked payments and pending reconciliations (memory is bounded by `maxPayments`). */
  stats(): { tracked: number; pending: number } {
    return { tracked: this.#book.size, pending: this.#book.pendingCount };
  }

  /**
   * Resolves a payment left `pending_reconciliation` by an ambiguous settle. Its budget was
   * captured when the outcome became unknown, so nothing is captured twice: `settled: true`
   * records the settlement (state `settled`, `payment.settled` with source `reconciliation`,
   * provenance with the transaction); `settled: false` records that it did not settle (state
   * `not_settled`, `budgetReturned: false`): the budget stays consumed, never re-charged, for an
   * operator to adjust. (When that capture could not be made, `settled: true` captures now and
   * `settled: false` releases the hold.) Throws `ERR_BURSAR_X402_NOT_PENDING` for any other
   * payment, or while another `reconcile()` of the same payment runs.
   */
  async reconcile(paymentId: string, outcome: ReconcileOutcome): Promise<X402PaymentStatus> {
    const o = parseOptions(ReconcileOutcome, outcome, 'reconcile');
    const entry = this.#book.get(paymentId);
    if (entry?.state !== 'pending_reconciliation' || this.#reconciling.has(paymentId)) {
      const state = entry && this.#reconciling.has(paymentId) ? 'being reconciled' : entry?.state;
      throw new BursarError(
        X402ErrorCode.NOT_PENDING,
        `Payment ${paymentId} is not waiting for reconciliation${state ? ` (it is ${state})` : ''}`,
        { status: entry ? 409 : 404, details: { paymentId, ...(state ? { state } : {}) } },
      );
    }
    this.#reconciling.add(paymentId);
    try {
      if (o.settled) {
        await this.#settle(entry, {
          atomic: o.amount ?? entry.settleAtomic ?? entry.money?.toAtomicString() ?? '0',
          source: 'reconciliation',
          ...(o.transaction ? { transaction: o.transaction } : {}),
          ...(o.actor ? { actor: o.actor } : {}),
        });
      } else if (entry.charged) {
        this.#notSettled(entry, o.actor);
      } else {
        await this.#release(
          entry,
          X402Reason.SETTLE_FAILED,
          `reconciled as not settled${o.actor ? ` by ${o.actor}` : ''}`,
        );
      }
    } finally {
      this.#reconciling.delete(paymentId);
    }
    return view(entry);
  }

  /** Resolves when every side effect started so far (provenance appends) has finished. */
  async idle(): Promise<void> {
    await this.#fx.idle();
  }

  // ------------------------------------------------------------------ hooks

  async #beforeVerify(ctx: VerifyContext): Promise<Abort | undefined> {
    try {
      const id = this.#identity(ctx.paymentPayload);
      const payer = this.#payerOf(ctx.paymentPayload);
      // Terms matter only for an explicit payment id: a payload hash already covers what was signed.
      const terms = id.explicit ? paymentTermsKey(ctx.requirements, payer) : '';
      const found = this.#entryOf(id);
      if (found) {
        if (id.explicit && found.termsKey !== terms) {
          return this.#blocked(
            found,
            X402Reason.IDEMPOTENCY_CONFLICT,
            'this payment id was used with other terms',
          );
        }
        const refusal = this.#refusalFor(found);
        if (refusal) return refusal;
      }
      // Claim the payment synchronously, before any await: a concurrent duplicate sees it.
      const entry = found ?? this.#newEntry(id, ctx.requirements, terms);
      entry.state = 'authorizing';
      entry.attempt++;
      this.#book.rekey(entry, id.payloadHash);
      entry.termsKey = terms;
      this.#claim(id, entry);
      this.#book.touch(entry, this.#clock.now());
      // The payer (and so the default agent) is what the payload claims, not yet authenticated:
      // with an engine that can evaluate, nothing with side effects (hold, strike) happens here.
      // Awaited here, so this hook's catch sees its failures.
      return await (this.#evaluates
        ? this.#evaluate(entry, ctx, payer)
        : this.#authorize(entry, ctx, payer, 'before_verify'));
    } catch (error) {
      return this.#hookFailed('beforeVerify', ctx, error, true);
    }
  }

  async #afterVerify(ctx: VerifyResultContext): Promise<Abort | undefined> {
    try {
      const id = this.#identity(ctx.paymentPayload);
      const entry = this.#entryOf(id);
      const origin = facilitatorResultOrigin(ctx.result);
      const owned = entry !== undefined && this.#owns(id, entry);
      if (!ctx.result.isValid) {
        if (entry && owned && (entry.state === 'held' || entry.state === 'evaluated')) {
          await this.#release(entry, X402Reason.VERIFY_INVALID, ctx.result.invalidReason ?? 'invalid');
        }
        return;
      }
      if (entry && !owned && entry.state !== 'released' && entry.state !== 'denied') {
        return this.#refusalFor(entry);
      }
      if (entry?.state === 'evaluated') {
        // The facilitator verified the payment: its payer is authenticated. Now hold, atomically,
        // before anything can settle; a payment the budget no longer covers is refused here.
        entry.state = 'authorizing';
        this.#book.touch(entry, this.#clock.now());
        const refused = await this.#holdFor(entry, 'after_verify');
        if (refused) return refused;
        entry.state = 'verified';
        entry.verifySource = origin ? 'facilitator' : 'unattributed';
        if (origin) entry.facilitator = origin;
        this.#book.touch(entry, this.#clock.now());
        return;
      }
      if (entry?.state === 'held') {
        entry.state = 'verified';
        entry.verifySource = origin ? 'facilitator' : 'unattributed';
        if (origin) entry.facilitator = origin;
        this.#book.touch(entry, this.#clock.now());
        return;
      }
      if (entry && entry.state !== 'released' && entry.state !== 'denied') {
        const refusal = this.#refusalFor(entry);
        return refusal ?? undefined;
      }
      // A valid result our beforeVerify never held for: an earlier hook skipped verification, or
      // another hook recovered a failed verify after we released. Authorize now.
      const source = entry?.failure === X402Reason.VERIFY_ERROR ? 'hook:recovered' : 'hook:skipped';
      const payer = this.#payerOf(ctx.paymentPayload) ?? ctx.result.payer;
      const claimed =
        entry ??
        this.#newEntry(id, ctx.requirements, id.explicit ? paymentTermsKey(ctx.requirements, payer) : '');
      claimed.state = 'authorizing';
      claimed.attempt++;
      this.#claim(id, claimed);
      this.#book.touch(claimed, this.#clock.now());
      const result = await this.#authorize(claimed, ctx, payer, source);
      if (!result && (claimed.state as PaymentState) === 'held') {
        claimed.state = 'verified';
        this.#book.touch(claimed, this.#clock.now());
      }
      return result;
    } catch (error) {
      return this.#hookFailed('afterVerify', ctx, error, true);
    }
  }

  async #verifyFailure(ctx: VerifyFailureContext): Promise<void> {
    try {
      const id = this.#identity(ctx.paymentPayload);
      const entry = this.#entryOf(id);
      if ((entry?.state === 'held' || entry?.state === 'evaluated') && this.#owns(id, entry)) {
        // A verify never moves money: the hold (if any) goes back. A hook that recovers the verify makes
        // afterVerify authorize again.
        const c = classifyFacilitatorError('verify', ctx.error);
        await this.#release(entry, X402Reason.VERIFY_ERROR, c.cause);
      }
    } catch (error) {
      await this.#hookFailed('verifyFailure', ctx, error, false);
    }
  }

  /**
   * The usual settle (a `held` or `verified` payment, and an engine that cannot report its holds)
   * is decided without an await: the hook returns its answer, not a promise (x402 awaits what a
   * hook returns, and an await of a value is that value). Everything else takes
   * {@link #beforeSettleFully}.
   */
  #beforeSettle(ctx: SettleContext): MaybePromise<Abort | undefined> {
    try {
      if (ctx.phase === 'cancel') return undefined;
      const id = this.#identity(ctx.paymentPayload);
      const entry = this.#entryOf(id);
      if (
        entry === undefined ||
        (entry.state !== 'held' && entry.state !== 'verified') ||
        (entry.holdId && typeof this.#engine.getHold === 'function')
      ) {
        return this.#beforeSettleFully(ctx);
      }
      return this.#claimSettle(id, entry, ctx.requirements);
    } catch (error) {
      return this.#hookFailed('beforeSettle', ctx, error, true);
    }
  }

  async #beforeSettleFully(ctx: SettleContext): Promise<Abort | undefined> {
    try {
      if (ctx.phase === 'cancel') return;
      const id = this.#identity(ctx.paymentPayload);
      let entry = this.#entryOf(id);
      if (!entry) {
        // Settling a payment no guard hook saw (verification skipped by another hook): authorize now.
        const payer = this.#payerOf(ctx.paymentPayload);
        entry = this.#newEntry(
          id,
          ctx.requirements,
          id.explicit ? paymentTermsKey(ctx.requirements, payer) : '',
        );
        entry.state = 'authorizing';
        entry.attempt++;
        this.#claim(id, entry);
        this.#book.touch(entry, this.#clock.now());
        const refused = await this.#authorize(entry, ctx, payer, 'hook:skipped');
        if (refused) return refused;
      }
      if (entry.state === 'settled') {
        if (entry.settledPhase !== ctx.phase) return; // a later phase of a multi-settle flow
        return this.#blocked(entry, X402Reason.REPLAY, 'this payment was already settled');
      }
      if (entry.state === 'released' || entry.state === 'denied') {
        return this.#blocked(
          entry,
          X402Reason.HOLD_MISSING,
          `no active hold: the payment was ${entry.state}`,
        );
      }
      if (entry.state === 'evaluated') {
        // Settling without a verify step (an upfront flow; no afterVerify ran): the settlement is
        // what authenticates the payer, and nothing may move without a hold. Hold now.
        if (!this.#owns(id, entry)) return this.#refusalFor(entry);
        entry.state = 'authorizing';
        this.#book.touch(entry, this.#clock.now());
        const refused = await this.#holdFor(entry, 'before_settle');
        if (refused) return refused;
      }
      if (entry.state !== 'held' && entry.state !== 'verified') {
        return this.#refusalFor(entry) ?? abort(X402Reason.IN_PROGRESS);
      }
      const refused = this.#claimSettle(id, entry, ctx.requirements);
      if (refused) return refused;
      if (entry.holdId && typeof this.#engine.getHold === 'function') {
        const hold = await this.#engine.getHold(entry.holdId);
        if (hold?.state !== 'held' || hold.expiresAt <= this.#clock.now()) {
          const what = hold ? (hold.state === 'held' ? 'expired' : hold.state) : 'gone';
          await this.#release(entry, X402Reason.HOLD_MISSING, `hold ${entry.holdId} is ${what}`);
          return this.#blocked(
            entry,
            X402Reason.HOLD_MISSING,
            `hold ${entry.holdId} is ${what}; nothing is settled without a hold`,
          );
        }
      }
    } catch (error) {
      return this.#hookFailed('beforeSettle', ctx, error, true);
    }
  }

  /**
   * The settle of a `held` or `verified` payment: the terms and amount must be those authorized
   * (at most the held amount); then the settle is claimed, synchronously. Returns the refusal.
   */
  #claimSettle(
    id: PaymentRequest,
    entry: PaymentEntry,
    req: DeepReadonly<PaymentRequirements>,
  ): Abort | undefined {
    const n = req.network;
    const evm = isEvmNetwork(n);
    const sameTerms =
      n === entry.network &&
      req.scheme === entry.scheme &&
      sameAddress(evm, req.asset, entry.asset) &&
      sameAddress(evm, req.payTo, entry.payTo);
    let within = false;
    if (sameTerms && entry.money) {
      // The usual case: settling exactly the authorized amount (no number is parsed for it).
      within =
        req.amount === this.#atomicOf(entry.money) ||
        (/^\d+$/.test(req.amount) && req.amount.length <= 80 && BigInt(req.amount) <= entry.money.minor);
    }
    if (!sameTerms || !within) {
      return this.#blocked(
        entry,
        X402Reason.HOLD_MISMATCH,
        `settle asks for ${req.amount} of ${req.asset} to ${req.payTo} on ${n}; authorized ${entry.money?.toAtomicString() ?? '?'} of ${entry.asset} to ${entry.payTo}`,
      );
    }
    // Claimed synchronously (a caller whose engine reports holds then checks this one is still held).
    entry.state = 'settling';
    entry.settleAtomic = req.amount;
    this.#claim(id, entry);
    this.#book.touch(entry, this.#clock.now());
    return undefined;
  }

  async #afterSettle(ctx: SettleResultContext): Promise<void> {
    try {
      const id = this.#identity(ctx.paymentPayload);
      const entry = this.#entryOf(id);
      const origin = facilitatorResultOrigin(ctx.result);
      if (ctx.phase === 'cancel') {
        this.#record('x402.cancel_settled', entry, {
          paymentId: id.paymentId,
          transaction: ctx.result.transaction,
          source: origin ? 'facilitator' : 'unattributed',
        });
        return;
      }
      const source = origin ? 'facilitator' : entry?.state === 'settling' ? 'unattributed' : 'hook:skipped';
      const atomic = ctx.result.amount ?? ctx.requirements.amount;
      if (!entry) {
        await this.#untrackedSettlement(id, ctx, source, atomic);
        return;
      }
      if (entry.state === 'settled') {
        this.#record('x402.settled', entry, {
          source,
          transaction: ctx.result.transaction,
          phase: ctx.phase,
          charged: false,
          note: entry.settledPhase === ctx.phase ? 'duplicate settlement result' : 'later settle phase',
        });
        return;
      }
      await this.#settle(entry, {
        atomic,
        source,
        transaction: ctx.result.transaction,
        phase: ctx.phase,
        facilitator: origin,
      });
    } catch (error) {
      await this.#hookFailed('afterSettle', ctx, error, false);
    }
  }

  async #settleFailure(ctx: SettleFailureContext): Promise<void> {
    try {
      const id = this.#identity(ctx.paymentPayload);
      const entry = this.#entryOf(id);
      if (
        ctx.phase === 'cancel' ||
        !entry ||
        !this.#owns(id, entry) ||
        !['settling', 'held', 'verified'].includes(entry.state)
      ) {
        this.#record('x402.settle_failed', entry, {
          paymentId: id.paymentId,
          phase: ctx.phase,
          error: ctx.error?.message,
        });
        return;
      }
      const cause = classifyFacilitatorError('settle', ctx.error).cause;
      const ambiguous = (this.#o.isAmbiguousSettleFailure ?? isAmbiguousSettleFailure)(ctx.error);
      if (ambiguous) {
        await this.#pendingReconciliation(entry, cause);
        return;
      }
      if (this.#observing) {
        // The final outcome is known when settlePayment returns: another hook may still recover it.
        entry.state = 'settle_failed';
        entry.failure = cause;
        this.#book.touch(entry, this.#clock.now());
        return;
      }
      await this.#release(entry, X402Reason.SETTLE_FAILED, cause);
    } catch (error) {
      await this.#hookFailed('settleFailure', ctx, error, false);
    }
  }

  async #canceled(ctx: VerifiedPaymentCanceledContext): Promise<void> {
    try {
      const id = this.#identity(ctx.paymentPayload);
      const entry = this.#entryOf(id);
      if (!entry || !this.#owns(id, entry)) return;
      if (
        entry.state === 'settled' ||
        entry.state === 'pending_reconciliation' ||
        entry.state === 'not_settled'
      ) {
        // Money already moved (an upfront settle): a refund, if any, is the scheme's settleOnCancel.
        this.#record('x402.canceled_after_settlement', entry, { cancelReason: ctx.reason });
        return;
      }
      if (
        entry.state === 'held' ||
        entry.state === 'verified' ||
        entry.state === 'settling' ||
        entry.state === 'evaluated'
      ) {
        await this.#release(entry, X402Reason.CANCELED, ctx.reason);
      }
    } catch (error) {
      await this.#hookFailed('paymentCanceled', ctx, error, false);
    }
  }

  // ------------------------------------------------------------------ observer

  #observe(server: GuardableResourceServer): void {
    const verify = server.verifyPayment;
    const settle = server.settlePayment;
    if (typeof verify !== 'function' || typeof settle !== 'function') return;
    this.#observing = true;
    const guard = this;
    server.verifyPayment = async function observedVerify(payload, requirements, ...rest) {
      let result: VerifyResponse;
      try {
        result = await verify.call(server, payload, requirements, ...rest);
      } catch (error) {
        await guard.#safely('observeVerify', payload, () =>
          guard.#verifyEnded(payload, false, 'verify_error'),
        );
        throw error;
      }
      if (!result.isValid) {
        await guard.#safely('observeVerify', payload, () =>
          guard.#verifyEnded(payload, false, result.invalidReason ?? 'invalid'),
        );
      }
      return result;
    };
    server.settlePayment = async function observedSettle(payload, requirements, ...rest) {
      const phase = rest[4] ?? 'after-handler';
      if (phase === 'cancel') return settle.call(server, payload, requirements, ...rest);
      let result: SettleResponse;
      try {
        result = await settle.call(server, payload, requirements, ...rest);
      } catch (error) {
        await guard.#safely('observeSettle', payload, () =>
          guard.#settleEnded(payload, requirements, undefined, error),
        );
        throw error;
      }
      await guard.#safely('observeSettle', payload, () =>
        guard.#settleEnded(payload, requirements, result, undefined),
      );
      return result;
    };
  }

  async #verifyEnded(payload: PaymentPayload, _valid: boolean, cause: string): Promise<void> {
    const id = this.#identity(payload);
    const entry = this.#entryOf(id);
    // Still held (or evaluated) after an invalid verify: a hook after ours aborted (no
    // afterVerify, no cancel).
    if ((entry?.state === 'held' || entry?.state === 'evaluated') && this.#owns(id, entry))
      await this.#release(entry, X402Reason.VERIFY_INVALID, cause);
  }

  async #settleEnded(
    payload: PaymentPayload,
    requirements: PaymentRequirements,
    result: SettleResponse | undefined,
    error: unknown,
  ): Promise<void> {
    const id = this.#identity(payload);
    const entry = this.#entryOf(id);
    if (!entry || !this.#owns(id, entry)) return;
    const open: PaymentState[] = ['settling', 'settle_failed', 'pending_reconciliation', 'held', 'verified'];
    if (result?.success) {
      if (open.includes(entry.state)) {
        // Success that never reached afterSettle: another hook recovered a failed settle.
        await this.#settle(entry, {
          atomic: result.amount ?? entry.settleAtomic ?? requirements.amount,
          source: 'hook:recovered',
          transaction: result.transaction,
        });
      }
      return;
    }
    if (entry.state === 'settle_failed') {
      await this.#release(entry, X402Reason.SETTLE_FAILED, entry.failure ?? 'settle_failed');
      return;
    }
    if (entry.state !== 'settling') return;
    // Our failure hook did not run (it failed, or a hook after ours aborted the settle).
    const ambiguous = result
      ? classifyFacilitatorResult('settle', result)?.delivery === 'unknown'
      : (this.#o.isAmbiguousSettleFailure ?? isAmbiguousSettleFailure)(error);
    const cause = result
      ? (result.errorReason ?? 'settle_failed')
      : classifyFacilitatorError('settle', error).cause;
    if (ambiguous) await this.#pendingReconciliation(entry, cause);
    else await this.#release(entry, X402Reason.SETTLE_FAILED, cause);
  }

  // ------------------------------------------------------------------ steps

  /**
   * Maps the payment and asks the policy with the side-effect-free `evaluate`, before
   * verification: the payer is only what the payload claims, so nothing is held and no strike
   * is recorded here. A denial aborts with the policy's reason (the facilitator is never asked);
   * otherwise the entry is `evaluated` and the hold is placed once the payment is verified.
   */
  async #evaluate(
    entry: PaymentEntry,
    ctx: HookContext,
    payer: string | undefined,
  ): Promise<Abort | undefined> {
    const mapped = this.#intentOf(entry, ctx, payer);
    const intent = mapped instanceof Promise ? await mapped : mapped;
    if (!intent.ok) return intent.abort;
    // Kept before the call: when evaluate fails and failOpen is set, authorize still runs later.
    entry.intent = intent.value;
    const engine = this.#engine;
    // Validated and hashed once: `authorize` after verification takes the same parsed intent.
    if (engine.parseIntent) entry.intent = engine.parseIntent(intent.value);
    const evaluate = engine.evaluate as NonNullable<X402PolicyEngine['evaluate']>;
    const decision = await evaluate.call(engine, entry.intent);
    if (decision.outcome === 'deny') {
      entry.state = 'denied';
      const r = reasonOf(decision);
      entry.failure = r.code;
      entry.intent = undefined;
      this.#book.touch(entry, this.#clock.now());
      return this.#blocked(entry, r.code, r.message, 'before_verify');
    }
    // allow, flag, or require_approval (decided with the hold, after verification)
    entry.state = 'evaluated';
    this.#book.touch(entry, this.#clock.now());
  }

  /** Authorizes (and holds) an `evaluated` payment with the intent `evaluate` decided on. */
  #holdFor(entry: PaymentEntry, how: 'after_verify' | 'before_settle'): Promise<Abort | undefined> {
    const intent = entry.intent;
    entry.intent = undefined;
    if (!intent) throw new Error(`payment ${entry.paymentId} has no evaluated intent`);
    return this.#hold(entry, intent, how);
  }

  /**
   * Maps a payment to its facts and intent (recorded on the entry), or a refusal. Synchronous
   * unless `resolveAgent` returns a promise: the default mapping adds no await to a request.
   */
  #intentOf(entry: PaymentEntry, ctx: HookContext, payer: string | undefined): MaybePromise<IntentResult> {
    const facts = this.#facts(ctx, payer);
    return facts instanceof Promise
      ? facts.then((f) => this.#intentFrom(entry, ctx, f))
      : this.#intentFrom(entry, ctx, facts);
  }

  #intentFrom(entry: PaymentEntry, ctx: HookContext, facts: FactsResult): IntentResult {
    if (!facts.ok) {
      entry.state = 'denied';
      entry.failure = facts.reason;
      this.#book.touch(entry, this.#clock.now());
      return { ok: false, abort: this.#blocked(entry, facts.reason, facts.message) };
    }
    const f = facts.value;
    entry.agentId = f.agentId;
    entry.money = f.amount.money;
    entry.recipient = f.recipient;
    if (f.payer !== undefined) entry.payer = f.payer;
    if (f.resource !== undefined) entry.resource = f.resource;
    const key = entry.attempt > 1 ? `x402:${entry.paymentId}#${entry.attempt}` : `x402:${entry.paymentId}`;
    return {
      ok: true,
      value: buildIntent(f, ctx.requirements, entry.paymentId, key, ctx.paymentPayload.x402Version),
    };
  }

  /**
   * Maps, authorizes and holds. `how` says where: before verification (an engine without
   * `evaluate`), or late, for a result another hook skipped or recovered (then it is also the
   * verify source). Returns an abort on refusal; leaves the entry `held` on success.
   */
  async #authorize(
    entry: PaymentEntry,
    ctx: HookContext,
    payer: string | undefined,
    how: 'before_verify' | 'hook:skipped' | 'hook:recovered',
  ): Promise<Abort | undefined> {
    const mapped = this.#intentOf(entry, ctx, payer);
    const intent = mapped instanceof Promise ? await mapped : mapped;
    if (!intent.ok) return intent.abort;
    return this.#hold(entry, intent.value, how);
  }

  /**
   * The one atomic authorize-and-hold of a payment. Returns an abort on refusal; leaves the
   * entry `held` on success.
   */
  async #hold(
    entry: PaymentEntry,
    intent: IntentInput | ParsedIntent,
    how: 'before_verify' | 'after_verify' | 'before_settle' | 'hook:skipped' | 'hook:recovered',
  ): Promise<Abort | undefined> {
    const decision = await this.#engine.authorize(intent);
    entry.intentId = decision.intentId;
    entry.intentHash = decision.intentHash;
    if (decision.holdId) entry.holdId = decision.holdId;
    else entry.holdId = undefined;
    const now = this.#clock.now();
    if (decision.outcome === 'deny') {
      entry.state = 'denied';
      const r = reasonOf(decision);
      entry.failure = r.code;
      this.#book.touch(entry, now);
      return abort(r.code, r.message);
    }
    if (decision.replayed) {
      // The engine decided this payment before and this guard no longer remembers it:
      // never hold or charge it again.
      entry.state = 'denied';
      entry.failure = X402Reason.REPLAY;
      entry.holdId = undefined;
      this.#book.touch(entry, now);
      return this.#blocked(entry, X402Reason.REPLAY, 'this payment was already decided');
    }
    if (decision.outcome === 'require_approval') {
      // An x402 request cannot wait for a human. A pending approval owns its hold (the approval
      // workflow releases it on rejection or expiry); without one, the hold goes back now.
      if (entry.holdId && !decision.approvalId) await this.#engine.release(entry.holdId);
      entry.state = 'denied';
      entry.failure = X402Reason.APPROVAL_REQUIRED;
      entry.holdId = undefined;
      this.#book.touch(entry, this.#clock.now());
      const r = reasonOf(decision);
      return abort(
        X402Reason.APPROVAL_REQUIRED,
        `${r.message}${decision.approvalId ? ` (approval ${decision.approvalId})` : ''}`,
      );
    }
    entry.state = 'held';
    entry.verifySource = how === 'hook:skipped' || how === 'hook:recovered' ? how : undefined;
    entry.failure = undefined;
    this.#book.touch(entry, now);
    // Checked here, not only in #record: not even a closure is made per payment without a log.
    if (this.#fx.recordsProvenance) {
      this.#record('x402.authorized', entry, {
        outcome: decision.outcome,
        attempt: entry.attempt,
        source: how,
      });
    }
  }

  /**
   * The facts a payment is decided on, or a refusal; a promise only when `resolveAgent` returns
   * one. Resolvers see the hook's context with the payer; the default ones read it directly.
   */
  #facts(ctx: HookContext, payer: string | undefined): MaybePromise<FactsResult> {
    const amount = this.#amountOf(ctx.requirements);
    if (!amount.ok) return amount;
    const o = this.#o;
    const view = o.resolveResource || o.resolveAgent ? withPayer(ctx, payer) : undefined;
    const resource = view && o.resolveResource ? o.resolveResource(view) : defaultResource(ctx);
    const agentId =
      view && o.resolveAgent ? o.resolveAgent(view) : agentOfPayer(ctx.requirements.network, payer);
    return isThenable(agentId)
      ? Promise.resolve(agentId).then((id) => this.#factsWith(ctx, payer, amount.value, resource, id))
      : this.#factsWith(ctx, payer, amount.value, resource, agentId);
  }

  /**
   * A requirement's exact amount. The last one is remembered: a seller's routes ask for the
   * same few prices, and `Money` is immutable, so the same asset and digits give the same value
   * (the asset is still looked up each time: the registry may change).
   */
  #amountOf(requirements: DeepReadonly<PaymentRequirements>): MapResult<MappedAmount> {
    const last = this.#lastAmount;
    const atomic = requirements.amount;
    if (last !== undefined && last.atomic === atomic) {
      const asset = this.#assets.findByAddress(requirements.network, requirements.asset);
      if (asset === last.mapped.value.asset) return last.mapped;
    }
    const mapped = mapAmount(requirements, this.#assets, atomic);
    if (mapped.ok) this.#lastAmount = { atomic, mapped };
    return mapped;
  }

  #factsWith(
    ctx: HookContext,
    payer: string | undefined,
    amount: MappedAmount,
    resource: string | undefined,
    agentId: unknown,
  ): FactsResult {
    if (typeof agentId !== 'string' || agentId.trim().length === 0) {
      return {
        ok: false,
        reason: X402Reason.AGENT_UNRESOLVED,
        message: payer ? `no agent for payer ${payer}` : 'the payment does not name its payer',
      };
    }
    const recipient =
      this.#o.recipient === 'payTo' ? ctx.requirements.payTo : (resource ?? ctx.requirements.payTo);
    return {
      ok: true,
      value: { agentId, payer, resource, recipient, amount },
    };
  }

  /** `money.toAtomicString()`, without writing it again for the last requirement amount mapped. */
  #atomicOf(money: Money): string {
    const last = this.#lastAmount;
    return last !== undefined && last.mapped.value.money === money ? last.atomic : money.toAtomicString();
  }

  /** The exact money of an atomic amount of the payment's asset (the authorized amount if unreadable). */
  #moneyOf(entry: PaymentEntry, atomic: string): Money | undefined {
    const held = entry.money;
    if (held && atomic === this.#atomicOf(held)) return held;
    const asset = held?.asset ?? this.#assets.findByAddress(entry.network, entry.asset);
    try {
      return asset ? Money.fromAtomic(atomic, asset) : held;
    } catch {
      return held;
    }
  }

  /**
   * Captures the payment's hold once: `money` (≤ held; more is a discrepancy, capped at the
   * hold). Records what was charged on the entry; never captures a second time.
   */
  async #capture(
    entry: PaymentEntry,
    money: Money | undefined,
    why: 'settlement' | 'ambiguous_settlement',
  ): Promise<{ captureError?: string; discrepancy?: string }> {
    const held = entry.money;
    if (!entry.holdId || entry.charged) return NOTHING_TO_REPORT;
    let amount: string | undefined;
    let discrepancy: string | undefined;
    if (held && money && money !== held) {
      if (money.lt(held)) amount = money.toDecimalString();
      else if (money.gt(held)) {
        discrepancy = `settled ${money.toDecimalString()} > held ${held.toDecimalString()}`;
      }
    }
    try {
      await this.#engine.capture(entry.holdId, amount === undefined ? undefined : { amount });
      entry.charged = amount === undefined ? held : money;
      entry.chargeSource = why;
      return discrepancy ? { discrepancy } : NOTHING_TO_REPORT;
    } catch (error) {
      this.#report(error, 'capture', entry.paymentId);
      return {
        captureError: BursarError.isInstance(error) ? error.code : 'capture_failed',
        ...(discrepancy ? { discrepancy } : {}),
      };
    }
  }

  async #settle(
    entry: PaymentEntry,
    s: {
      atomic: string;
      source: string;
      transaction?: string;
      facilitator?: string;
      phase?: string;
      actor?: string;
    },
  ): Promise<void> {
    const settled = this.#moneyOf(entry, s.atomic);
    // A payment captured when its settle outcome became unknown is not captured again.
    const before = entry.charged;
    const { captureError, discrepancy: over } = await this.#capture(entry, settled, 'settlement');
    let discrepancy = over;
    if (before && settled && !settled.equals(before)) {
      discrepancy = `settled ${settled.toDecimalString()}; the budget counted ${before.toDecimalString()} (captured at the ambiguous settlement)`;
    }
    entry.state = 'settled';
    entry.settleSource = s.source;
    if (s.transaction) entry.transaction = s.transaction;
    if (s.facilitator) entry.facilitator = s.facilitator;
    entry.settledPhase = s.phase ?? 'after-handler';
    entry.failure = undefined;
    const now = this.#clock.now();
    this.#book.touch(entry, now);
    const money = settled;
    const agentId = entry.agentId;
    if (money && agentId !== undefined) {
      if (this.#fx.wants('payment.settled')) {
        this.#fx.settled({
          ...this.#facts4event(entry, now),
          amount: money.toDecimalString(),
          currency: money.currency,
          source: s.source,
          paymentId: entry.paymentId,
          ...(entry.transaction ? { transaction: entry.transaction } : {}),
          ...(entry.facilitator ? { facilitator: entry.facilitator } : {}),
        });
      }
      if (this.#fx.tracksSpend) {
        this.#fx.spend(
          {
            agentId,
            amount: money.toDecimalString(),
            currency: money.currency,
            at: now,
            action: 'payment',
            protocol: 'x402',
            network: entry.network,
            ...(entry.recipient ? { recipient: entry.recipient } : {}),
            ...(entry.holdId ? { holdId: entry.holdId } : {}),
            ...(entry.intentId ? { intentId: entry.intentId } : {}),
            ...(entry.transaction ? { transaction: entry.transaction } : {}),
          },
          entry.paymentId,
        );
      }
    }
    if (this.#fx.recordsProvenance) {
      this.#record('x402.settled', entry, {
        source: s.source,
        charged: true,
        captureSource: entry.chargeSource,
        phase: s.phase,
        amount: money?.toDecimalString(),
        currency: money?.currency,
        atomicAmount: money?.toAtomicString(),
        captureError,
        discrepancy,
        actor: s.actor,
      });
    }
  }

  async #release(entry: PaymentEntry, reason: string, detail: string): Promise<void> {
    const holdId = entry.holdId;
    entry.state = 'released';
    entry.failure = reason;
    this.#book.touch(entry, this.#clock.now());
    if (holdId) {
      try {
        await this.#engine.release(holdId);
      } catch (error) {
        // Already released or expired: the budget is back either way.
        if (!BursarError.hasCode(error, ErrorCode.HOLD_NOT_ACTIVE))
          this.#report(error, 'release', entry.paymentId);
      }
    }
    this.#failed(entry, reason, detail, false);
    this.#record('x402.released', entry, { reason, detail });
  }

  /**
   * A settle whose outcome is unknown: the money may have moved, so the hold is captured at once
   * (the budget counts it, and no hold can expire and free it meanwhile) and the payment waits
   * for `reconcile()`; a retry of it is refused until then.
   */
  async #pendingReconciliation(entry: PaymentEntry, cause: string): Promise<void> {
    entry.state = 'pending_reconciliation';
    entry.failure = cause;
    this.#book.touch(entry, this.#clock.now());
    const money = this.#moneyOf(entry, entry.settleAtomic ?? entry.money?.toAtomicString() ?? '0');
    const { captureError } = await this.#capture(entry, money, 'ambiguous_settlement');
    const captured = entry.charged !== undefined;
    this.#failed(entry, X402Reason.SETTLE_AMBIGUOUS, cause, true, {
      captured,
      budgetReturned: !captured,
      ...(captured ? { captureSource: 'ambiguous_settlement' } : {}),
    });
    this.#record('x402.settle_pending_reconciliation', entry, () => ({
      cause,
      ambiguous: true,
      captured,
      captureSource: 'ambiguous_settlement',
      capturedAmount: entry.charged?.toDecimalString(),
      budgetReturned: !captured,
      captureError,
    }));
  }

  /** Reconciled as not settled after its budget was captured: the budget stays consumed. */
  #notSettled(entry: PaymentEntry, actor: string | undefined): void {
    entry.state = 'not_settled';
    entry.failure = X402Reason.SETTLE_FAILED;
    this.#book.touch(entry, this.#clock.now());
    const detail = `reconciled as not settled${actor ? ` by ${actor}` : ''}; the budget stays consumed`;
    this.#failed(entry, X402Reason.SETTLE_FAILED, detail, false, {
      budgetReturned: false,
      source: 'reconciliation',
    });
    this.#record('x402.reconciled_not_settled', entry, () => ({
      source: 'reconciliation',
      detail,
      budgetReturned: false,
      capturedAmount: entry.charged?.toDecimalString(),
      captureSource: entry.chargeSource,
      actor,
    }));
  }

  async #untrackedSettlement(
    id: PaymentIdentity,
    ctx: SettleResultContext,
    source: string,
    atomic: string,
  ): Promise<void> {
    const payer = this.#payerOf(ctx.paymentPayload) ?? ctx.result.payer;
    const entry = this.#newEntry(
      id,
      ctx.requirements,
      id.explicit ? paymentTermsKey(ctx.requirements, payer) : '',
    );
    const facts = await this.#facts(ctx, payer);
    if (facts.ok) {
      entry.agentId = facts.value.agentId;
      entry.money = facts.value.amount.money;
      entry.recipient = facts.value.recipient;
      if (payer) entry.payer = payer;
    }
    this.#record('x402.untracked_settlement', entry, { source, note: 'settled without a guard hold' });
    await this.#settle(entry, {
      atomic,
      source,
      transaction: ctx.result.transaction,
      phase: ctx.phase,
    });
  }

  // ------------------------------------------------------------------ helpers

  #refusalFor(entry: PaymentEntry): Abort | undefined {
    switch (entry.state) {
      case 'settled':
        return this.#blocked(entry, X402Reason.REPLAY, 'this payment was already settled');
      case 'not_settled':
        return this.#blocked(
          entry,
          X402Reason.REPLAY,
          'this payment was already charged to the budget (an ambiguous settle reconciled as not settled); sign a new payment',
        );
      case 'pending_reconciliation':
        return this.#blocked(
          entry,
          X402Reason.PENDING_RECONCILIATION,
          'an earlier settle of this payment has an unknown outcome',
        );
      case 'authorizing':
      case 'evaluated':
      case 'held':
      case 'verified':
      case 'settling':
      case 'settle_failed':
        return this.#blocked(
          entry,
          X402Reason.IN_PROGRESS,
          'this payment is being processed by another request',
        );
      default:
        return undefined;
    }
  }

  #blocked(entry: PaymentEntry | undefined, reason: string, message: string, stage?: string): Abort {
    this.#record('x402.blocked', entry, { reason, message, ...(stage ? { stage } : {}) });
    return abort(reason, message);
  }

  #newEntry(
    id: PaymentIdentity,
    requirements: DeepReadonly<PaymentRequirements>,
    terms: string,
  ): PaymentEntry {
    return {
      paymentId: id.paymentId,
      payloadHash: id.payloadHash,
      termsKey: terms,
      state: 'authorizing',
      attempt: 0,
      network: requirements.network,
      scheme: requirements.scheme,
      asset: requirements.asset,
      payTo: requirements.payTo,
      updatedAt: this.#clock.now(),
      // Every field present from the start: one object shape for every entry.
      agentId: undefined,
      payer: undefined,
      resource: undefined,
      recipient: undefined,
      money: undefined,
      settleAtomic: undefined,
      intent: undefined,
      charged: undefined,
      chargeSource: undefined,
      intentId: undefined,
      intentHash: undefined,
      holdId: undefined,
      verifySource: undefined,
      settleSource: undefined,
      facilitator: undefined,
      transaction: undefined,
      settledPhase: undefined,
      failure: undefined,
      prev: undefined,
      next: undefined,
      listed: false,
    };
  }

  /** The request of a payload: its identity is computed on the first hook that sees it. */
  #identity(payload: DeepReadonly<PaymentPayload>): PaymentRequest {
    let r = this.#requests.get(payload);
    if (!r) {
      const payloadHash = payloadHashOf(payload);
      const explicit = explicitPaymentId(payload);
      r = {
        paymentId: explicit === undefined ? `sha256:${payloadHash}` : `pid:${explicit}`,
        payloadHash,
        explicit: explicit !== undefined,
        entry: undefined,
        attempt: 0,
      };
      this.#requests.set(payload, r);
    }
    return r;
  }

  /**
   * The tracked payment of a request: the one it claimed while the book still holds it (the
   * book's entry for that id, so no lookup is needed), else whatever the book has for its id or
   * signed payload.
   */
  #entryOf(r: PaymentRequest): PaymentEntry | undefined {
    const e = r.entry;
    if (e !== undefined && e.paymentId === r.paymentId && this.#book.holds(e)) return e;
    return this.#book.find(r.paymentId, r.payloadHash);
  }

  #claim(r: PaymentRequest, entry: PaymentEntry): void {
    r.entry = entry;
    r.attempt = entry.attempt;
  }

  #owns(r: PaymentRequest, entry: PaymentEntry): boolean {
    return r.entry === entry && r.attempt === entry.attempt;
  }

  #payerOf(payload: DeepReadonly<PaymentPayload>): string | undefined {
    return this.#o.resolvePayer ? this.#o.resolvePayer(payload) : defaultPayer(payload);
  }

  #facts4event(entry: PaymentEntry, at: number) {
    return {
      at,
      agentId: entry.agentId ?? entry.payer ?? 'unknown',
      action: 'payment',
      protocol: 'x402',
      network: entry.network,
      ...(entry.intentId ? { intentId: entry.intentId } : {}),
      ...(entry.intentHash ? { intentHash: entry.intentHash } : {}),
      ...(entry.holdId ? { holdId: entry.holdId } : {}),
      ...(entry.recipient ? { recipient: entry.recipient } : {}),
    };
  }

  #failed(
    entry: PaymentEntry,
    reason: string,
    detail: string,
    ambiguous: boolean,
    extra?: Record<string, unknown>,
  ): void {
    if (!entry.agentId || !this.#fx.wants('payment.failed')) return;
    this.#fx.failed({
      ...this.#facts4event(entry, this.#clock.now()),
      ...(entry.money ? { amount: entry.money.toDecimalString(), currency: entry.money.currency } : {}),
      reason,
      detail,
      paymentId: entry.paymentId,
      ...(ambiguous ? { ambiguous: true } : {}),
      ...extra,
    });
  }

  /**
   * Appends a provenance record (the payment's facts plus `data`) without blocking the hook.
   * `data` may be a function, so nothing is built when no provenance log is configured.
   */
  #record(
    type: string,
    entry: PaymentEntry | undefined,
    data: Record<string, unknown> | (() => Record<string, unknown>),
  ): void {
    if (!this.#fx.recordsProvenance) return;
    this.#fx.record(type, {
      ...(entry
        ? {
            paymentId: entry.paymentId,
            state: entry.state,
            network: entry.network,
            scheme: entry.scheme,
            asset: entry.asset,
            payTo: entry.payTo,
            agentId: entry.agentId,
            payer: entry.payer,
            resource: entry.resource,
            intentId: entry.intentId,
            holdId: entry.holdId,
            transaction: entry.transaction,
            facilitator: entry.facilitator,
            verifySource: entry.verifySource,
            ...(entry.money ? { amount: entry.money.toDecimalString(), currency: entry.money.currency } : {}),
          }
        : {}),
      ...(typeof data === 'function' ? data() : data),
      at: this.#clock.now(),
    });
  }

  #report(error: unknown, hook: string, paymentId?: string): void {
    this.#fx.report(error, hook, paymentId);
  }

  async #safely(hook: string, payload: PaymentPayload, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.#report(error, hook, this.#identity(payload).paymentId);
    }
  }

  /**
   * What a hook returns when its body threw: the error is reported, the payment's hold goes
   * back, and a hook that can abort aborts with `internal_error` (fail closed), unless `failOpen`.
   */
  async #hookFailed(
    hook: string,
    ctx: { paymentPayload: DeepReadonly<PaymentPayload> },
    error: unknown,
    canAbort: boolean,
  ): Promise<Abort | undefined> {
    let paymentId: string | undefined;
    try {
      const id = this.#identity(ctx.paymentPayload);
      paymentId = id.paymentId;
      const entry = this.#entryOf(id);
      if (
        entry &&
        canAbort &&
        (entry.state === 'authorizing' ||
          entry.state === 'evaluated' ||
          entry.state === 'held' ||
          entry.state === 'verified')
      ) {
        if (this.#o.failOpen && entry.state === 'authorizing') {
          // Only the failed step is skipped: a failed evaluate still gets its hold after verify.
          entry.state = hook === 'beforeVerify' && this.#evaluates && entry.intent ? 'evaluated' : 'held';
          this.#book.touch(entry, this.#clock.now());
        } else if (!this.#o.failOpen) {
          await this.#release(
            entry,
            X402Reason.INTERNAL_ERROR,
            error instanceof Error ? error.message : String(error),
          );
        }
      }
    } catch (inner) {
      this.#report(inner, `${hook}:cleanup`, paymentId);
    }
    this.#report(error, hook, paymentId);
    if (!canAbort || this.#o.failOpen) return undefined;
    return abort(X402Reason.INTERNAL_ERROR, 'the payment guard failed; the payment was refused');
  }
}

function view(e: PaymentEntry): X402PaymentStatus {
  return {
    paymentId: e.paymentId,
    state: e.state,
    network: e.network,
    payTo: e.payTo,
    updatedAt: e.updatedAt,
    ...(e.agentId ? { agentId: e.agentId } : {}),
    ...(e.payer ? { payer: e.payer } : {}),
    ...(e.money ? { amount: e.money.toDecimalString(), currency: e.money.currency } : {}),
    ...(e.resource ? { resource: e.resource } : {}),
    ...(e.intentId ? { intentId: e.intentId } : {}),
    ...(e.holdId ? { holdId: e.holdId } : {}),
    ...(e.transaction ? { transaction: e.transaction } : {}),
    ...(e.verifySource ? { verifySource: e.verifySource } : {}),
    ...(e.settleSource ? { settleSource: e.settleSource } : {}),
    ...(e.facilitator ? { facilitator: e.facilitator } : {}),
    ...(e.failure ? { failure: e.failure } : {}),
    ...(e.state === 'pending_reconciliation' || e.state === 'not_settled'
      ? { budgetReturned: e.charged === undefined }
      : {}),
  };
}

/**
 * Creates the seller-side guard. `attach(resourceServer)` registers it on an
 * `x402ResourceServer`:
 *
 * - `onBeforeVerify`: maps the requirement exactly (atomic amount in the asset found by network
 *   and address, payTo, resource URL, payer) to an intent and asks the policy with the
 *   side-effect-free `engine.evaluate` — or aborts with a reason code (`unknown_asset`, the
 *   policy's reason, `replay`, …). Nothing is held and no strike is recorded for a payer that
 *   is not yet authenticated;
 * - `onAfterVerify`: a verified payment gets its one atomic hold (`engine.authorize`), or is
 *   aborted; an invalid one is dropped; `onVerifyFailure` drops it too;
 * - `onBeforeSettle`: the hold must still exist and match; a settled payment is a replay;
 * - `onAfterSettle`: captures, records, and writes provenance with the transaction hash;
 * - `onSettleFailure`: releases on a definite failure; an ambiguous one (timeout, lost
 *   connection, `settlement_pending`) captures the hold at once (the money may have moved) and
 *   leaves the payment `pending_reconciliation` — see `reconcile()`;
 * - `onVerifiedPaymentCanceled`: releases.
 *
 * An engine without `evaluate` is authorized (and holds) in `onBeforeVerify` instead.
 *
 * No hook throws. Payments are identified by the payment-identifier extension when present,
 * else by a hash of the signed payload, so the same payment presented twice is charged once.
 *
 * @example
 * const engine = new PolicyEngine();
 * engine.loadPolicy({ id: 'sales', rules: [blockAbove(1000, 'USDC'), allowAll()] });
 * const server = new x402ResourceServer(guardFacilitator(new HTTPFacilitatorClient({ url })));
 * createX402Guard({ engine, resolveAgent: ({ payer }) => customers.agentFor(payer) }).attach(server);
 */
export function createX402Guard(options: X402GuardOptions): X402Guard {
  return new X402Guard(options);
}
