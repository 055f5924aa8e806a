import {
  type Asset,
  type AssetRegistry,
  BursarError,
  type BursarEventMap,
  type Clock,
  defaultAssets,
  ErrorCode,
  type EventBus,
  type HoldEvent,
  Money,
  PAYMENT_ACTION,
  type PaymentSettledEvent,
  systemClock,
  ValidationError,
} from '@bursar/core';
import { ObserveErrorCode } from '../errors/index.js';
import { defaultOnError, MinHeap, parseOptions, safeReport, ZonedCalendar } from '../internal/index.js';
import { BucketCursor } from './bucket-cursor.js';
import { safeNumber } from './bucket-list.js';
import { DIMENSIONS, type Dimension, FILTER_FIELD, NONE } from './dimension.js';
import { GRANULARITIES, type Granularity, Timeline } from './granularity.js';
import { isZeroAmount, readAmount } from './read-amount.js';
import { RecentPayments } from './recent-payments.js';
import { SpendIndex } from './spend-index.js';
import type {
  BreakdownQuery,
  BreakdownRow,
  CoveredRange,
  CurrencyTotal,
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
import type { SpendInput, SpendRecord, SpendSource } from './spend-record.js';
import type { SpendSeries } from './spend-series.js';
import { DEFAULT_INDEXES, DEFAULT_RETENTION, indexIssues, SpendTrackerOptions } from './tracker-options.js';

/** The fields of a payment other than its amount and currency (a `SpendInput` or an event). */
type PaymentFields = Omit<SpendInput, 'amount' | 'currency'>;

/** Listener of recorded payments. */
export type SpendListener = (record: SpendRecord) => void;

interface PlanPart {
  /** Position in the index's granularities. */
  g: number;
  /** Buckets whose start is in `[from, to)`. */
  from: number;
  to: number;
}

interface RangePlan extends CoveredRange {
  parts: PlanPart[];
}

interface Acc {
  asset: Asset;
  sum: bigint;
  count: number;
  max: bigint;
  maxAt: number;
  maxRecipient: string | undefined;
}

const MAX_TEXT = 2048;

/**
 * Executed spend, aggregated as it happens: exact sums (bigint minor units, per currency) in
 * minute / hour / day buckets for each configured index (org, agent, recipient, … and their
 * combinations), plus a bounded window of recent payments.
 *
 * Work per payment is a fixed number of Map reads and bucket updates — independent of how
 * many payments came before. Memory is bounded by retention: a series is dropped once its
 * newest bucket expires, and `maxSeries` caps the number of live series.
 *
 * Counted: `hold.captured` (the `captured` amount, else `amount`) and `payment.settled`
 * without a `holdId` (external spend). A `payment.settled` that carries a `holdId` is the same
 * payment as its capture and is not counted twice.
 *
 * @example
 * const tracker = new SpendTracker({ bus });                  // or tracker.record({...})
 * tracker.total({ agentId: 'research-bot', currency: 'USDC', from: clock.now() - 3_600_000 });
 */
export class SpendTracker {
  readonly #clock: Clock;
  readonly #assets: AssetRegistry;
  /** Options for `Money.parse`, built once (not per payment). */
  readonly #moneyOptions: { assets: AssetRegistry };
  readonly #timeline: Timeline;
  readonly #retention: Readonly<Record<Granularity, number>>;
  readonly #indexes: SpendIndex[];
  readonly #recent: RecentPayments;
  readonly #heap = new MinHeap<SpendSeries>();
  readonly #maxSeries: number;
  readonly #sweepBatch: number;
  readonly #onError: (error: unknown, context: string) => void;
  readonly #listeners = new Set<SpendListener>();
  /** The listeners as an array, rebuilt when they change (iterating it allocates nothing). */
  #listenerList: SpendListener[] = [];
  readonly #detach: Array<() => void> = [];
  /** Per granularity code: does any index use it (1) or not (0). */
  readonly #usedCodes: Uint8Array;
  /** Per granularity code: its retention in ms. */
  readonly #retentionByCode: Float64Array;
  /** The current bucket of each granularity (saves calendar arithmetic per payment). */
  readonly #cursor: BucketCursor;
  /** Scratch for #aggregate: bucket start and writability per granularity code. */
  readonly #starts = new Float64Array(3);
  readonly #writable = new Uint8Array(3);
  #seq = 0;
  #seriesCount = 0;
  #bucketCount = 0;
  readonly #stats = {
    recorded: 0,
    ignored: 0,
    rejected: 0,
    duplicates: 0,
    settlementsOfCaptures: 0,
    late: 0,
    evictedSeries: 0,
  };

  constructor(options: SpendTrackerOptions = {}) {
    const o = parseOptions(SpendTrackerOptions, options, 'SpendTracker');
    const defs = o.indexes ?? DEFAULT_INDEXES;
    const issues = indexIssues(defs);
    if (issues.length > 0) {
      throw new ValidationError(
        ErrorCode.INVALID_OPTIONS,
        `Invalid SpendTracker options: ${issues.join('; ')}`,
        issues.map((message) => ({ path: 'indexes', message })),
      );
    }
    this.#clock = o.clock ?? systemClock;
    this.#assets = o.assets ?? defaultAssets;
    this.#moneyOptions = { assets: this.#assets };
    this.#timeline = new Timeline(new ZonedCalendar(o.timeZone));
    this.#retention = { ...DEFAULT_RETENTION, ...stripUndefined(o.retention ?? {}) };
    this.#indexes = defs.map(
      (d) =>
        new SpendIndex(
          [...d.dimensions].sort((a, b) => DIMENSIONS.indexOf(a) - DIMENSIONS.indexOf(b)),
          GRANULARITIES.filter((g) => d.granularities.includes(g)),
          this.#retention,
        ),
    );
    this.#usedCodes = Uint8Array.from(GRANULARITIES, (g) =>
      this.#indexes.some((ix) => ix.granularities.includes(g)) ? 1 : 0,
    );
    this.#retentionByCode = Float64Array.from(GRANULARITIES, (g) => this.#retention[g]);
    this.#cursor = new BucketCursor(this.#timeline);
    this.#recent = new RecentPayments(o.recent?.capacity ?? 10_000, o.recent?.maxAgeMs ?? 86_400_000);
    this.#maxSeries = o.maxSeries ?? 1_000_000;
    this.#sweepBatch = o.sweepBatch ?? 32;
    this.#onError = o.onError ?? defaultOnError;
    if (o.bus) this.attach(o.bus);
  }

  /** The IANA zone of hour and day buckets. */
  get timeZone(): string {
    return this.#timeline.calendar.timeZone;
  }

  /** The clock the tracker reads. */
  get clock(): Clock {
    return this.#clock;
  }

  /** How long each granularity is kept, in ms. */
  get retention(): Readonly<Record<Granularity, number>> {
    return this.#retention;
  }

  /** Names of the kept indexes (`org`, `agent`, `agent+recipient`, …). */
  get indexes(): string[] {
    return this.#indexes.map((ix) => ix.name);
  }

  /**
   * Subscribes to `hold.captured` and `payment.settled` on a bus. Returns a function that
   * unsubscribes; `close()` unsubscribes everything.
   */
  attach(bus: EventBus<BursarEventMap>): () => void {
    const offs = [
      bus.on('hold.captured', (e) => this.#onCaptured(e)),
      bus.on('payment.settled', (e) => this.#onSettled(e)),
    ];
    const off = () => {
      for (const f of offs) f();
    };
    this.#detach.push(off);
    return off;
  }

  /** Stops listening to every bus and drops listeners. Aggregates stay queryable. */
  close(): void {
    for (const off of this.#detach.splice(0)) off();
    this.#listeners.clear();
    this.#listenerList = [];
  }

  /**
   * Calls `listener` with each recorded payment, after the aggregates include it. Alerts and
   * the anomaly detector hang off this. Returns a function that unsubscribes.
   */
  onRecord(listener: SpendListener): () => void {
    this.#listeners.add(listener);
    this.#listenerList = [...this.#listeners];
    return () => {
      if (this.#listeners.delete(listener)) this.#listenerList = [...this.#listeners];
    };
  }

  /**
   * Records one executed payment. Throws a typed error on bad input (nothing is recorded);
   * returns `undefined` when a payment with the same `holdId` was already recorded.
   */
  record(input: SpendInput): SpendRecord | undefined {
    const isObject = typeof input === 'object' && input !== null;
    return this.#ingest(
      input,
      isObject ? input.amount : undefined,
      isObject ? input.currency : undefined,
      'manual',
    );
  }

  /** Counters about the tracker (recorded, ignored, live series and buckets, …). */
  stats(): SpendTrackerStats {
    return {
      ...this.#stats,
      series: this.#seriesCount,
      buckets: this.#bucketCount,
      recent: this.#recent.size,
    };
  }

  /** Removes every expired series now (the tracker also does this a little on every payment). */
  sweep(): number {
    return this.#sweep(this.#clock.now(), Number.POSITIVE_INFINITY);
  }

  // ---------------------------------------------------------------- queries

  /** Spend per currency over a range, for the filter's combination of dimensions. */
  totals(query: SpendRangeQuery = {}): SpendTotals {
    const now = this.#clock.now();
    const { index, filter, currency } = this.#select(query, undefined);
    const plan = this.#plan(index, query.from, query.to, now);
    const accs = new Map<string, Acc>();
    for (const series of index.match(filter, currency)) this.#accumulate(series, plan, accs);
    const totals = [...accs.values()].map(toCurrencyTotal).sort(byAmountDesc);
    return { index: index.name, from: plan.from, to: plan.to, truncated: plan.truncated, totals };
  }

  /** Spend in one currency over a range (zero when nothing was spent). */
  total(query: SpendRangeQuery & { currency: string }): SpendTotal {
    const asset = this.#assets.require(query.currency);
    const result = this.totals({ ...query, currency: asset.symbol });
    const found = result.totals[0] ?? {
      currency: asset.symbol,
      total: Money.zero(asset),
      count: 0,
      largest: undefined,
    };
    return { index: result.index, from: result.from, to: result.to, truncated: result.truncated, ...found };
  }

  /**
   * Spend grouped by one dimension (`by`), within the filter: e.g. every recipient of one
   * agent, largest first per currency.
   */
  breakdown(query: BreakdownQuery): SpendBreakdown {
    if (!DIMENSIONS.includes(query?.by)) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `breakdown: "by" must be one of ${DIMENSIONS.join(', ')}`,
      );
    }
    const now = this.#clock.now();
    const { index, filter, currency } = this.#select(query, query.by);
    const plan = this.#plan(index, query.from, query.to, now);
    const pos = index.dimensions.indexOf(query.by);
    const groups = new Map<string, Map<string, Acc>>();
    for (const series of index.match(filter, currency)) {
      const value = series.valueAt(pos);
      let accs = groups.get(value);
      if (accs === undefined) {
        accs = new Map();
        groups.set(value, accs);
      }
      this.#accumulate(series, plan, accs);
    }
    const byCurrency = new Map<string, BreakdownRow[]>();
    for (const [value, accs] of groups) {
      for (const acc of accs.values()) {
        const row: BreakdownRow = { value: value === NONE ? null : value, ...toCurrencyTotal(acc) };
        let rows = byCurrency.get(row.currency);
        if (rows === undefined) {
          rows = [];
          byCurrency.set(row.currency, rows);
        }
        rows.push(row);
      }
    }
    const rankByCount = query.rankBy === 'count';
    const rows: BreakdownRow[] = [];
    for (const list of byCurrency.values()) {
      list.sort(
        (a, b) =>
          (rankByCount ? b.count - a.count || byAmountDesc(a, b) : byAmountDesc(a, b)) || byValue(a, b),
      );
      const keep = query.limit !== undefined ? Math.min(list.length, Math.max(0, query.limit)) : list.length;
      for (let i = 0; i < keep; i++) rows.push(list[i]!);
    }
    return { index: index.name, by: query.by, from: plan.from, to: plan.to, truncated: plan.truncated, rows };
  }

  /** A dense time series (one point per bucket, zero-filled) per currency. */
  series(query: SeriesQuery): SpendSeriesResult {
    const now = this.#clock.now();
    const { index, filter, currency } = this.#select(query, undefined);
    const g = index.granularities.indexOf(query?.granularity);
    if (g < 0) {
      throw new BursarError(
        ObserveErrorCode.UNSUPPORTED_QUERY,
        `Index ${index.name} keeps ${index.granularities.join(', ')} buckets, not ${String(query?.granularity)}`,
        { details: { index: index.name, granularities: index.granularities } },
      );
    }
    const gran = index.granularities[g]!;
    const retainedFrom = now - this.#retention[gran];
    const to = query.to ?? now + 1;
    let from = query.from ?? retainedFrom;
    checkRange(from, to);
    let truncated = false;
    let start = this.#timeline.start(gran, from);
    // Skip buckets that left retention.
    while (start < to && this.#timeline.end(gran, start) <= retainedFrom) {
      start = this.#timeline.end(gran, start);
      truncated = query.from !== undefined;
    }
    from = start;
    const starts: number[] = [];
    const ends: number[] = [];
    for (let s = start; s < to; s = this.#timeline.end(gran, s)) {
      starts.push(s);
      ends.push(this.#timeline.end(gran, s));
      if (starts.length > 100_000) {
        throw new BursarError(
          ErrorCode.INVALID_ARGUMENT,
          'series: more than 100,000 points; use a coarser granularity',
        );
      }
    }
    const end = ends.length > 0 ? ends[ends.length - 1]! : from;
    const slot = new Map<number, number>();
    for (let i = 0; i < starts.length; i++) slot.set(starts[i]!, i);
    const perCurrency = new Map<string, { asset: Asset; sums: bigint[]; counts: number[] }>();
    if (currency !== undefined) {
      perCurrency.set(currency, {
        asset: this.#assets.require(currency),
        sums: starts.map(() => 0n),
        counts: starts.map(() => 0),
      });
    }
    for (const series of index.match(filter, currency)) {
      const list = series.list(g);
      let i = list.lowerBound(from);
      for (; i < list.length && list.start(i) < end; i++) {
        const k = slot.get(list.start(i));
        if (k === undefined) continue;
        let acc = perCurrency.get(series.currency);
        if (acc === undefined) {
          acc = { asset: series.asset, sums: starts.map(() => 0n), counts: starts.map(() => 0) };
          perCurrency.set(series.currency, acc);
        }
        acc.sums[k]! += list.sum(i);
        acc.counts[k]! += list.count(i);
      }
    }
    const currencies = [...perCurrency.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([cur, acc]) => ({
        currency: cur,
        points: starts.map(
          (s, k): SeriesPoint => ({
            start: s,
            end: ends[k]!,
            total: Money.fromMinor(acc.sums[k]!, acc.asset),
            count: acc.counts[k]!,
          }),
        ),
      }));
    return { index: index.name, granularity: gran, from, to: end, truncated, currencies };
  }

  /** The most recent payments (newest first) that match the filter, from the bounded window. */
  recent(query: RecentQuery = {}): SpendRecord[] {
    const now = this.#clock.now();
    const currency = query.currency === undefined ? undefined : this.#assets.require(query.currency).symbol;
    const limit = query.limit ?? 100;
    return this.#recent.list(now, limit, (r) => {
      if (query.agentId !== undefined && r.agentId !== query.agentId) return false;
      if (query.recipient !== undefined && r.recipient !== query.recipient) return false;
      if (query.action !== undefined && r.action !== query.action) return false;
      if (query.protocol !== undefined && r.protocol !== query.protocol) return false;
      if (currency !== undefined && r.currency !== currency) return false;
      if (query.since !== undefined && r.at < query.since) return false;
      return true;
    });
  }

  /** Distinct values of the first dimension of an index (e.g. every agent with spend). */
  values(dimension: Dimension): string[] {
    const index = this.#indexes.find((ix) => ix.dimensions.length === 1 && ix.dimensions[0] === dimension);
    if (index === undefined) {
      throw new BursarError(ObserveErrorCode.UNSUPPORTED_QUERY, `No index keeps spend by ${dimension} alone`);
    }
    return [...index.firstValues()].filter((v) => v !== NONE);
  }

  // ---------------------------------------------------------------- recording

  #onCaptured(e: HoldEvent): void {
    const amount = e.captured ?? e.amount;
    if (amount === undefined || e.currency === undefined || isZeroAmount(amount)) {
      this.#stats.ignored++;
      return;
    }
    this.#fromEvent(e, amount, e.currency, 'capture', 'hold.captured');
  }

  #onSettled(e: PaymentSettledEvent): void {
    if (e.holdId !== undefined) {
      this.#stats.settlementsOfCaptures++;
      return;
    }
    if (e.amount === undefined || e.currency === undefined) {
      this.#stats.ignored++;
      return;
    }
    this.#fromEvent(e, e.amount, e.currency, 'settlement', 'payment.settled');
  }

  #fromEvent(
    e: HoldEvent | PaymentSettledEvent,
    amount: string,
    currency: string,
    source: SpendSource,
    context: string,
  ): void {
    try {
      // The event has the input's fields under the same names (`transaction` only on a
      // settlement), so it is read in place rather than copied into an input object.
      this.#ingest(e as PaymentSettledEvent, amount, currency, source);
    } catch (error) {
      // ingest counts the rejection; an invalid event must never break the emitter.
      safeReport(this.#onError, error, `${context} event not recorded`);
    }
  }

  #ingest(
    input: PaymentFields,
    amount: unknown,
    currency: unknown,
    source: SpendSource,
  ): SpendRecord | undefined {
    let record: SpendRecord;
    try {
      record = this.#validate(input, amount, currency, source);
    } catch (error) {
      this.#stats.rejected++;
      throw error;
    }
    if (record.holdId !== undefined && this.#recent.hasHold(record.holdId)) {
      this.#stats.duplicates++;
      return undefined;
    }
    (record as { seq: number }).seq = ++this.#seq;
    const now = this.#clock.now();
    this.#aggregate(record, now);
    this.#recent.push(record, now);
    this.#stats.recorded++;
    this.#sweep(now, this.#sweepBatch);
    const listeners = this.#listenerList;
    for (let i = 0; i < listeners.length; i++) {
      const listener = listeners[i]!;
      try {
        listener(record);
      } catch (error) {
        safeReport(this.#onError, error, 'spend listener failed');
      }
    }
    return record;
  }

  #validate(input: PaymentFields, value: unknown, currency: unknown, source: SpendSource): SpendRecord {
    if (typeof input !== 'object' || input === null) {
      throw invalidPayment('a payment must be an object', '');
    }
    const agentId = text(input.agentId, 'agentId', true, 256)!;
    let amount: Money;
    if (Money.isMoney(value)) {
      amount = value;
      if (currency !== undefined && this.#assets.get(currency as string)?.symbol !== amount.currency) {
        throw invalidPayment(
          `currency ${currency} does not match the amount's ${amount.currency}`,
          'currency',
        );
      }
      if (amount.isNegative()) throw invalidPayment('amount must not be negative', 'amount');
    } else {
      if (typeof currency !== 'string') throw invalidPayment('currency is required', 'currency');
      amount = readAmount(value, this.#assets.require(currency), this.#moneyOptions);
    }
    let at = input.at;
    if (at === undefined) at = this.#clock.now();
    else if (typeof at !== 'number' || !Number.isFinite(at))
      throw invalidPayment('at must be epoch ms', 'at');
    return {
      seq: 0,
      at,
      agentId,
      amount,
      currency: amount.currency,
      recipient: text(input.recipient, 'recipient', false, MAX_TEXT),
      action: text(input.action, 'action', false, 256) ?? PAYMENT_ACTION,
      protocol: text(input.protocol, 'protocol', false, 64),
      network: text(input.network, 'network', false, 128),
      holdId: text(input.holdId, 'holdId', false, 256),
      intentId: text(input.intentId, 'intentId', false, 256),
      transaction: text(input.transaction, 'transaction', false, 512),
      source,
    };
  }

  #aggregate(record: SpendRecord, now: number): void {
    const at = record.at;
    const minor = record.amount.minor;
    const minorNumber = safeNumber(minor);
    const asset = record.amount.asset;
    const recipient = record.recipient;
    // Bucket starts, and whether each granularity still keeps that time: once per payment.
    const cursor = this.#cursor;
    const starts = this.#starts;
    const writable = this.#writable;
    for (let k = 0; k < 3; k++) {
      if (!this.#usedCodes[k]) continue;
      starts[k] = cursor.start(k, at);
      writable[k] = cursor.end(k) > now - this.#retentionByCode[k]! ? 1 : 0;
      if (writable[k] === 0) this.#stats.late++;
    }
    const indexes = this.#indexes;
    for (let x = 0; x < indexes.length; x++) {
      const index = indexes[x]!;
      const codes = index.codes;
      let series: SpendSeries | undefined;
      let created = false;
      for (let i = 0; i < codes.length; i++) {
        const code = codes[i]!;
        if (writable[code] === 0) continue;
        if (series === undefined) {
          series = index.seriesFor(record, asset);
          created = !series.scheduled;
        }
        const start = starts[code]!;
        const list = series.list(i);
        if (list.add(start, minor, minorNumber, at, recipient)) {
          this.#bucketCount++;
          const cutoff = now - index.trimAfter[i]!;
          this.#bucketCount -= list.trim(cutoff);
          // Only a new bucket can move the expiry: an existing one (same start) was counted
          // when it was created. Skipping the read saves a memory load per payment (a double
          // field is a separate heap number).
          const expires = start + index.keepFor[i]!;
          if (expires > series.expiresAt) series.expiresAt = expires;
        }
      }
      if (created && series !== undefined) {
        this.#seriesCount++;
        series.scheduled = true;
        series.at = series.expiresAt;
        this.#heap.push(series);
        if (this.#seriesCount > this.#maxSeries) this.#evictOne(series);
      }
    }
  }

  /** Drops the series that expires first, unless that is `keep` (the one being written). */
  #evictOne(keep: SpendSeries): void {
    for (;;) {
      const top = this.#heap.pop();
      if (top === undefined) return;
      if (top.removed) continue;
      if (top.at < top.expiresAt) {
        // Written since it was scheduled: put it back at its real expiry.
        top.at = top.expiresAt;
        this.#heap.push(top);
        continue;
      }
      if (top === keep) {
        this.#heap.push(top);
        return;
      }
      this.#removeSeries(top);
      this.#stats.evictedSeries++;
      return;
    }
  }

  #sweep(now: number, budget: number): number {
    let removed = 0;
    let steps = 0;
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined || top.at > now || steps >= budget) return removed;
      steps++;
      this.#heap.pop();
      if (top.removed) continue;
      if (top.expiresAt > now) {
        top.at = top.expiresAt;
        this.#heap.push(top);
        continue;
      }
      this.#removeSeries(top);
      removed++;
    }
  }

  #removeSeries(series: SpendSeries): void {
    series.index.remove(series);
    this.#seriesCount--;
    this.#bucketCount -= series.length + (series.list1?.length ?? 0) + (series.list2?.length ?? 0);
  }

  // ---------------------------------------------------------------- query internals

  #select(
    query: SpendFilter,
    by: Dimension | undefined,
  ): { index: SpendIndex; filter: Map<Dimension, string>; currency: string | undefined } {
    if (typeof query !== 'object' || query === null) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'A query must be an object');
    }
    const filter = new Map<Dimension, string>();
    for (const d of DIMENSIONS) {
      const v = query[FILTER_FIELD[d]];
      if (v !== undefined) {
        if (typeof v !== 'string') {
          throw new BursarError(ErrorCode.INVALID_ARGUMENT, `${FILTER_FIELD[d]} must be a string`);
        }
        filter.set(d, v);
      }
    }
    const wanted = new Set<Dimension>(filter.keys());
    if (by !== undefined) wanted.add(by);
    const index = this.#indexes.find(
      (ix) => ix.dimensions.length === wanted.size && ix.dimensions.every((d) => wanted.has(d)),
    );
    if (index === undefined) {
      const name = wanted.size === 0 ? 'org' : DIMENSIONS.filter((d) => wanted.has(d)).join('+');
      throw new BursarError(
        ObserveErrorCode.UNSUPPORTED_QUERY,
        `No index keeps spend by ${name}; kept: ${this.indexes.join(', ')}. Add it with the "indexes" option`,
        { details: { wanted: name, indexes: this.indexes } },
      );
    }
    const currency = query.currency === undefined ? undefined : this.#assets.require(query.currency).symbol;
    return { index, filter, currency };
  }

  /**
   * Splits `[from, to)` into runs of whole buckets, coarsest first where they fit, each run
   * using buckets still kept. Buckets nest (days ⊃ hours ⊃ minutes), so the runs tile the
   * range without overlap.
   */
  #plan(index: SpendIndex, qFrom: number | undefined, qTo: number | undefined, now: number): RangePlan {
    const tl = this.#timeline;
    const grans = index.granularities;
    const ret = grans.map((g) => now - this.#retention[g]);
    const finestAt = (t: number): number => {
      for (let i = 0; i < grans.length; i++) {
        if (tl.end(grans[i]!, tl.start(grans[i]!, t)) > ret[i]!) return i;
      }
      return -1;
    };
    const coarse = grans.length - 1;
    let to = qTo ?? now + 1;
    let from = qFrom ?? ret[coarse]!;
    checkRange(from, to);
    let truncated = false;
    if (finestAt(from) < 0) {
      let s = tl.start(grans[coarse]!, ret[coarse]!);
      if (tl.end(grans[coarse]!, s) <= ret[coarse]!) s = tl.end(grans[coarse]!, s);
      truncated = qFrom !== undefined;
      from = s;
    }
    if (to <= from) return { parts: [], from, to: Math.max(from, to), truncated };
    const gFrom = finestAt(from);
    const gTo = finestAt(to - 1);
    let cursor = tl.start(grans[gFrom]!, from);
    let end = tl.end(grans[gTo]!, tl.start(grans[gTo]!, to - 1));
    from = cursor;
    to = end;
    const parts: PlanPart[] = [];
    const take = (g: number, s: number, e: number) => {
      const last = parts[parts.length - 1];
      if (last !== undefined && last.g === g && last.to === s) last.to = e;
      else parts.push({ g, from: s, to: e });
    };
    let guard = 0;
    while (cursor < end) {
      if (++guard > 1_000_000) throw new BursarError(ErrorCode.INTERNAL, 'range plan did not converge');
      let taken = false;
      for (let i = coarse; i >= 0; i--) {
        const g = grans[i]!;
        if (tl.start(g, cursor) !== cursor) continue;
        const e = tl.end(g, cursor);
        if (e > end || e <= ret[i]!) continue;
        take(i, cursor, e);
        cursor = e;
        taken = true;
        break;
      }
      if (!taken) {
        // Only a bucket that reaches past `end` is kept here: take it and widen the range.
        const i = Math.max(0, finestAt(cursor));
        const g = grans[i]!;
        const s = tl.start(g, cursor);
        const e = tl.end(g, s);
        take(i, s, e);
        cursor = e;
        if (e > end) end = e;
        to = end;
      }
    }
    return { parts, from, to, truncated };
  }

  #accumulate(series: SpendSeries, plan: RangePlan, accs: Map<string, Acc>): void {
    let acc: Acc | undefined;
    for (const part of plan.parts) {
      const list = series.list(part.g);
      for (let i = list.lowerBound(part.from); i < list.length; i++) {
        if (list.start(i) >= part.to) break;
        if (acc === undefined) {
          acc = accs.get(series.currency);
          if (acc === undefined) {
            acc = { asset: series.asset, sum: 0n, count: 0, max: -1n, maxAt: 0, maxRecipient: undefined };
            accs.set(series.currency, acc);
          }
        }
        acc.sum += list.sum(i);
        acc.count += list.count(i);
        const max = list.max(i);
        const maxAt = list.maxAt(i);
        if (max > acc.max || (max === acc.max && maxAt < acc.maxAt)) {
          acc.max = max;
          acc.maxAt = maxAt;
          acc.maxRecipient = list.maxRecipient(i);
        }
      }
    }
  }
}

function toCurrencyTotal(acc: Acc): CurrencyTotal {
  return {
    currency: acc.asset.symbol,
    total: Money.fromMinor(acc.sum, acc.asset),
    count: acc.count,
    largest:
      acc.count > 0
        ? { amount: Money.fromMinor(acc.max, acc.asset), at: acc.maxAt, recipient: acc.maxRecipient }
        : undefined,
  };
}

function byAmountDesc(a: CurrencyTotal, b: CurrencyTotal): number {
  const x = a.total.minor;
  const y = b.total.minor;
  return x > y ? -1 : x < y ? 1 : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0;
}

function byValue(a: BreakdownRow, b: BreakdownRow): number {
  const x = a.value ?? '';
  const y = b.value ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function checkRange(from: number, to: number): void {
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'from and to must be finite epoch ms');
  }
}

function invalidPayment(message: string, path: string): ValidationError {
  return new ValidationError(ObserveErrorCode.INVALID_PAYMENT, `Invalid payment: ${message}`, [
    { path, message },
  ]);
}

function text(value: unknown, field: string, required: boolean, max: number): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw invalidPayment(`${field} is required`, field);
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalidPayment(`${field} must be a non-empty string of at most ${max} characters`, field);
  }
  return value;
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]-?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]-?: Exclude<T[K], undefined>;
  };
}
