import { canonicalHash } from '@bursar/core';

/** A stored answer to replay. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

type Entry =
  | { fingerprint: string; state: 'in_flight' }
  | { fingerprint: string; state: 'done'; response: StoredResponse };

/** What to do with a request that carries an Idempotency-Key. */
export type IdempotencyVerdict =
  | { kind: 'proceed' }
  | { kind: 'in_flight' }
  | { kind: 'conflict' }
  | { kind: 'replay'; response: StoredResponse };

/**
 * Idempotency-Key semantics of the ACP mock: the first request with a key runs; the same key
 * and the same request while it runs → 409; the same key with another request (method, path
 * or body) → 422; the same key and request after it finished → the stored answer.
 */
export class IdempotencyTable {
  readonly #entries = new Map<string, Entry>();

  static fingerprint(method: string, path: string, body: unknown): string {
    return canonicalHash({ method, path, body: body ?? null });
  }

  begin(key: string, fingerprint: string): IdempotencyVerdict {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.#entries.set(key, { fingerprint, state: 'in_flight' });
      return { kind: 'proceed' };
    }
    if (entry.fingerprint !== fingerprint) return { kind: 'conflict' };
    if (entry.state === 'in_flight') return { kind: 'in_flight' };
    return { kind: 'replay', response: entry.response };
  }

  complete(key: string, response: StoredResponse): void {
    const entry = this.#entries.get(key);
    if (entry) this.#entries.set(key, { fingerprint: entry.fingerprint, state: 'done', response });
  }

  /** Forgets a key whose request failed before any effect, so it may be retried. */
  abandon(key: string): void {
    this.#entries.delete(key);
  }
}
