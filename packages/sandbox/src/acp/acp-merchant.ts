import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Asset,
  type AssetRegistry,
  BursarError,
  type Clock,
  defaultAssets,
  ErrorCode,
  Money,
  systemClock,
} from '@bursar/core';
import { z } from 'zod';
import { SandboxErrorCode } from '../errors/index.js';
import { FaultPlan, Latency, Probability, Timers } from '../faults/index.js';
import { type LocalServer, listenLocal, readBody, sendJson } from '../internal/http.js';
import { parseOptions } from '../internal/options.js';
import { AssetsLike, ClockLike, RandomLike, SeedLike, streamOf } from '../internal/schemas.js';
import { Ledger, type LedgerEntry } from '../ledger/index.js';
import {
  ACP_API_VERSION,
  type AcpAllowance,
  type AcpCheckoutSession,
  AcpDeclineCode,
  type AcpError,
  type AcpLineItem,
} from './acp-types.js';
import { IdempotencyTable, type StoredResponse } from './idempotency-table.js';

const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Failure injection of the ACP merchant. */
export const AcpFaults = z.strictObject({
  /** Latency of every request (ms, ≤ 50). A request is "in flight" for its Idempotency-Key meanwhile. */
  latencyMs: Latency.optional(),
  /** Chance that a request fails with 503 before doing anything (its key may be retried). */
  failureRate: Probability.optional(),
});
export type AcpFaults = z.input<typeof AcpFaults>;

const MerchantOptions = z.strictObject({
  seed: SeedLike.optional(),
  rng: RandomLike.optional(),
  clock: ClockLike.optional(),
  assets: AssetsLike.optional(),
  /** The merchant's id, which allowances must name (default `sandbox_merchant`). */
  merchantId: z.string().min(1).max(128).optional(),
  /** ISO-4217 currency of the catalogue, any case (default `usd`). */
  currency: z.string().min(3).max(8).optional(),
  /** Catalogue: item id → title and unit price in minor units. */
  products: z
    .record(z.string().min(1), z.strictObject({ title: z.string().min(1), unitAmount: minor }))
    .optional(),
  faults: AcpFaults.optional(),
});
/** Options of {@link startAcpMerchant}. */
export type AcpMerchantOptions = z.input<typeof MerchantOptions>;

const Items = z
  .array(z.strictObject({ id: z.string().min(1), quantity: z.number().int().min(1).max(1000) }))
  .min(1)
  .max(50);
const CreateBody = z.object({ items: Items });
const UpdateBody = z.object({ items: Items.optional() });
const CompleteBody = z.object({
  payment_data: z.object({ token: z.string().min(1), provider: z.string().min(1) }),
});
const DelegateBody = z.object({
  payment_method: z.record(z.string(), z.unknown()),
  allowance: z.strictObject({
    reason: z.literal('one_time'),
    max_amount: minor,
    currency: z.string().min(3).max(8),
    merchant_id: z.string().min(1),
    checkout_session_id: z.string().min(1).optional(),
    expires_at: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'must be an RFC 3339 time'),
  }),
  risk_signals: z.array(z.unknown()).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

/** A delegated token as the vault stores it. */
export interface AcpStoredToken {
  id: string;
  allowance: AcpAllowance;
  createdAt: number;
  /** Order it paid for, once used. */
  usedBy?: string;
}

/** Requests the merchant received, by endpoint. */
export interface AcpMerchantCalls {
  create: number;
  update: number;
  complete: number;
  cancel: number;
  delegate: number;
  /** Answered from the idempotency table (replays), 409s and 422s. */
  replayed: number;
  inFlight: number;
  conflicts: number;
  /** Injected 503s. */
  injected: number;
}

/** A running ACP merchant + delegated-payment vault. */
export interface AcpMockMerchant {
  readonly url: string;
  readonly merchantId: string;
  /** Lower-case ISO code of the catalogue currency (`usd`). */
  readonly currency: string;
  /** The core asset of `currency`. */
  readonly asset: Asset;
  /** Every completed checkout (charge) and refund. */
  readonly ledger: Ledger;
  /** The session as stored, or undefined. */
  session(id: string): AcpCheckoutSession | undefined;
  token(id: string): AcpStoredToken | undefined;
  /** Refunds an order (all that is left by default): the merchant's side of a dispute. */
  refund(orderId: string, amount?: Money | string): LedgerEntry;
  setFaults(faults: AcpFaults): void;
  calls(): AcpMerchantCalls;
  close(): Promise<void>;
}

/** The catalogue a merchant sells when none is given (unit prices in cents). */
export const DEFAULT_ACP_PRODUCTS: Readonly<Record<string, { title: string; unitAmount: number }>> = {
  'sku-dataset': { title: 'Research dataset licence', unitAmount: 4_500 },
  'sku-gpu-hour': { title: 'GPU hour', unitAmount: 250 },
  'sku-report': { title: 'Market report', unitAmount: 12_000 },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: AcpError,
  ) {
    super(body.message);
  }
}

const invalid = (code: string, message: string, param?: string, status = 400) =>
  new HttpError(status, { type: 'invalid_request', code, message, ...(param ? { param } : {}) });

/**
 * Starts a mock ACP merchant on 127.0.0.1 (port 0): checkout sessions (create, update,
 * complete, cancel, retrieve) and the delegated-payment vault (`/agentic_commerce/delegate_payment`).
 * Completing a checkout with a token checks its allowance — amount ≤ `max_amount`, currency,
 * merchant, session, expiry, single use — with exact money. Idempotency-Key: 409 while the
 * same request is in flight, 422 for a reused key with another request, the stored answer
 * after completion. Amounts are integer minor units, as in ACP.
 *
 * @example
 * const merchant = await startAcpMerchant({ seed: 3 });
 * const acp = new AcpClient({ baseUrl: merchant.url });
 * const session = await acp.createCheckout({ items: [{ id: 'sku-report', quantity: 1 }] });
 */
export async function startAcpMerchant(options: AcpMerchantOptions = {}): Promise<AcpMockMerchant> {
  const o = parseOptions(MerchantOptions, options, 'ACP merchant');
  const clock: Clock = o.clock ?? systemClock;
  const assets: AssetRegistry = o.assets ?? defaultAssets;
  const rng = streamOf(o, 'acp');
  const merchantId = o.merchantId ?? 'sandbox_merchant';
  const currency = (o.currency ?? 'usd').toLowerCase();
  const asset = assets.require(currency);
  const products: Readonly<Record<string, { title: string; unitAmount: number }>> =
    o.products ?? DEFAULT_ACP_PRODUCTS;
  const ledger = new Ledger({ rail: 'acp', clock, assets });
  const sessions = new Map<string, AcpCheckoutSession>();
  const tokens = new Map<string, AcpStoredToken>();
  const orders = new Map<string, string>();
  const idempotency = new IdempotencyTable();
  const timers = new Timers();
  let faults = o.faults ?? {};
  let plan = new FaultPlan(rng.fork('faults'), faults);
  const calls: AcpMerchantCalls = {
    create: 0,
    update: 0,
    complete: 0,
    cancel: 0,
    delegate: 0,
    replayed: 0,
    inFlight: 0,
    conflicts: 0,
    injected: 0,
  };
  let requestCount = 0;
  const attempts = new Map<string, number>();
  const money = (minorUnits: bigint | number) => Money.fromMinor(minorUnits, asset);

  const price = (items: Array<{ id: string; quantity: number }>, param: string) => {
    const lines: AcpLineItem[] = items.map((item, i) => {
      const product = products[item.id];
      if (!product) throw invalid('invalid_item', `Unknown item ${item.id}`, `${param}[${i}].id`);
      const base = money(BigInt(product.unitAmount) * BigInt(item.quantity));
      const total = Number(base.minor);
      if (!Number.isSafeInteger(total))
        throw invalid('amount_too_large', 'Line amount too large', `${param}[${i}]`);
      return {
        id: `li_${item.id}_${i + 1}`,
        item: { id: item.id, quantity: item.quantity },
        base_amount: total,
        discount: 0,
        subtotal: total,
        tax: 0,
        total,
      };
    });
    const sum = Money.sum(
      lines.map((l) => money(l.total)),
      asset,
    );
    return {
      line_items: lines,
      totals: [
        { type: 'subtotal' as const, display_text: 'Subtotal', amount: Number(sum.minor) },
        { type: 'total' as const, display_text: 'Total', amount: Number(sum.minor) },
      ],
    };
  };

  const totalOf = (s: AcpCheckoutSession): Money =>
    money(s.totals.find((t) => t.type === 'total')?.amount ?? 0);

  const getSession = (id: string): AcpCheckoutSession => {
    const s = sessions.get(id);
    if (!s) throw invalid('not_found', `No checkout session ${id}`, undefined, 404);
    return s;
  };

  const requireOpen = (s: AcpCheckoutSession) => {
    if (s.status === 'completed' || s.status === 'canceled') {
      throw invalid('invalid_state', `Checkout session ${s.id} is ${s.status}`, undefined, 405);
    }
  };

  const parse = <S extends z.ZodType>(schema: S, body: unknown): z.output<S> => {
    const r = schema.safeParse(body);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw invalid('invalid_request', issue?.message ?? 'invalid body', issue?.path.join('.'));
    }
    return r.data;
  };

  const route = async (method: string, path: string, body: unknown): Promise<StoredResponse> => {
    const parts = path.split('/').filter(Boolean);
    if (method === 'POST' && path === '/agentic_commerce/delegate_payment') {
      calls.delegate++;
      const b = parse(DelegateBody, body);
      const a = b.allowance;
      assets.require(a.currency);
      const id = rng.fork(`token:${tokens.size + 1}`).id('vt', 12);
      const allowance: AcpAllowance = {
        reason: a.reason,
        max_amount: a.max_amount,
        currency: a.currency.toLowerCase(),
        merchant_id: a.merchant_id,
        ...(a.checkout_session_id ? { checkout_session_id: a.checkout_session_id } : {}),
        expires_at: a.expires_at,
      };
      tokens.set(id, { id, allowance, createdAt: clock.now() });
      return {
        status: 201,
        body: {
          id,
          created: new Date(clock.now()).toISOString(),
          metadata: { ...(b.metadata ?? {}), merchant_id: a.merchant_id },
        },
      };
    }
    if (parts[0] !== 'checkout_sessions')
      throw invalid('not_found', `No route ${method} ${path}`, undefined, 404);
    if (method === 'POST' && parts.length === 1) {
      calls.create++;
      const b = parse(CreateBody, body);
      const id = rng.fork(`session:${sessions.size + 1}`).id('cs', 12);
      const session: AcpCheckoutSession = {
        id,
        status: 'ready_for_payment',
        currency,
        merchant_id: merchantId,
        ...price(b.items, 'items'),
      };
      sessions.set(id, session);
      return { status: 201, body: session };
    }
    const id = parts[1] ?? '';
    if (method === 'GET' && parts.length === 2) return { status: 200, body: getSession(id) };
    if (method !== 'POST') throw invalid('not_found', `No route ${method} ${path}`, undefined, 404);
    if (parts.length === 2) {
      calls.update++;
      const s = getSession(id);
      requireOpen(s);
      const b = parse(UpdateBody, body);
      if (b.items) Object.assign(s, price(b.items, 'items'));
      return { status: 200, body: s };
    }
    if (parts.length === 3 && parts[2] === 'cancel') {
      calls.cancel++;
      const s = getSession(id);
      requireOpen(s);
      s.status = 'canceled';
      return { status: 200, body: s };
    }
    if (parts.length === 3 && parts[2] === 'complete') {
      calls.complete++;
      const s = getSession(id);
      requireOpen(s);
      const b = parse(CompleteBody, body);
      const token = tokens.get(b.payment_data.token);
      const param = 'payment_data.token';
      if (!token) throw invalid(AcpDeclineCode.TOKEN_NOT_FOUND, 'Unknown delegated payment token', param);
      if (token.usedBy)
        throw invalid(AcpDeclineCode.TOKEN_USED, 'The token was already used (single use)', param);
      const a = token.allowance;
      if (Date.parse(a.expires_at) <= clock.now())
        throw invalid(AcpDeclineCode.TOKEN_EXPIRED, 'The token has expired', param);
      if (a.currency !== s.currency) {
        throw invalid(
          AcpDeclineCode.CURRENCY_MISMATCH,
          `Allowance is in ${a.currency}, checkout in ${s.currency}`,
          param,
        );
      }
      if (a.merchant_id !== merchantId) {
        throw invalid(AcpDeclineCode.MERCHANT_MISMATCH, `Allowance is for merchant ${a.merchant_id}`, param);
      }
      if (a.checkout_session_id !== undefined && a.checkout_session_id !== s.id) {
        throw invalid(
          AcpDeclineCode.SESSION_MISMATCH,
          `Allowance is for checkout ${a.checkout_session_id}`,
          param,
        );
      }
      const total = totalOf(s);
      const max = money(a.max_amount);
      if (total.gt(max)) {
        throw invalid(
          AcpDeclineCode.ALLOWANCE_EXCEEDED,
          `Total ${total.format()} exceeds the allowance of ${max.format()}`,
          param,
        );
      }
      const orderId = rng.fork(`order:${s.id}`).id('ord', 12);
      token.usedBy = orderId;
      ledger.record({
        kind: 'charge',
        amount: total,
        payer: token.id,
        payee: merchantId,
        reference: orderId,
        details: { checkout_session_id: s.id, token: token.id },
      });
      orders.set(orderId, s.id);
      s.status = 'completed';
      s.order = {
        id: orderId,
        checkout_session_id: s.id,
        permalink_url: `https://merchant.invalid/orders/${orderId}`,
      };
      return { status: 200, body: s };
    }
    throw invalid('not_found', `No route ${method} ${path}`, undefined, 404);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const version = req.headers['api-version'];
    if (version !== ACP_API_VERSION) {
      sendJson(res, 400, {
        type: 'invalid_request',
        code: version === undefined ? 'missing_api_version' : 'unsupported_api_version',
        message: `Send API-Version: ${ACP_API_VERSION}`,
        supported_versions: [ACP_API_VERSION],
      });
      return;
    }
    let body: unknown;
    if (method === 'POST') {
      const text = await readBody(req);
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        sendJson(res, 400, { type: 'invalid_request', code: 'invalid_json', message: 'Body is not JSON' });
        return;
      }
    }
    const keyHeader = req.headers['idempotency-key'];
    const key =
      method === 'POST' && typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : undefined;
    if (key !== undefined) {
      const verdict = idempotency.begin(key, IdempotencyTable.fingerprint(method, path, body));
      if (verdict.kind === 'in_flight') {
        calls.inFlight++;
        sendJson(res, 409, {
          type: 'request_not_idempotent',
          code: 'idempotency_in_flight',
          message: 'A request with this Idempotency-Key is still being processed',
        });
        return;
      }
      if (verdict.kind === 'conflict') {
        calls.conflicts++;
        sendJson(res, 422, {
          type: 'request_not_idempotent',
          code: 'idempotency_conflict',
          message: 'Idempotency-Key reused with a different request',
        });
        return;
      }
      if (verdict.kind === 'replay') {
        calls.replayed++;
        sendJson(res, verdict.response.status, verdict.response.body, {
          'idempotent-replayed': 'true',
          'idempotency-key': key,
        });
        return;
      }
    }
    const n = ++requestCount;
    // Keyed by the idempotency key and its attempt, so a retry of a failed key draws afresh.
    const base = key ?? `request-${n}`;
    const attempt = (attempts.get(base) ?? 0) + 1;
    attempts.set(base, attempt);
    const faultKey = `${base}#${attempt}`;
    if (!(await timers.sleep(plan.latency(faultKey)))) {
      if (key !== undefined) idempotency.abandon(key);
      return;
    }
    if (plan.fails(faultKey)) {
      calls.injected++;
      if (key !== undefined) idempotency.abandon(key);
      sendJson(res, 503, {
        type: 'service_unavailable',
        code: 'service_unavailable',
        message: 'injected failure',
      });
      return;
    }
    let response: StoredResponse;
    try {
      response = await route(method, path, body);
    } catch (error) {
      if (!(error instanceof HttpError)) {
        if (key !== undefined) idempotency.abandon(key);
        throw error;
      }
      response = { status: error.status, body: error.body };
    }
    // A definite answer (success or a refusal) is stored: retrying the key returns it again.
    if (key !== undefined) idempotency.complete(key, response);
    sendJson(res, response.status, response.body, key !== undefined ? { 'idempotency-key': key } : {});
  };

  const server: LocalServer = await listenLocal(handle);

  return {
    url: server.url,
    merchantId,
    currency,
    asset,
    ledger,
    session: (id) => {
      const s = sessions.get(id);
      return s ? structuredClone(s) : undefined;
    },
    token: (id) => {
      const t = tokens.get(id);
      return t ? structuredClone(t) : undefined;
    },
    refund(orderId, amount) {
      if (!orders.has(orderId)) {
        throw new BursarError(SandboxErrorCode.UNKNOWN_REFERENCE, `No order ${orderId}`, {
          details: { orderId },
        });
      }
      const left = ledger.refundable(orderId);
      const value =
        amount === undefined ? left : typeof amount === 'string' ? Money.parse(amount, asset) : amount;
      if (value.minor <= 0n) throw new BursarError(ErrorCode.INVALID_AMOUNT, 'A refund must be positive');
      const charge = ledger.entries({ kind: 'charge', reference: orderId })[0];
      return ledger.record({
        kind: 'refund',
        amount: value,
        payer: merchantId,
        payee: charge?.payer ?? 'buyer',
        reference: `${orderId}:refund:${ledger.entries({ kind: 'refund', refundOf: orderId }).length + 1}`,
        refundOf: orderId,
      });
    },
    setFaults(next) {
      faults = parseOptions(AcpFaults, next, 'ACP faults');
      plan = new FaultPlan(rng.fork('faults'), faults);
    },
    calls: () => ({ ...calls }),
    async close() {
      timers.cancelAll();
      await server.close();
    },
  };
}
