import type { Scenario } from '../runner/scenario.js';
import { approvalRequired } from './approval-required.js';
import { basicPayment } from './basic-payment.js';
import { blockedRecipient } from './blocked-recipient.js';
import { concurrentBurst } from './concurrent-burst.js';
import { disputeRefund } from './dispute-refund.js';
import { facilitatorOutage } from './facilitator-outage.js';
import { facilitatorTimeout } from './facilitator-timeout.js';
import { multiAgent } from './multi-agent.js';
import { multiProtocol } from './multi-protocol.js';
import { overspend } from './overspend.js';
import { promptInjection } from './prompt-injection.js';
import { rateSpike } from './rate-spike.js';
import { retryStorm } from './retry-storm.js';

export {
  approvalRequired,
  basicPayment,
  blockedRecipient,
  concurrentBurst,
  disputeRefund,
  facilitatorOutage,
  facilitatorTimeout,
  multiAgent,
  multiProtocol,
  overspend,
  promptInjection,
  rateSpike,
  retryStorm,
};

/** Every built-in scenario, in the order the demo runs them. */
export const SCENARIOS: readonly Scenario[] = Object.freeze([
  basicPayment,
  overspend,
  approvalRequired,
  blockedRecipient,
  multiProtocol,
  disputeRefund,
  rateSpike,
  facilitatorTimeout,
  facilitatorOutage,
  multiAgent,
  retryStorm,
  promptInjection,
  concurrentBurst,
]);
