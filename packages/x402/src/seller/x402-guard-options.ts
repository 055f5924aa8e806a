import type { AssetRegistry } from '@bursar/core';
import type { DeepReadonly, PaymentPayload } from '@x402/core/types';
import { z } from 'zod';
import { clockSchema, eventSinkSchema, fn, withMethods } from '../internal/options.js';
import type { X402PaymentContext } from './intent-mapping.js';
import type { ProvenanceRecorder, SpendRecorder, X402PolicyEngine } from './ports.js';

const ms = z
  .number()
  .int()
  .positive()
  .max(366 * 86_400_000);

/** Options of {@link createX402Guard}. */
export const X402GuardOptions = z.strictObject({
  /** The policy engine that decides and holds (`@bursar/control`'s `PolicyEngine`). */
  engine: withMethods<X402PolicyEngine>('authorize', 'capture', 'release'),
  /** Records each settled payment (`@bursar/observe`'s `SpendTracker`). Skip it if the tracker listens on the engine's bus. */
  tracker: withMethods<SpendRecorder>('record').optional(),
  /** Receives an `x402.*` record for every step, with where each result came from (`@bursar/protect`'s `ProvenanceLog`). */
  provenance: withMethods<ProvenanceRecorder>('append').optional(),
  /** Maps (network, token address) to assets; default: the engine's registry, else core's `defaultAssets`. */
  assets: withMethods<AssetRegistry>('findByAddress', 'get').optional(),
  /**
   * Who is paying, as an agent id the policy knows. Default: the payer address (lower-cased on
   * EVM). Sellers should map payers to their own agent/customer ids here.
   */
  resolveAgent:
    fn<(ctx: X402PaymentContext) => string | undefined | Promise<string | undefined>>().optional(),
  /** The payer address of a payload (default: EIP-3009 `authorization.from` or Permit2 `permit2Authorization.from`). */
  resolvePayer: fn<(payload: DeepReadonly<PaymentPayload>) => string | undefined>().optional(),
  /** The URL of the paid resource (default: the transport's request URL, else the payload's echo). */
  resolveResource: fn<(ctx: X402PaymentContext) => string | undefined>().optional(),
  /** What the intent's `recipient` is: the resource URL (default, falls back to payTo) or the payTo address. */
  recipient: z.enum(['resource', 'payTo']).default('resource'),
  clock: clockSchema.optional(),
  /** Where `payment.settled` / `payment.failed` go (default: `engine.events`). */
  events: eventSinkSchema.optional(),
  /**
   * Let a payment through when the guard itself fails (logged through `onError`). Default
   * false: an internal error aborts with `internal_error`. Policy refusals are never overridden.
   */
  failOpen: z.boolean().default(false),
  /** Most finished payments remembered for replay checks (default 100 000). */
  maxPayments: z.number().int().positive().default(100_000),
  /** How long a finished payment is remembered (default 24 h). */
  retentionMs: ms.default(86_400_000),
  /** How long an unfinished payment is tracked without progress (default 15 min, the engine's hold TTL). */
  activeTtlMs: ms.default(900_000),
  /**
   * Also wrap the server's `verifyPayment` / `settlePayment` to see final outcomes that hooks
   * cannot (a later hook's abort, a settlement "recovered" by another hook). Default true.
   */
  observeResults: z.boolean().default(true),
  /** Decides whether a settle error may still move money (default: {@link isAmbiguousSettleFailure}). */
  isAmbiguousSettleFailure: fn<(error: unknown) => boolean>().optional(),
  /** Told about every internal error and failed side effect (default: a process warning). */
  onError: fn<(error: unknown, context: { hook: string; paymentId?: string }) => void>().optional(),
});
export type X402GuardOptions = z.input<typeof X402GuardOptions>;
