export { DIMENSIONS, type Dimension } from './dimension.js';
export { GRANULARITIES, type Granularity } from './granularity.js';
export type {
  BreakdownQuery,
  BreakdownRow,
  CoveredRange,
  CurrencyTotal,
  LargestPayment,
  RecentQuery,
  SeriesPoint,
  SeriesQuery,
  SpendBreakdown,
  SpendFilter,
  SpendRangeQuery,
  SpendSeriesResult,
  SpendTotal,
  SpendTotals,
  SpendTrackerStats,
} from './spend-query.js';
export type { SpendInput, SpendRecord, SpendSource } from './spend-record.js';
export { type SpendListener, SpendTracker } from './spend-tracker.js';
export {
  DEFAULT_INDEXES,
  DEFAULT_RETENTION,
  type IndexDefinition,
  SpendTrackerOptions,
} from './tracker-options.js';
