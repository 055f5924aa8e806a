import { x402Client } from '@x402/core/client';
import { x402Facilitator } from '@x402/core/facilitator';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import { registerExactEvmScheme as registerClient } from '@x402/evm/exact/client';
import { registerExactEvmScheme as registerFacilitator } from '@x402/evm/exact/facilitator';
import { registerExactEvmScheme as registerServer } from '@x402/evm/exact/server';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { stubEvmChain } from '../__fixtures__/evm-chain-stub.js';
import { inProcessFacilitator } from './in-process-facilitator.js';

const NETWORK = 'eip155:84532' as const;
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const SELLER = '0x00000000000000000000000000000000005e11e4';

async function evmSetup() {
  const chain = stubEvmChain(USDC);
  const facilitator = registerFacilitator(new x402Facilitator(), { signer: chain.signer, networks: NETWORK });
  const server = registerServer(new x402ResourceServer(inProcessFacilitator(facilitator)));
  await server.initialize();
  const account = privateKeyToAccount(generatePrivateKey());
  const client = registerClient(new x402Client(), { signer: account, networks: [NETWORK] });
  const requirements = await server.buildPaymentRequirements({
    scheme: 'exact',
    network: NETWORK,
    payTo: SELLER,
    price: '$0.01',
  });
  const paymentRequired: PaymentRequired = {
    x402Version: 2,
    resource: { url: 'https://api.example.com/weather' },
    accepts: requirements,
  };
  return { chain, server, client, account, requirements, paymentRequired };
}

describe('offline @x402/evm exact flow (a locally generated key, the chain stubbed)', () => {
  it('signs, verifies the EIP-712 signature for real and settles', async () => {
    const { chain, server, client, account, requirements, paymentRequired } = await evmSetup();
    expect(requirements[0]).toMatchObject({ amount: '10000', asset: USDC, payTo: SELLER });
    const payload = await client.createPaymentPayload(paymentRequired);
    expect((payload.payload.authorization as { from: string }).from).toBe(account.address);
    const verified = await server.verifyPayment(payload, requirements[0]!);
    expect(verified).toMatchObject({ isValid: true, payer: account.address });
    const settled = await server.settlePayment(payload, requirements[0]!);
    expect(settled.success).toBe(true);
    expect(chain.transfers).toHaveLength(1);
    expect(chain.transfers[0]).toMatchObject({ value: 10_000n, hash: settled.transaction });
  });

  it('rejects a tampered payment as invalid_exact_evm_signature', async () => {
    const { server, client, requirements, paymentRequired } = await evmSetup();
    const payload = await client.createPaymentPayload(paymentRequired);
    const auth = payload.payload.authorization as Record<string, string>;
    const tampered: PaymentPayload = {
      ...payload,
      payload: {
        ...payload.payload,
        authorization: { ...auth, to: '0x00000000000000000000000000000000000bad00' },
      },
    };
    const result = await server.verifyPayment(tampered, requirements[0]!);
    expect(result).toMatchObject({ isValid: false, invalidReason: 'invalid_exact_evm_signature' });
  });
});
