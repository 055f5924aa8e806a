import { BursarError, ErrorCode } from '@bursar/core';
import { ObserveErrorCode } from '../errors/index.js';
import type { Dimension } from '../tracker/dimension.js';
import type { Granularity } from '../tracker/granularity.js';
import type { BreakdownRow, CurrencyTotal, SpendFilter, SpendSeriesResult } from '../tracker/spend-query.js';
import type { SpendRecord } from '../tracker/spend-record.js';
import type { SpendTracker } from '../tracker/spend-tracker.js';

/** A time range `[from, to)` in epoch ms; defaults to all retained history up to now. */
export interface ReportRange {
  from?: number;
  to?: number;
}

/** Everything about one agent's spend in a range. Sections whose index is not kept are absent. */
export interface AgentReport {
  agentId: string;
  /** The range covered (asked range rounded outward to whole buckets). */
  from: number;
  to: number;
  truncated: boolean;
  /** Spend, count and largest payment per currency, largest spend first. */
  totals: CurrencyTotal[];
  /** Every recipient, largest first per currency. */
  byRecipient?: BreakdownRow[];
  /** The `top` largest recipients per currency. */
  topRecipients?: BreakdownRow[];
  byProtocol?: BreakdownRow[];
  byAction?: BreakdownRow[];
  series?: SpendSeriesResult;
  /** The newest payments from the recent window. */
  recent: SpendRecord[];
}

/** Org-wide spend in a range. */
export interface OrgSummary {
  from: number;
  to: number;
  truncated: boolean;
  totals: CurrencyTotal[];
  /** Agents with spend in range. */
  activeAgents?: number;
  topAgents?: BreakdownRow[];
  topRecipients?: BreakdownRow[];
  byProtocol?: BreakdownRow[];
  byAction?: BreakdownRow[];
}

/** A leaderboard query: the top values of one dimension. */
export interface LeaderboardQuery extends ReportRange, SpendFilter {
  by: Dimension;
  /** Rows per currency (default 10). */
  limit?: number;
  rankBy?: 'amount' | 'count';
}

const HOUR = 3_600_000;

/**
 * Reports over a `SpendTracker`: per-agent reports, an org summary and leaderboards. Every
 * amount is exact (`Money`, summed as bigint minor units); ranking sorts with bigint
 * comparisons, never through floats or `Math.max(...bigArray)`. Queries read bucketed
 * aggregates, so their cost depends on the number of series, not of payments.
 *
 * @example
 * const analytics = new SpendAnalytics({ tracker });
 * const report = analytics.agentReport({ agentId: 'research-bot', from: clock.now() - 86_400_000 });
 * report.topRecipients?.[0]?.total.format(); // '412.50 USDC'
 */
export class SpendAnalytics {
  readonly #tracker: SpendTracker;

  constructor(options: { tracker: SpendTracker }) {
    if (typeof options?.tracker?.breakdown !== 'function') {
      throw new BursarError(ErrorCode.INVALID_OPTIONS, 'SpendAnalytics needs { tracker: SpendTracker }');
    }
    this.#tracker = options.tracker;
  }

  /** One agent: totals, recipients (all and top N), protocols, actions, a time series, recent payments. */
  agentReport(
    query: ReportRange & { agentId: string; top?: number; granularity?: Granularity; recent?: number },
  ): AgentReport {
    if (typeof query?.agentId !== 'string' || query.agentId.length === 0) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'agentReport needs an agentId');
    }
    const t = this.#tracker;
    const range = { from: query.from, to: query.to };
    const totals = t.totals({ ...range, agentId: query.agentId });
    const top = query.top ?? 5;
    const byRecipient = optional(
      () => t.breakdown({ ...range, agentId: query.agentId, by: 'recipient' }).rows,
    );
    const report: AgentReport = {
      agentId: query.agentId,
      from: totals.from,
      to: totals.to,
      truncated: totals.truncated,
      totals: totals.totals,
      recent: t.recent({ agentId: query.agentId, limit: query.recent ?? 10 }),
    };
    if (byRecipient) {
      report.byRecipient = byRecipient;
      report.topRecipients = topPerCurrency(byRecipient, top);
    }
    const byProtocol = optional(() => t.breakdown({ ...range, agentId: query.agentId, by: 'protocol' }).rows);
    if (byProtocol) report.byProtocol = byProtocol;
    const byAction = optional(() => t.breakdown({ ...range, agentId: query.agentId, by: 'action' }).rows);
    if (byAction) report.byAction = byAction;
    const series = this.#series({ agentId: query.agentId }, totals.from, totals.to, query.granularity);
    if (series) report.series = series;
    return report;
  }

  /** Org-wide totals, active agents, top agents and recipients, protocol and action mix. */
  orgSummary(query: ReportRange & { top?: number } = {}): OrgSummary {
    const t = this.#tracker;
    const range = { from: query.from, to: query.to };
    const top = query.top ?? 10;
    const totals = t.totals(range);
    const summary: OrgSummary = {
      from: totals.from,
      to: totals.to,
      truncated: totals.truncated,
      totals: totals.totals,
    };
    const agents = optional(() => t.breakdown({ ...range, by: 'agent' }).rows);
    if (agents) {
      summary.activeAgents = new Set(agents.map((r) => r.value)).size;
      summary.topAgents = topPerCurrency(agents, top);
    }
    const recipients = optional(() => t.breakdown({ ...range, by: 'recipient', limit: top }).rows);
    if (recipients) summary.topRecipients = recipients;
    const protocols = optional(() => t.breakdown({ ...range, by: 'protocol' }).rows);
    if (protocols) summary.byProtocol = protocols;
    const actions = optional(() => t.breakdown({ ...range, by: 'action' }).rows);
    if (actions) summary.byAction = actions;
    return summary;
  }

  /** The top values of one dimension per currency (agents, recipients, protocols or actions). */
  leaderboard(query: LeaderboardQuery): BreakdownRow[] {
    const { limit = 10, ...rest } = query;
    return this.#tracker.breakdown({ ...rest, limit }).rows;
  }

  #series(
    filter: SpendFilter,
    from: number,
    to: number,
    granularity: Granularity | undefined,
  ): SpendSeriesResult | undefined {
    // The finest granularity still kept over the whole range, at most ~500 points.
    const now = this.#tracker.clock.now();
    const retention = this.#tracker.retention;
    const size: Record<Granularity, number> = { minute: 60_000, hour: HOUR, day: 24 * HOUR };
    const wanted: Granularity[] = granularity
      ? [granularity]
      : (['minute', 'hour', 'day'] as const).filter(
          (g) => g === 'day' || ((to - from) / size[g] <= 500 && from >= now - retention[g]),
        );
    for (const g of wanted) {
      const s = optional(() => this.#tracker.series({ ...filter, from, to, granularity: g }));
      if (s) return s;
    }
    return undefined;
  }
}

/** The first `n` rows of each currency (rows arrive sorted per currency). */
function topPerCurrency(rows: readonly BreakdownRow[], n: number): BreakdownRow[] {
  const seen = new Map<string, number>();
  const out: BreakdownRow[] = [];
  for (const row of rows) {
    const k = seen.get(row.currency) ?? 0;
    if (k < n) out.push(row);
    seen.set(row.currency, k + 1);
  }
  return out;
}

/** Runs a query; `undefined` when the tracker keeps no index for it. */
function optional<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    if (BursarError.hasCode(error, ObserveErrorCode.UNSUPPORTED_QUERY)) return undefined;
    throw error;
  }
}
