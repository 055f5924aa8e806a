import type { Asset } from '@bursar/core';
import type { Bucket } from './bucket.js';
import type { SpendIndex } from './spend-index.js';

/** Separates the values of the third and later dimensions in a rest key. */
export const SEP = '\u0001';

/**
 * The buckets of one combination of dimension values and one currency, one sorted list per
 * granularity of its index. `at` is its place in the tracker's expiry heap. Internal.
 */
export class SpendSeries {
  readonly index: SpendIndex;
  /** Value of the first dimension (`''` for the org index). */
  readonly groupKey: string;
  /** Value of the second dimension, or of the second and later ones joined by {@link SEP}. */
  readonly restKey: string;
  readonly asset: Asset;
  readonly lists: Bucket[][];
  /** The newest bucket of each granularity (the write fast path). */
  head0: Bucket | undefined = undefined;
  head1: Bucket | undefined = undefined;
  head2: Bucket | undefined = undefined;
  /** When the newest bucket leaves retention; the series can be dropped then. */
  expiresAt = 0;
  /** Heap key: when the sweeper looks at this series next. */
  at = 0;
  removed = false;

  constructor(index: SpendIndex, groupKey: string, restKey: string, asset: Asset) {
    this.index = index;
    this.groupKey = groupKey;
    this.restKey = restKey;
    this.asset = asset;
    const n = index.granularities.length;
    this.lists = n === 1 ? [[]] : n === 2 ? [[], []] : [[], [], []];
  }

  get currency(): string {
    return this.asset.symbol;
  }

  /** Value of the index's `i`-th dimension (`''` = the payment did not name it). */
  valueAt(i: number): string {
    if (i === 0) return this.groupKey;
    if (this.index.dimensions.length === 2) return this.restKey;
    return this.restKey.split(SEP)[i - 1] ?? '';
  }
}
