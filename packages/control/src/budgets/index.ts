export {
  type CompiledLimit,
  compileLimits,
  limitApplies,
  limitReason,
  limitReasons,
  type PlannedCheck,
  planCheck,
  planChecks,
  planLimits,
  rollingRetryAfter,
  type ScopeSlot,
  scopeSlot,
  transactionReason,
} from './limits.js';
export {
  fixedBucket,
  parseWindow,
  ROLLING_BUCKETS,
  rollingGranularity,
  type WindowBucket,
  type WindowSpec,
  windowLabel,
} from './window.js';
