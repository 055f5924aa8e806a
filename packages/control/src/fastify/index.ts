export {
  APPROVAL_ID_HEADER,
  type BursarRequestContext,
  type HttpIntentFields,
  PaymentRequestBody,
} from '../guard/http/index.js';
export { type BursarRouteConfig, type PolicyPluginOptions, policyPlugin } from './policy-plugin.js';
