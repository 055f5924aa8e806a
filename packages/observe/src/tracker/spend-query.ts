import type { Money } from '@bursar/core';
import type { Dimension } from './dimension.js';
import type { Granularity } from './granularity.js';

/** Which payments a query is about. Every field is optional; currency is case-insensitive. */
export interface SpendFilter {
  agentId?: string;
  recipient?: string;
  action?: string;
  protocol?: string;
  currency?: string;
}

/** A filter plus a time range `[from, to)` in epoch ms (defaults: all retained history, up to and including now). */
export interface SpendRangeQuery extends SpendFilter {
  from?: number;
  to?: number;
}

/** The range a result actually covers. */
export interface CoveredRange {
  /**
   * Start and end of what was summed. Both are the asked bounds rounded outward to whole
   * buckets of the finest granularity still kept there (one minute while minute buckets are
   * kept), so the result is exact for this range.
   */
  from: number;
  to: number;
  /** True when part of the asked range is older than every retained bucket. */
  truncated: boolean;
}

/** The largest single payment in a range. */
export interface LargestPayment {
  amount: Money;
  at: number;
  recipient: string | undefined;
}

/** Spend in one currency. */
export interface CurrencyTotal {
  currency: string;
  total: Money;
  count: number;
  largest: LargestPayment | undefined;
}

/** What `totals()` returns: one entry per currency with spend, largest first. */
export interface SpendTotals extends CoveredRange {
  /** Index the query was answered from (`agent`, `agent+recipient`, …). */
  index: string;
  totals: CurrencyTotal[];
}

/** What `total()` returns: spend in one currency. */
export interface SpendTotal extends CoveredRange, CurrencyTotal {
  index: string;
}

/** `breakdown()` query: spend grouped by one dimension. */
export interface BreakdownQuery extends SpendRangeQuery {
  by: Dimension;
  /** Keep the `limit` largest per currency (default: all). */
  limit?: number;
  /** Rank by amount (default) or by count. */
  rankBy?: 'amount' | 'count';
}

/** One row of a breakdown. `value` is null for payments that did not name the dimension. */
export interface BreakdownRow extends CurrencyTotal {
  value: string | null;
}

/** What `breakdown()` returns: one row per value and currency, largest first within each currency. */
export interface SpendBreakdown extends CoveredRange {
  index: string;
  by: Dimension;
  rows: BreakdownRow[];
}

/** `series()` query: spend per bucket of one granularity. */
export interface SeriesQuery extends SpendRangeQuery {
  granularity: Granularity;
}

/** One bucket of a time series: `[start, end)`, exact total and payment count. */
export interface SeriesPoint {
  start: number;
  end: number;
  total: Money;
  count: number;
}

/** What `series()` returns. */
export interface SpendSeriesResult {
  index: string;
  granularity: Granularity;
  from: number;
  to: number;
  /** True when some buckets of the asked range are no longer kept (they are left out). */
  truncated: boolean;
  /** One dense series (zero-filled) per currency that has spend in range (or the asked currency). */
  currencies: Array<{ currency: string; points: SeriesPoint[] }>;
}

/** `recent()` query. */
export interface RecentQuery extends SpendFilter {
  /** At most this many, newest first (default 100). */
  limit?: number;
  /** Only payments at or after this time. */
  since?: number;
}

/** Counters about the tracker itself. */
export interface SpendTrackerStats {
  /** Payments recorded. */
  recorded: number;
  /** Events without the facts needed to count them (no amount/currency, zero capture). */
  ignored: number;
  /** Events or inputs that failed validation (reported through `onError`). */
  rejected: number;
  /** Payments whose hold id was already recorded. */
  duplicates: number;
  /** `payment.settled` events with a hold id: the capture already counted that payment. */
  settlementsOfCaptures: number;
  /** Bucket writes skipped because the payment was older than that granularity's retention. */
  late: number;
  /** Live series across all indexes. */
  series: number;
  /** Live buckets across all series. */
  buckets: number;
  /** Series dropped early because `maxSeries` was reached. */
  evictedSeries: number;
  /** Payments in the recent window. */
  recent: number;
}
