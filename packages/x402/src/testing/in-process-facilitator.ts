import type { FacilitatorClient } from '@x402/core/server';
import type { SupportedResponse } from '@x402/core/types';
import type { ServableFacilitator } from './facilitator-server.js';

/**
 * A `FacilitatorClient` that calls a facilitator (e.g. an `x402Facilitator`) in this process,
 * with no HTTP in between: the stub for benchmarks and fast tests.
 */
export function inProcessFacilitator(facilitator: ServableFacilitator): FacilitatorClient {
  return {
    verify: (payload, requirements) => facilitator.verify(payload, requirements),
    settle: (payload, requirements) => facilitator.settle(payload, requirements),
    getSupported: async () => {
      const s = (await facilitator.getSupported()) as Partial<SupportedResponse>;
      return { kinds: s.kinds ?? [], extensions: s.extensions ?? [], signers: s.signers ?? {} };
    },
  };
}
