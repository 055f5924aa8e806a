/**
 * The guards on `@x402/evm`'s exact scheme: a locally generated key signs EIP-3009
 * authorizations, the library's own facilitator verifies the signatures for real, chain access
 * is stubbed. The resource server is used directly (no HTTP).
 */
import { allowAll, blockAbove, dailyBudget, PolicyEngine } from '@bursar/control';
import { x402Client } from '@x402/core/client';
import { x402Facilitator } from '@x402/core/facilitator';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { registerExactEvmScheme as registerClient } from '@x402/evm/exact/client';
import { registerExactEvmScheme as registerFacilitator } from '@x402/evm/exact/facilitator';
import { registerExactEvmScheme as registerServer } from '@x402/evm/exact/server';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { stubEvmChain } from './__fixtures__/evm-chain-stub.js';
import { SELLER } from './__fixtures__/x402-flow.js';
import { guardX402Client } from './buyer/index.js';
import { guardFacilitator } from './facilitator/index.js';
import { createX402Guard } from './seller/index.js';
import { inProcessFacilitator } from './testing/index.js';

const NETWORK = 'eip155:84532' as const;
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

async function setup() {
  const chain = stubEvmChain(USDC);
  const local = registerFacilitator(new x402Facilitator(), { signer: chain.signer, networks: NETWORK });
  const seller = new PolicyEngine();
  seller.loadPolicy({
    id: 'sales',
    rules: [blockAbove(1000, 'USDC'), allowAll()],
    budgets: [dailyBudget(10, 'USDC', { scope: 'agent' })],
  });
  const server = registerServer(
    new x402ResourceServer(guardFacilitator(inProcessFacilitator(local), { names: ['evm'] })),
  );
  const guard = createX402Guard({ engine: seller }).attach(server);
  await server.initialize();
  const account = privateKeyToAccount(generatePrivateKey());
  const buyerEngine = new PolicyEngine();
  buyerEngine.loadPolicy({ id: 'agent', rules: [blockAbove(2, 'USDC'), allowAll()] });
  const client = registerClient(new x402Client(), { signer: account, networks: [NETWORK] });
  client.setSpendControls(false);
  guardX402Client(client, { engine: buyerEngine, agentId: 'buyer-bot' });
  const offer = async (price: string): Promise<{ req: PaymentRequirements; required: PaymentRequired }> => {
    const [req] = await server.buildPaymentRequirements({
      scheme: 'exact',
      network: NETWORK,
      payTo: SELLER,
      price,
    });
    return {
      req: req!,
      required: { x402Version: 2, resource: { url: 'https://api.example.com/x' }, accepts: [req!] },
    };
  };
  return { chain, server, guard, seller, account, client, buyerEngine, offer };
}

describe('guards on @x402/evm exact (real EIP-712 signatures, stubbed chain)', () => {
  it('authorizes, verifies, settles and captures once on both sides', async () => {
    const { chain, server, guard, seller, account, client, buyerEngine, offer } = await setup();
    const { req, required } = await offer('$1.50');
    const payload = await client.createPaymentPayload(required);
    expect(await server.verifyPayment(payload, req)).toMatchObject({ isValid: true, payer: account.address });
    const settled = await server.settlePayment(payload, req);
    expect(settled.success).toBe(true);
    expect(chain.transfers).toHaveLength(1);
    expect(chain.transfers[0]!.value).toBe(1_500_000n);
    const agent = account.address.toLowerCase();
    expect(guard.status(guard.paymentIdOf(payload))).toMatchObject({
      state: 'settled',
      agentId: agent,
      amount: '1.500000',
      transaction: settled.transaction,
      settleSource: 'facilitator',
    });
    expect((await seller.getBudgetStatus({ agentId: agent }))[0]).toMatchObject({ spent: '1.500000' });
    // the buyer's hold is captured when the payment response confirms settlement
    await client.handlePaymentResponse({
      paymentPayload: payload,
      requirements: req,
      settleResponse: settled,
    });
    const held = await buyerEngine.getBudgetStatus({ agentId: 'buyer-bot' });
    expect(held).toEqual([]); // no budgets on the buyer policy: only the block rule
  });

  it('a tampered payment fails verification and its hold is released', async () => {
    const { server, guard, seller, account, client, offer } = await setup();
    const { req, required } = await offer('$1.50');
    const payload = await client.createPaymentPayload(required);
    const auth = payload.payload.authorization as Record<string, string>;
    const tampered: PaymentPayload = {
      ...payload,
      payload: { ...payload.payload, authorization: { ...auth, value: '1' } },
    };
    const v = await server.verifyPayment(tampered, { ...req, amount: '1' });
    expect(v).toMatchObject({ isValid: false, invalidReason: 'invalid_exact_evm_signature' });
    expect(guard.status(guard.paymentIdOf(tampered))).toMatchObject({
      state: 'released',
      failure: 'verify_invalid',
    });
    expect((await seller.getBudgetStatus({ agentId: account.address.toLowerCase() }))[0]).toMatchObject({
      held: '0.000000',
      spent: '0.000000',
    });
  });

  it('the buyer refuses to sign above its cap; the seller refuses above its block rule', async () => {
    const { client, offer, server } = await setup();
    await expect(client.createPaymentPayload((await offer('$5')).required)).rejects.toThrow(
      /amount_above_limit/,
    );
    // a buyer without a cap signs $1500; the seller's block rule refuses it before the facilitator
    const free = registerClient(new x402Client(), {
      signer: privateKeyToAccount(generatePrivateKey()),
      networks: [NETWORK],
    });
    free.setSpendControls(false);
    const big = await offer('$1500');
    const payload = await free.createPaymentPayload(big.required);
    expect(await server.verifyPayment(payload, big.req)).toMatchObject({
      isValid: false,
      invalidReason: 'amount_above_limit',
    });
  });
});
