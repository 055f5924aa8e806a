import { Money } from '@bursar/core';
import {
  AcpClient,
  type AcpFaults,
  type AcpItem,
  type AcpMockMerchant,
  startAcpMerchant,
} from '../acp/index.js';
import type { SeededRandom } from '../random/index.js';
import { type GovernedDeps, type GovernedResult, governedPayment } from './governed.js';

/** Options of `ctx.acp()`. */
export interface ScenarioAcpOptions {
  /** The merchant id: the `recipient` of every checkout intent (default `sandbox_merchant`). */
  merchantId?: string;
  /** ISO-4217 code of the catalogue, any case (default `usd`; `usdc` works too). */
  currency?: string;
  /** Catalogue: item id → title and unit price in minor units of `currency`. */
  products?: Record<string, { title: string; unitAmount: number }>;
  faults?: AcpFaults;
}

/** Per-checkout options. */
export interface AcpCheckoutOptions {
  /** One key per purchase: the engine's idempotency key and the merchant's `Idempotency-Key`. */
  idempotencyKey?: string;
  purpose?: string;
  metadata?: Record<string, unknown>;
}

/** An ACP merchant whose checkouts agents pay only through the policy engine. */
export interface ScenarioAcp {
  readonly merchant: AcpMockMerchant;
  readonly client: AcpClient;
  /** Creates a checkout, authorizes its total, pays with a token limited to what was authorized. */
  checkout(agentId: string, items: AcpItem[], options?: AcpCheckoutOptions): Promise<GovernedResult>;
}

/** Attempts per ACP call while the merchant answers 5xx (the same Idempotency-Key each time). */
const ATTEMPTS = 3;

/** Calls `fn` again while it answers 5xx, at most {@link ATTEMPTS} times; returns the last answer. */
async function retrying<T extends { ok: boolean; status: number }>(fn: () => Promise<T>): Promise<T> {
  let answer = await fn();
  for (let i = 1; i < ATTEMPTS && !answer.ok && answer.status >= 500; i++) answer = await fn();
  return answer;
}

/** Starts a governed ACP merchant (used by `ctx.acp()`). */
export async function startScenarioAcp(
  deps: GovernedDeps & { rng: SeededRandom; clock: { now(): number } },
  options: ScenarioAcpOptions,
): Promise<ScenarioAcp> {
  const merchant = await startAcpMerchant({
    rng: deps.rng.fork('acp'),
    clock: deps.clock,
    ...(options.merchantId ? { merchantId: options.merchantId } : {}),
    ...(options.currency ? { currency: options.currency } : {}),
    ...(options.products ? { products: options.products } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const client = new AcpClient({ baseUrl: merchant.url });
  let orders = 0;
  return {
    merchant,
    client,
    async checkout(agentId, items, checkoutOptions = {}) {
      const key = checkoutOptions.idempotencyKey;
      const session = await retrying(() => client.createCheckout({ items }));
      if (!session.ok) throw new Error(`ACP checkout could not be created: ${session.error.message}`);
      const totalMinor = session.body.totals.find((t) => t.type === 'total')?.amount ?? 0;
      const total = Money.fromMinor(totalMinor, merchant.asset);
      return governedPayment(
        deps,
        {
          agentId,
          amount: total.toDecimalString(),
          currency: merchant.asset.symbol,
          recipient: merchant.merchantId,
          protocol: 'acp',
          params: { items: items.map((i) => ({ id: i.id, quantity: i.quantity })) },
          ...(key ? { idempotencyKey: key } : {}),
          ...(checkoutOptions.purpose ? { purpose: checkoutOptions.purpose } : {}),
          ...(checkoutOptions.metadata ? { metadata: checkoutOptions.metadata } : {}),
        },
        async () => {
          // The delegated token can pay no more than Bursar authorized, to this merchant, once.
          const allowance = {
            reason: 'one_time' as const,
            max_amount: totalMinor,
            currency: merchant.currency,
            merchant_id: merchant.merchantId,
            checkout_session_id: session.body.id,
            expires_at: new Date(deps.clock.now() + 15 * 60_000).toISOString(),
          };
          const token = await retrying(() => client.delegatePayment({ allowance }));
          if (!token.ok) return { status: 'declined', text: `token refused: ${token.error.code}` };
          // A 5xx may or may not have completed: ask again with the same key, which the merchant
          // answers from its idempotency table instead of charging twice.
          const idempotencyKey = key ?? `order-${agentId}-${++orders}`;
          const done = await retrying(() =>
            client.complete(session.body.id, { token: token.body.id }, { idempotencyKey }),
          );
          if (done.ok) {
            return {
              status: 'charged',
              amount: total.toDecimalString(),
              text: `charged ${total.format()}, order ${done.body.order?.id ?? '?'}`,
              ...(done.body.order ? { reference: done.body.order.id } : {}),
            };
          }
          // 5xx: the merchant may or may not have completed; anything else is a definite no.
          return done.status >= 500
            ? {
                status: 'unknown',
                text: `merchant answered ${done.status}: outcome unknown, counted as spent until reconciled`,
              }
            : { status: 'declined', text: `declined: ${done.error.code}` };
        },
      );
    },
  };
}
