import { type Clock, systemClock } from '@bursar/core';
import { x402Client, x402HTTPClient } from '@x402/core/client';
import type { Network, PaymentPayload, PaymentRequired, SettleResponse } from '@x402/core/types';
import { z } from 'zod';
import { parseOptions } from '../internal/options.js';
import { ClockLike, RandomLike, SeedLike, streamOf } from '../internal/schemas.js';
import { purchaseContext } from './call-context.js';
import { SANDBOX_NETWORK } from './constants.js';
import { sandboxClientScheme, sandboxNonce } from './sandbox-scheme.js';
import { SandboxWallet } from './wallet.js';

const BuyerOptions = z.strictObject({
  /** The paying wallet; default: one derived from the seed and `name`. */
  wallet: z
    .custom<SandboxWallet>((v) => v instanceof SandboxWallet, { message: 'must be a SandboxWallet' })
    .optional(),
  /** Name of the derived wallet (default `buyer`). */
  name: z.string().min(1).max(128).optional(),
  network: z.string().optional(),
  seed: SeedLike.optional(),
  rng: RandomLike.optional(),
  clock: ClockLike.optional(),
  /**
   * Called with the `x402Client` after the sandbox scheme is registered: attach hooks here
   * (a Bursar pre-sign guard).
   */
  configure: z
    .custom<(client: x402Client) => void | Promise<void>>((v) => typeof v === 'function', {
      message: 'must be a function',
    })
    .optional(),
  /** Sign a fresh payment and retry once when a response hook answers `recovered` (as `@x402/fetch` does; default true). */
  retryOnRecovered: z.boolean().optional(),
});
/** Options of {@link createX402Buyer}. */
export type X402BuyerOptions = z.input<typeof BuyerOptions>;

/** What one purchase did. */
export interface X402PurchaseResult {
  /** Final HTTP status. */
  status: number;
  /** 2xx. */
  ok: boolean;
  body: unknown;
  /** The payment payload sent (absent when nothing was signed). */
  payment?: PaymentPayload;
  /** Its nonce (sandbox scheme). */
  nonce?: string;
  /** Decoded `PAYMENT-RESPONSE`, when the seller sent one. */
  settlement?: SettleResponse;
  /** Decoded `PAYMENT-REQUIRED` of the last 402. */
  paymentRequired?: PaymentRequired;
  /** Why no payment was signed or the request failed below HTTP (a pre-sign hook abort, a network error). */
  error?: string;
  /** Requests sent, the unpaid probe included. */
  requests: number;
}

/** Per-call options of `buyer.purchase`. */
export interface X402PurchaseOptions {
  /** A stable key for this purchase: the nonce derives from it (default: the buyer's call counter). */
  key?: string;
  /** Send this already-signed payment instead of signing one: an agent replaying a request. */
  reusePayment?: PaymentPayload;
}

/** A sandbox x402 buyer: an `x402Client` with the sandbox scheme and a pay-and-retry loop. */
export interface X402MockBuyer {
  readonly wallet: SandboxWallet;
  readonly client: x402Client;
  readonly httpClient: x402HTTPClient;
  /** `GET url`; on 402, signs the selected requirement and retries with `PAYMENT-SIGNATURE`. */
  purchase(url: string, options?: X402PurchaseOptions): Promise<X402PurchaseResult>;
}

/**
 * Creates a buyer (agent side) for the sandbox x402 rail. The payment loop matches what
 * `@x402/fetch` does: probe, read `PAYMENT-REQUIRED`, sign through `x402Client` (so
 * `onBeforePaymentCreation` hooks can refuse before anything is signed), send, then run
 * `onPaymentResponse` hooks on the answer. Built-in spend controls are off: Bursar is the
 * spend control under test.
 *
 * @example
 * const buyer = await createX402Buyer({ seed: 7, name: 'research-bot' });
 * facilitator.fund(buyer.wallet.address, '5');
 * const r = await buyer.purchase(seller.urlOf('/weather'));
 * r.status; // 200
 */
export async function createX402Buyer(options: X402BuyerOptions = {}): Promise<X402MockBuyer> {
  const o = parseOptions(BuyerOptions, options, 'x402 buyer');
  const name = o.name ?? 'buyer';
  const rng = streamOf(o, `x402-buyer:${name}`);
  const clock: Clock = o.clock ?? systemClock;
  const wallet = o.wallet ?? SandboxWallet.fromSeed(o.rng ?? o.seed ?? 0, name);
  const network = (o.network ?? SANDBOX_NETWORK) as Network;
  const client = new x402Client().register(network, sandboxClientScheme({ wallet, rng, clock }));
  client.setSpendControls(false);
  if (o.configure) await o.configure(client);
  const httpClient = new x402HTTPClient(client);
  const retryOnRecovered = o.retryOnRecovered ?? true;
  let calls = 0;

  const send = async (url: string, headers: Record<string, string>) => {
    const response = await fetch(url, { headers });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { response, body };
  };

  const paidRequest = async (url: string, payment: PaymentPayload, result: X402PurchaseResult) => {
    const { response, body } = await send(url, httpClient.encodePaymentSignatureHeader(payment));
    result.requests++;
    result.status = response.status;
    result.ok = response.ok;
    result.body = body;
    result.payment = payment;
    const nonce = sandboxNonce(payment);
    if (nonce !== undefined) result.nonce = nonce;
    const getHeader = (h: string) => response.headers.get(h);
    try {
      const settlement = httpClient.getPaymentSettleResponse(getHeader);
      result.settlement = settlement;
    } catch {
      delete result.settlement;
    }
    if (response.status === 402) {
      try {
        result.paymentRequired = httpClient.getPaymentRequiredResponse(getHeader, body);
      } catch {
        // no readable PAYMENT-REQUIRED
      }
    }
    return httpClient.processPaymentResult(payment, getHeader, response.status);
  };

  const purchase = async (
    url: string,
    callOptions: X402PurchaseOptions = {},
  ): Promise<X402PurchaseResult> => {
    const key = callOptions.key ?? `call-${++calls}`;
    return purchaseContext.run({ key, payloads: 0 }, async () => {
      const result: X402PurchaseResult = { status: 0, ok: false, body: undefined, requests: 0 };
      try {
        if (callOptions.reusePayment) {
          await paidRequest(url, callOptions.reusePayment, result);
          return result;
        }
        const probe = await send(url, {});
        result.requests++;
        result.status = probe.response.status;
        result.ok = probe.response.ok;
        result.body = probe.body;
        if (probe.response.status !== 402) return result;
        const paymentRequired = httpClient.getPaymentRequiredResponse(
          (h) => probe.response.headers.get(h),
          probe.body,
        );
        result.paymentRequired = paymentRequired;
        let payment: PaymentPayload;
        try {
          payment = await client.createPaymentPayload(paymentRequired);
        } catch (error) {
          result.error = error instanceof Error ? error.message : String(error);
          return result;
        }
        const outcome = await paidRequest(url, payment, result);
        if (outcome.recovered && retryOnRecovered) {
          const fresh = await client.createPaymentPayload(paymentRequired);
          await paidRequest(url, fresh, result);
        }
        return result;
      } catch (error) {
        result.error = error instanceof Error ? error.message : String(error);
        return result;
      }
    });
  };

  return { wallet, client, httpClient, purchase };
}
