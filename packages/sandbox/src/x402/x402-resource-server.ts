import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AssetRegistry,
  BursarError,
  type Clock,
  defaultAssets,
  ErrorCode,
  Money,
  systemClock,
} from '@bursar/core';
import {
  type FacilitatorClient,
  FacilitatorResponseError,
  type HTTPAdapter,
  type HTTPRequestContext,
  type HTTPResponseInstructions,
  type RoutesConfig,
  x402HTTPResourceServer,
  x402ResourceServer,
} from '@x402/core/server';
import type { Network } from '@x402/core/types';
import { z } from 'zod';
import { FaultPlan, Latency, Probability, Timers } from '../faults/index.js';
import { type LocalServer, listenLocal, sendJson } from '../internal/http.js';
import { parseOptions } from '../internal/options.js';
import { AssetsLike, ClockLike, RandomLike, SeedLike, streamOf } from '../internal/schemas.js';
import { SANDBOX_ASSET, SANDBOX_NETWORK, SANDBOX_SCHEME } from './constants.js';
import { sandboxNonce, sandboxServerScheme } from './sandbox-scheme.js';

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `must be a function (${what})` });

const FacilitatorLike = z.custom<FacilitatorClient>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as FacilitatorClient).verify === 'function' &&
    typeof (v as FacilitatorClient).settle === 'function' &&
    typeof (v as FacilitatorClient).getSupported === 'function',
  { message: 'must be a FacilitatorClient (verify, settle, getSupported)' },
);

/** One paid route: `GET <path>` costs `price` (decimal, major units of the asset) paid to `payTo`. */
export const X402Route = z.strictObject({
  price: z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal like "0.25"'),
  payTo: z.string().min(1),
  description: z.string().max(500).optional(),
  /** JSON the route serves once paid (default: `{ resource, ok: true }`). */
  body: z.unknown().optional(),
  maxTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
});
export type X402Route = z.input<typeof X402Route>;

/** Failure injection of the resource server. */
export const X402ResourceFaults = z.strictObject({
  /** Latency of the route handler (ms, ≤ 50). */
  latencyMs: Latency.optional(),
  /** Chance that the handler fails with 500 before settlement (no charge). */
  failBeforeSettle: Probability.optional(),
  /** Chance that the resource fails with 500 after the payment settled (charged, not delivered). */
  failAfterSettle: Probability.optional(),
});
export type X402ResourceFaults = z.input<typeof X402ResourceFaults>;

const ResourceServerOptions = z.strictObject({
  /** The facilitator client(s) the resource server settles through. */
  facilitator: z.union([FacilitatorLike, z.array(FacilitatorLike).min(1)]),
  /** Paid routes by path (`/weather`). */
  routes: z.record(z.string().regex(/^\/[-_a-zA-Z0-9/.]*$/, 'must be a path like /weather'), X402Route),
  network: z.string().optional(),
  asset: z.string().optional(),
  assets: AssetsLike.optional(),
  clock: ClockLike.optional(),
  seed: SeedLike.optional(),
  rng: RandomLike.optional(),
  faults: X402ResourceFaults.optional(),
  /**
   * Called with the `x402ResourceServer` before it initializes: attach hooks here (a Bursar
   * seller guard, a logger).
   */
  configure: fn<(server: x402ResourceServer) => void | Promise<void>>('configure').optional(),
});
/** Options of {@link startX402ResourceServer}. */
export type X402ResourceServerOptions = z.input<typeof ResourceServerOptions>;

/** What the resource server did with one paid request. */
export interface X402Delivery {
  path: string;
  nonce?: string;
  /** HTTP status the buyer got. */
  status: number;
  /** `delivered`; `failed_after_payment` (settled, then 500); `failed_before_settle`; `settle_failed`; `facilitator_error`. */
  outcome:
    | 'delivered'
    | 'failed_after_payment'
    | 'failed_before_settle'
    | 'settle_failed'
    | 'facilitator_error';
  transaction?: string;
  reason?: string;
}

/** A running sandbox resource server. */
export interface X402MockResourceServer {
  readonly url: string;
  /** The `@x402/core` resource server (hooks are attached through `configure`). */
  readonly resourceServer: x402ResourceServer;
  readonly httpServer: x402HTTPResourceServer;
  /** Full URL of a route. */
  urlOf(path: string): string;
  /** What happened to every paid request, in order of completion. */
  deliveries(): readonly X402Delivery[];
  setFaults(faults: X402ResourceFaults): void;
  close(): Promise<void>;
}

function nodeAdapter(req: IncomingMessage, base: string): HTTPAdapter {
  const url = new URL(req.url ?? '/', base);
  const header = (name: string): string | undefined => {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return {
    getHeader: header,
    getMethod: () => req.method ?? 'GET',
    getPath: () => url.pathname,
    getUrl: () => url.toString(),
    getAcceptHeader: () => header('accept') ?? '',
    getUserAgent: () => header('user-agent') ?? '',
    getQueryParams: () => Object.fromEntries(url.searchParams.entries()),
    getQueryParam: (name: string) => url.searchParams.get(name) ?? undefined,
  };
}

function write(res: ServerResponse, r: HTTPResponseInstructions): void {
  if (r.isHtml || typeof r.body === 'string') {
    const text = String(r.body ?? '');
    res.writeHead(r.status, { 'content-type': r.isHtml ? 'text/html' : 'text/plain', ...r.headers });
    res.end(text);
    return;
  }
  sendJson(res, r.status, r.body ?? {}, r.headers);
}

/**
 * Starts a paid resource server on 127.0.0.1 (port 0) built on `@x402/core`'s
 * `x402HTTPResourceServer`: an unpaid `GET` answers 402 with `PAYMENT-REQUIRED`; a paid one is
 * verified, served, then settled through the facilitator client(s). Failure injection: handler
 * latency, a 500 before settlement, and a 500 *after* settlement (charged, not delivered).
 * A facilitator timeout answers 502.
 *
 * @example
 * const seller = await startX402ResourceServer({
 *   facilitator: facilitator.client(),
 *   routes: { '/weather': { price: '0.01', payTo: '0xseller' } },
 *   configure: (server) => guard.attach(server),
 * });
 */
export async function startX402ResourceServer(
  options: X402ResourceServerOptions,
): Promise<X402MockResourceServer> {
  const o = parseOptions(ResourceServerOptions, options, 'x402 resource server');
  const network = (o.network ?? SANDBOX_NETWORK) as Network;
  const asset = o.asset ?? SANDBOX_ASSET;
  const assets: AssetRegistry = o.assets ?? defaultAssets;
  const clock: Clock = o.clock ?? systemClock;
  const currency = assets.findByAddress(network, asset);
  if (!currency) {
    throw new BursarError(
      ErrorCode.UNKNOWN_ASSET,
      `No asset is registered at ${asset} on ${network}; register it with assets.register({ symbol, decimals, addresses })`,
    );
  }
  const rng = streamOf(o, 'x402-resource');
  let faults = o.faults ?? {};
  let plan = new FaultPlan(rng.fork('faults'), faults);
  const timers = new Timers();
  const deliveries: X402Delivery[] = [];

  const resourceServer = new x402ResourceServer(o.facilitator).register(
    network,
    sandboxServerScheme({ network, asset, currency: currency, clock }),
  );
  if (o.configure) await o.configure(resourceServer);

  const routes: RoutesConfig = {};
  for (const [path, route] of Object.entries(o.routes)) {
    routes[`GET ${path}`] = {
      accepts: {
        scheme: SANDBOX_SCHEME,
        network,
        payTo: route.payTo,
        price: { asset, amount: Money.parse(route.price, currency).toAtomicString() },
        maxTimeoutSeconds: route.maxTimeoutSeconds ?? 60,
      },
      description: route.description ?? `Sandbox resource ${path}`,
      mimeType: 'application/json',
    };
  }
  const httpServer = new x402HTTPResourceServer(resourceServer, routes);
  await httpServer.initialize();

  let server: LocalServer | undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const adapter = nodeAdapter(req, server?.url ?? 'http://127.0.0.1');
    const path = adapter.getPath();
    const context: HTTPRequestContext = { adapter, path, method: adapter.getMethod() };
    const route = o.routes[path];
    if (!route || !httpServer.requiresPayment(context)) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    let result: Awaited<ReturnType<x402HTTPResourceServer['processHTTPRequest']>>;
    try {
      result = await httpServer.processHTTPRequest(context);
    } catch (error) {
      if (error instanceof FacilitatorResponseError) {
        deliveries.push({ path, status: 502, outcome: 'facilitator_error', reason: error.message });
        sendJson(res, 502, { error: 'facilitator_error', message: error.message });
        return;
      }
      throw error;
    }
    if (result.type === 'payment-error') {
      write(res, result.response);
      return;
    }
    if (result.type === 'no-payment-required') {
      sendJson(res, 200, route.body ?? { resource: path, ok: true });
      return;
    }
    const nonce = sandboxNonce(result.paymentPayload);
    const key = `${path}:${nonce ?? deliveries.length}`;
    if (!(await timers.sleep(plan.latency(key)))) return;
    if (plan.chance(faults.failBeforeSettle, `before:${key}`)) {
      await result.cancellationDispatcher.cancel({ reason: 'handler_failed', responseStatus: 500 });
      deliveries.push({ path, ...(nonce ? { nonce } : {}), status: 500, outcome: 'failed_before_settle' });
      sendJson(res, 500, { error: 'resource_failed' });
      return;
    }
    const body = route.body ?? { resource: path, ok: true };
    const text = JSON.stringify(body);
    let settle: Awaited<ReturnType<x402HTTPResourceServer['processSettlement']>>;
    try {
      settle = await httpServer.processSettlement(
        result.paymentPayload,
        result.paymentRequirements,
        result.declaredExtensions,
        { request: context, responseBody: Buffer.from(text), responseHeaders: {} },
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deliveries.push({
        path,
        ...(nonce ? { nonce } : {}),
        status: 502,
        outcome: 'facilitator_error',
        reason: message,
      });
      sendJson(res, 502, { error: 'facilitator_error', message });
      return;
    }
    if (!settle.success) {
      deliveries.push({
        path,
        ...(nonce ? { nonce } : {}),
        status: settle.response.status,
        outcome: 'settle_failed',
        reason: settle.errorReason,
      });
      write(res, { ...settle.response, headers: { ...settle.headers, ...settle.response.headers } });
      return;
    }
    if (plan.chance(faults.failAfterSettle, `after:${key}`)) {
      // The money moved; the resource crashed before answering. No PAYMENT-RESPONSE reaches the buyer.
      deliveries.push({
        path,
        ...(nonce ? { nonce } : {}),
        status: 500,
        outcome: 'failed_after_payment',
        transaction: settle.transaction,
      });
      sendJson(res, 500, { error: 'resource_failed_after_payment' });
      return;
    }
    deliveries.push({
      path,
      ...(nonce ? { nonce } : {}),
      status: 200,
      outcome: 'delivered',
      transaction: settle.transaction,
    });
    res.writeHead(200, { 'content-type': 'application/json', ...settle.headers });
    res.end(text);
  };
  server = await listenLocal(handle);
  const s = server;

  return {
    url: s.url,
    resourceServer,
    httpServer,
    urlOf: (path) => `${s.url}${path}`,
    deliveries: () => [...deliveries],
    setFaults(next) {
      faults = parseOptions(X402ResourceFaults, next, 'x402 resource server faults');
      plan = new FaultPlan(rng.fork('faults'), faults);
    },
    async close() {
      timers.cancelAll();
      await s.close();
    },
  };
}
