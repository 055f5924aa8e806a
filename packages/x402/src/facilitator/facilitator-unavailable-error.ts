import { FacilitatorResponseError } from '@x402/core/types';
import { X402ErrorCode } from '../errors/index.js';

const BURSAR_ERROR: unique symbol = Symbol.for('bursar.error') as never;

/**
 * No facilitator could take the call: every candidate's circuit is open (or busy probing).
 * The request was NOT sent anywhere, so a hold can be released safely.
 *
 * It extends `@x402/core`'s `FacilitatorResponseError`, so HTTP middleware answers 502 (a
 * facilitator boundary failure) instead of a 402 that would invite the buyer to pay again; and it
 * carries the Bursar error marker, so `BursarError.isInstance(e)` and `e.code` work.
 */
export class FacilitatorUnavailableError extends FacilitatorResponseError {
  readonly code = X402ErrorCode.CIRCUIT_OPEN;
  readonly status = 503;
  readonly details: Record<string, unknown>;
  readonly issues = [];
  readonly [BURSAR_ERROR] = true;

  constructor(operation: string, facilitators: readonly string[], retryAt?: number) {
    super(
      `No facilitator available for ${operation}: circuit open for ${facilitators.join(', ') || 'every facilitator'}`,
    );
    this.name = 'FacilitatorUnavailableError';
    this.details = { operation, facilitators: [...facilitators], ...(retryAt ? { retryAt } : {}) };
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}
