/** An open (intent) mandate: the user lets the agent pay within constraints. Amounts are decimal strings. */
export interface Ap2OpenMandate {
  type: 'open';
  id: string;
  /** Who the mandate was issued to (the agent acting for the user). */
  holder: string;
  /** Canonical currency symbol (`USD`). */
  currency: string;
  /** Payees the agent may pay (exact match, case-insensitive). */
  payees: string[];
  /** Smallest single payment (default 0). */
  minAmount: string;
  /** Largest single payment. */
  maxAmount: string;
  /** Total the agent may spend under this mandate. */
  budget: string;
  /** RFC 3339. */
  issuedAt: string;
  /** RFC 3339. */
  expiresAt: string;
}

/** A closed (cart) mandate: one final payee and one exact amount, used once. */
export interface Ap2ClosedMandate {
  type: 'closed';
  id: string;
  holder: string;
  currency: string;
  payee: string;
  amount: string;
  issuedAt: string;
  expiresAt: string;
}

export type Ap2Mandate = Ap2OpenMandate | Ap2ClosedMandate;

/** A mandate and the provider's signature over its canonical JSON (HMAC-SHA256, hex). */
export interface SignedMandate<M extends Ap2Mandate = Ap2Mandate> {
  mandate: M;
  signature: string;
}

/** Why the credential provider declined a payment. */
export const Ap2DeclineCode = {
  UNKNOWN_MANDATE: 'unknown_mandate',
  INVALID_SIGNATURE: 'invalid_signature',
  EXPIRED: 'mandate_expired',
  REVOKED: 'mandate_revoked',
  PAYEE_NOT_ALLOWED: 'payee_not_allowed',
  AMOUNT_BELOW_MINIMUM: 'amount_below_minimum',
  AMOUNT_ABOVE_MAXIMUM: 'amount_above_maximum',
  BUDGET_EXCEEDED: 'budget_exceeded',
  CURRENCY_MISMATCH: 'currency_mismatch',
  AMOUNT_MISMATCH: 'amount_mismatch',
  MANDATE_USED: 'mandate_used',
  IDEMPOTENCY_CONFLICT: 'idempotency_conflict',
  IDEMPOTENCY_IN_FLIGHT: 'idempotency_in_flight',
  PROVIDER_UNAVAILABLE: 'provider_unavailable',
} as const;
export type Ap2DeclineCode = (typeof Ap2DeclineCode)[keyof typeof Ap2DeclineCode];
