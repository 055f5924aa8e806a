import { randomBytes } from 'node:crypto';
import type { EvmFacilitatorConfig } from '@x402/evm/exact/facilitator';
import { getAddress, verifyTypedData } from 'viem';

type FacilitatorEvmSigner = EvmFacilitatorConfig['signer'];

/** A transfer the stub chain executed. */
export interface StubTransfer {
  hash: `0x${string}`;
  from: string;
  to: string;
  value: bigint;
  nonce: string;
}

/**
 * A facilitator signer whose chain access is stubbed: signatures are checked for real with
 * viem (EIP-712), token contracts "exist", simulation succeeds unless the nonce was used, and
 * `transferWithAuthorization` writes to an in-memory list. No RPC, no internet.
 */
export function stubEvmChain(asset: string): { signer: FacilitatorEvmSigner; transfers: StubTransfer[] } {
  const facilitatorAddress = getAddress(`0x${'fa'.repeat(20)}`);
  const transfers: StubTransfer[] = [];
  const usedNonces = new Set<string>();
  const assetAddress = getAddress(asset);
  const signer: FacilitatorEvmSigner = {
    getAddresses: () => [facilitatorAddress],
    async getCode({ address }) {
      return getAddress(address) === assetAddress ? '0x6080604052' : undefined;
    },
    async verifyTypedData(args) {
      return verifyTypedData(args as Parameters<typeof verifyTypedData>[0]);
    },
    async readContract({ functionName, args }) {
      if (functionName === 'transferWithAuthorization') {
        const nonce = String(args?.[5]);
        if (usedNonces.has(nonce)) throw new Error('FiatTokenV2: authorization is used or canceled');
        return undefined;
      }
      if (functionName === 'balanceOf') return 10n ** 12n;
      if (functionName === 'authorizationState') return usedNonces.has(String(args?.[1]));
      return undefined;
    },
    async writeContract({ functionName, args }) {
      if (functionName !== 'transferWithAuthorization') throw new Error(`unexpected write ${functionName}`);
      const nonce = String(args[5]);
      if (usedNonces.has(nonce)) throw new Error('FiatTokenV2: authorization is used or canceled');
      usedNonces.add(nonce);
      const hash = `0x${randomBytes(32).toString('hex')}` as const;
      transfers.push({
        hash,
        from: String(args[0]),
        to: String(args[1]),
        value: BigInt(String(args[2])),
        nonce,
      });
      return hash;
    },
    async sendTransaction() {
      throw new Error('stub chain: sendTransaction is not supported');
    },
    async waitForTransactionReceipt() {
      return { status: 'success' };
    },
  };
  return { signer, transfers };
}
