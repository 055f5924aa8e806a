export {
  APPROVAL_ID_HEADER,
  type BursarRequestContext,
  type HttpIntentFields,
  PaymentRequestBody,
} from '../guard/http/index.js';
export { type ApprovalStatusHandlerOptions, approvalStatusHandler } from './approval-status-handler.js';
export { type PolicyMiddlewareOptions, policyMiddleware } from './policy-middleware.js';
