import { z } from 'zod';
import { type Clock, systemClock } from '../clock/index.js';
import {
  BursarError,
  describeIssues,
  ErrorCode,
  toIssues,
  ValidationError,
  type ValidationIssue,
} from '../errors/index.js';
import { canonicalHash } from '../hash/index.js';
import { type IntentId, newIntentId } from '../ids/index.js';
import { frozenCopy } from '../internal/frozen-copy.js';
import { type AssetRegistry, defaultAssets, Money } from '../money/index.js';

/** Payment rails an intent may name. `custom` covers anything else. */
export const Protocol = z.enum(['x402', 'acp', 'ap2', 'card', 'mcp', 'custom']);
export type Protocol = z.infer<typeof Protocol>;

/** The action name of a payment; any other action is a governed tool/function call. */
export const PAYMENT_ACTION = 'payment';

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/**
 * The shape of a proposed payment or action, as an agent or integration submits it.
 * Unknown keys are rejected. Use {@link parseIntent} to validate and normalise it.
 */
export const Intent = z.strictObject({
  /** Who wants to act. Integrations set this from an authenticated identity, not from the agent's words. */
  agentId: text(256),
  /** `payment` (default) or a tool/function name. */
  action: text(256).default(PAYMENT_ACTION),
  /** Decimal string or number in major units (`"25.00"`). Required for payments. */
  amount: z.union([z.string(), z.number()]).optional(),
  /** Asset symbol, case-insensitive (`usdc` = `USDC`). Required with an amount. */
  currency: text(32).optional(),
  /** Who gets paid: URL, address, merchant id. */
  recipient: text(2048).optional(),
  protocol: Protocol.optional(),
  /** CAIP-2 network id (`eip155:8453`). */
  network: text(128).optional(),
  /** Agent-stated purpose. Untrusted: it may only tighten a decision. */
  purpose: z.string().max(2000, 'must be at most 2000 characters').optional(),
  /** Arguments of a tool call. */
  params: z.record(z.string(), z.unknown()).optional(),
  idempotencyKey: text(256).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
/** What callers pass. */
export type IntentInput = z.input<typeof Intent>;
/** The validated shape, before amounts are read into {@link Money}. */
export type Intent = z.output<typeof Intent>;

/** A validated, normalised intent: exact money, canonical currency, a time from the clock, a content hash. */
export interface ParsedIntent {
  readonly id: IntentId;
  readonly agentId: string;
  readonly action: string;
  readonly amount?: Money;
  /** Canonical symbol of the asset (registry spelling). */
  readonly currency?: string;
  readonly recipient?: string;
  readonly protocol?: Protocol;
  readonly network?: string;
  readonly purpose?: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Epoch ms, from the clock. */
  readonly createdAt: number;
  /** SHA-256 of the canonical content (see {@link intentHash}); binds approvals and idempotency. */
  readonly hash: string;
}

export interface ParseIntentOptions {
  clock?: Clock;
  assets?: AssetRegistry;
}

/**
 * Validates and normalises an intent. Throws `ValidationError` (`ERR_BURSAR_INVALID_INTENT`)
 * whose `issues` name every offending field; nothing else happens on failure.
 *
 * @example
 * const intent = parseIntent({ agentId: 'bot', amount: '25', currency: 'usdc', recipient: 'https://api.example.com' });
 * intent.amount?.format(); // '25.00 USDC'
 */
export function parseIntent(input: unknown, options: ParseIntentOptions = {}): ParsedIntent {
  const assets = options.assets ?? defaultAssets;
  const result = Intent.safeParse(input);
  if (!result.success) {
    throw invalidIntent(toIssues(result.error.issues));
  }
  const v = result.data;
  const issues: ValidationIssue[] = [];
  let amount: Money | undefined;
  let currency: string | undefined;
  if (v.currency !== undefined) {
    const asset = assets.get(v.currency);
    if (!asset) {
      issues.push({
        path: 'currency',
        message: `unknown currency ${JSON.stringify(v.currency)}; register it with assets.register()`,
      });
    } else {
      currency = asset.symbol;
    }
  }
  if (v.amount !== undefined) {
    if (v.currency === undefined) {
      issues.push({ path: 'currency', message: 'required when an amount is given' });
    } else if (currency !== undefined) {
      try {
        amount = Money.parse(v.amount, currency, { assets });
      } catch (error) {
        issues.push({
          path: 'amount',
          message: BursarError.isInstance(error) ? error.message : 'invalid amount',
        });
      }
    }
  } else if (v.action === PAYMENT_ACTION) {
    issues.push({ path: 'amount', message: 'required for a payment (an amount is never assumed to be 0)' });
    if (v.currency === undefined) issues.push({ path: 'currency', message: 'required for a payment' });
  }
  if (issues.length > 0) throw invalidIntent(issues);

  const parsed = {
    id: newIntentId(),
    agentId: v.agentId,
    action: v.action,
    ...(amount ? { amount, currency } : currency ? { currency } : {}),
    ...(v.recipient !== undefined ? { recipient: v.recipient } : {}),
    ...(v.protocol !== undefined ? { protocol: v.protocol } : {}),
    ...(v.network !== undefined ? { network: v.network } : {}),
    ...(v.purpose !== undefined ? { purpose: v.purpose } : {}),
    params: frozenCopy(v.params),
    ...(v.idempotencyKey !== undefined ? { idempotencyKey: v.idempotencyKey } : {}),
    metadata: frozenCopy(v.metadata),
    createdAt: (options.clock ?? systemClock).now(),
    hash: '',
  };
  parsed.hash = intentHash(parsed);
  return Object.freeze(parsed) as ParsedIntent;
}

/**
 * The content hash of an intent: everything that says *what* is to be done (agent, action,
 * exact amount and currency, recipient, protocol, network, purpose, params, metadata), not
 * when or under which retry key. Equal intents hash equally whatever their key order.
 */
export function intentHash(
  intent: Omit<ParsedIntent, 'hash' | 'id' | 'createdAt'> & Partial<ParsedIntent>,
): string {
  return canonicalHash({
    agentId: intent.agentId,
    action: intent.action,
    amount: intent.amount ? intent.amount.minor : undefined,
    currency: intent.currency,
    recipient: intent.recipient,
    protocol: intent.protocol,
    network: intent.network,
    purpose: intent.purpose,
    params: intent.params,
    metadata: intent.metadata,
  });
}

/** A JSON-safe view of a parsed intent (amount as an exact decimal string). */
export function intentToJSON(intent: ParsedIntent): Record<string, unknown> {
  return {
    id: intent.id,
    agentId: intent.agentId,
    action: intent.action,
    ...(intent.amount ? { amount: intent.amount.toDecimalString(), currency: intent.currency } : {}),
    ...(intent.recipient !== undefined ? { recipient: intent.recipient } : {}),
    ...(intent.protocol !== undefined ? { protocol: intent.protocol } : {}),
    ...(intent.network !== undefined ? { network: intent.network } : {}),
    ...(intent.purpose !== undefined ? { purpose: intent.purpose } : {}),
    params: intent.params,
    ...(intent.idempotencyKey !== undefined ? { idempotencyKey: intent.idempotencyKey } : {}),
    metadata: intent.metadata,
    createdAt: intent.createdAt,
    hash: intent.hash,
  };
}

function invalidIntent(issues: ValidationIssue[]): ValidationError {
  return new ValidationError(ErrorCode.INVALID_INTENT, `Invalid intent: ${describeIssues(issues)}`, issues);
}
