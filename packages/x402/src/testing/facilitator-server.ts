import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';

/** What a facilitator server serves: an `x402Facilitator`, or anything with the same three calls. */
export interface ServableFacilitator {
  verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse>;
  settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse>;
  getSupported(): unknown;
}

/**
 * A fault to inject on one route:
 * - `unavailable`: answer `status` (503) with a plain-text body, do nothing;
 * - `drop`: close the connection without answering, do nothing;
 * - `hang`: never answer, do nothing;
 * - `delay`: do the work (a settle really settles), then wait `ms` before answering: with a
 *   shorter client timeout this is the ambiguous "settled but the answer was lost" case.
 */
export type FacilitatorFault =
  | { kind: 'unavailable'; status?: number }
  | { kind: 'drop' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number };

export type FacilitatorRoute = 'verify' | 'settle' | 'supported';

/** A running offline facilitator. */
export interface FacilitatorServer {
  /** `http://127.0.0.1:<port>`: pass it to `new HTTPFacilitatorClient({ url })`. */
  readonly url: string;
  /** Requests received per route (including faulted ones). */
  readonly calls: Record<FacilitatorRoute, number>;
  /** Sets (or clears, with `null`) the fault of one route. */
  setFault(route: FacilitatorRoute, fault: FacilitatorFault | null): void;
  /** Stops listening, drops open connections and clears pending timers. */
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Serves a facilitator over HTTP on 127.0.0.1 (port 0 = any free port) with the routes
 * `HTTPFacilitatorClient` calls (`POST /verify`, `POST /settle`, `GET /supported`), plus fault
 * injection per route. Always `await server.close()` in test teardown.
 *
 * @example
 * const facilitator = new x402Facilitator().register(scheme.network, scheme.facilitator);
 * const served = await serveFacilitator(facilitator);
 * const client = new HTTPFacilitatorClient({ url: served.url, timeoutMs: 2_000 });
 * served.setFault('settle', { kind: 'delay', ms: 5_000 }); // the settle happens, the answer is late
 */
export async function serveFacilitator(facilitator: ServableFacilitator): Promise<FacilitatorServer> {
  const faults: Partial<Record<FacilitatorRoute, FacilitatorFault>> = {};
  const calls: Record<FacilitatorRoute, number> = { verify: 0, settle: 0, supported: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, run: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      run();
    }, ms);
    timers.add(t);
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    const route: FacilitatorRoute | undefined =
      req.method === 'POST' && path === '/verify'
        ? 'verify'
        : req.method === 'POST' && path === '/settle'
          ? 'settle'
          : req.method === 'GET' && path === '/supported'
            ? 'supported'
            : undefined;
    if (!route) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    calls[route]++;
    const body = route === 'supported' ? '' : await readBody(req);
    const fault = faults[route];
    if (fault?.kind === 'unavailable') {
      res.writeHead(fault.status ?? 503, { 'content-type': 'text/plain' });
      res.end('facilitator unavailable');
      return;
    }
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'hang') return;
    let status = 200;
    let answer: unknown;
    try {
      if (route === 'supported') {
        answer = await facilitator.getSupported();
      } else {
        const parsed = JSON.parse(body) as {
          paymentPayload: PaymentPayload;
          paymentRequirements: PaymentRequirements;
        };
        answer =
          route === 'verify'
            ? await facilitator.verify(parsed.paymentPayload, parsed.paymentRequirements)
            : await facilitator.settle(parsed.paymentPayload, parsed.paymentRequirements);
      }
    } catch (error) {
      status = 500;
      answer = { error: error instanceof Error ? error.message : String(error) };
    }
    if (fault?.kind === 'delay') {
      later(fault.ms, () => {
        if (!res.destroyed) sendJson(res, status, answer);
      });
      return;
    }
    sendJson(res, status, answer);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setFault(route, fault) {
      if (fault) faults[route] = fault;
      else delete faults[route];
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
