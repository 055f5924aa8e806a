export {
  type BuyerPaymentState,
  type BuyerPaymentStatus,
  BuyerReconcileOutcome,
  type GuardableClient,
  guardX402Client,
  X402ClientGuard,
  X402ClientGuardOptions,
} from './x402-client-guard.js';
