import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-purchase state the buyer threads through `x402Client` into the scheme client. */
export interface PurchaseContext {
  /** Stable key of the purchase (given, or the buyer's call counter). */
  key: string;
  /** Payloads created so far in this purchase (a recovered retry signs a fresh one). */
  payloads: number;
}

/**
 * Lets the scheme client derive each nonce from the purchase it belongs to rather than from
 * the order in which concurrent 402 answers arrive, so a seed replays a burst exactly.
 */
export const purchaseContext = new AsyncLocalStorage<PurchaseContext>();
