import { BursarError } from '@bursar/core';
import { SandboxErrorCode } from '../errors/index.js';
import {
  ACP_API_VERSION,
  type AcpAllowance,
  type AcpCheckoutSession,
  type AcpDelegatedToken,
  type AcpError,
  type AcpItem,
} from './acp-types.js';

/** An ACP answer: the status, the body, and whether it was replayed from an Idempotency-Key. */
export type AcpResponse<T> =
  | { ok: true; status: number; body: T; replayed: boolean }
  | { ok: false; status: number; error: AcpError; replayed: boolean };

/** Per-request options. */
export interface AcpRequestOptions {
  idempotencyKey?: string;
}

/**
 * The agent's side of ACP: JSON calls to a merchant's checkout endpoints and to the
 * delegated-payment vault, with `API-Version` and optional `Idempotency-Key` headers.
 *
 * @example
 * const acp = new AcpClient({ baseUrl: merchant.url });
 * const s = await acp.createCheckout({ items: [{ id: 'sku-report', quantity: 1 }] });
 * if (s.ok) {
 *   const t = await acp.delegatePayment({ allowance: { reason: 'one_time', max_amount: 12_000, currency: 'usd',
 *     merchant_id: merchant.merchantId, expires_at: '2030-01-01T00:00:00Z' } });
 *   if (t.ok) await acp.complete(s.body.id, { token: t.body.id }, { idempotencyKey: 'order-1' });
 * }
 */
export class AcpClient {
  readonly baseUrl: string;
  readonly #bearer: string;

  constructor(options: { baseUrl: string; apiKey?: string }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#bearer = options.apiKey ?? 'sandbox';
  }

  createCheckout(
    body: { items: AcpItem[] },
    options: AcpRequestOptions = {},
  ): Promise<AcpResponse<AcpCheckoutSession>> {
    return this.#request('POST', '/checkout_sessions', body, options);
  }

  updateCheckout(
    id: string,
    body: { items?: AcpItem[] },
    options: AcpRequestOptions = {},
  ): Promise<AcpResponse<AcpCheckoutSession>> {
    return this.#request('POST', `/checkout_sessions/${encodeURIComponent(id)}`, body, options);
  }

  getCheckout(id: string): Promise<AcpResponse<AcpCheckoutSession>> {
    return this.#request('GET', `/checkout_sessions/${encodeURIComponent(id)}`, undefined, {});
  }

  complete(
    id: string,
    payment: { token: string; provider?: string },
    options: AcpRequestOptions = {},
  ): Promise<AcpResponse<AcpCheckoutSession>> {
    return this.#request(
      'POST',
      `/checkout_sessions/${encodeURIComponent(id)}/complete`,
      { payment_data: { token: payment.token, provider: payment.provider ?? 'sandbox' } },
      options,
    );
  }

  cancel(id: string, options: AcpRequestOptions = {}): Promise<AcpResponse<AcpCheckoutSession>> {
    return this.#request('POST', `/checkout_sessions/${encodeURIComponent(id)}/cancel`, {}, options);
  }

  /** Tokenizes a (sandbox) card under an allowance. */
  delegatePayment(
    body: { allowance: AcpAllowance; metadata?: Record<string, string> },
    options: AcpRequestOptions = {},
  ): Promise<AcpResponse<AcpDelegatedToken>> {
    return this.#request(
      'POST',
      '/agentic_commerce/delegate_payment',
      {
        payment_method: {
          type: 'card',
          card_number_type: 'network_token',
          number: '4242424242424242',
          display_card_funding_type: 'credit',
          display_last4: '4242',
          metadata: {},
        },
        allowance: body.allowance,
        ...(body.metadata ? { metadata: body.metadata } : {}),
      },
      options,
    );
  }

  async #request<T>(
    method: string,
    path: string,
    body: unknown,
    options: AcpRequestOptions,
  ): Promise<AcpResponse<T>> {
    const headers: Record<string, string> = {
      'api-version': ACP_API_VERSION,
      authorization: `Bearer ${this.#bearer}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new BursarError(SandboxErrorCode.TRANSPORT, `ACP ${method} ${path} failed: ${String(error)}`, {
        cause: error,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch (error) {
      throw new BursarError(SandboxErrorCode.TRANSPORT, `ACP ${method} ${path} answered non-JSON`, {
        cause: error,
      });
    }
    const replayed = response.headers.get('idempotent-replayed') === 'true';
    if (response.ok) return { ok: true, status: response.status, body: json as T, replayed };
    return { ok: false, status: response.status, error: json as AcpError, replayed };
  }
}
