import { BursarError, ErrorCode } from '../errors/index.js';

/** Where a token lives: a CAIP-2 network id (`eip155:8453`) and its contract/mint address. */
export interface AssetAddress {
  network: string;
  address: string;
}

/** An asset with a fixed number of decimals; amounts of it are integers of 10^-decimals. */
export interface Asset {
  /** Display symbol, e.g. `USDC`. Symbols compare case-insensitively. */
  readonly symbol: string;
  readonly decimals: number;
  readonly name?: string;
  readonly addresses: readonly AssetAddress[];
}

/** What `register` accepts. */
export interface AssetDefinition {
  symbol: string;
  decimals: number;
  name?: string;
  addresses?: AssetAddress[];
}

const SYMBOL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const MAX_DECIMALS = 36;

/** EVM addresses are case-insensitive (checksums are only a hint); others (Solana) are not. */
function addressKey(network: string, address: string): string {
  const n = network.trim();
  const a = n.toLowerCase().startsWith('eip155:') ? address.trim().toLowerCase() : address.trim();
  return `${n.toLowerCase()}|${a}`;
}

/**
 * Known assets, looked up by symbol (case-insensitive) or by (network, address).
 *
 * @example
 * const assets = new AssetRegistry();           // includes USD, EUR, GBP, USDC, EURC, ETH
 * assets.register({ symbol: 'POINTS', decimals: 0 });
 * assets.findByAddress('eip155:8453', '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913')?.symbol; // 'USDC'
 */
export class AssetRegistry {
  readonly #bySymbol = new Map<string, Asset>();
  readonly #byAddress = new Map<string, Asset>();

  constructor(options: { includeDefaults?: boolean } = {}) {
    if (options.includeDefaults !== false) {
      for (const def of DEFAULT_ASSETS) this.register(def);
    }
  }

  /**
   * Adds an asset. Re-registering a symbol with the same decimals adds addresses; with other
   * decimals it is an error, because existing amounts would change meaning.
   */
  register(def: AssetDefinition): Asset {
    if (typeof def?.symbol !== 'string' || !SYMBOL.test(def.symbol)) {
      throw new BursarError(
        ErrorCode.INVALID_ASSET,
        `Asset symbol must be 1-32 letters, digits, '.', '_' or '-'; got ${JSON.stringify(def?.symbol)}`,
      );
    }
    if (!Number.isInteger(def.decimals) || def.decimals < 0 || def.decimals > MAX_DECIMALS) {
      throw new BursarError(
        ErrorCode.INVALID_ASSET,
        `Asset ${def.symbol}: decimals must be an integer from 0 to ${MAX_DECIMALS}; got ${String(def.decimals)}`,
      );
    }
    const key = def.symbol.toUpperCase();
    const existing = this.#bySymbol.get(key);
    if (existing && existing.decimals !== def.decimals) {
      throw new BursarError(
        ErrorCode.INVALID_ASSET,
        `Asset ${def.symbol} is already registered with ${existing.decimals} decimals; cannot re-register with ${def.decimals}`,
      );
    }
    const addresses = [...(existing?.addresses ?? [])];
    for (const a of def.addresses ?? []) {
      if (typeof a?.network !== 'string' || typeof a?.address !== 'string' || !a.network || !a.address) {
        throw new BursarError(
          ErrorCode.INVALID_ASSET,
          `Asset ${def.symbol}: each address needs a network and an address`,
        );
      }
      const k = addressKey(a.network, a.address);
      const owner = this.#byAddress.get(k);
      if (owner && owner.symbol.toUpperCase() !== key) {
        throw new BursarError(
          ErrorCode.INVALID_ASSET,
          `Address ${a.address} on ${a.network} already belongs to ${owner.symbol}`,
        );
      }
      if (!owner) addresses.push({ network: a.network, address: a.address });
    }
    const asset: Asset = Object.freeze({
      symbol: existing?.symbol ?? def.symbol,
      decimals: def.decimals,
      ...((def.name ?? existing?.name) ? { name: def.name ?? existing?.name } : {}),
      addresses: Object.freeze(addresses.map((a) => Object.freeze({ ...a }))),
    });
    this.#bySymbol.set(key, asset);
    for (const a of asset.addresses) this.#byAddress.set(addressKey(a.network, a.address), asset);
    return asset;
  }

  /** The asset with this symbol (any case), or undefined. */
  get(symbol: string): Asset | undefined {
    return typeof symbol === 'string' ? this.#bySymbol.get(symbol.toUpperCase()) : undefined;
  }

  /** The asset with this symbol, or a typed `ERR_BURSAR_UNKNOWN_ASSET` error. */
  require(symbol: string): Asset {
    const asset = this.get(symbol);
    if (!asset) {
      throw new BursarError(
        ErrorCode.UNKNOWN_ASSET,
        `Unknown currency ${JSON.stringify(symbol)}; register it first with assets.register({ symbol, decimals })`,
        { details: { currency: symbol } },
      );
    }
    return asset;
  }

  /** The asset deployed at `address` on `network` (CAIP-2), or undefined. */
  findByAddress(network: string, address: string): Asset | undefined {
    if (typeof network !== 'string' || typeof address !== 'string') return undefined;
    return this.#byAddress.get(addressKey(network, address));
  }

  /** Every registered asset. */
  list(): Asset[] {
    return [...this.#bySymbol.values()];
  }
}

/** CAIP-2 ids of the networks x402 is used on most. */
export const Networks = {
  base: 'eip155:8453',
  baseSepolia: 'eip155:84532',
  polygon: 'eip155:137',
  polygonAmoy: 'eip155:80002',
  avalanche: 'eip155:43114',
  avalancheFuji: 'eip155:43113',
  solana: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp',
  solanaDevnet: 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1',
} as const;

const DEFAULT_ASSETS: AssetDefinition[] = [
  { symbol: 'USD', decimals: 2, name: 'US dollar' },
  { symbol: 'EUR', decimals: 2, name: 'Euro' },
  { symbol: 'GBP', decimals: 2, name: 'Pound sterling' },
  {
    symbol: 'USDC',
    decimals: 6,
    name: 'USD Coin',
    addresses: [
      { network: Networks.base, address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' },
      { network: Networks.baseSepolia, address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' },
      { network: Networks.polygon, address: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359' },
      { network: Networks.polygonAmoy, address: '0x41E94Eb019C0762f9Bfcf9Fb1E58725BfB0e7582' },
      { network: Networks.avalanche, address: '0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E' },
      { network: Networks.avalancheFuji, address: '0x5425890298aed601595a70AB815c96711a31Bc65' },
      { network: Networks.solana, address: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v' },
      { network: Networks.solanaDevnet, address: '4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU' },
    ],
  },
  {
    symbol: 'EURC',
    decimals: 6,
    name: 'Euro Coin',
    addresses: [
      { network: Networks.base, address: '0x60a3E35Cc302bFA44Cb288Bc5a4F316Fdb1adb42' },
      { network: Networks.baseSepolia, address: '0x808456652fdb597867f38412077A9182bf77359F' },
      { network: Networks.avalanche, address: '0xC891EB4cbdEFf6e073e859e987815Ed1505c2ACD' },
      { network: Networks.solana, address: 'HzwqbKZw8HxMN6bF2yFZNrht3c2iXXzpKcFu7uBEDKtr' },
    ],
  },
  { symbol: 'ETH', decimals: 18, name: 'Ether' },
];

/**
 * The process-wide registry used when no registry is passed. Prefer passing your own
 * `AssetRegistry` to engines; register custom assets here only in application start-up code.
 */
export const defaultAssets = new AssetRegistry();
