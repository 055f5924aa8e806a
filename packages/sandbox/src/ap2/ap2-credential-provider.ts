import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type AssetRegistry,
  BursarError,
  type Clock,
  canonicalHash,
  canonicalJson,
  defaultAssets,
  ErrorCode,
  Money,
  systemClock,
} from '@bursar/core';
import { z } from 'zod';
import { SandboxErrorCode } from '../errors/index.js';
import { FaultPlan, Latency, Probability, Timers } from '../faults/index.js';
import { parseOptions } from '../internal/options.js';
import { AssetsLike, ClockLike, RandomLike, SeedLike, streamOf } from '../internal/schemas.js';
import { Ledger, type LedgerEntry } from '../ledger/index.js';
import type { SeededRandom } from '../random/index.js';
import {
  type Ap2ClosedMandate,
  Ap2DeclineCode,
  type Ap2Mandate,
  type Ap2OpenMandate,
  type SignedMandate,
} from './ap2-types.js';

/** Failure injection of the credential provider. */
export const Ap2Faults = z.strictObject({
  /** Latency of every `pay` (ms, ≤ 50). */
  latencyMs: Latency.optional(),
  /** Chance that a `pay` is declined `provider_unavailable` before any check (nothing charged). */
  failureRate: Probability.optional(),
});
export type Ap2Faults = z.input<typeof Ap2Faults>;

const ProviderOptions = z.strictObject({
  seed: SeedLike.optional(),
  rng: RandomLike.optional(),
  clock: ClockLike.optional(),
  assets: AssetsLike.optional(),
  faults: Ap2Faults.optional(),
});
/** Options of {@link Ap2CredentialProvider}. */
export type Ap2CredentialProviderOptions = z.input<typeof ProviderOptions>;

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal like "25.00"');
const when = z.union([
  z.number().int().nonnegative(),
  z.string().refine((s) => Number.isFinite(Date.parse(s))),
]);

const OpenInput = z.strictObject({
  holder: z.string().min(1).max(256),
  currency: z.string().min(1).max(32),
  payees: z.array(z.string().min(1).max(2048)).min(1).max(1000),
  minAmount: decimal.optional(),
  maxAmount: decimal,
  budget: decimal,
  /** Epoch ms or RFC 3339. */
  expiresAt: when,
});
/** What `issueOpenMandate` takes. */
export type Ap2OpenMandateInput = z.input<typeof OpenInput>;

const ClosedInput = z.strictObject({
  holder: z.string().min(1).max(256),
  currency: z.string().min(1).max(32),
  payee: z.string().min(1).max(2048),
  amount: decimal,
  expiresAt: when,
});
/** What `issueClosedMandate` takes. */
export type Ap2ClosedMandateInput = z.input<typeof ClosedInput>;

/** A payment request against a mandate. */
export interface Ap2PayRequest {
  /** The signed mandate as the agent presents it. */
  mandate: SignedMandate;
  payee: string;
  /** Decimal string in major units. */
  amount: string;
  /** Must match the mandate's when given. */
  currency?: string;
  /** Same key and same request → the first answer; same key, other request → declined. */
  idempotencyKey?: string;
}

/** The provider's answer. */
export type Ap2PaymentResult =
  | {
      status: 'approved';
      paymentId: string;
      mandateId: string;
      amount: Money;
      /** Budget left under an open mandate after this payment. */
      remaining?: Money;
      replayed: boolean;
    }
  | { status: 'declined'; code: Ap2DeclineCode; message: string; mandateId?: string; replayed: boolean };

/** State of one mandate. */
export interface Ap2MandateStatus {
  mandateId: string;
  type: 'open' | 'closed';
  spent: Money;
  /** Budget left (open) or the amount if unused (closed). */
  remaining: Money;
  payments: number;
  revoked: boolean;
}

interface MandateState {
  signed: SignedMandate;
  spent: Money;
  payments: number;
  revoked: boolean;
}

type IdemEntry = { fingerprint: string; result?: Ap2PaymentResult };

/**
 * A mock AP2 credential provider (in process). It issues signed mandates — open ones
 * (allowed payees, amount range, total budget, expiry) and closed ones (final payee and exact
 * amount, single use) — and `pay` makes the checks a credential provider would: signature
 * (a modified mandate is rejected), issuer, revocation, expiry, currency, payee, amount range
 * or exact amount, budget, single use. Check and charge are one step, so concurrent payments
 * never overspend a budget. Each approved payment lands in `ledger`.
 *
 * @example
 * const ap2 = new Ap2CredentialProvider({ seed: 5, clock });
 * const m = ap2.issueOpenMandate({ holder: 'travel-bot', currency: 'USD', payees: ['hotel.example'],
 *   maxAmount: '300', budget: '500', expiresAt: clock.now() + 86_400_000 });
 * await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '240' }); // approved
 * await ap2.pay({ mandate: m, payee: 'hotel.example', amount: '240' }); // declined: budget_exceeded
 */
export class Ap2CredentialProvider {
  readonly ledger: Ledger;
  readonly #clock: Clock;
  readonly #assets: AssetRegistry;
  readonly #rng: SeededRandom;
  readonly #secret: Buffer;
  readonly #mandates = new Map<string, MandateState>();
  readonly #payments = new Map<string, { mandateId: string; amount: Money }>();
  readonly #idempotency = new Map<string, IdemEntry>();
  readonly #timers = new Timers();
  #plan: FaultPlan;
  #faults: z.output<typeof Ap2Faults>;
  #issued = 0;
  #paid = 0;

  constructor(options: Ap2CredentialProviderOptions = {}) {
    const o = parseOptions(ProviderOptions, options, 'AP2 credential provider');
    this.#clock = o.clock ?? systemClock;
    this.#assets = o.assets ?? defaultAssets;
    this.#rng = streamOf(o, 'ap2');
    this.#secret = Buffer.from(this.#rng.fork('signing-key').bytes(32));
    this.#faults = o.faults ?? {};
    this.#plan = new FaultPlan(this.#rng.fork('faults'), this.#faults);
    this.ledger = new Ledger({ rail: 'ap2', clock: this.#clock, assets: this.#assets });
  }

  /** Issues an open mandate. Amounts are decimals in major units of `currency`. */
  issueOpenMandate(input: Ap2OpenMandateInput): SignedMandate<Ap2OpenMandate> {
    const v = parseOptions(OpenInput, input, 'AP2 open mandate');
    const asset = this.#assets.require(v.currency);
    const min = Money.parse(v.minAmount ?? '0', asset);
    const max = Money.parse(v.maxAmount, asset);
    const budget = Money.parse(v.budget, asset);
    if (min.gt(max)) throw this.#bad('minAmount must not exceed maxAmount', 'minAmount');
    if (max.isZero() || budget.isZero()) throw this.#bad('maxAmount and budget must be positive', 'budget');
    const mandate: Ap2OpenMandate = {
      type: 'open',
      id: this.#rng.fork(`mandate:${++this.#issued}`).id('mdt', 12),
      holder: v.holder,
      currency: asset.symbol,
      payees: [...v.payees],
      minAmount: min.toDecimalString(),
      maxAmount: max.toDecimalString(),
      budget: budget.toDecimalString(),
      issuedAt: new Date(this.#clock.now()).toISOString(),
      expiresAt: this.#iso(v.expiresAt),
    };
    return this.#store(mandate);
  }

  /** Issues a closed mandate for one exact payment. */
  issueClosedMandate(input: Ap2ClosedMandateInput): SignedMandate<Ap2ClosedMandate> {
    const v = parseOptions(ClosedInput, input, 'AP2 closed mandate');
    const asset = this.#assets.require(v.currency);
    const amount = Money.parse(v.amount, asset);
    if (amount.isZero()) throw this.#bad('amount must be positive', 'amount');
    const mandate: Ap2ClosedMandate = {
      type: 'closed',
      id: this.#rng.fork(`mandate:${++this.#issued}`).id('mdt', 12),
      holder: v.holder,
      currency: asset.symbol,
      payee: v.payee,
      amount: amount.toDecimalString(),
      issuedAt: new Date(this.#clock.now()).toISOString(),
      expiresAt: this.#iso(v.expiresAt),
    };
    return this.#store(mandate);
  }

  /** Checks a presented mandate: issued here and not modified. */
  verifyMandate(signed: SignedMandate): { ok: true } | { ok: false; code: Ap2DeclineCode } {
    const state = this.#mandates.get(String(signed?.mandate?.id));
    if (!state) return { ok: false, code: Ap2DeclineCode.UNKNOWN_MANDATE };
    let expected: Buffer;
    try {
      expected = Buffer.from(this.#sign(signed.mandate), 'hex');
    } catch {
      return { ok: false, code: Ap2DeclineCode.INVALID_SIGNATURE };
    }
    const given =
      typeof signed.signature === 'string' && /^[0-9a-f]{64}$/.test(signed.signature)
        ? Buffer.from(signed.signature, 'hex')
        : Buffer.alloc(32);
    if (!timingSafeEqual(expected, given)) return { ok: false, code: Ap2DeclineCode.INVALID_SIGNATURE };
    // The stored mandate is the truth; a valid signature over other content cannot exist without the key.
    if (canonicalHash(state.signed.mandate) !== canonicalHash(signed.mandate)) {
      return { ok: false, code: Ap2DeclineCode.INVALID_SIGNATURE };
    }
    return { ok: true };
  }

  /** Revokes a mandate: later payments are declined `mandate_revoked`. */
  revoke(mandateId: string): void {
    const state = this.#mandates.get(mandateId);
    if (!state) throw new BursarError(SandboxErrorCode.UNKNOWN_REFERENCE, `No mandate ${mandateId}`);
    state.revoked = true;
  }

  /** Spent and remaining under a mandate. */
  status(mandateId: string): Ap2MandateStatus {
    const state = this.#mandates.get(mandateId);
    if (!state) throw new BursarError(SandboxErrorCode.UNKNOWN_REFERENCE, `No mandate ${mandateId}`);
    const m = state.signed.mandate;
    const cap = Money.parse(m.type === 'open' ? m.budget : m.amount, m.currency, { assets: this.#assets });
    return {
      mandateId,
      type: m.type,
      spent: state.spent,
      remaining:
        m.type === 'closed' && state.payments > 0 ? Money.zero(cap.asset) : cap.subtract(state.spent),
      payments: state.payments,
      revoked: state.revoked,
    };
  }

  /**
   * Pays `amount` to `payee` under the presented mandate. Declines are answers, not errors;
   * malformed input (an amount that is not a decimal of the currency) throws and changes nothing.
   */
  async pay(request: Ap2PayRequest): Promise<Ap2PaymentResult> {
    const mandateId =
      typeof request?.mandate?.mandate?.id === 'string' ? request.mandate.mandate.id : undefined;
    const key = request.idempotencyKey;
    if (key !== undefined) {
      const fingerprint = canonicalHash({
        mandate: request.mandate,
        payee: request.payee,
        amount: request.amount,
        currency: request.currency,
      });
      const entry = this.#idempotency.get(key);
      if (entry) {
        if (entry.fingerprint !== fingerprint) {
          return this.#decline(
            Ap2DeclineCode.IDEMPOTENCY_CONFLICT,
            'Idempotency key reused with another request',
            mandateId,
          );
        }
        if (!entry.result) {
          return this.#decline(
            Ap2DeclineCode.IDEMPOTENCY_IN_FLIGHT,
            'A payment with this key is in progress',
            mandateId,
          );
        }
        return { ...entry.result, replayed: true };
      }
      this.#idempotency.set(key, { fingerprint });
    }
    const n = ++this.#paid;
    const faultKey = `${key ?? `pay-${n}`}`;
    let result: Ap2PaymentResult;
    try {
      if (!(await this.#timers.sleep(this.#plan.latency(faultKey)))) {
        result = this.#decline(Ap2DeclineCode.PROVIDER_UNAVAILABLE, 'Provider closed', mandateId);
      } else if (this.#plan.fails(faultKey)) {
        // Nothing happened: the key is forgotten so the agent may retry it.
        if (key !== undefined) this.#idempotency.delete(key);
        return this.#decline(
          Ap2DeclineCode.PROVIDER_UNAVAILABLE,
          'Injected failure: provider unavailable',
          mandateId,
        );
      } else {
        result = this.#charge(request);
      }
    } catch (error) {
      if (key !== undefined) this.#idempotency.delete(key);
      throw error;
    }
    if (key !== undefined) this.#idempotency.set(key, { ...this.#idempotency.get(key)!, result });
    return result;
  }

  /** Refunds a payment (all that is left of it by default). */
  refund(paymentId: string, amount?: Money | string): LedgerEntry {
    const payment = this.#payments.get(paymentId);
    if (!payment) throw new BursarError(SandboxErrorCode.UNKNOWN_REFERENCE, `No payment ${paymentId}`);
    const left = this.ledger.refundable(paymentId);
    const value =
      amount === undefined
        ? left
        : typeof amount === 'string'
          ? Money.parse(amount, payment.amount.asset)
          : amount;
    const charge = this.ledger.entries({ kind: 'charge', reference: paymentId })[0];
    const entry = this.ledger.record({
      kind: 'refund',
      amount: value,
      payer: charge?.payee ?? 'payee',
      payee: charge?.payer ?? 'holder',
      reference: `${paymentId}:refund:${this.ledger.entries({ kind: 'refund', refundOf: paymentId }).length + 1}`,
      refundOf: paymentId,
    });
    // A refund returns budget under an open mandate, as a card refund restores available credit.
    const state = this.#mandates.get(payment.mandateId);
    if (state) state.spent = state.spent.subtract(value);
    return entry;
  }

  setFaults(faults: Ap2Faults): void {
    this.#faults = parseOptions(Ap2Faults, faults, 'AP2 faults');
    this.#plan = new FaultPlan(this.#rng.fork('faults'), this.#faults);
  }

  /** Cancels pending latency timers (pending payments are declined `provider_unavailable`). */
  close(): void {
    this.#timers.cancelAll();
  }

  #charge(request: Ap2PayRequest): Ap2PaymentResult {
    const verdict = this.verifyMandate(request.mandate);
    const mandateId = request.mandate?.mandate?.id;
    if (!verdict.ok) return this.#decline(verdict.code, `Mandate rejected: ${verdict.code}`, mandateId);
    const state = this.#mandates.get(mandateId)!;
    const m = state.signed.mandate;
    const asset = this.#assets.require(m.currency);
    if (typeof request.payee !== 'string' || request.payee.length === 0) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'payee must be a non-empty string');
    }
    const amount = Money.parse(request.amount, asset);
    if (amount.isZero()) throw new BursarError(ErrorCode.INVALID_AMOUNT, 'A payment must be positive');
    if (state.revoked) return this.#decline(Ap2DeclineCode.REVOKED, 'The mandate was revoked', m.id);
    if (Date.parse(m.expiresAt) <= this.#clock.now()) {
      return this.#decline(Ap2DeclineCode.EXPIRED, `The mandate expired at ${m.expiresAt}`, m.id);
    }
    if (request.currency !== undefined && request.currency.toUpperCase() !== m.currency.toUpperCase()) {
      return this.#decline(Ap2DeclineCode.CURRENCY_MISMATCH, `The mandate is in ${m.currency}`, m.id);
    }
    const payee = request.payee.toLowerCase();
    if (m.type === 'closed') {
      if (state.payments > 0)
        return this.#decline(Ap2DeclineCode.MANDATE_USED, 'A closed mandate pays once', m.id);
      if (m.payee.toLowerCase() !== payee) {
        return this.#decline(Ap2DeclineCode.PAYEE_NOT_ALLOWED, `The mandate pays only ${m.payee}`, m.id);
      }
      if (!amount.equals(Money.parse(m.amount, asset))) {
        return this.#decline(
          Ap2DeclineCode.AMOUNT_MISMATCH,
          `The mandate pays exactly ${m.amount} ${m.currency}`,
          m.id,
        );
      }
    } else {
      if (!m.payees.some((p) => p.toLowerCase() === payee)) {
        return this.#decline(
          Ap2DeclineCode.PAYEE_NOT_ALLOWED,
          `${request.payee} is not an allowed payee`,
          m.id,
        );
      }
      if (amount.lt(Money.parse(m.minAmount, asset))) {
        return this.#decline(
          Ap2DeclineCode.AMOUNT_BELOW_MINIMUM,
          `Below the minimum of ${m.minAmount} ${m.currency}`,
          m.id,
        );
      }
      if (amount.gt(Money.parse(m.maxAmount, asset))) {
        return this.#decline(
          Ap2DeclineCode.AMOUNT_ABOVE_MAXIMUM,
          `Above the maximum of ${m.maxAmount} ${m.currency}`,
          m.id,
        );
      }
      if (state.spent.add(amount).gt(Money.parse(m.budget, asset))) {
        return this.#decline(
          Ap2DeclineCode.BUDGET_EXCEEDED,
          `Would exceed the mandate budget of ${m.budget} ${m.currency} (spent ${state.spent.toDecimalString()})`,
          m.id,
        );
      }
    }
    const paymentId = this.#rng.fork(`payment:${m.id}:${state.payments + 1}`).id('pay', 12);
    state.spent = state.spent.add(amount);
    state.payments++;
    this.#payments.set(paymentId, { mandateId: m.id, amount });
    this.ledger.record({
      kind: 'charge',
      amount,
      payer: m.holder,
      payee: request.payee,
      reference: paymentId,
      details: { mandateId: m.id, mandateType: m.type },
    });
    return {
      status: 'approved',
      paymentId,
      mandateId: m.id,
      amount,
      ...(m.type === 'open' ? { remaining: Money.parse(m.budget, asset).subtract(state.spent) } : {}),
      replayed: false,
    };
  }

  #decline(code: Ap2DeclineCode, message: string, mandateId?: string): Ap2PaymentResult {
    return { status: 'declined', code, message, ...(mandateId ? { mandateId } : {}), replayed: false };
  }

  #store<M extends Ap2Mandate>(mandate: M): SignedMandate<M> {
    const signed: SignedMandate<M> = { mandate, signature: this.#sign(mandate) };
    this.#mandates.set(mandate.id, {
      signed: structuredClone(signed),
      spent: Money.zero(mandate.currency, { assets: this.#assets }),
      payments: 0,
      revoked: false,
    });
    return structuredClone(signed);
  }

  #sign(mandate: Ap2Mandate): string {
    return createHmac('sha256', this.#secret).update(canonicalJson(mandate)).digest('hex');
  }

  #iso(value: number | string): string {
    return new Date(typeof value === 'number' ? value : Date.parse(value)).toISOString();
  }

  #bad(message: string, path: string): BursarError {
    return new BursarError(ErrorCode.INVALID_ARGUMENT, message, { issues: [{ path, message }] });
  }
}
