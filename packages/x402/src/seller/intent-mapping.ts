import { type Asset, type AssetRegistry, BursarError, type IntentInput, Money } from '@bursar/core';
import type { DeepReadonly, PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { X402Reason } from '../errors/index.js';

/** What resolvers of the agent, payer and resource see. */
export interface X402PaymentContext {
  paymentPayload: DeepReadonly<PaymentPayload>;
  requirements: DeepReadonly<PaymentRequirements>;
  /** The transport's context (`{ request: HTTPRequestContext }` under `x402HTTPResourceServer`). */
  transportContext?: unknown;
  /** The payer, when known (from the payload, or from the facilitator's verify answer). */
  payer?: string;
}

/** The exact money of a requirement. */
export interface MappedAmount {
  asset: Asset;
  money: Money;
}

export type MapResult<T> = { ok: true; value: T } | { ok: false; reason: string; message: string };

/**
 * Reads a requirement's atomic amount in its asset, found by (network, address). An unknown
 * asset or a malformed amount is a refusal — never 0, never allow.
 */
export function mapAmount(
  requirements: DeepReadonly<PaymentRequirements>,
  assets: AssetRegistry,
  atomic: string = requirements.amount,
): MapResult<MappedAmount> {
  const asset = assets.findByAddress(requirements.network, requirements.asset);
  if (!asset) {
    return {
      ok: false,
      reason: X402Reason.UNKNOWN_ASSET,
      message: `Unknown asset ${requirements.asset} on ${requirements.network}; register it with assets.register({ symbol, decimals, addresses })`,
    };
  }
  try {
    return { ok: true, value: { asset, money: Money.fromAtomic(atomic, asset) } };
  } catch (error) {
    return {
      ok: false,
      reason: X402Reason.INVALID_AMOUNT,
      message: BursarError.isInstance(error)
        ? error.message
        : `Invalid atomic amount ${JSON.stringify(atomic)}`,
    };
  }
}

/**
 * The payer of a payment as the payload states it: EVM exact EIP-3009
 * (`payload.authorization.from`) and Permit2 (`payload.permit2Authorization.from`). Undefined
 * for schemes that do not state it (the facilitator's verify answer may name it later).
 */
export function defaultPayer(payload: DeepReadonly<PaymentPayload>): string | undefined {
  const p = payload.payload as Readonly<Record<string, unknown>> | undefined;
  const from =
    (p?.authorization as { from?: unknown } | undefined)?.from ??
    (p?.permit2Authorization as { from?: unknown } | undefined)?.from;
  return typeof from === 'string' && from.length > 0 ? from : undefined;
}

/** The URL of the paid resource: the server's own request URL when the transport has one, else the payload's echo. */
export function defaultResource(ctx: X402PaymentContext): string | undefined {
  const request = (ctx.transportContext as { request?: { adapter?: { getUrl?: () => string } } } | undefined)
    ?.request;
  const url = typeof request?.adapter?.getUrl === 'function' ? request.adapter.getUrl() : undefined;
  if (typeof url === 'string' && url.length > 0) return url;
  const echoed = ctx.paymentPayload.resource?.url;
  return typeof echoed === 'string' && echoed.length > 0 ? echoed : undefined;
}

const EVM_NETWORK = /^eip155:/i;

/** True for an EVM (CAIP-2 `eip155:`) network, where the case of an address means nothing. */
export function isEvmNetwork(network: string): boolean {
  return EVM_NETWORK.test(network);
}

/** The default agent id: the payer address (lower-cased on EVM networks, where case means nothing). */
export function defaultAgent(ctx: X402PaymentContext): string | undefined {
  return agentOfPayer(ctx.requirements.network, ctx.payer);
}

/** {@link defaultAgent} of a payer on a network. */
export function agentOfPayer(network: string, payer: string | undefined): string | undefined {
  if (!payer) return undefined;
  return isEvmNetwork(network) ? payer.toLowerCase() : payer;
}

/** What resolvers see: the hook's context, with the payer when it is known. */
export function withPayer(
  ctx: Omit<X402PaymentContext, 'payer'>,
  payer: string | undefined,
): X402PaymentContext {
  // One copy, then one property: cheaper than spreading a second, conditional object.
  const out: X402PaymentContext = { ...ctx };
  if (payer) out.payer = payer;
  return out;
}

/** Everything a guarded payment is decided on. */
export interface PaymentFacts {
  agentId: string;
  payer: string | undefined;
  resource: string | undefined;
  recipient: string;
  amount: MappedAmount;
}

/** Builds the policy intent of an x402 payment. */
export function buildIntent(
  facts: PaymentFacts,
  requirements: DeepReadonly<PaymentRequirements>,
  paymentId: string,
  idempotencyKey: string,
  x402Version: number,
): IntentInput {
  const params: Record<string, unknown> = {
    scheme: requirements.scheme,
    payTo: requirements.payTo,
    asset: requirements.asset,
    atomicAmount: facts.amount.money.toAtomicString(),
  };
  if (facts.payer !== undefined) params.payer = facts.payer;
  if (facts.resource !== undefined) params.resource = facts.resource;
  return {
    agentId: facts.agentId,
    action: 'payment',
    amount: facts.amount.money.toDecimalString(),
    currency: facts.amount.asset.symbol,
    recipient: facts.recipient,
    protocol: 'x402',
    network: requirements.network,
    params,
    idempotencyKey,
    metadata: { paymentId, x402Version },
  };
}
