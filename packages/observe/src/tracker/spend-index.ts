import type { Asset } from '@bursar/core';
import { type Dimension, dimensionValue } from './dimension.js';
import { type Granularity, MAX_BUCKET_MS } from './granularity.js';
import type { SpendRecord } from './spend-record.js';
import { SEP, SpendSeries } from './spend-series.js';

/** What an inner map holds: the series of the one currency seen so far, or of several. */
type Slot = SpendSeries | SpendSeries[];

/** Granularity codes, used to index per-payment scratch arrays. */
export const GRANULARITY_CODE: Readonly<Record<Granularity, number>> = { minute: 0, hour: 1, day: 2 };

/**
 * Aggregates by one combination of dimensions. Series are found through two Map levels keyed
 * by the record's own strings (first dimension, then the second — or the rest, joined): no key
 * is built on the hot path for indexes of up to two dimensions, and a string's hash is
 * computed once per payment however many indexes read it. A slot holds the series directly
 * while only one currency was seen there (the common case), saving a memory load. Internal.
 */
export class SpendIndex {
  /** `org`, `agent`, `agent+recipient`, … */
  readonly name: string;
  readonly dimensions: readonly Dimension[];
  /** Finest first. */
  readonly granularities: readonly Granularity[];
  /** Granularity codes (0 minute, 1 hour, 2 day), finest first. */
  readonly codes: readonly number[];
  /** Per granularity: how far behind `now` a bucket may start before it can be trimmed. */
  readonly trimAfter: readonly number[];
  /** Per granularity: retention plus the longest bucket, for series expiry. */
  readonly keepFor: readonly number[];
  readonly groups = new Map<string, Map<string, Slot>>();

  constructor(
    dimensions: readonly Dimension[],
    granularities: readonly Granularity[],
    retention: Readonly<Record<Granularity, number>>,
  ) {
    this.dimensions = dimensions;
    this.granularities = granularities;
    this.codes = granularities.map((g) => GRANULARITY_CODE[g]);
    this.trimAfter = granularities.map((g) => retention[g] + MAX_BUCKET_MS[g]);
    this.keepFor = this.trimAfter;
    this.name = dimensions.length === 0 ? 'org' : dimensions.join('+');
  }

  /** The series a record belongs to; a new one has `expiresAt === 0`. */
  seriesFor(record: SpendRecord, asset: Asset): SpendSeries {
    const dims = this.dimensions;
    const n = dims.length;
    const groupKey = n === 0 ? '' : dimensionValue(record, dims[0]!);
    let restKey = '';
    if (n >= 2) {
      restKey = dimensionValue(record, dims[1]!);
      for (let i = 2; i < n; i++) restKey += SEP + dimensionValue(record, dims[i]!);
    }
    let group = this.groups.get(groupKey);
    if (group === undefined) {
      group = new Map();
      this.groups.set(groupKey, group);
    }
    const slot = group.get(restKey);
    if (slot !== undefined) {
      if (slot instanceof SpendSeries) {
        if (slot.asset === asset || slot.asset.symbol === asset.symbol) return slot;
        const series = new SpendSeries(this, groupKey, restKey, asset);
        group.set(restKey, [slot, series]);
        return series;
      }
      for (let i = 0; i < slot.length; i++) {
        const s = slot[i]!;
        if (s.asset === asset || s.asset.symbol === asset.symbol) return s;
      }
      const series = new SpendSeries(this, groupKey, restKey, asset);
      slot.push(series);
      return series;
    }
    const series = new SpendSeries(this, groupKey, restKey, asset);
    group.set(restKey, series);
    return series;
  }

  /** Forgets a series (retention or the series cap). */
  remove(series: SpendSeries): void {
    series.removed = true;
    const group = this.groups.get(series.groupKey);
    const slot = group?.get(series.restKey);
    if (group === undefined || slot === undefined) return;
    if (slot instanceof SpendSeries) {
      if (slot === series) group.delete(series.restKey);
    } else {
      const rest = slot.filter((s) => s !== series);
      if (rest.length === 0) group.delete(series.restKey);
      else group.set(series.restKey, rest.length === 1 ? rest[0]! : rest);
    }
    if (group.size === 0) this.groups.delete(series.groupKey);
  }

  /** Series whose values equal `filter` (a value per filtered dimension) and currency (if given). */
  *match(
    filter: ReadonlyMap<Dimension, string>,
    currency: string | undefined,
  ): IterableIterator<SpendSeries> {
    const dims = this.dimensions;
    const first = dims[0];
    const groups: Iterable<Map<string, Slot>> =
      first !== undefined && filter.has(first)
        ? [this.groups.get(filter.get(first)!) ?? new Map<string, Slot>()]
        : this.groups.values();
    for (const group of groups) {
      for (const slot of group.values()) {
        const list = slot instanceof SpendSeries ? [slot] : slot;
        for (const series of list) {
          if (currency !== undefined && series.asset.symbol !== currency) continue;
          let ok = true;
          for (let i = 0; i < dims.length; i++) {
            const want = filter.get(dims[i]!);
            if (want !== undefined && series.valueAt(i) !== want) {
              ok = false;
              break;
            }
          }
          if (ok) yield series;
        }
      }
    }
  }
}
