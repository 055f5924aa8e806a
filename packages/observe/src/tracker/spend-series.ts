import type { Asset } from '@bursar/core';
import { BucketList } from './bucket-list.js';
import { NONE } from './dimension.js';
import type { SpendIndex } from './spend-index.js';

/** Separates the values of the third and later dimensions in a rest key. */
export const SEP = '\u0001';

/**
 * The buckets of one combination of dimension values and one currency, one list per
 * granularity of its index. The series is itself the list of the finest granularity (most
 * indexes keep one granularity), and the coarser lists are fields, not an array: each saves a
 * memory load per payment and an object per series. `at` is its place in the tracker's expiry
 * heap. Internal.
 */
export class SpendSeries extends BucketList {
  readonly index: SpendIndex;
  /** Value of the first dimension (`''` for the org index). */
  readonly groupKey: string;
  /** Value of the second dimension, or of the second and later ones joined by {@link SEP}. */
  readonly restKey: string;
  readonly asset: Asset;
  /** Buckets of the index's second and third granularity (the series holds the first). */
  readonly list1: BucketList | undefined;
  readonly list2: BucketList | undefined;
  /** When the newest bucket leaves retention; the series can be dropped then. */
  expiresAt = 0;
  /** Heap key: when the sweeper looks at this series next. */
  at = 0;
  /** In the tracker's expiry heap (set when its first payment is written). */
  scheduled = false;
  removed = false;

  constructor(index: SpendIndex, groupKey: string, restKey: string, asset: Asset) {
    const recipient = impliedRecipient(index, groupKey, restKey);
    super(recipient);
    this.index = index;
    this.groupKey = groupKey;
    this.restKey = restKey;
    this.asset = asset;
    const n = index.granularities.length;
    this.list1 = n > 1 ? new BucketList(recipient) : undefined;
    this.list2 = n > 2 ? new BucketList(recipient) : undefined;
  }

  get currency(): string {
    return this.asset.symbol;
  }

  /** The buckets of the index's `g`-th granularity (finest first). */
  list(g: number): BucketList {
    return (g === 0 ? this : g === 1 ? this.list1 : this.list2)!;
  }

  /** Value of the index's `i`-th dimension (`''` = the payment did not name it). */
  valueAt(i: number): string {
    return valueAt(this.index, this.groupKey, this.restKey, i);
  }
}

function valueAt(index: SpendIndex, groupKey: string, restKey: string, i: number): string {
  if (i === 0) return groupKey;
  if (index.dimensions.length === 2) return restKey;
  return restKey.split(SEP)[i - 1] ?? '';
}

/**
 * In an index by recipient every payment of a series has the series' recipient (or none), so
 * its buckets need not store it; `false` when the index is not by recipient.
 */
function impliedRecipient(index: SpendIndex, groupKey: string, restKey: string): string | undefined | false {
  const pos = index.recipientPosition;
  if (pos < 0) return false;
  const value = valueAt(index, groupKey, restKey, pos);
  return value === NONE ? undefined : value;
}
