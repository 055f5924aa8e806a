import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, EventBus } from '@bursar/core';
import { x402Client } from '@x402/core/client';
import { x402Facilitator } from '@x402/core/facilitator';
import {
  type FacilitatorClient,
  HTTPFacilitatorClient,
  x402HTTPResourceServer,
  x402ResourceServer,
} from '@x402/core/server';
import type { Network } from '@x402/core/types';
import { paymentMiddlewareFromHTTPServer } from '@x402/express';
import { wrapFetchWithPayment } from '@x402/fetch';
import express from 'express';
import {
  type GuardedFacilitator,
  type GuardFacilitatorOptions,
  guardFacilitator,
} from '../facilitator/index.js';
import {
  createTestScheme,
  type FacilitatorServer,
  serveFacilitator,
  type TestScheme,
  type TestWallet,
} from '../testing/index.js';

/** The seller's address in every flow test. */
export const SELLER = '0x00000000000000000000000000000000005e11e4';

export interface FlowOptions {
  /** Called with the resource server before routes are compiled (attach guards here). */
  attach?: (server: x402ResourceServer) => void;
  /**
   * Client-side timeout of the HTTP facilitator client's `settle` (the call the timeout
   * tests are about). `supported` and `verify` keep a generous 5 s, so that a loaded
   * machine cannot fail start-up or verification instead of the settle under test.
   */
  facilitatorTimeoutMs?: number;
  /** Options of the facilitator guard (omit `guard: false` to use the raw HTTP client). */
  guard?: GuardFacilitatorOptions | false;
  clock?: Clock;
  events?: EventBus;
  /** What the paid route answers with (default 200 JSON). */
  handlerStatus?: number;
}

export interface Flow {
  scheme: TestScheme;
  network: Network;
  facilitatorServer: FacilitatorServer;
  facilitatorClient: FacilitatorClient;
  guarded?: GuardedFacilitator;
  resourceServer: x402ResourceServer;
  httpServer: x402HTTPResourceServer;
  /** `http://127.0.0.1:<port>` of the Express app. */
  url: string;
  /** Times the paid handler ran. */
  handled: { count: number };
  /**
   * A fetch that pays from `wallet`; `configure` may register hooks on the client first;
   * `base` is the fetch underneath (to capture headers).
   */
  buyer(wallet: TestWallet, configure?: (client: x402Client) => void, base?: typeof fetch): typeof fetch;
  close(): Promise<void>;
}

/**
 * A complete offline x402 flow: the test scheme on an `x402Facilitator` served over HTTP on
 * 127.0.0.1, an `x402ResourceServer` (+ `x402HTTPResourceServer`) behind `@x402/express`, and
 * buyers using `@x402/fetch`. Routes: `GET /weather` ($0.01) and `GET /priced?usd=1500`
 * (price from the query).
 */
export async function startFlow(options: FlowOptions = {}): Promise<Flow> {
  const scheme = createTestScheme(options.clock ? { clock: options.clock } : {});
  const facilitator = new x402Facilitator().register(scheme.network, scheme.facilitator);
  const facilitatorServer = await serveFacilitator(facilitator);
  const patient = new HTTPFacilitatorClient({ url: facilitatorServer.url, timeoutMs: 5_000 });
  const settling =
    options.facilitatorTimeoutMs === undefined
      ? patient
      : new HTTPFacilitatorClient({ url: facilitatorServer.url, timeoutMs: options.facilitatorTimeoutMs });
  const http: FacilitatorClient = {
    verify: (payload, requirements) => patient.verify(payload, requirements),
    settle: (payload, requirements) => settling.settle(payload, requirements),
    getSupported: () => patient.getSupported(),
  };
  const guarded =
    options.guard === false
      ? undefined
      : guardFacilitator(http, {
          names: ['primary'],
          ...(options.clock ? { clock: options.clock } : {}),
          ...(options.events ? { events: options.events } : {}),
          ...(options.guard ?? {}),
        });
  const facilitatorClient: FacilitatorClient = guarded ?? http;
  const resourceServer = new x402ResourceServer(facilitatorClient).register(scheme.network, scheme.server);
  options.attach?.(resourceServer);
  const accepts = (price: string) => ({
    scheme: 'bursar-test',
    network: scheme.network,
    payTo: SELLER,
    price,
  });
  const httpServer = new x402HTTPResourceServer(resourceServer, {
    'GET /weather': { accepts: accepts('$0.01'), description: 'weather' },
    'GET /priced': {
      accepts: {
        ...accepts('$0'),
        price: (ctx) => `$${String(ctx.adapter.getQueryParam?.('usd') ?? '0')}`,
      },
    },
  });
  await httpServer.initialize();

  const handled = { count: 0 };
  const app = express();
  app.use(paymentMiddlewareFromHTTPServer(httpServer, undefined, undefined, false));
  const handler: express.RequestHandler = (_req, res) => {
    handled.count++;
    res.status(options.handlerStatus ?? 200).json({ ok: true, n: handled.count });
  };
  app.get('/weather', handler);
  app.get('/priced', handler);
  const listener: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = listener.address() as AddressInfo;

  return {
    scheme,
    network: scheme.network,
    facilitatorServer,
    facilitatorClient,
    ...(guarded ? { guarded } : {}),
    resourceServer,
    httpServer,
    url: `http://127.0.0.1:${port}`,
    handled,
    buyer(wallet, configure, base = fetch) {
      const client = new x402Client().register(scheme.network, scheme.client(wallet));
      client.setSpendControls(false);
      configure?.(client);
      return wrapFetchWithPayment(base, client);
    },
    async close() {
      await new Promise<void>((resolve) => {
        listener.close(() => resolve());
        listener.closeAllConnections();
      });
      await facilitatorServer.close();
    },
  };
}

/** A fetch that records the payment header of every request it sends. */
export function capturingFetch(): { fetch: typeof fetch; headers: string[] } {
  const headers: string[] = [];
  return {
    headers,
    fetch: async (input, init) => {
      const req = new Request(input, init);
      const h = req.headers.get('payment-signature');
      if (h) headers.push(h);
      return fetch(req);
    },
  };
}

/**
 * Buys `GET /weather` once with `wallet`, then sends the same signed payment header again
 * without the buyer: the statuses of both answers.
 */
export async function payThenReplay(
  flow: Flow,
  wallet: TestWallet,
): Promise<{ paid: number; replayed: number }> {
  const cap = capturingFetch();
  const paid = (await flow.buyer(wallet, undefined, cap.fetch)(`${flow.url}/weather`)).status;
  const replay = await fetch(`${flow.url}/weather`, { headers: { 'payment-signature': cap.headers[0]! } });
  return { paid, replayed: replay.status };
}

/** Waits (bounded: 200 × 10 ms) until `check()` holds; throws if it never does. */
export async function eventually(check: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
