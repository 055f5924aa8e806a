import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AssetRegistry,
  BursarError,
  type Clock,
  defaultAssets,
  ErrorCode,
  Money,
  systemClock,
} from '@bursar/core';
import type {
  AfterPaymentCreationHook,
  BeforePaymentCreationHook,
  OnPaymentCreationFailureHook,
  OnPaymentResponseHook,
  PaymentCreatedContext,
  PaymentCreationContext,
  PaymentResponseContext,
} from '@x402/core/client';
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { z } from 'zod';
import { X402ErrorCode, X402Reason } from '../errors/index.js';
import { classifyFacilitatorResult } from '../facilitator/classify.js';
import { Effects } from '../internal/effects.js';
import { clockSchema, eventSinkSchema, fn, parseOptions, withMethods } from '../internal/options.js';
import { mapAmount } from '../seller/intent-mapping.js';
import { paymentIdentity } from '../seller/payment-identity.js';
import type { ProvenanceRecorder, SpendRecorder, X402PolicyEngine } from '../seller/ports.js';

/** The `x402Client` surface the buyer guard registers on. */
export interface GuardableClient {
  onBeforePaymentCreation(hook: BeforePaymentCreationHook): unknown;
  onAfterPaymentCreation(hook: AfterPaymentCreationHook): unknown;
  onPaymentCreationFailure(hook: OnPaymentCreationFailureHook): unknown;
  onPaymentResponse(hook: OnPaymentResponseHook): unknown;
  createPaymentPayload?(paymentRequired: PaymentRequired): Promise<PaymentPayload>;
}

/** Options of {@link guardX402Client}. */
export const X402ClientGuardOptions = z.strictObject({
  /** The policy engine that holds the buyer's budget. */
  engine: withMethods<X402PolicyEngine>('authorize', 'capture', 'release'),
  /** The agent this client pays for (set by the integrator, never by the agent). */
  agentId: z.string().trim().min(1).max(256),
  tracker: withMethods<SpendRecorder>('record').optional(),
  provenance: withMethods<ProvenanceRecorder>('append').optional(),
  assets: withMethods<AssetRegistry>('findByAddress', 'get').optional(),
  clock: clockSchema.optional(),
  events: eventSinkSchema.optional(),
  /**
   * Also wrap the client's `createPaymentPayload` to see payloads another hook recovered after a
   * creation failure, and creations that failed for good. Default true.
   */
  observeResults: z.boolean().default(true),
  /**
   * How long a payment with an unknown outcome stays in `pending()` (default 24 h; at most
   * `maxPending` are kept, oldest dropped first). Its budget was captured when the outcome
   * became unknown and stays consumed when it is dropped unreconciled.
   */
  retentionMs: z
    .number()
    .int()
    .positive()
    .max(366 * 86_400_000)
    .default(86_400_000),
  maxPending: z.number().int().positive().default(10_000),
  onError: fn<(error: unknown, context: { hook: string; paymentId?: string }) => void>().optional(),
});
export type X402ClientGuardOptions = z.input<typeof X402ClientGuardOptions>;

/** Where one buyer payment stands. */
export type BuyerPaymentState =
  | 'authorizing'
  /** Budget held; signing. */
  | 'authorized'
  /** Signed and sent; waiting for the seller's answer. */
  | 'signed'
  /** The seller confirmed settlement; the hold was captured. */
  | 'settled'
  /** Definitely not paid (refused, creation failed, seller said it failed); the hold was released. */
  | 'released'
  /**
   * The answer did not say (transport error, 5xx, `settlement_pending`): the money may have
   * moved, so the hold was captured at once (the budget counts it) until `reconcile()`.
   */
  | 'unknown'
  /**
   * Known not to have settled after its budget was captured as `unknown`: the budget stays
   * consumed (`budgetReturned: false`; never re-charged), for an operator to adjust.
   */
  | 'not_settled';

/** A buyer payment as the guard sees it. */
export interface BuyerPaymentStatus {
  paymentId?: string;
  state: BuyerPaymentState;
  agentId: string;
  amount: string;
  currency: string;
  network: string;
  payTo: string;
  resource?: string;
  holdId?: string;
  intentId?: string;
  transaction?: string;
  failure?: string;
  /**
   * For a payment whose outcome was unknown (`unknown`, `not_settled`): false when its budget
   * was captured and stays consumed, true when the budget does not count it (the capture could
   * not be made, or the hold was released).
   */
  budgetReturned?: boolean;
  updatedAt: number;
}

interface BuyerEntry {
  state: BuyerPaymentState;
  money: Money;
  requirements: PaymentRequirements;
  resource?: string;
  holdId?: string;
  intentId?: string;
  intentHash?: string;
  paymentId?: string;
  transaction?: string;
  failure?: string;
  updatedAt: number;
  /** The `createPaymentPayload` call that claimed this entry (when observing). */
  owner?: object;
  /** What the hold's capture charged to the budget, once captured (never captured twice). */
  charged?: Money;
  /** Why it was captured: `settlement`, or `ambiguous_settlement` (outcome unknown). */
  chargeSource?: string;
}

type Abort = { abort: true; reason: string };

/**
 * How an operator resolves a buyer payment whose outcome was unknown. Its budget was captured
 * when the outcome became unknown: `settled: true` records the settlement without capturing
 * again; `settled: false` records that it did not settle, and the budget stays consumed.
 */
export const BuyerReconcileOutcome = z.strictObject({
  settled: z.boolean(),
  transaction: z.string().min(1).max(512).optional(),
});
export type BuyerReconcileOutcome = z.input<typeof BuyerReconcileOutcome>;

const GUARDED = Symbol.for('bursar.x402.client-guarded');

/**
 * The buyer-side guard. Returned by {@link guardX402Client}; use it to inspect or reconcile
 * payments whose outcome was unknown.
 */
export class X402ClientGuard {
  readonly #o: z.output<typeof X402ClientGuardOptions>;
  readonly #engine: X402PolicyEngine;
  readonly #assets: AssetRegistry;
  readonly #clock: Clock;
  readonly #fx: Effects;
  /** One entry per 402 answer (the PaymentRequired object): one request pays at most once. */
  readonly #byRequest = new WeakMap<object, BuyerEntry>();
  readonly #byPayload = new WeakMap<object, BuyerEntry>();
  /** Payments with an unknown outcome (they hold budget), by payment id. */
  readonly #unknown = new Map<string, BuyerEntry>();
  /** The observed `createPaymentPayload` call a hook runs in. */
  readonly #calls = new AsyncLocalStorage<object>();

  constructor(client: GuardableClient, options: X402ClientGuardOptions) {
    this.#o = parseOptions(X402ClientGuardOptions, options, 'guardX402Client');
    this.#engine = this.#o.engine;
    this.#assets = this.#o.assets ?? this.#engine.assets ?? defaultAssets;
    this.#clock = this.#o.clock ?? systemClock;
    this.#fx = new Effects({
      events: this.#o.events ?? this.#engine.events,
      tracker: this.#o.tracker,
      provenance: this.#o.provenance,
      onError: this.#o.onError,
    });
    const marked = client as unknown as { [GUARDED]?: true };
    if (marked[GUARDED]) {
      throw new BursarError(X402ErrorCode.ALREADY_ATTACHED, 'This x402 client already has a Bursar guard');
    }
    Object.defineProperty(client, GUARDED, { value: true });
    const observe = this.#o.observeResults && typeof client.createPaymentPayload === 'function';
    client.onBeforePaymentCreation((ctx) =>
      this.#safe('beforePaymentCreation', () => this.#before(ctx), true),
    );
    client.onAfterPaymentCreation((ctx) => this.#quiet('afterPaymentCreation', () => this.#after(ctx)));
    client.onPaymentCreationFailure((ctx) =>
      this.#quiet('paymentCreationFailure', async () => {
        if (!observe) await this.#creationFailed(ctx.paymentRequired, ctx.error);
      }),
    );
    client.onPaymentResponse((ctx) => this.#quiet('paymentResponse', () => this.#response(ctx)));
    if (observe) this.#observe(client);
  }

  /** Payments whose outcome is unknown (their budget is captured); they wait for {@link reconcile}. */
  pending(): BuyerPaymentStatus[] {
    return [...this.#unknown.values()].map((e) => this.#view(e));
  }

  /**
   * Resolves a payment whose outcome was unknown. Its budget was captured then, so nothing is
   * captured twice: `settled: true` records the settlement (`settled`, `payment.settled` with
   * source `reconciliation`); `settled: false` records that it did not settle (`not_settled`,
   * `budgetReturned: false`): the budget stays consumed, never re-charged, for an operator to
   * adjust. (When that capture could not be made, `settled: true` captures now and
   * `settled: false` releases the hold.) Throws `ERR_BURSAR_X402_NOT_PENDING` otherwise.
   */
  async reconcile(paymentId: string, outcome: BuyerReconcileOutcome): Promise<BuyerPaymentStatus> {
    const o = parseOptions(BuyerReconcileOutcome, outcome, 'reconcile');
    const entry = this.#unknown.get(paymentId);
    if (!entry) {
      throw new BursarError(
        X402ErrorCode.NOT_PENDING,
        `Payment ${paymentId} is not waiting for reconciliation`,
        {
          status: 404,
          details: { paymentId },
        },
      );
    }
    // Out of the pending list before any await: a concurrent second reconcile is refused.
    this.#unknown.delete(paymentId);
    if (o.settled) await this.#capture(entry, entry.money, o.transaction, 'reconciliation');
    else await this.#notPaid(entry, X402Reason.SETTLE_FAILED, 'reconciled as not settled');
    return this.#view(entry);
  }

  /** Resolves when pending provenance appends have finished. */
  idle(): Promise<void> {
    return this.#fx.idle();
  }

  async #before(ctx: PaymentCreationContext): Promise<Abort | undefined> {
    const previous = this.#byRequest.get(ctx.paymentRequired);
    if (previous && previous.state !== 'released') {
      // The "recovered, sign again" path: this request already paid, or may have.
      return this.#refuse(
        X402Reason.ALREADY_PAID,
        previous.state === 'settled'
          ? 'this request was already paid'
          : previous.state === 'not_settled'
            ? 'the first payment of this request was already charged to the budget'
            : `the first payment of this request is ${previous.state}`,
      );
    }
    const req = ctx.selectedRequirements;
    const amount = mapAmount(req, this.#assets);
    if (!amount.ok) return this.#refuse(amount.reason, amount.message);
    const resource = ctx.paymentRequired.resource?.url;
    const entry: BuyerEntry = {
      state: 'authorizing',
      money: amount.value.money,
      requirements: { ...req, extra: { ...req.extra } },
      ...(resource ? { resource } : {}),
      updatedAt: this.#clock.now(),
    };
    // Claim the request before any await: a concurrent second signing sees it.
    const owner = this.#calls.getStore();
    if (owner) entry.owner = owner;
    this.#byRequest.set(ctx.paymentRequired, entry);
    let decision: Awaited<ReturnType<X402PolicyEngine['authorize']>>;
    try {
      decision = await this.#engine.authorize({
        agentId: this.#o.agentId,
        action: 'payment',
        amount: amount.value.money.toDecimalString(),
        currency: amount.value.asset.symbol,
        recipient: resource ?? req.payTo,
        protocol: 'x402',
        network: req.network,
        params: {
          scheme: req.scheme,
          payTo: req.payTo,
          asset: req.asset,
          atomicAmount: req.amount,
          ...(resource ? { resource } : {}),
        },
      });
    } catch (error) {
      entry.state = 'released';
      throw error;
    }
    entry.intentId = decision.intentId;
    entry.intentHash = decision.intentHash;
    if (decision.outcome === 'deny' || decision.outcome === 'require_approval') {
      // A pending approval owns its hold (released by the approval workflow); otherwise release.
      if (decision.holdId && !decision.approvalId) await this.#engine.release(decision.holdId);
      entry.state = 'released';
      entry.failure = decision.outcome;
      const top = decision.reasons.find((r) => r.outcome === decision.outcome) ?? decision.reasons[0];
      const code =
        decision.outcome === 'require_approval'
          ? X402Reason.APPROVAL_REQUIRED
          : (top?.code ?? X402Reason.POLICY_DENIED);
      return this.#refuse(code, top?.message ?? 'refused by policy');
    }
    if (decision.holdId) entry.holdId = decision.holdId;
    entry.state = 'authorized';
    entry.updatedAt = this.#clock.now();
  }

  async #after(ctx: PaymentCreatedContext): Promise<void> {
    const entry = this.#byRequest.get(ctx.paymentRequired);
    if (entry?.state === 'authorized') this.#signed(entry, ctx.paymentPayload, 'client');
  }

  #signed(entry: BuyerEntry, payload: PaymentPayload, source: string): void {
    entry.state = 'signed';
    entry.paymentId = paymentIdentity(payload).paymentId;
    entry.updatedAt = this.#clock.now();
    this.#byPayload.set(payload, entry);
    this.#fx.record('x402.buyer.signed', { ...this.#facts(entry), source });
  }

  async #creationFailed(paymentRequired: PaymentRequired, error: unknown): Promise<void> {
    const entry = this.#byRequest.get(paymentRequired);
    if (entry?.state === 'authorized') {
      await this.#release(
        entry,
        'payment_creation_failed',
        error instanceof Error ? error.message : String(error),
      );
    }
  }

  async #response(ctx: PaymentResponseContext): Promise<void> {
    const entry = this.#byPayload.get(ctx.paymentPayload);
    if (!entry || (entry.state !== 'signed' && entry.state !== 'unknown')) return;
    const settle = ctx.settleResponse;
    if (settle?.success) {
      let money = entry.money;
      if (settle.amount && /^\d+$/.test(settle.amount)) {
        try {
          money = Money.fromAtomic(settle.amount, entry.money.asset);
        } catch {
          money = entry.money;
        }
      }
      await this.#capture(entry, money, settle.transaction || undefined, 'payment-response');
      return;
    }
    if (settle && classifyFacilitatorResult('settle', settle)?.delivery !== 'unknown') {
      await this.#notPaid(entry, X402Reason.SETTLE_FAILED, settle.errorReason ?? 'settle_failed');
      return;
    }
    if (!settle && ctx.paymentRequired && !ctx.error) {
      // The seller answered 402 again: it refused the payment before settling.
      await this.#notPaid(entry, X402Reason.VERIFY_INVALID, ctx.paymentRequired.error ?? 'payment refused');
      return;
    }
    if (entry.state === 'unknown') return; // still unknown: already captured and pending
    // A transport error, a 5xx or a pending settlement: the money may move. Count it now.
    await this.#markUnknown(entry, ctx.error?.message ?? settle?.errorReason ?? 'no settlement confirmation');
  }

  async #capture(
    entry: BuyerEntry,
    money: Money,
    transaction: string | undefined,
    source: string,
  ): Promise<void> {
    // A payment captured when its outcome became unknown is not captured again.
    const before = entry.charged;
    const captureError = await this.#captureHold(entry, money, 'settlement');
    const discrepancy =
      before && !money.equals(before)
        ? `settled ${money.toDecimalString()}; the budget counted ${before.toDecimalString()} (captured when the outcome was unknown)`
        : undefined;
    entry.state = 'settled';
    if (transaction) entry.transaction = transaction;
    entry.updatedAt = this.#clock.now();
    if (entry.paymentId) this.#unknown.delete(entry.paymentId);
    const now = entry.updatedAt;
    this.#fx.settled({
      ...this.#event(entry, now),
      amount: money.toDecimalString(),
      currency: money.currency,
      source,
      ...(entry.paymentId ? { paymentId: entry.paymentId } : {}),
      ...(transaction ? { transaction } : {}),
    });
    this.#fx.spend(
      {
        agentId: this.#o.agentId,
        amount: money.toDecimalString(),
        currency: money.currency,
        at: now,
        action: 'payment',
        protocol: 'x402',
        network: entry.requirements.network,
        recipient: entry.resource ?? entry.requirements.payTo,
        ...(entry.holdId ? { holdId: entry.holdId } : {}),
        ...(entry.intentId ? { intentId: entry.intentId } : {}),
        ...(transaction ? { transaction } : {}),
      },
      entry.paymentId ?? '',
    );
    this.#fx.record('x402.buyer.settled', {
      ...this.#facts(entry),
      source,
      captureSource: entry.chargeSource,
      captureError,
      discrepancy,
    });
  }

  /** Captures the entry's hold once (`money` ≤ held); returns an error code when it failed. */
  async #captureHold(entry: BuyerEntry, money: Money, why: string): Promise<string | undefined> {
    if (!entry.holdId || entry.charged) return undefined;
    const amount = money.lt(entry.money) ? money.toDecimalString() : undefined;
    try {
      await this.#engine.capture(entry.holdId, amount === undefined ? undefined : { amount });
      entry.charged = amount === undefined ? entry.money : money;
      entry.chargeSource = why;
      return undefined;
    } catch (error) {
      this.#fx.report(error, 'capture', entry.paymentId);
      return BursarError.isInstance(error) ? error.code : 'capture_failed';
    }
  }

  /**
   * Definitely not paid. A hold not yet captured goes back; a budget captured while the outcome
   * was unknown stays consumed (`not_settled`, `budgetReturned: false`): never re-charged.
   */
  async #notPaid(entry: BuyerEntry, reason: string, detail: string): Promise<void> {
    if (!entry.charged) {
      await this.#release(entry, reason, detail);
      return;
    }
    entry.state = 'not_settled';
    entry.failure = reason;
    entry.updatedAt = this.#clock.now();
    if (entry.paymentId) this.#unknown.delete(entry.paymentId);
    const note = `${detail}; the budget stays consumed`;
    this.#fx.failed({
      ...this.#event(entry, entry.updatedAt),
      reason,
      detail: note,
      budgetReturned: false,
      ...this.#money(entry),
    });
    this.#fx.record('x402.buyer.not_settled', {
      ...this.#facts(entry),
      reason,
      detail: note,
      budgetReturned: false,
      capturedAmount: entry.charged.toDecimalString(),
      captureSource: entry.chargeSource,
    });
  }

  async #release(entry: BuyerEntry, reason: string, detail: string): Promise<void> {
    const holdId = entry.holdId;
    entry.state = 'released';
    entry.failure = reason;
    entry.updatedAt = this.#clock.now();
    if (entry.paymentId) this.#unknown.delete(entry.paymentId);
    if (holdId) {
      try {
        await this.#engine.release(holdId);
      } catch (error) {
        if (!BursarError.hasCode(error, ErrorCode.HOLD_NOT_ACTIVE))
          this.#fx.report(error, 'release', entry.paymentId);
      }
    }
    this.#fx.failed({ ...this.#event(entry, entry.updatedAt), reason, detail, ...this.#money(entry) });
    this.#fx.record('x402.buyer.released', { ...this.#facts(entry), reason, detail });
  }

  /**
   * The outcome is unknown: the money may have moved, so the hold is captured at once (the
   * budget counts it; no hold can expire and free it meanwhile) until `reconcile()`.
   */
  async #markUnknown(entry: BuyerEntry, detail: string): Promise<void> {
    entry.state = 'unknown';
    entry.failure = detail;
    entry.updatedAt = this.#clock.now();
    if (entry.paymentId) {
      this.#unknown.delete(entry.paymentId);
      this.#unknown.set(entry.paymentId, entry);
      this.#sweepUnknown(entry.updatedAt);
    }
    const captureError = await this.#captureHold(entry, entry.money, 'ambiguous_settlement');
    const captured = entry.charged !== undefined;
    this.#fx.failed({
      ...this.#event(entry, entry.updatedAt),
      reason: X402Reason.SETTLE_AMBIGUOUS,
      detail,
      ambiguous: true,
      captured,
      budgetReturned: !captured,
      ...(captured ? { captureSource: 'ambiguous_settlement' } : {}),
      ...this.#money(entry),
    });
    this.#fx.record('x402.buyer.outcome_unknown', {
      ...this.#facts(entry),
      detail,
      ambiguous: true,
      captured,
      captureSource: 'ambiguous_settlement',
      budgetReturned: !captured,
      captureError,
    });
  }

  /** Forgets the oldest unknown outcomes past their retention or over the cap (bounded memory). */
  #sweepUnknown(now: number): void {
    for (const [id, e] of this.#unknown) {
      if (now - e.updatedAt < this.#o.retentionMs && this.#unknown.size <= this.#o.maxPending) return;
      this.#unknown.delete(id);
      this.#fx.record('x402.buyer.forgotten', {
        ...this.#facts(e),
        note: 'unknown outcome never reconciled; its budget stays consumed',
        budgetReturned: e.charged === undefined,
      });
    }
  }

  #observe(client: GuardableClient): void {
    const create = client.createPaymentPayload;
    if (typeof create !== 'function') return;
    const guard = this;
    client.createPaymentPayload = function observedCreate(paymentRequired: PaymentRequired) {
      const call = {};
      return guard.#calls.run(call, async () => {
        let payload: PaymentPayload;
        try {
          payload = await create.call(client, paymentRequired);
        } catch (error) {
          await guard.#quiet('observeCreate', async () => {
            const entry = guard.#byRequest.get(paymentRequired);
            // Only the call that holds the budget releases it (a refused second call does not).
            if (entry?.owner === call && entry.state === 'authorized') {
              await guard.#release(
                entry,
                'payment_creation_failed',
                error instanceof Error ? error.message : String(error),
              );
            }
          });
          throw error;
        }
        await guard.#quiet('observeCreate', async () => {
          const entry = guard.#byRequest.get(paymentRequired);
          // Signed without afterPaymentCreation: another hook recovered a failed creation.
          if (entry?.owner === call && entry.state === 'authorized')
            guard.#signed(entry, payload, 'hook:recovered');
        });
        return payload;
      });
    };
  }

  #refuse(reason: string, message: string): Abort {
    this.#fx.record('x402.buyer.refused', {
      agentId: this.#o.agentId,
      reason,
      message,
      at: this.#clock.now(),
    });
    return { abort: true, reason: `${reason}: ${message}` };
  }

  #event(entry: BuyerEntry, at: number) {
    return {
      at,
      agentId: this.#o.agentId,
      action: 'payment',
      protocol: 'x402',
      network: entry.requirements.network,
      recipient: entry.resource ?? entry.requirements.payTo,
      ...(entry.intentId ? { intentId: entry.intentId } : {}),
      ...(entry.intentHash ? { intentHash: entry.intentHash } : {}),
      ...(entry.holdId ? { holdId: entry.holdId } : {}),
    };
  }

  #money(entry: BuyerEntry): { amount: string; currency: string } {
    return { amount: entry.money.toDecimalString(), currency: entry.money.currency };
  }

  #facts(entry: BuyerEntry): Record<string, unknown> {
    return {
      paymentId: entry.paymentId,
      agentId: this.#o.agentId,
      state: entry.state,
      network: entry.requirements.network,
      payTo: entry.requirements.payTo,
      asset: entry.requirements.asset,
      resource: entry.resource,
      intentId: entry.intentId,
      holdId: entry.holdId,
      transaction: entry.transaction,
      ...this.#money(entry),
      at: this.#clock.now(),
    };
  }

  #view(e: BuyerEntry): BuyerPaymentStatus {
    return {
      state: e.state,
      agentId: this.#o.agentId,
      ...this.#money(e),
      network: e.requirements.network,
      payTo: e.requirements.payTo,
      updatedAt: e.updatedAt,
      ...(e.paymentId ? { paymentId: e.paymentId } : {}),
      ...(e.resource ? { resource: e.resource } : {}),
      ...(e.holdId ? { holdId: e.holdId } : {}),
      ...(e.intentId ? { intentId: e.intentId } : {}),
      ...(e.transaction ? { transaction: e.transaction } : {}),
      ...(e.failure ? { failure: e.failure } : {}),
      ...(e.state === 'unknown' || e.state === 'not_settled'
        ? { budgetReturned: e.charged === undefined }
        : {}),
    };
  }

  async #quiet(hook: string, body: () => Promise<void>): Promise<void> {
    await this.#safe(hook, body, false);
  }

  /** Client hooks are not error-isolated: nothing here may throw. An internal error refuses to sign. */
  async #safe<R>(hook: string, body: () => Promise<R>, canAbort: boolean): Promise<R | Abort | undefined> {
    try {
      return await body();
    } catch (error) {
      this.#fx.report(error, hook);
      return canAbort
        ? { abort: true, reason: `${X402Reason.INTERNAL_ERROR}: the payment guard failed` }
        : undefined;
    }
  }
}

/**
 * Guards an `x402Client` (buyer side) with Bursar's policy engine:
 *
 * - before anything is signed, the SELECTED requirement's exact amount is authorized and held
 *   (abort with the policy's reason otherwise: nothing is signed);
 * - a payment response confirming settlement captures the hold; a refusal or a definite failure
 *   releases it; an answer that does not say (transport error, 5xx, `settlement_pending`)
 *   captures it at once, since the money may have moved (see `pending()` / `reconcile()`);
 * - the client's "recovered, sign again" path cannot pay twice for one request: a second
 *   signing for the same 402 answer is refused unless the first payment definitely failed.
 *
 * @example
 * const client = new x402Client();
 * registerExactEvmScheme(client, { signer });
 * guardX402Client(client, { engine, agentId: 'research-bot' });
 * const paidFetch = wrapFetchWithPayment(fetch, client);
 */
export function guardX402Client(client: GuardableClient, options: X402ClientGuardOptions): X402ClientGuard {
  return new X402ClientGuard(client, options);
}
