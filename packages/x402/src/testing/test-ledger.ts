import { createHmac, randomBytes } from 'node:crypto';
import { canonicalJson, sha256Hex } from '@bursar/core';

/** A test wallet: an address and the secret that signs for it. */
export interface TestWallet {
  readonly address: string;
  readonly secret: string;
}

/** One settlement written to the test ledger ("the chain"). */
export interface TestSettlement {
  transaction: string;
  from: string;
  to: string;
  value: bigint;
  asset: string;
  network: string;
  nonce: string;
}

/** What a test-scheme authorization signs. */
export interface TestAuthorization {
  from: string;
  to: string;
  value: string;
  asset: string;
  network: string;
  nonce: string;
  /** Epoch seconds after which the authorization is void. */
  validBefore: string;
}

/**
 * The offline stand-in for a chain: balances, signing keys and used nonces. A settled
 * authorization's nonce can never settle again, exactly like EIP-3009, so tests can assert
 * "charged once" on the payer's balance.
 */
export class TestLedger {
  readonly #keys = new Map<string, string>();
  readonly #balances = new Map<string, bigint>();
  readonly #nonces = new Set<string>();
  readonly settlements: TestSettlement[] = [];

  /** Creates a wallet holding `balance` atomic units. */
  createWallet(balance: bigint | number | string = 0n): TestWallet {
    const address = `0x${randomBytes(20).toString('hex')}`;
    const secret = randomBytes(32).toString('hex');
    this.#keys.set(address, secret);
    this.#balances.set(address, BigInt(balance));
    return { address, secret };
  }

  balanceOf(address: string): bigint {
    return this.#balances.get(address.toLowerCase()) ?? this.#balances.get(address) ?? 0n;
  }

  /** Sum of everything `address` paid. */
  paidBy(address: string): bigint {
    return this.settlements.filter((s) => s.from === address).reduce((sum, s) => sum + s.value, 0n);
  }

  isNonceUsed(nonce: string): boolean {
    return this.#nonces.has(nonce);
  }

  /** Signs an authorization with the wallet's secret. */
  static sign(wallet: TestWallet, authorization: TestAuthorization): string {
    return createHmac('sha256', wallet.secret).update(canonicalJson(authorization)).digest('hex');
  }

  /** True when `signature` is `from`'s signature over `authorization`. */
  verifySignature(authorization: TestAuthorization, signature: string): boolean {
    const secret = this.#keys.get(authorization.from);
    if (!secret) return false;
    const expected = createHmac('sha256', secret).update(canonicalJson(authorization)).digest('hex');
    return expected === signature;
  }

  /** Moves the money and burns the nonce; returns the transaction hash. */
  transfer(authorization: TestAuthorization): string {
    const value = BigInt(authorization.value);
    const from = this.balanceOf(authorization.from);
    if (from < value) throw new Error('insufficient balance');
    if (this.#nonces.has(authorization.nonce)) throw new Error('nonce already used');
    this.#nonces.add(authorization.nonce);
    this.#balances.set(authorization.from, from - value);
    this.#balances.set(authorization.to, this.balanceOf(authorization.to) + value);
    const transaction = `0x${sha256Hex(`tx:${authorization.nonce}`)}`;
    this.settlements.push({
      transaction,
      from: authorization.from,
      to: authorization.to,
      value,
      asset: authorization.asset,
      network: authorization.network,
      nonce: authorization.nonce,
    });
    return transaction;
  }
}
