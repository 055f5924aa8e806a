import { randomBytes } from 'node:crypto';
import { type Clock, Money, Networks, systemClock } from '@bursar/core';
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
import { type TestAuthorization, TestLedger, type TestWallet } from './test-ledger.js';

/** The scheme name of the offline test scheme. */
export const TEST_SCHEME = 'bursar-test';
/** Default network of the test scheme: Base Sepolia, so the default asset maps to USDC. */
export const TEST_NETWORK: Network = Networks.baseSepolia;
/** Base Sepolia USDC: the default asset of the test scheme (6 decimals). */
export const TEST_ASSET = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

/** Options of {@link createTestScheme}. */
export interface TestSchemeOptions {
  /** The chain stand-in shared by client, server and facilitator (a new one by default). */
  ledger?: TestLedger;
  network?: Network;
  /** Token address used for `$` prices. */
  asset?: string;
  /** Decimals of `asset` (6). */
  decimals?: number;
  /** Time source for `validBefore` checks (system clock by default). */
  clock?: Clock;
}

/** The three halves of the offline test scheme. */
export interface TestScheme {
  readonly ledger: TestLedger;
  readonly network: Network;
  readonly asset: string;
  /** Register with `x402ResourceServer.register(network, server)`. */
  readonly server: SchemeNetworkServer;
  /** Register with `x402Facilitator.register(network, facilitator)`. */
  readonly facilitator: SchemeNetworkFacilitator;
  /** A client scheme paying from `wallet`, for `x402Client.register(network, client)`. */
  client(wallet: TestWallet): SchemeNetworkClient;
}

function readAuthorization(
  payload: Record<string, unknown>,
): { auth: TestAuthorization; signature: string } | undefined {
  const auth = payload.authorization as Record<string, unknown> | undefined;
  const signature = payload.signature;
  if (!auth || typeof signature !== 'string') return undefined;
  const keys = ['from', 'to', 'value', 'asset', 'network', 'nonce', 'validBefore'] as const;
  for (const k of keys) if (typeof auth[k] !== 'string') return undefined;
  return {
    auth: {
      from: auth.from as string,
      to: auth.to as string,
      value: auth.value as string,
      asset: auth.asset as string,
      network: auth.network as string,
      nonce: auth.nonce as string,
      validBefore: auth.validBefore as string,
    },
    signature,
  };
}

/**
 * An offline x402 scheme with a real verify → settle life cycle: the client signs an
 * EIP-3009-shaped authorization (`payload.authorization.from/to/value/nonce`) with an HMAC
 * key, the facilitator checks signature, recipient, amount, asset, expiry, nonce and balance,
 * and settles by moving money on a {@link TestLedger} and burning the nonce. No chain, no
 * internet.
 *
 * @example
 * const scheme = createTestScheme();
 * const wallet = scheme.ledger.createWallet(10_000_000n); // 10 USDC
 * new x402Facilitator().register(scheme.network, scheme.facilitator);
 * new x402ResourceServer(facilitatorClient).register(scheme.network, scheme.server);
 * new x402Client().register(scheme.network, scheme.client(wallet));
 */
export function createTestScheme(options: TestSchemeOptions = {}): TestScheme {
  const ledger = options.ledger ?? new TestLedger();
  const network = options.network ?? TEST_NETWORK;
  const asset = options.asset ?? TEST_ASSET;
  const decimals = options.decimals ?? 6;
  const clock = options.clock ?? systemClock;
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  const server: SchemeNetworkServer = {
    scheme: TEST_SCHEME,
    defaultAssetTransferMethod: 'default',
    paymentFlows: { default: { supported: ['authorization', 'upfront'], default: 'authorization' } },
    async parsePrice(price: Price): Promise<AssetAmount> {
      if (typeof price === 'object' && price !== null) return { amount: price.amount, asset: price.asset };
      const text = String(price).trim().replace(/^\$/, '');
      const m = Money.parse(text, { symbol: 'TEST', decimals, addresses: [] });
      return { amount: m.toAtomicString(), asset };
    },
    getAssetDecimals: () => decimals,
    async enhancePaymentRequirements(requirements: PaymentRequirements): Promise<PaymentRequirements> {
      return requirements;
    },
  };

  function check(
    payload: PaymentPayload,
    requirements: PaymentRequirements,
  ): VerifyResponse & { auth?: TestAuthorization } {
    const parsed = readAuthorization(payload.payload);
    if (!parsed) return { isValid: false, invalidReason: 'invalid_payload' };
    const { auth, signature } = parsed;
    const payer = auth.from;
    const fail = (invalidReason: string): VerifyResponse => ({ isValid: false, invalidReason, payer });
    if (payload.accepted?.scheme !== TEST_SCHEME || requirements.scheme !== TEST_SCHEME)
      return fail('invalid_scheme');
    if (auth.network !== requirements.network) return fail('network_mismatch');
    if (!ledger.verifySignature(auth, signature)) return fail('invalid_signature');
    if (auth.to.toLowerCase() !== requirements.payTo.toLowerCase()) return fail('recipient_mismatch');
    if (auth.asset.toLowerCase() !== requirements.asset.toLowerCase()) return fail('asset_mismatch');
    if (auth.value !== requirements.amount) return fail('amount_mismatch');
    if (BigInt(auth.validBefore) <= BigInt(nowSeconds())) return fail('authorization_expired');
    if (ledger.isNonceUsed(auth.nonce)) return fail('nonce_already_used');
    if (ledger.balanceOf(auth.from) < BigInt(auth.value)) return fail('insufficient_funds');
    return { isValid: true, payer, auth };
  }

  const facilitator: SchemeNetworkFacilitator = {
    scheme: TEST_SCHEME,
    caipFamily: `${network.split(':')[0]}:*`,
    getExtra: () => undefined,
    getSigners: () => [],
    async verify(payload, requirements): Promise<VerifyResponse> {
      const { auth: _auth, ...result } = check(payload, requirements);
      return result;
    },
    async settle(payload, requirements): Promise<SettleResponse> {
      const result = check(payload, requirements);
      if (!result.isValid || !result.auth) {
        return {
          success: false,
          errorReason: result.invalidReason ?? 'invalid_payload',
          transaction: '',
          network: requirements.network,
          ...(result.payer ? { payer: result.payer } : {}),
        };
      }
      const transaction = ledger.transfer(result.auth);
      return { success: true, transaction, network: requirements.network, payer: result.auth.from };
    },
  };

  return {
    ledger,
    network,
    asset,
    server,
    facilitator,
    client(wallet: TestWallet): SchemeNetworkClient {
      return {
        scheme: TEST_SCHEME,
        async createPaymentPayload(
          x402Version: number,
          requirements: PaymentRequirements,
        ): Promise<PaymentPayloadResult> {
          const authorization: TestAuthorization = {
            from: wallet.address,
            to: requirements.payTo,
            value: requirements.amount,
            asset: requirements.asset,
            network: requirements.network,
            nonce: `0x${randomBytes(32).toString('hex')}`,
            validBefore: String(nowSeconds() + (requirements.maxTimeoutSeconds || 60)),
          };
          return {
            x402Version,
            payload: { authorization, signature: TestLedger.sign(wallet, authorization) },
          };
        },
      };
    },
  };
}

/** The supported kind the test facilitator advertises (for stubs that skip `/supported`). */
export function testSupportedKind(network: Network = TEST_NETWORK): SupportedKind {
  return { x402Version: 2, scheme: TEST_SCHEME, network };
}
