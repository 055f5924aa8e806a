import { type Asset, type Clock, canonicalJson, Money, systemClock } from '@bursar/core';
import { SDK_DEFAULT_ASSET_TRANSFER_METHOD } from '@x402/core/server';
import type {
  AssetAmount,
  Network,
  PaymentPayload,
  PaymentPayloadResult,
  PaymentRequirements,
  Price,
  SchemeNetworkClient,
  SchemeNetworkFacilitator,
  SchemeNetworkServer,
  SettleResponse,
  SupportedKind,
  VerifyResponse,
} from '@x402/core/types';
import { z } from 'zod';
import type { SeededRandom } from '../random/index.js';
import { purchaseContext } from './call-context.js';
import { SANDBOX_SCHEME } from './constants.js';
import type { SandboxChain } from './sandbox-chain.js';
import { addressOf, type SandboxWallet, verifySignature } from './wallet.js';

/** What a buyer signs: a transfer authorization bound to one requirement, one nonce, one deadline. */
export const SandboxAuthorization = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  value: z.string().regex(/^\d{1,78}$/),
  asset: z.string().min(1),
  network: z.string().min(1),
  nonce: z.string().regex(/^0x[0-9a-f]{64}$/),
  /** Epoch ms (digits). */
  validBefore: z.string().regex(/^\d{1,16}$/),
});
export type SandboxAuthorization = z.infer<typeof SandboxAuthorization>;

/** The scheme payload inside an x402 `PaymentPayload`. */
export const SandboxPayload = z.strictObject({
  authorization: SandboxAuthorization,
  publicKey: z.string(),
  signature: z.string(),
});
export type SandboxPayload = z.infer<typeof SandboxPayload>;

/** Why the sandbox facilitator refuses a payment (x402 `invalidReason` / `errorReason`). */
export const SandboxInvalidReason = {
  INVALID_PAYLOAD: 'invalid_payload',
  SCHEME_MISMATCH: 'unsupported_scheme',
  NETWORK_MISMATCH: 'invalid_network',
  INVALID_SIGNATURE: 'invalid_signature',
  RECIPIENT_MISMATCH: 'recipient_mismatch',
  AMOUNT_MISMATCH: 'amount_mismatch',
  ASSET_MISMATCH: 'asset_mismatch',
  EXPIRED: 'authorization_expired',
  NONCE_USED: 'nonce_already_used',
  INSUFFICIENT_FUNDS: 'insufficient_funds',
} as const;
export type SandboxInvalidReason = (typeof SandboxInvalidReason)[keyof typeof SandboxInvalidReason];

/** Reads the nonce of a sandbox payment payload, or undefined for anything else. */
export function sandboxNonce(payload: { payload?: Record<string, unknown> } | undefined): string | undefined {
  const parsed = SandboxPayload.safeParse(payload?.payload);
  return parsed.success ? parsed.data.authorization.nonce : undefined;
}

interface SchemeCommon {
  network: Network;
  asset: string;
  currency: Asset;
  clock?: Clock;
}

/** The seller half: prices to atomic amounts of the sandbox asset. */
export function sandboxServerScheme(options: SchemeCommon): SchemeNetworkServer {
  const { asset, currency } = options;
  return {
    scheme: SANDBOX_SCHEME,
    defaultAssetTransferMethod: SDK_DEFAULT_ASSET_TRANSFER_METHOD,
    paymentFlows: {
      [SDK_DEFAULT_ASSET_TRANSFER_METHOD]: { supported: ['authorization'], default: 'authorization' },
    },
    async parsePrice(price: Price): Promise<AssetAmount> {
      if (typeof price === 'object' && price !== null) return price;
      const text = String(price).trim().replace(/^\$/, '');
      return { asset, amount: Money.parse(text, currency).toAtomicString() };
    },
    getAssetDecimals(a: string) {
      return a.toLowerCase() === asset.toLowerCase() ? currency.decimals : undefined;
    },
    async enhancePaymentRequirements(requirements: PaymentRequirements): Promise<PaymentRequirements> {
      return requirements;
    },
  };
}

/** The buyer half: signs an authorization from `wallet` for the selected requirement. */
export function sandboxClientScheme(options: {
  wallet: SandboxWallet;
  rng: SeededRandom;
  clock?: Clock;
}): SchemeNetworkClient {
  const { wallet, rng } = options;
  const clock = options.clock ?? systemClock;
  let counter = 0;
  return {
    scheme: SANDBOX_SCHEME,
    async createPaymentPayload(
      x402Version: number,
      requirements: PaymentRequirements,
    ): Promise<PaymentPayloadResult> {
      const ctx = purchaseContext.getStore();
      const label = ctx ? `${ctx.key}#${ctx.payloads++}` : `call#${counter++}`;
      const authorization: SandboxAuthorization = {
        from: wallet.address,
        to: requirements.payTo,
        value: requirements.amount,
        asset: requirements.asset,
        network: requirements.network,
        nonce: `0x${rng.fork(`nonce:${label}`).hex(32)}`,
        validBefore: String(clock.now() + requirements.maxTimeoutSeconds * 1000),
      };
      const signature = wallet.sign(canonicalJson(authorization));
      const payload: SandboxPayload = { authorization, publicKey: wallet.publicKey, signature };
      return { x402Version, payload };
    },
  };
}

/** Options of the facilitator half. */
export interface SandboxFacilitatorSchemeOptions extends SchemeCommon {
  chain: SandboxChain;
  /** Refuse a nonce that already settled (default true). Off, a replayed payload is charged again. */
  replayProtection: () => boolean;
  /** The facilitator's own address, listed as its signer. */
  signer: string;
}

/** The facilitator half: verifies signatures and terms, settles by moving balances on the chain. */
export function sandboxFacilitatorScheme(options: SandboxFacilitatorSchemeOptions): SchemeNetworkFacilitator {
  const { chain, network } = options;
  const clock = options.clock ?? systemClock;

  const check = (
    payment: PaymentPayload,
    requirements: PaymentRequirements,
  ): { ok: true; payload: SandboxPayload } | { ok: false; reason: SandboxInvalidReason; payer?: string } => {
    const parsed = SandboxPayload.safeParse(payment.payload);
    if (!parsed.success) return { ok: false, reason: SandboxInvalidReason.INVALID_PAYLOAD };
    const p = parsed.data;
    const a = p.authorization;
    const payer = a.from;
    if (requirements.scheme !== SANDBOX_SCHEME)
      return { ok: false, reason: SandboxInvalidReason.SCHEME_MISMATCH, payer };
    if (a.network !== requirements.network || requirements.network !== network) {
      return { ok: false, reason: SandboxInvalidReason.NETWORK_MISMATCH, payer };
    }
    if (addressOf(p.publicKey) !== a.from || !verifySignature(p.publicKey, canonicalJson(a), p.signature)) {
      return { ok: false, reason: SandboxInvalidReason.INVALID_SIGNATURE, payer };
    }
    if (a.to.toLowerCase() !== requirements.payTo.toLowerCase()) {
      return { ok: false, reason: SandboxInvalidReason.RECIPIENT_MISMATCH, payer };
    }
    if (a.value !== requirements.amount)
      return { ok: false, reason: SandboxInvalidReason.AMOUNT_MISMATCH, payer };
    if (
      a.asset.toLowerCase() !== requirements.asset.toLowerCase() ||
      a.asset.toLowerCase() !== chain.asset.toLowerCase()
    ) {
      return { ok: false, reason: SandboxInvalidReason.ASSET_MISMATCH, payer };
    }
    if (Number(a.validBefore) <= clock.now())
      return { ok: false, reason: SandboxInvalidReason.EXPIRED, payer };
    if (options.replayProtection() && chain.isSpent(a.nonce)) {
      return { ok: false, reason: SandboxInvalidReason.NONCE_USED, payer };
    }
    if (chain.balance(a.from).minor < BigInt(a.value)) {
      return { ok: false, reason: SandboxInvalidReason.INSUFFICIENT_FUNDS, payer };
    }
    return { ok: true, payload: p };
  };

  return {
    scheme: SANDBOX_SCHEME,
    caipFamily: `${network.split(':')[0]}:*`,
    getExtra(): Record<string, unknown> | undefined {
      return undefined;
    },
    getSigners(): string[] {
      return [options.signer];
    },
    async verify(payment: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> {
      const r = check(payment, requirements);
      if (!r.ok) {
        return { isValid: false, invalidReason: r.reason, ...(r.payer ? { payer: r.payer } : {}) };
      }
      return { isValid: true, payer: r.payload.authorization.from };
    },
    async settle(payment: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
      const r = check(payment, requirements);
      if (!r.ok) {
        return {
          success: false,
          errorReason: r.reason,
          transaction: '',
          network: requirements.network,
          ...(r.payer ? { payer: r.payer } : {}),
        };
      }
      const a = r.payload.authorization;
      const transfer = chain.transfer({
        from: a.from,
        to: a.to,
        value: BigInt(a.value),
        nonce: a.nonce,
        details: { resource: payment.resource?.url },
      });
      if (!transfer) {
        return {
          success: false,
          errorReason: SandboxInvalidReason.INSUFFICIENT_FUNDS,
          transaction: '',
          network: requirements.network,
          payer: a.from,
        };
      }
      return {
        success: true,
        transaction: transfer.transaction,
        network: requirements.network,
        payer: a.from,
        amount: a.value,
      };
    },
  };
}

/** The supported kind the sandbox facilitator advertises. */
export function sandboxSupportedKind(network: Network): SupportedKind {
  return { x402Version: 2, scheme: SANDBOX_SCHEME, network };
}
