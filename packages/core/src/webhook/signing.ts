import { createHmac, timingSafeEqual } from 'node:crypto';
import { BursarError, ErrorCode } from '../errors/index.js';

/** The header Bursar puts its webhook signature in. */
export const SIGNATURE_HEADER = 'bursar-signature';

/** Default tolerance between the signer's and the verifier's clocks: 5 minutes, both directions. */
export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export interface SignOptions {
  secret: string;
  /** The exact body bytes that are sent. */
  body: string;
  /** Epoch ms; from the clock. */
  now: number;
}

/**
 * Signs a webhook body: HMAC-SHA256 over `${unixSeconds}.${body}`. Returns the header value
 * `t=<unix seconds>,v1=<hex>`.
 *
 * @example
 * const header = signWebhook({ secret, body, now: clock.now() });
 * await fetch(url, { method: 'POST', body, headers: { [SIGNATURE_HEADER]: header } });
 */
export function signWebhook(options: SignOptions): string {
  if (typeof options.secret !== 'string' || options.secret.length < 16) {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      'Webhook secret must be a string of at least 16 characters',
    );
  }
  const t = Math.floor(options.now / 1000);
  return `t=${t},v1=${hmac(options.secret, t, options.body)}`;
}

export interface VerifyOptions {
  /** Every secret currently accepted (rotation: the new one and the old one). */
  secrets: readonly string[];
  header: string | null | undefined;
  body: string;
  now: number;
  toleranceMs?: number;
}

export type VerifyResult =
  | { ok: true; timestamp: number }
  | {
      ok: false;
      reason: 'missing_header' | 'malformed_header' | 'timestamp_out_of_tolerance' | 'signature_mismatch';
    };

/**
 * Verifies a signature made by {@link signWebhook}: the timestamp must be within the tolerance
 * (past or future), and the HMAC must match one of the secrets, compared in constant time.
 */
export function verifyWebhook(options: VerifyOptions): VerifyResult {
  const header = options.header;
  if (!header) return { ok: false, reason: 'missing_header' };
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) signatures.push(v);
  }
  if (t === undefined || signatures.length === 0) return { ok: false, reason: 'malformed_header' };
  const tolerance = options.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  if (Math.abs(options.now - t * 1000) > tolerance)
    return { ok: false, reason: 'timestamp_out_of_tolerance' };
  for (const secret of options.secrets) {
    const expected = Buffer.from(hmac(secret, t, options.body), 'hex');
    for (const sig of signatures) {
      if (timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return { ok: true, timestamp: t * 1000 };
    }
  }
  return { ok: false, reason: 'signature_mismatch' };
}

function hmac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}
