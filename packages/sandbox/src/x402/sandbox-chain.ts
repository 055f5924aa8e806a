import {
  type Asset,
  type AssetRegistry,
  BursarError,
  type Clock,
  defaultAssets,
  ErrorCode,
  Money,
  systemClock,
} from '@bursar/core';
import { SandboxErrorCode } from '../errors/index.js';
import { Ledger, type LedgerEntry } from '../ledger/index.js';
import type { SeededRandom } from '../random/index.js';

/** Options of {@link SandboxChain}. */
export interface SandboxChainOptions {
  rng: SeededRandom;
  network: string;
  /** Token address of the one asset this chain moves. */
  asset: string;
  clock?: Clock;
  assets?: AssetRegistry;
}

/** A transfer the chain made. */
export interface ChainTransfer {
  transaction: string;
  entry: LedgerEntry;
  duplicate: boolean;
}

/**
 * The stand-in for a blockchain behind the sandbox facilitator: balances per address, spent
 * nonces, and the ledger of every transfer (including a payload settled twice when replay
 * protection is off). Amounts are atomic units of one asset.
 */
export class SandboxChain {
  readonly network: string;
  readonly asset: string;
  /** The core asset the token maps to (by network and address). */
  readonly currency: Asset;
  readonly ledger: Ledger;
  readonly #rng: SeededRandom;
  readonly #balances = new Map<string, bigint>();
  readonly #settled = new Map<string, ChainTransfer[]>();
  readonly #pending = new Map<string, string>();

  constructor(options: SandboxChainOptions) {
    const assets = options.assets ?? defaultAssets;
    const currency = assets.findByAddress(options.network, options.asset);
    if (!currency) {
      throw new BursarError(
        ErrorCode.UNKNOWN_ASSET,
        `No asset is registered at ${options.asset} on ${options.network}; register it with assets.register({ symbol, decimals, addresses })`,
      );
    }
    this.network = options.network;
    this.asset = options.asset;
    this.currency = currency;
    this.#rng = options.rng;
    this.ledger = new Ledger({ rail: 'x402', clock: options.clock ?? systemClock, assets });
  }

  /** Adds funds to `address` (a decimal string in major units, or Money of this asset). */
  fund(address: string, amount: Money | string): Money {
    const money = typeof amount === 'string' ? Money.parse(amount, this.currency) : amount;
    // compare() also rejects an amount of another asset.
    if (money.compare(Money.zero(this.currency)) < 0) {
      throw new BursarError(ErrorCode.INVALID_AMOUNT, 'Cannot fund a negative amount');
    }
    const key = address.toLowerCase();
    this.#balances.set(key, (this.#balances.get(key) ?? 0n) + money.minor);
    return this.balance(address);
  }

  /** Balance of `address`. */
  balance(address: string): Money {
    return Money.fromMinor(this.#balances.get(address.toLowerCase()) ?? 0n, this.currency);
  }

  /** True when a payload with this nonce has settled at least once. */
  isSpent(nonce: string): boolean {
    return this.#settled.has(nonce);
  }

  /** Every transfer made for `nonce` (more than one only without replay protection). */
  transfersOf(nonce: string): readonly ChainTransfer[] {
    return this.#settled.get(nonce) ?? [];
  }

  /**
   * Moves `value` atomic units from `from` to `to` for the authorization `nonce`. A nonce
   * settled before is recorded again as a duplicate (callers with replay protection refuse
   * earlier). Fails (returns undefined) when the balance is short.
   */
  transfer(args: {
    from: string;
    to: string;
    value: bigint;
    nonce: string;
    details?: Record<string, unknown>;
  }): ChainTransfer | undefined {
    const from = args.from.toLowerCase();
    const balance = this.#balances.get(from) ?? 0n;
    if (balance < args.value) return undefined;
    const previous = this.#settled.get(args.nonce) ?? [];
    const duplicate = previous.length > 0;
    // Derived from the nonce and the attempt, not from arrival order: concurrency cannot shift it.
    const transaction = `0x${this.#rng.fork(`tx:${args.nonce}:${previous.length}`).hex(32)}`;
    this.#balances.set(from, balance - args.value);
    const to = args.to.toLowerCase();
    this.#balances.set(to, (this.#balances.get(to) ?? 0n) + args.value);
    const entry = this.ledger.record({
      kind: 'charge',
      amount: Money.fromMinor(args.value, this.currency),
      payer: args.from,
      payee: args.to,
      reference: transaction,
      duplicate,
      details: { nonce: args.nonce, network: this.network, asset: this.asset, ...(args.details ?? {}) },
    });
    const transfer: ChainTransfer = { transaction, entry, duplicate };
    this.#settled.set(args.nonce, [...previous, transfer]);
    return transfer;
  }

  /** Marks a broadcast transaction as not yet confirmed (the facilitator answered `settlement_pending`). */
  markPending(nonce: string, transaction: string): void {
    this.#pending.set(nonce, transaction);
  }

  /** The pending transaction of `nonce`, which the next settle reconciles, or undefined. */
  takePending(nonce: string): string | undefined {
    const tx = this.#pending.get(nonce);
    if (tx !== undefined) this.#pending.delete(nonce);
    return tx;
  }

  /**
   * Sends money back for the transfer `transaction` (all that is left of it by default). The
   * seller's refund: x402 itself has none, so it is a transfer the other way.
   */
  refund(transaction: string, amount?: Money | string): LedgerEntry {
    const left = this.ledger.refundable(transaction);
    const money =
      amount === undefined ? left : typeof amount === 'string' ? Money.parse(amount, this.currency) : amount;
    const charge = this.ledger.entries({ kind: 'charge', reference: transaction })[0];
    if (!charge) {
      throw new BursarError(SandboxErrorCode.UNKNOWN_REFERENCE, `No transfer ${transaction}`);
    }
    const entry = this.ledger.record({
      kind: 'refund',
      amount: money,
      payee: charge.payer ?? 'unknown',
      payer: charge.payee,
      reference: `${transaction}:refund:${this.ledger.entries({ kind: 'refund', refundOf: transaction }).length + 1}`,
      refundOf: transaction,
    });
    const payer = (charge.payer ?? '').toLowerCase();
    const payee = charge.payee.toLowerCase();
    this.#balances.set(payee, (this.#balances.get(payee) ?? 0n) - money.minor);
    this.#balances.set(payer, (this.#balances.get(payer) ?? 0n) + money.minor);
    return entry;
  }
}
