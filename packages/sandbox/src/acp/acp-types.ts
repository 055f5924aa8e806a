/** The ACP API version the sandbox merchant speaks (sent as `API-Version`). */
export const ACP_API_VERSION = '2025-09-29';

/** Checkout session states. */
export type AcpCheckoutStatus = 'not_ready_for_payment' | 'ready_for_payment' | 'completed' | 'canceled';

/** An item and quantity the agent asks for. */
export interface AcpItem {
  id: string;
  quantity: number;
}

/** A priced line of a session. Amounts are integers in minor units (cents). */
export interface AcpLineItem {
  id: string;
  item: AcpItem;
  base_amount: number;
  discount: number;
  subtotal: number;
  tax: number;
  total: number;
}

/** One total line (`subtotal`, `total`). */
export interface AcpTotal {
  type: 'subtotal' | 'tax' | 'total';
  display_text: string;
  amount: number;
}

/** The order a completed session created. */
export interface AcpOrder {
  id: string;
  checkout_session_id: string;
  permalink_url: string;
}

/** A checkout session as the merchant returns it. */
export interface AcpCheckoutSession {
  id: string;
  status: AcpCheckoutStatus;
  /** ISO-4217, lower case (`usd`). */
  currency: string;
  merchant_id: string;
  line_items: AcpLineItem[];
  totals: AcpTotal[];
  order?: AcpOrder;
}

/** The constraints of a delegated payment token. */
export interface AcpAllowance {
  reason: 'one_time';
  /** Integer minor units. */
  max_amount: number;
  /** ISO-4217, lower case. */
  currency: string;
  merchant_id: string;
  checkout_session_id?: string;
  /** RFC 3339 time. */
  expires_at: string;
}

/** A delegated payment token as the vault returns it. */
export interface AcpDelegatedToken {
  id: string;
  created: string;
  metadata: Record<string, string>;
}

/** ACP error body. */
export interface AcpError {
  type: 'invalid_request' | 'request_not_idempotent' | 'processing_error' | 'service_unavailable';
  code: string;
  message: string;
  param?: string;
}

/** Why the sandbox merchant refuses to complete a checkout with a token (`AcpError.code`). */
export const AcpDeclineCode = {
  TOKEN_NOT_FOUND: 'token_not_found',
  TOKEN_USED: 'token_already_used',
  TOKEN_EXPIRED: 'token_expired',
  CURRENCY_MISMATCH: 'currency_mismatch',
  MERCHANT_MISMATCH: 'merchant_mismatch',
  SESSION_MISMATCH: 'checkout_session_mismatch',
  ALLOWANCE_EXCEEDED: 'allowance_exceeded',
} as const;
export type AcpDeclineCode = (typeof AcpDeclineCode)[keyof typeof AcpDeclineCode];
