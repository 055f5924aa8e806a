import { Networks } from '@bursar/core';
import type { Network } from '@x402/core/types';

/** Scheme name of the sandbox x402 scheme (registered on client, server and facilitator). */
export const SANDBOX_SCHEME = 'bursar-sandbox';
/**
 * Default network: Base Sepolia (CAIP-2 `eip155:84532`), so core's default asset registry maps
 * the default asset to USDC. Nothing touches a chain: the sandbox facilitator keeps balances.
 */
export const SANDBOX_NETWORK: Network = Networks.baseSepolia as Network;
/** Default asset: the USDC token address on Base Sepolia (6 decimals). */
export const SANDBOX_ASSET = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
/** Decimals of {@link SANDBOX_ASSET}. */
export const SANDBOX_ASSET_DECIMALS = 6;
