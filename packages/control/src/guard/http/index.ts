export {
  APPROVAL_ID_HEADER,
  approvalStatusAnswer,
  defaultStatusUrl,
  type GateAnswer,
  type GateOutcome,
  type GateRequest,
  HttpGate,
  headerValue,
  IDEMPOTENCY_HEADER,
  intentFromBody,
  normalizeActionPath,
  routeAction,
} from './http-gate.js';
export {
  type BursarRequestContext,
  type HttpGateOptions,
  type HttpIntentFields,
  httpGateShape,
} from './http-options.js';
export { PaymentRequestBody } from './request-body.js';
