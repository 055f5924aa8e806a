import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AssetRegistry, type Clock, type Money, systemClock } from '@bursar/core';
import { x402Facilitator } from '@x402/core/facilitator';
import { HTTPFacilitatorClient } from '@x402/core/server';
import type { Network, PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { z } from 'zod';
import { FaultPlan, Latency, Probability, Timers } from '../faults/index.js';
import { type LocalServer, listenLocal, readBody, sendJson } from '../internal/http.js';
import { parseOptions } from '../internal/options.js';
import { AssetsLike, ClockLike, RandomLike, SeedLike, streamOf } from '../internal/schemas.js';
import type { Ledger, LedgerEntry } from '../ledger/index.js';
import type { SeededRandom } from '../random/index.js';
import { SANDBOX_ASSET, SANDBOX_NETWORK } from './constants.js';
import { SandboxChain } from './sandbox-chain.js';
import { sandboxFacilitatorScheme, sandboxNonce } from './sandbox-scheme.js';

/** What an injected verify fault does: answer invalid, fail with HTTP 500, or hang past the client's timeout. */
export const VerifyFault = z.enum(['ok', 'invalid', 'error', 'timeout']);
export type VerifyFault = z.infer<typeof VerifyFault>;

/**
 * What an injected settle fault does:
 * - `error`: HTTP 500, nothing moves;
 * - `pending`: the transfer is broadcast (money moves) but the answer is `settlement_pending`;
 *   the next settle of the same payload reconciles to success without moving money again;
 * - `timeout`: hangs past the client's timeout and never settles;
 * - `late`: hangs past the client's timeout, then settles: money moves after the client gave up.
 */
export const SettleFault = z.enum(['ok', 'error', 'pending', 'timeout', 'late']);
export type SettleFault = z.infer<typeof SettleFault>;

/** Failure injection of the facilitator. A single fault applies to every call; a list is used call by call, then `ok`. */
export const X402FacilitatorFaults = z.strictObject({
  /** Latency before every verify/settle answer (ms, ≤ 50; a range draws from the seed). */
  latencyMs: Latency.optional(),
  /** Chance that a verify/settle call fails with HTTP 503 before doing anything. */
  failureRate: Probability.optional(),
  verify: z.union([VerifyFault, z.array(VerifyFault).max(1000)]).optional(),
  settle: z.union([SettleFault, z.array(SettleFault).max(1000)]).optional(),
  /** How long `timeout` and `late` hold the answer (ms). Must exceed the client's `timeoutMs`. */
  hangMs: z.number().int().min(1).max(5_000).optional(),
});
export type X402FacilitatorFaults = z.input<typeof X402FacilitatorFaults>;

const FacilitatorOptions = z.strictObject({
  seed: SeedLike.optional(),
  rng: RandomLike.optional(),
  clock: ClockLike.optional(),
  assets: AssetsLike.optional(),
  network: z
    .string()
    .regex(/^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/, 'must be a CAIP-2 network id')
    .optional(),
  asset: z.string().min(1).optional(),
  /** Refuse a payload whose nonce already settled (default true). */
  replayProtection: z.boolean().optional(),
  faults: X402FacilitatorFaults.optional(),
  /** Wallets funded at start: address → decimal amount in major units. */
  balances: z.record(z.string(), z.string()).optional(),
});
/** Options of {@link startX402Facilitator}. */
export type X402FacilitatorOptions = z.input<typeof FacilitatorOptions>;

/** Calls the facilitator received, by endpoint and what became of them. */
export interface X402FacilitatorCalls {
  supported: number;
  verify: number;
  settle: number;
  /** Calls answered with an injected failure (503, 500, invalid, timeout, pending, late). */
  injected: number;
}

/** A running sandbox facilitator. */
export interface X402MockFacilitator {
  /** Base URL (`http://127.0.0.1:<port>`): `/supported`, `/verify`, `/settle`. */
  readonly url: string;
  readonly network: Network;
  readonly asset: string;
  /** The chain stand-in: balances and transfers. */
  readonly chain: SandboxChain;
  /** Every settle that moved money, duplicates included. */
  readonly ledger: Ledger;
  /** The `@x402/core` facilitator behind the HTTP endpoints. */
  readonly facilitator: x402Facilitator;
  /** An `HTTPFacilitatorClient` pointed at this facilitator. */
  client(options?: { timeoutMs?: number }): HTTPFacilitatorClient;
  /** Adds funds to a wallet address (decimal string in major units). */
  fund(address: string, amount: string | Money): Money;
  /** Replaces the injected faults (and restarts fault lists). */
  setFaults(faults: X402FacilitatorFaults): void;
  /** Turns replay protection on or off. */
  setReplayProtection(on: boolean): void;
  /** Ledger entries of the payload with this nonce (or of this payment payload). */
  settlementsOf(payment: string | PaymentPayload): readonly LedgerEntry[];
  calls(): X402FacilitatorCalls;
  /** Resolves when no request is in progress (a `late` settle has landed). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

class FaultQueue<T extends string> {
  #items: T[] = [];
  #fixed: T | undefined;
  constructor(spec: T | T[] | undefined) {
    if (Array.isArray(spec)) this.#items = [...spec];
    else this.#fixed = spec;
  }
  next(fallback: T): T {
    if (this.#fixed !== undefined) return this.#fixed;
    return this.#items.shift() ?? fallback;
  }
}

/**
 * Starts a sandbox x402 facilitator on 127.0.0.1 (port 0): an `@x402/core` `x402Facilitator`
 * with the sandbox scheme, behind the HTTP endpoints `HTTPFacilitatorClient` calls, with
 * injected latency, failures, timeouts, `settlement_pending`, late settles and (without replay
 * protection) duplicate settles. Every settle that moves money lands in `ledger`.
 *
 * @example
 * const facilitator = await startX402Facilitator({ seed: 7, faults: { settle: ['late'] } });
 * facilitator.fund(wallet.address, '10');
 * const client = facilitator.client({ timeoutMs: 100 });
 * // … later
 * await facilitator.idle();
 * facilitator.ledger.total('USDC');
 * await facilitator.close();
 */
export async function startX402Facilitator(
  options: X402FacilitatorOptions = {},
): Promise<X402MockFacilitator> {
  const o = parseOptions(FacilitatorOptions, options, 'x402 facilitator');
  const clock: Clock = o.clock ?? systemClock;
  const rng: SeededRandom = streamOf(o, 'x402-facilitator');
  const network = (o.network ?? SANDBOX_NETWORK) as Network;
  const asset = o.asset ?? SANDBOX_ASSET;
  const assets: AssetRegistry | undefined = o.assets;
  const chain = new SandboxChain({
    rng: rng.fork('chain'),
    network,
    asset,
    clock,
    ...(assets ? { assets } : {}),
  });
  for (const [address, amount] of Object.entries(o.balances ?? {})) chain.fund(address, amount);

  let replayProtection = o.replayProtection ?? true;
  let faults = o.faults ?? {};
  let plan = new FaultPlan(rng.fork('faults'), faults);
  let verifyQueue = new FaultQueue<VerifyFault>(faults.verify);
  let settleQueue = new FaultQueue<SettleFault>(faults.settle);
  const calls: X402FacilitatorCalls = { supported: 0, verify: 0, settle: 0, injected: 0 };
  const attempts = new Map<string, number>();
  const timers = new Timers();
  const inflight = new Set<Promise<void>>();
  const signer = `0x${rng.fork('signer').hex(20)}`;

  const facilitator = new x402Facilitator().register(
    network,
    sandboxFacilitatorScheme({
      network,
      asset,
      currency: chain.currency,
      clock,
      chain,
      signer,
      replayProtection: () => replayProtection,
    }),
  );

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/supported') {
      calls.supported++;
      sendJson(res, 200, facilitator.getSupported());
      return;
    }
    if (req.method !== 'POST' || (path !== '/verify' && path !== '/settle')) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    let body: { paymentPayload?: PaymentPayload; paymentRequirements?: PaymentRequirements };
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      sendJson(res, 400, { error: 'invalid_json' });
      return;
    }
    const payload = body.paymentPayload;
    const requirements = body.paymentRequirements;
    if (!payload || !requirements || typeof payload !== 'object' || typeof requirements !== 'object') {
      sendJson(res, 400, { error: 'paymentPayload and paymentRequirements are required' });
      return;
    }
    const nonce = sandboxNonce(payload);
    const op = path === '/verify' ? 'verify' : 'settle';
    const n = op === 'verify' ? ++calls.verify : ++calls.settle;
    // Keyed by the payload and its attempt number, so concurrent arrival order cannot change a draw.
    const attemptKey = `${op}:${nonce ?? `call-${n}`}`;
    const attempt = (attempts.get(attemptKey) ?? 0) + 1;
    attempts.set(attemptKey, attempt);
    const key = `${attemptKey}:${attempt}`;
    if (!(await timers.sleep(plan.latency(key)))) return;
    if (plan.fails(key)) {
      calls.injected++;
      sendJson(res, 503, { error: 'facilitator_unavailable', message: 'injected failure' });
      return;
    }
    const hangMs = faults.hangMs ?? 250;

    if (op === 'verify') {
      const fault = verifyQueue.next('ok');
      if (fault === 'invalid') {
        calls.injected++;
        sendJson(res, 200, {
          isValid: false,
          invalidReason: 'injected_invalid',
          invalidMessage: 'injected fault',
        });
        return;
      }
      if (fault === 'error') {
        calls.injected++;
        sendJson(res, 500, { error: 'verify_failed', message: 'injected fault' });
        return;
      }
      if (fault === 'timeout') {
        calls.injected++;
        if (!(await timers.sleep(hangMs))) return;
        sendJson(res, 504, { error: 'timeout' });
        return;
      }
      sendJson(res, 200, await facilitator.verify(payload, requirements));
      return;
    }

    // A payload whose earlier settle answered `settlement_pending` reconciles first, whatever
    // the fault plan says: the mechanism finds its broadcast transaction and reports it.
    const pendingTx = nonce === undefined ? undefined : chain.takePending(nonce);
    if (pendingTx !== undefined) {
      sendJson(res, 200, {
        success: true,
        transaction: pendingTx,
        network: requirements.network,
        payer: (payload.payload as { authorization?: { from?: string } }).authorization?.from,
        amount: requirements.amount,
      });
      return;
    }
    const fault = settleQueue.next('ok');
    switch (fault) {
      case 'error':
        calls.injected++;
        sendJson(res, 500, {
          success: false,
          errorReason: 'unexpected_settle_error',
          errorMessage: 'injected fault',
          transaction: '',
          network: requirements.network,
        });
        return;
      case 'timeout':
        calls.injected++;
        if (!(await timers.sleep(hangMs))) return;
        sendJson(res, 504, { error: 'timeout' });
        return;
      case 'late': {
        calls.injected++;
        if (!(await timers.sleep(hangMs))) return;
        const result = await facilitator.settle(payload, requirements);
        if (!res.destroyed) sendJson(res, 200, result);
        return;
      }
      case 'pending': {
        calls.injected++;
        const result = await facilitator.settle(payload, requirements);
        if (result.success && nonce !== undefined) {
          chain.markPending(nonce, result.transaction);
          sendJson(res, 200, {
            success: false,
            errorReason: 'settlement_pending',
            errorMessage: 'transaction broadcast, not yet confirmed',
            transaction: result.transaction,
            network: result.network,
            ...(result.payer ? { payer: result.payer } : {}),
          });
          return;
        }
        sendJson(res, 200, result);
        return;
      }
      default:
        sendJson(res, 200, await facilitator.settle(payload, requirements));
    }
  };

  const server: LocalServer = await listenLocal((req, res) => {
    const p = handle(req, res);
    const tracked = p.then(
      () => undefined,
      () => undefined,
    );
    inflight.add(tracked);
    void tracked.then(() => inflight.delete(tracked));
    return p;
  });

  return {
    url: server.url,
    network,
    asset,
    chain,
    ledger: chain.ledger,
    facilitator,
    client(clientOptions = {}) {
      return new HTTPFacilitatorClient({ url: server.url, timeoutMs: clientOptions.timeoutMs ?? 2_000 });
    },
    fund(address, amount) {
      return chain.fund(address, amount);
    },
    setFaults(next) {
      faults = parseOptions(X402FacilitatorFaults, next, 'x402 facilitator faults');
      plan = new FaultPlan(rng.fork('faults'), faults);
      verifyQueue = new FaultQueue<VerifyFault>(faults.verify);
      settleQueue = new FaultQueue<SettleFault>(faults.settle);
    },
    setReplayProtection(on) {
      replayProtection = on;
    },
    settlementsOf(payment) {
      const nonce = typeof payment === 'string' ? payment : sandboxNonce(payment);
      return nonce === undefined ? [] : chain.transfersOf(nonce).map((t) => t.entry);
    },
    calls() {
      return { ...calls };
    },
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
    async close() {
      timers.cancelAll();
      await server.close();
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}
