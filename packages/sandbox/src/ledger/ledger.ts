import {
  type AssetRegistry,
  BursarError,
  type Clock,
  defaultAssets,
  ErrorCode,
  Money,
  systemClock,
} from '@bursar/core';
import { SandboxErrorCode } from '../errors/index.js';

/** The rail a ledger belongs to. */
export type Rail = 'x402' | 'acp' | 'ap2';

/** What moved: money to the payee (`charge`) or back to the payer (`refund`). */
export type LedgerEntryKind = 'charge' | 'refund';

/** One movement of money on a mock rail, as the rail itself recorded it. */
export interface LedgerEntry {
  /** 1, 2, 3 … in the order the rail recorded them. */
  readonly seq: number;
  /** Epoch ms from the rail's clock. */
  readonly at: number;
  readonly rail: Rail;
  readonly kind: LedgerEntryKind;
  /** Exact amount; always positive. */
  readonly amount: Money;
  /** Canonical currency symbol of `amount`. */
  readonly currency: string;
  /** Who paid (wallet address, buyer, mandate holder). */
  readonly payer?: string;
  /** Who was paid (x402 `payTo`, ACP merchant id, AP2 payee). */
  readonly payee: string;
  /** The rail's own id of the movement: transaction hash, order id, payment id. */
  readonly reference: string;
  /** For refunds: the reference of the charge they return money from. */
  readonly refundOf?: string;
  /**
   * True when the rail charged again for something it had already charged (an x402 payload
   * settled twice): the double charge Bursar exists to prevent.
   */
  readonly duplicate: boolean;
  /** Rail-specific facts (resource URL, checkout session, mandate id …). JSON-safe. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** What `record` takes. */
export interface LedgerRecordInput {
  kind: LedgerEntryKind;
  amount: Money;
  payer?: string;
  payee: string;
  reference: string;
  refundOf?: string;
  duplicate?: boolean;
  details?: Record<string, unknown>;
}

/** A filter for `entries()`; every given field must match. */
export interface LedgerQuery {
  kind?: LedgerEntryKind;
  currency?: string;
  payee?: string;
  payer?: string;
  reference?: string;
  /** Refunds of this charge reference. */
  refundOf?: string;
  duplicate?: boolean;
}

/** Options of {@link Ledger}. */
export interface LedgerOptions {
  rail: Rail;
  clock?: Clock;
  assets?: AssetRegistry;
}

/**
 * What a mock rail really charged and refunded. Append-only; amounts are exact `Money`.
 * Tests assert against it: the engine's decisions say what Bursar allowed, the ledger says
 * what the rail did.
 *
 * @example
 * rail.ledger.total('USDC').format();     // '1.25 USDC' charged
 * rail.ledger.net('USDC').format();       // charged − refunded
 * rail.ledger.entries({ duplicate: true }); // double charges, if any
 */
export class Ledger {
  readonly rail: Rail;
  readonly #clock: Clock;
  readonly #assets: AssetRegistry;
  readonly #entries: LedgerEntry[] = [];
  readonly #listeners = new Set<(entry: LedgerEntry) => void>();

  constructor(options: LedgerOptions) {
    this.rail = options.rail;
    this.#clock = options.clock ?? systemClock;
    this.#assets = options.assets ?? defaultAssets;
  }

  /**
   * Appends a movement. A refund must name the charge it returns money from and may not
   * exceed what is left of it; amounts must be positive.
   */
  record(input: LedgerRecordInput): LedgerEntry {
    if (!Money.isMoney(input.amount) || input.amount.minor <= 0n) {
      throw new BursarError(ErrorCode.INVALID_AMOUNT, 'A ledger amount must be a positive Money');
    }
    if (input.kind === 'refund') {
      const of = input.refundOf;
      if (of === undefined) {
        throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'A refund needs `refundOf`: the charge it returns');
      }
      const left = this.refundable(of);
      if (input.amount.gt(left)) {
        throw new BursarError(
          SandboxErrorCode.REFUND_EXCEEDS_CHARGE,
          `Refund of ${input.amount.format()} exceeds the ${left.format()} left of ${of}`,
          {
            details: {
              reference: of,
              requested: input.amount.toDecimalString(),
              left: left.toDecimalString(),
            },
          },
        );
      }
    }
    const entry: LedgerEntry = Object.freeze({
      seq: this.#entries.length + 1,
      at: this.#clock.now(),
      rail: this.rail,
      kind: input.kind,
      amount: input.amount,
      currency: input.amount.currency,
      ...(input.payer !== undefined ? { payer: input.payer } : {}),
      payee: input.payee,
      reference: input.reference,
      ...(input.refundOf !== undefined ? { refundOf: input.refundOf } : {}),
      duplicate: input.duplicate === true,
      details: Object.freeze({ ...(input.details ?? {}) }),
    });
    this.#entries.push(entry);
    for (const listener of [...this.#listeners]) listener(entry);
    return entry;
  }

  /** Entries in recording order, optionally filtered. Currency compares case-insensitively. */
  entries(query: LedgerQuery = {}): readonly LedgerEntry[] {
    const currency = query.currency?.toUpperCase();
    return this.#entries.filter(
      (e) =>
        (query.kind === undefined || e.kind === query.kind) &&
        (currency === undefined || e.currency.toUpperCase() === currency) &&
        (query.payee === undefined || e.payee === query.payee) &&
        (query.payer === undefined || e.payer === query.payer) &&
        (query.reference === undefined || e.reference === query.reference) &&
        (query.refundOf === undefined || e.refundOf === query.refundOf) &&
        (query.duplicate === undefined || e.duplicate === query.duplicate),
    );
  }

  /** Sum of every charge in `currency` (duplicates included: they were really charged). */
  total(currency: string): Money {
    return this.#sum(currency, 'charge');
  }

  /** Sum of every refund in `currency`. */
  refunded(currency: string): Money {
    return this.#sum(currency, 'refund');
  }

  /** Charged minus refunded in `currency`: what the payers are out of pocket. */
  net(currency: string): Money {
    return this.total(currency).subtract(this.refunded(currency));
  }

  /** Number of charges (duplicates included). */
  chargeCount(query: Omit<LedgerQuery, 'kind'> = {}): number {
    return this.entries({ ...query, kind: 'charge' }).length;
  }

  /** What is left to refund of the charge `reference`. */
  refundable(reference: string): Money {
    const charge = this.#entries.find((e) => e.kind === 'charge' && e.reference === reference);
    if (!charge) {
      throw new BursarError(SandboxErrorCode.UNKNOWN_REFERENCE, `No charge with reference ${reference}`, {
        details: { reference },
      });
    }
    let left = charge.amount;
    for (const e of this.#entries)
      if (e.kind === 'refund' && e.refundOf === reference) left = left.subtract(e.amount);
    return left;
  }

  /** Currencies that have at least one entry, in first-seen order. */
  currencies(): string[] {
    return [...new Set(this.#entries.map((e) => e.currency))];
  }

  /** Calls `listener` for every new entry; returns an unsubscribe function. */
  onEntry(listener: (entry: LedgerEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** A JSON-safe copy of every entry (amounts as exact decimal strings). */
  toJSON(): Array<Record<string, unknown>> {
    return this.#entries.map((e) => ({
      seq: e.seq,
      at: e.at,
      rail: e.rail,
      kind: e.kind,
      amount: e.amount.toDecimalString(),
      currency: e.currency,
      ...(e.payer !== undefined ? { payer: e.payer } : {}),
      payee: e.payee,
      reference: e.reference,
      ...(e.refundOf !== undefined ? { refundOf: e.refundOf } : {}),
      duplicate: e.duplicate,
      details: e.details,
    }));
  }

  #sum(currency: string, kind: LedgerEntryKind): Money {
    const asset = this.#assets.require(currency);
    let total = Money.zero(asset);
    for (const e of this.#entries) {
      if (e.kind === kind && e.currency.toUpperCase() === asset.symbol.toUpperCase())
        total = total.add(e.amount);
    }
    return total;
  }
}
