export {
  type CompiledLimit,
  compileLimits,
  limitApplies,
  limitReason,
  type PlannedCheck,
  planCheck,
  rollingRetryAfter,
  scopeEntries,
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
