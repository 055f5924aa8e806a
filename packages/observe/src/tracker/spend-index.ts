import type { Asset } from '@bursar/core';
import { type Dimension, dimensionValue } from './dimension.js';
import { type Granularity, MAX_BUCKET_MS } from './granularity.js';
import type { SpendRecord } from './spend-record.js';
import { SEP, SpendSeries } from './spend-series.js';

/** What an inner map holds: the series of the one currency seen so far, or of several. */
type Slot = SpendSeries | SpendSeries[];

/**
 * What the first level of an index of two or more dimensions holds per first value: the slot
 * of the one rest value seen so far (most agents use one action and one protocol), or a map
 * from rest key to slot once there are several.
 */
type Group = Slot | Map<string, Slot>;

/** Granularity codes, used to index per-payment scratch arrays. */
export const GRANULARITY_CODE: Readonly<Record<Granularity, number>> = { minute: 0, hour: 1, day: 2 };

/**
 * Aggregates by one combination of dimensions. Series are found by the record's own strings,
 * so no key is built on the hot path for indexes of up to two dimensions, and a string's hash
 * is computed once per payment however many indexes read it: an index of one dimension (or
 * none, `org`) maps its value straight to the slot; an index of two or more has two levels
 * (first dimension, then the second — or the rest, joined), and the second level is a Map only
 * once a first value has several rest values: until then the group is that one slot (an agent
 * that uses one action or one protocol costs one Map look-up there, not two, and no inner Map).
 * A slot holds the series directly while only one currency was seen there (the common case),
 * saving a memory load. Internal.
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
  /** Position of the recipient among the dimensions (−1: not one of them). */
  readonly recipientPosition: number;
  /** One dimension or none: value (`''` for `org`) → slot. */
  readonly #slots = new Map<string, Slot>();
  /** Two dimensions or more: first value → the slot of its one rest key, or rest key → slot. */
  readonly #groups = new Map<string, Group>();

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
    this.recipientPosition = dimensions.indexOf('recipient');
    this.name = dimensions.length === 0 ? 'org' : dimensions.join('+');
  }

  /** The series a record belongs to; a new one has `expiresAt === 0`. */
  seriesFor(record: SpendRecord, asset: Asset): SpendSeries {
    const dims = this.dimensions;
    const n = dims.length;
    const groupKey = n === 0 ? '' : dimensionValue(record, dims[0]!);
    if (n < 2) return this.#inSlot(this.#slots, groupKey, groupKey, '', asset);
    let restKey = dimensionValue(record, dims[1]!);
    for (let i = 2; i < n; i++) restKey += SEP + dimensionValue(record, dims[i]!);
    const group = this.#groups.get(groupKey);
    if (group === undefined) {
      const series = new SpendSeries(this, groupKey, restKey, asset);
      this.#groups.set(groupKey, series);
      return series;
    }
    if (group instanceof Map) return this.#inSlot(group, restKey, groupKey, restKey, asset);
    if (slotRestKey(group) === restKey)
      return this.#inFound(this.#groups, groupKey, group, groupKey, restKey, asset);
    // A second rest value for this first value: from now on a Map of slots.
    const map = new Map<string, Slot>([[slotRestKey(group), group]]);
    this.#groups.set(groupKey, map);
    return this.#inSlot(map, restKey, groupKey, restKey, asset);
  }

  /** The series of `asset` in `map`'s slot at `key`, created (and stored there) if missing. */
  #inSlot(map: Map<string, Slot>, key: string, groupKey: string, restKey: string, asset: Asset): SpendSeries {
    const slot = map.get(key);
    if (slot !== undefined) return this.#inFound(map, key, slot, groupKey, restKey, asset);
    const series = new SpendSeries(this, groupKey, restKey, asset);
    map.set(key, series);
    return series;
  }

  /** The series of `asset` in `slot` (what `map` holds at `key`), added to it if missing. */
  #inFound(
    map: Map<string, Group>,
    key: string,
    slot: Slot,
    groupKey: string,
    restKey: string,
    asset: Asset,
  ): SpendSeries {
    if (slot instanceof SpendSeries) {
      if (slot.asset === asset || slot.asset.symbol === asset.symbol) return slot;
      const series = new SpendSeries(this, groupKey, restKey, asset);
      map.set(key, [slot, series]);
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

  /** Forgets a series (retention or the series cap). */
  remove(series: SpendSeries): void {
    series.removed = true;
    if (this.dimensions.length < 2) {
      removeFromSlot(this.#slots, series.groupKey, series);
      return;
    }
    const group = this.#groups.get(series.groupKey);
    if (group === undefined) return;
    if (!(group instanceof Map)) {
      if (slotRestKey(group) === series.restKey) removeFromSlot(this.#groups, series.groupKey, series);
      return;
    }
    removeFromSlot(group, series.restKey, series);
    if (group.size === 0) this.#groups.delete(series.groupKey);
    else if (group.size === 1) {
      // Back to one rest value: the group is its slot again (one look-up less per payment).
      const only = group.values().next().value as Slot;
      this.#groups.set(series.groupKey, only);
    }
  }

  /** Distinct values of the first dimension that have live series. */
  firstValues(): IterableIterator<string> {
    return this.dimensions.length < 2 ? this.#slots.keys() : this.#groups.keys();
  }

  /** Series whose values equal `filter` (a value per filtered dimension) and currency (if given). */
  *match(
    filter: ReadonlyMap<Dimension, string>,
    currency: string | undefined,
  ): IterableIterator<SpendSeries> {
    const dims = this.dimensions;
    const first = dims[0];
    const firstValue = first === undefined ? undefined : filter.get(first);
    let slots: Iterable<Slot>;
    if (dims.length < 2) {
      if (firstValue === undefined) slots = this.#slots.values();
      else {
        const slot = this.#slots.get(firstValue);
        slots = slot === undefined ? [] : [slot];
      }
    } else if (firstValue !== undefined) {
      const group = this.#groups.get(firstValue);
      slots = group === undefined ? [] : group instanceof Map ? group.values() : [group];
    } else {
      slots = allSlots(this.#groups);
    }
    for (const slot of slots) {
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

function* allSlots(groups: Map<string, Group>): IterableIterator<Slot> {
  for (const group of groups.values()) {
    if (group instanceof Map) yield* group.values();
    else yield group;
  }
}

/** The rest key every series of a slot shares. */
function slotRestKey(slot: Slot): string {
  return slot instanceof SpendSeries ? slot.restKey : slot[0]!.restKey;
}

/** Takes `series` out of `map`'s slot at `key` (deleting the slot once empty). */
function removeFromSlot(map: Map<string, Group>, key: string, series: SpendSeries): void {
  const slot = map.get(key);
  if (slot === undefined || slot instanceof Map) return;
  if (slot instanceof SpendSeries) {
    if (slot === series) map.delete(key);
    return;
  }
  const rest = slot.filter((s) => s !== series);
  if (rest.length === 0) map.delete(key);
  else map.set(key, rest.length === 1 ? rest[0]! : rest);
}
