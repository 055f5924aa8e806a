import { x402Client } from '@x402/core/client';
import { x402Facilitator } from '@x402/core/facilitator';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';
import { type GuardedFacilitator, guardFacilitator } from '../facilitator/index.js';
import {
  createTestScheme,
  inProcessFacilitator,
  type TestScheme,
  type TestWallet,
} from '../testing/index.js';
import { SELLER } from './x402-flow.js';

export const RESOURCE = 'https://api.example.com/weather';

export interface DirectFlow {
  scheme: TestScheme;
  server: x402ResourceServer;
  facilitator: GuardedFacilitator;
  requirementsFor(price: string): Promise<PaymentRequirements>;
  sign(wallet: TestWallet, requirements: PaymentRequirements): Promise<PaymentPayload>;
  /** Verify then (if valid) settle, as a transport would. */
  pay(
    payload: PaymentPayload,
    requirements: PaymentRequirements,
  ): Promise<{ verify: VerifyResponse; settle?: SettleResponse; settleError?: unknown }>;
}

/** Hooks registered before the guard, the guard itself, and hooks registered after it. */
export interface DirectFlowSetup {
  before?: (s: x402ResourceServer) => void;
  attach?: (s: x402ResourceServer) => void;
  after?: (s: x402ResourceServer) => void;
}

/** The resource server used directly (no HTTP): the test scheme with an in-process facilitator. */
export async function directFlow(setup: DirectFlowSetup = {}): Promise<DirectFlow> {
  const scheme = createTestScheme();
  const local = new x402Facilitator().register(scheme.network, scheme.facilitator);
  const facilitator = guardFacilitator(inProcessFacilitator(local), { names: ['local'] });
  const server = new x402ResourceServer(facilitator).register(scheme.network, scheme.server);
  setup.before?.(server);
  setup.attach?.(server);
  setup.after?.(server);
  await server.initialize();
  const clients = new Map<string, x402Client>();
  return {
    scheme,
    server,
    facilitator,
    async requirementsFor(price) {
      const [r] = await server.buildPaymentRequirements({
        scheme: 'bursar-test',
        network: scheme.network,
        payTo: SELLER,
        price,
      });
      return r!;
    },
    async sign(wallet, requirements) {
      let client = clients.get(wallet.address);
      if (!client) {
        client = new x402Client().register(scheme.network, scheme.client(wallet));
        client.setSpendControls(false);
        clients.set(wallet.address, client);
      }
      return client.createPaymentPayload({
        x402Version: 2,
        resource: { url: RESOURCE },
        accepts: [requirements],
      });
    },
    async pay(payload, requirements) {
      const verify = await server.verifyPayment(payload, requirements);
      if (!verify.isValid) return { verify };
      try {
        return { verify, settle: await server.settlePayment(payload, requirements) };
      } catch (settleError) {
        return { verify, settleError };
      }
    },
  };
}
