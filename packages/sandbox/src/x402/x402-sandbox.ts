import type { AssetRegistry, Clock } from '@bursar/core';
import type { x402Client } from '@x402/core/client';
import type { FacilitatorClient, x402ResourceServer } from '@x402/core/server';
import type { Ledger } from '../ledger/index.js';
import { SeededRandom } from '../random/index.js';
import { createX402Buyer, type X402MockBuyer } from './x402-buyer.js';
import {
  startX402Facilitator,
  type X402FacilitatorFaults,
  type X402MockFacilitator,
} from './x402-facilitator.js';
import {
  startX402ResourceServer,
  type X402MockResourceServer,
  type X402ResourceFaults,
  type X402Route,
} from './x402-resource-server.js';

/** Options of {@link startX402Sandbox}. */
export interface X402SandboxOptions {
  /** Every random choice of the rail derives from it (default 0). */
  seed?: number | string;
  /** Or a stream to fork from (takes precedence over `seed`). */
  rng?: SeededRandom;
  clock?: Clock;
  assets?: AssetRegistry;
  /** Paid routes by path. */
  routes: Record<string, X402Route>;
  facilitatorFaults?: X402FacilitatorFaults;
  resourceFaults?: X402ResourceFaults;
  /** Facilitator refuses replayed nonces (default true). */
  replayProtection?: boolean;
  /** Timeout of the seller's facilitator client in ms (default 2000). */
  timeoutMs?: number;
  /** Wrap the seller's facilitator client (a Bursar circuit-breaking wrapper, say). */
  wrapFacilitator?: (client: FacilitatorClient) => FacilitatorClient;
  /** Attach hooks to the seller's `x402ResourceServer` before it initializes. */
  configureSeller?: (server: x402ResourceServer) => void | Promise<void>;
}

/** A facilitator, a paid resource server and a buyer factory, sharing one seed. */
export interface X402Sandbox {
  readonly facilitator: X402MockFacilitator;
  readonly seller: X402MockResourceServer;
  /** The facilitator's ledger: what really moved. */
  readonly ledger: Ledger;
  /**
   * A buyer with a wallet derived from the seed and `name`, funded with `balance` (decimal,
   * default `'100'`).
   */
  buyer(
    name: string,
    options?: {
      balance?: string;
      configure?: (client: x402Client) => void | Promise<void>;
      retryOnRecovered?: boolean;
    },
  ): Promise<X402MockBuyer>;
  close(): Promise<void>;
}

/**
 * Starts the whole sandbox x402 rail: facilitator + paid resource server on 127.0.0.1.
 *
 * @example
 * const rail = await startX402Sandbox({ seed: 1, routes: { '/data': { price: '0.05', payTo: '0xseller' } } });
 * const buyer = await rail.buyer('agent-1', { balance: '1' });
 * await buyer.purchase(rail.seller.urlOf('/data'));
 * rail.ledger.total('USDC').format(); // '0.05 USDC'
 * await rail.close();
 */
export async function startX402Sandbox(options: X402SandboxOptions): Promise<X402Sandbox> {
  const rng = options.rng ? options.rng.fork('x402') : new SeededRandom(options.seed ?? 0, 'x402');
  const facilitator = await startX402Facilitator({
    rng,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.assets ? { assets: options.assets } : {}),
    ...(options.facilitatorFaults ? { faults: options.facilitatorFaults } : {}),
    ...(options.replayProtection !== undefined ? { replayProtection: options.replayProtection } : {}),
  });
  let seller: X402MockResourceServer;
  try {
    const base = facilitator.client({ timeoutMs: options.timeoutMs ?? 2_000 });
    seller = await startX402ResourceServer({
      rng,
      facilitator: options.wrapFacilitator ? options.wrapFacilitator(base) : base,
      routes: options.routes,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.assets ? { assets: options.assets } : {}),
      ...(options.resourceFaults ? { faults: options.resourceFaults } : {}),
      ...(options.configureSeller ? { configure: options.configureSeller } : {}),
    });
  } catch (error) {
    await facilitator.close();
    throw error;
  }
  return {
    facilitator,
    seller,
    ledger: facilitator.ledger,
    async buyer(name, buyerOptions = {}) {
      const buyer = await createX402Buyer({
        rng,
        name,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(buyerOptions.configure ? { configure: buyerOptions.configure } : {}),
        ...(buyerOptions.retryOnRecovered !== undefined
          ? { retryOnRecovered: buyerOptions.retryOnRecovered }
          : {}),
      });
      facilitator.fund(buyer.wallet.address, buyerOptions.balance ?? '100');
      return buyer;
    },
    async close() {
      await seller.close();
      await facilitator.close();
    },
  };
}
