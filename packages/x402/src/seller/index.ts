export {
  buildIntent,
  defaultAgent,
  defaultPayer,
  defaultResource,
  type MappedAmount,
  type MapResult,
  mapAmount,
  type PaymentFacts,
  type X402PaymentContext,
} from './intent-mapping.js';
export type { PaymentState } from './payment-book.js';
export {
  explicitPaymentId,
  PAYMENT_IDENTIFIER_EXTENSION,
  type PaymentIdentity,
  paymentIdentity,
  paymentTermsKey,
} from './payment-identity.js';
export type { ProvenanceRecorder, SpendRecorder, SpendRecordInput, X402PolicyEngine } from './ports.js';
export {
  createX402Guard,
  type GuardableResourceServer,
  ReconcileOutcome,
  X402Guard,
  type X402PaymentStatus,
} from './x402-guard.js';
export { X402GuardOptions } from './x402-guard-options.js';
