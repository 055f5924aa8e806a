import { describe, expect, it } from 'vitest';
import { BursarError, ErrorCode } from '../errors/index.js';
import { AssetRegistry, Networks } from './asset.js';

describe('AssetRegistry', () => {
  it('ships fiat and stablecoins with their decimals', () => {
    const r = new AssetRegistry();
    expect(['USD', 'EUR', 'GBP', 'USDC', 'EURC', 'ETH'].map((s) => r.get(s)?.decimals)).toEqual([
      2, 2, 2, 6, 6, 18,
    ]);
  });

  it('looks symbols up case-insensitively', () => {
    expect(new AssetRegistry().get('uSdC')?.symbol).toBe('USDC');
  });

  it('finds USDC by (network, address) on the main x402 networks', () => {
    const r = new AssetRegistry();
    expect(r.findByAddress(Networks.base, '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913')?.symbol).toBe('USDC');
    expect(r.findByAddress(Networks.baseSepolia, '0x036CbD53842c5426634e7929541eC2318f3dCF7e')?.symbol).toBe(
      'USDC',
    );
    expect(r.findByAddress(Networks.polygon, '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359')?.symbol).toBe(
      'USDC',
    );
    expect(r.findByAddress(Networks.avalanche, '0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E')?.symbol).toBe(
      'USDC',
    );
    expect(r.findByAddress(Networks.solana, 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v')?.symbol).toBe(
      'USDC',
    );
    expect(
      r.findByAddress(Networks.solanaDevnet, '4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU')?.symbol,
    ).toBe('USDC');
    expect(r.findByAddress(Networks.base, '0x60a3E35Cc302bFA44Cb288Bc5a4F316Fdb1adb42')?.symbol).toBe('EURC');
  });

  it('treats Solana addresses as case-sensitive and unknown pairs as unknown', () => {
    const r = new AssetRegistry();
    expect(r.findByAddress(Networks.solana, 'epjfwdd5aufqssqem2qn1xzybapc8g4wegGkzwytdt1v')).toBeUndefined();
    expect(r.findByAddress('eip155:1', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913')).toBeUndefined();
  });

  it('registers custom assets and adds addresses to existing ones', () => {
    const r = new AssetRegistry();
    r.register({ symbol: 'pts', decimals: 0 });
    expect(r.get('PTS')?.decimals).toBe(0);
    r.register({
      symbol: 'USDC',
      decimals: 6,
      addresses: [{ network: 'eip155:1', address: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' }],
    });
    expect(r.findByAddress('eip155:1', '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48')?.symbol).toBe('USDC');
    expect(r.findByAddress(Networks.base, '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913')?.symbol).toBe('USDC');
  });

  it.each([
    [{ symbol: '', decimals: 2 }, /symbol/],
    [{ symbol: 'bad symbol', decimals: 2 }, /symbol/],
    [{ symbol: 'X', decimals: -1 }, /decimals/],
    [{ symbol: 'X', decimals: 2.5 }, /decimals/],
    [{ symbol: 'USD', decimals: 6 }, /already registered with 2 decimals/],
    [
      {
        symbol: 'FAKE',
        decimals: 6,
        addresses: [{ network: Networks.base, address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' }],
      },
      /already belongs to USDC/,
    ],
  ])('rejects %j', (def, message) => {
    const r = new AssetRegistry();
    let error: unknown;
    try {
      r.register(def);
    } catch (e) {
      error = e;
    }
    expect(BursarError.hasCode(error, ErrorCode.INVALID_ASSET)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('require() throws a typed error for unknown symbols', () => {
    expect(() => new AssetRegistry().require('NOPE')).toThrow(/Unknown currency "NOPE"/);
  });
});
