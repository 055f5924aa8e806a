import type { PolicyEngine } from '@bursar/control';
import { type Clock, type EventBus, Money } from '@bursar/core';
import type { ProvenanceLog } from '@bursar/protect';
import {
  createX402Guard,
  type FacilitatorBreakerOptions,
  type GuardedFacilitator,
  guardFacilitator,
  guardX402Client,
  type X402ClientGuard,
  type X402Guard,
} from '@bursar/x402';
import type { SeededRandom } from '../random/index.js';
import {
  startX402Sandbox,
  type X402FacilitatorFaults,
  type X402MockBuyer,
  type X402PurchaseOptions,
  type X402PurchaseResult,
  type X402ResourceFaults,
  type X402Route,
  type X402Sandbox,
} from '../x402/index.js';
import { shortAmount } from './format.js';
import type { Recorder } from './recorder.js';
import type { PaymentLine } from './types.js';

/** Options of `ctx.x402()`. */
export interface ScenarioX402Options {
  /** Shown instead of `http://127.0.0.1:<port>` in the report (default `x402-seller`). */
  name?: string;
  /** Paid routes by path. The sandbox asset is USDC on Base Sepolia. */
  routes: Record<string, X402Route>;
  /**
   * Where Bursar sits: `buyer` — each agent's `x402Client` is guarded, so a payment is
   * authorized before it is signed; `seller` — the resource server's hooks are guarded and its
   * facilitator client is wrapped in circuit breakers.
   */
  guard: 'buyer' | 'seller';
  facilitatorFaults?: X402FacilitatorFaults;
  resourceFaults?: X402ResourceFaults;
  /** Whether the facilitator itself refuses replayed nonces (default true). */
  replayProtection?: boolean;
  /** The seller's facilitator client timeout in real ms (default 2000). */
  timeoutMs?: number;
  /** Seller side: the breaker of the guarded facilitator client. */
  breaker?: FacilitatorBreakerOptions;
}

/** One agent on an x402 rail. */
export interface X402Agent {
  readonly agentId: string;
  readonly buyer: X402MockBuyer;
  /** The buyer-side guard (rails guarded on the buyer side). */
  readonly guard: X402ClientGuard | undefined;
  /** Buys `path` (probe, 402, sign, pay) and returns the rail's answer and the line Bursar decided. */
  buy(
    path: string,
    options?: X402PurchaseOptions,
  ): Promise<{ purchase: X402PurchaseResult; line?: PaymentLine }>;
}

/** A running x402 rail guarded by Bursar on one side. */
export interface ScenarioX402 {
  readonly sandbox: X402Sandbox;
  /** Seller side: the resource-server guard. */
  readonly sellerGuard: X402Guard | undefined;
  /** Seller side: the circuit-broken facilitator client. */
  readonly facilitator: GuardedFacilitator | undefined;
  /** An agent with a funded wallet (`balance` decimal USDC, default `'100'`). */
  agent(agentId: string, options?: { balance?: string }): Promise<X402Agent>;
}

interface X402Deps {
  engine: PolicyEngine;
  events: EventBus;
  clock: Clock;
  rng: SeededRandom;
  recorder: Recorder;
  provenance: ProvenanceLog;
  /** Registers how a base URL is shown. */
  name(origin: string, label: string): void;
}

/** What a purchase did, in a few words (and, for a failure, what became of its hold). */
export function describePurchase(
  p: X402PurchaseResult,
  price: string | undefined,
  line?: PaymentLine,
): string {
  if (p.error) {
    const why = p.error.replace(/^Payment creation aborted:\s*/, '').split(':')[0];
    return `refused before signing (${why}): nothing was sent`;
  }
  if (p.ok) {
    const tx = p.settlement?.transaction;
    const amount =
      price !== undefined
        ? `${shortAmount(Money.parse(price, 'USDC').toDecimalString())} USDC`
        : 'an unknown amount';
    return `paid ${amount}${tx ? ` (tx ${tx.slice(0, 10)}…)` : ''}`;
  }
  const body = p.body as { error?: unknown } | undefined;
  const what =
    p.status === 402
      ? `402 ${p.paymentRequired?.error ?? 'payment required'}`
      : `${p.status}${typeof body?.error === 'string' ? ` ${body.error}` : ''}`;
  if (line?.hold === 'released' || line?.hold === 'expired')
    return `${what}: no money moved; the hold was released`;
  if (p.status >= 500) return `${what}: outcome unknown, counted as spent until reconciled`;
  return what;
}

/** Starts an x402 rail guarded on one side (used by `ctx.x402()`). */
export async function startScenarioX402(deps: X402Deps, options: ScenarioX402Options): Promise<ScenarioX402> {
  const { engine, events, clock, recorder } = deps;
  const agentsByWallet = new Map<string, string>();
  let sellerGuard: X402Guard | undefined;
  let facilitator: GuardedFacilitator | undefined;
  const seller = options.guard === 'seller';
  const sandbox = await startX402Sandbox({
    rng: deps.rng.fork('x402'),
    clock,
    routes: options.routes,
    ...(options.facilitatorFaults ? { facilitatorFaults: options.facilitatorFaults } : {}),
    ...(options.resourceFaults ? { resourceFaults: options.resourceFaults } : {}),
    ...(options.replayProtection !== undefined ? { replayProtection: options.replayProtection } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(seller
      ? {
          wrapFacilitator: (client) => {
            facilitator = guardFacilitator(client, {
              names: ['sandbox-facilitator'],
              clock,
              events,
              ...(options.breaker ? { breaker: options.breaker } : {}),
            });
            return facilitator;
          },
          configureSeller: (server) => {
            sellerGuard = createX402Guard({
              engine,
              clock,
              provenance: deps.provenance,
              resolveAgent: ({ payer }) => (payer ? agentsByWallet.get(payer.toLowerCase()) : undefined),
              // A sandbox run reports its own errors; keep them off the process warnings.
              onError: () => {},
            }).attach(server);
          },
        }
      : {}),
  });
  deps.name(sandbox.seller.url, options.name ?? 'x402-seller');
  const claimed = new Set<PaymentLine>();
  const priceOf = (path: string) => options.routes[path]?.price;

  return {
    sandbox,
    get sellerGuard() {
      return sellerGuard;
    },
    get facilitator() {
      return facilitator;
    },
    async agent(agentId, agentOptions = {}) {
      let guard: X402ClientGuard | undefined;
      const buyer = await sandbox.buyer(agentId, {
        balance: agentOptions.balance ?? '100',
        ...(seller
          ? {}
          : {
              configure: (client) => {
                guard = guardX402Client(client, {
                  engine,
                  agentId,
                  clock,
                  provenance: deps.provenance,
                  onError: () => {},
                });
              },
            }),
      });
      agentsByWallet.set(buyer.wallet.address.toLowerCase(), agentId);
      return {
        agentId,
        buyer,
        get guard() {
          return guard;
        },
        async buy(path, buyOptions) {
          const url = sandbox.seller.urlOf(path);
          const price = priceOf(path);
          if (!seller) {
            const { result, lines } = await recorder.track(() => buyer.purchase(url, buyOptions));
            const line = lines[0];
            recorder.annotate(line, describePurchase(result, price, line));
            return { purchase: result, ...(line ? { line } : {}) };
          }
          const purchase = await buyer.purchase(url, buyOptions);
          const status =
            purchase.payment && sellerGuard
              ? sellerGuard.status(sellerGuard.paymentIdOf(purchase.payment))
              : undefined;
          const engineLine = status ? recorder.lineOf(status) : undefined;
          let line =
            engineLine && !claimed.has(engineLine) && engineLine.agentId === agentId ? engineLine : undefined;
          const facts = {
            agentId,
            ...(price !== undefined ? { amount: Money.parse(price, 'USDC').toDecimalString() } : {}),
            currency: 'USDC',
            recipient: url,
            protocol: 'x402',
          };
          if (!line && status?.state === 'denied' && !status.holdId) {
            // Refused by policy before verification: `evaluate`, so nothing held and no strike.
            line = recorder.refusal({
              ...facts,
              code: status.failure ?? purchase.paymentRequired?.error ?? 'policy_denied',
              message: 'refused by policy before verification (nothing held)',
            });
          } else if (!line && status?.state === 'released' && !status.holdId) {
            // Allowed by policy, then the facilitator failed before the payer was verified.
            line = recorder.failure({
              ...facts,
              code: status.failure ?? 'verify_error',
              message: 'allowed by policy; the facilitator failed before any budget was held',
            });
          } else if (!line && purchase.status === 402 && purchase.paymentRequired?.error) {
            // The guard refused without asking the policy (a replayed or in-flight payment).
            line = recorder.refusal({
              ...facts,
              code: purchase.paymentRequired.error,
              message: 'refused by the seller guard before the facilitator was asked',
            });
          }
          if (line) {
            claimed.add(line);
            recorder.annotate(line, describePurchase(purchase, price, line));
          }
          return { purchase, ...(line ? { line } : {}) };
        },
      };
    },
  };
}
