import type { Clock } from '@bursar/core';
import {
  Ap2CredentialProvider,
  type Ap2Faults,
  type Ap2Mandate,
  type Ap2OpenMandateInput,
  type SignedMandate,
} from '../ap2/index.js';
import type { SeededRandom } from '../random/index.js';
import { type GovernedDeps, type GovernedResult, governedPayment } from './governed.js';

/** Options of `ctx.ap2()`. */
export interface ScenarioAp2Options {
  faults?: Ap2Faults;
}

/** Per-payment options. */
export interface Ap2PayOptions {
  idempotencyKey?: string;
  purpose?: string;
  metadata?: Record<string, unknown>;
}

/** An AP2 credential provider whose mandates agents pay under only through the policy engine. */
export interface ScenarioAp2 {
  readonly provider: Ap2CredentialProvider;
  /** The user issues an open mandate to an agent (payees, amount range, budget, expiry). */
  openMandate(input: Ap2OpenMandateInput): SignedMandate;
  /** The agent pays `amount` (decimal) to `payee` under `mandate`: policy first, then the provider's checks. */
  pay(
    agentId: string,
    mandate: SignedMandate<Ap2Mandate>,
    payee: string,
    amount: string,
    options?: Ap2PayOptions,
  ): Promise<GovernedResult>;
}

/** Creates a governed AP2 credential provider (used by `ctx.ap2()`). */
export function createScenarioAp2(
  deps: GovernedDeps & { rng: SeededRandom; clock: Clock },
  options: ScenarioAp2Options,
): ScenarioAp2 {
  const provider = new Ap2CredentialProvider({
    rng: deps.rng.fork('ap2'),
    clock: deps.clock,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  return {
    provider,
    openMandate: (input) => provider.issueOpenMandate(input),
    pay(agentId, mandate, payee, amount, payOptions = {}) {
      const key = payOptions.idempotencyKey;
      return governedPayment(
        deps,
        {
          agentId,
          amount,
          currency: mandate.mandate.currency,
          recipient: payee,
          protocol: 'ap2',
          params: { mandateId: mandate.mandate.id, mandateType: mandate.mandate.type },
          ...(key ? { idempotencyKey: key } : {}),
          ...(payOptions.purpose ? { purpose: payOptions.purpose } : {}),
          ...(payOptions.metadata ? { metadata: payOptions.metadata } : {}),
        },
        async () => {
          const r = await provider.pay({ mandate, payee, amount, ...(key ? { idempotencyKey: key } : {}) });
          if (r.status === 'approved') {
            return {
              status: 'charged',
              amount: r.amount.toDecimalString(),
              text: `charged ${r.amount.format()} under mandate ${r.mandateId}`,
              reference: r.paymentId,
            };
          }
          return { status: 'declined', text: `provider declined: ${r.code}` };
        },
      );
    },
  };
}
