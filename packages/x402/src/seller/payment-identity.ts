import { canonicalHash } from '@bursar/core';
import type { DeepReadonly, PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { isEvmNetwork } from './intent-mapping.js';

/** The key of the x402 `payment-identifier` extension. */
export const PAYMENT_IDENTIFIER_EXTENSION = 'payment-identifier';
const PAYMENT_ID = /^[A-Za-z0-9_-]{16,128}$/;

/** How the guards recognise one payment across requests. */
export interface PaymentIdentity {
  /**
   * `pid:<id>` when the buyer sent the `payment-identifier` extension, else `sha256:<hex>` of
   * the signed payload. The same signed payment always gets the same id.
   */
  paymentId: string;
  /** SHA-256 of the canonical signed content (version, scheme, network, payload). */
  payloadHash: string;
  /** True when the id came from the payment-identifier extension. */
  explicit: boolean;
}

/** The payment-identifier id in a payload, when present and well-formed. */
export function explicitPaymentId(payload: DeepReadonly<PaymentPayload>): string | undefined {
  const ext = payload.extensions?.[PAYMENT_IDENTIFIER_EXTENSION] as { info?: { id?: unknown } } | undefined;
  const id = ext?.info?.id;
  return typeof id === 'string' && PAYMENT_ID.test(id) ? id : undefined;
}

/**
 * The identity of a payment. The hash covers what the buyer signed (the scheme payload) and
 * where it applies, not the unsigned wrapper (resource echo, extensions), so re-wrapping the
 * same signature does not make it a new payment.
 */
export function paymentIdentity(payload: DeepReadonly<PaymentPayload>): PaymentIdentity {
  const payloadHash = payloadHashOf(payload);
  const id = explicitPaymentId(payload);
  return id
    ? { paymentId: `pid:${id}`, payloadHash, explicit: true }
    : { paymentId: `sha256:${payloadHash}`, payloadHash, explicit: false };
}

/** {@link PaymentIdentity.payloadHash} of a payload (what the buyer signed, and where it applies). */
export function payloadHashOf(payload: DeepReadonly<PaymentPayload>): string {
  return canonicalHash({
    v: payload.x402Version,
    scheme: payload.accepted?.scheme,
    network: payload.accepted?.network,
    payload: payload.payload,
  });
}

function norm(network: string, value: string): string {
  return isEvmNetwork(network) ? value.toLowerCase() : value;
}

/**
 * The money terms of a payment as one comparable string (scheme, network, asset, amount, payTo,
 * payer): a payment id reused with other terms is a conflict.
 */
export function paymentTermsKey(
  requirements: DeepReadonly<PaymentRequirements>,
  payer: string | undefined,
): string {
  const n = requirements.network;
  return JSON.stringify([
    requirements.scheme,
    n,
    norm(n, requirements.asset),
    requirements.amount,
    norm(n, requirements.payTo),
    payer === undefined ? null : norm(n, payer),
  ]);
}
