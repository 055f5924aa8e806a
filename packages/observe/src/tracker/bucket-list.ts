/** Numbers kept per bucket in {@link BucketList.data}, and their offsets. */
const STRIDE = 5;
const START = 0;
const COUNT = 1;
const SUM = 2;
const MAX = 3;
const MAX_AT = 4;

/** Sums stay plain numbers while they are safe integers (no allocation per add), then bigint. */
const SAFE = Number.MAX_SAFE_INTEGER;

/** `minor` as a number when that is exact, else Infinity (which forces the bigint path). */
export function safeNumber(minor: bigint): number {
  return minor <= 9_007_199_254_740_991n ? Number(minor) : Number.POSITIVE_INFINITY;
}

/** The exact sum and largest payment of a bucket once they passed 2^53 minor units. */
interface BigValues {
  sum: bigint | undefined;
  max: bigint | undefined;
}

/**
 * The time buckets of one series at one granularity, sorted by start: per bucket the exact sum
 * of minor units, the count and the largest payment (amount, time, recipient). Internal.
 *
 * Stored flat rather than as one object per bucket: five numbers per bucket in one array of
 * doubles (start, count, sum, largest, its time), which V8 keeps unboxed — 40 bytes a bucket
 * instead of an object of about 120 (its header, eight fields and boxed timestamps), and a new
 * bucket is an append, not an allocation that the garbage collector must copy and promote.
 * Sums and maxima are numbers while they are safe integers — exact — and move to bigint for
 * good once they would pass 2^53 (`#big`, allocated only then). The recipient of the largest
 * payment is kept per bucket only when the series does not imply it: in an index by recipient
 * every payment of a series has the same one.
 *
 * The newest bucket is held in fields of the list itself (`#c…`), the older ones in the
 * array: most payments fall in a series' newest bucket, and adding to it then reads and writes
 * only this object — not the array and its separately allocated elements, two more memory
 * loads that miss the cache when the series was not written recently. The array is touched when
 * a bucket starts (the newest moves into it) and for late payments.
 */
export class BucketList {
  /** {@link STRIDE} numbers per bucket, oldest first; every bucket but the newest. */
  readonly #data: number[] = [];
  /** Recipient of each bucket's largest payment; undefined when `#implied` stands for all. */
  readonly #recipients: (string | undefined)[] | undefined;
  readonly #implied: string | undefined;
  /** Per bucket of the array, exact values past 2^53 (undefined where there are none). */
  #big: (BigValues | undefined)[] | undefined = undefined;
  /** The newest bucket (when {@link #cCount} > 0; a bucket always holds a payment). */
  #cStart = 0;
  #cCount = 0;
  #cSum = 0;
  #cMax = 0;
  #cMaxAt = 0;
  #cRecipient: string | undefined = undefined;
  #cBig: BigValues | undefined = undefined;

  /**
   * @param impliedRecipient `false` to keep the recipient of each bucket's largest payment;
   *   otherwise the recipient every payment of the series has (`undefined`: none).
   */
  constructor(impliedRecipient: string | undefined | false) {
    this.#recipients = impliedRecipient === false ? [] : undefined;
    this.#implied = impliedRecipient === false ? undefined : impliedRecipient;
  }

  get length(): number {
    return this.#data.length / STRIDE + (this.#cCount > 0 ? 1 : 0);
  }

  /** Start of the oldest bucket (+∞ when there is none). */
  get firstStart(): number {
    if (this.#data.length > 0) return this.#data[START]!;
    return this.#cCount > 0 ? this.#cStart : Number.POSITIVE_INFINITY;
  }

  start(i: number): number {
    return this.#isCurrent(i) ? this.#cStart : this.#data[i * STRIDE + START]!;
  }

  count(i: number): number {
    return this.#isCurrent(i) ? this.#cCount : this.#data[i * STRIDE + COUNT]!;
  }

  /** The exact sum of bucket `i`. */
  sum(i: number): bigint {
    if (this.#isCurrent(i)) return this.#cBig?.sum ?? BigInt(this.#cSum);
    return this.#big?.[i]?.sum ?? BigInt(this.#data[i * STRIDE + SUM]!);
  }

  /** The exact largest payment of bucket `i`. */
  max(i: number): bigint {
    if (this.#isCurrent(i)) return this.#cBig?.max ?? BigInt(this.#cMax);
    return this.#big?.[i]?.max ?? BigInt(this.#data[i * STRIDE + MAX]!);
  }

  /** When the largest payment of bucket `i` was made. */
  maxAt(i: number): number {
    return this.#isCurrent(i) ? this.#cMaxAt : this.#data[i * STRIDE + MAX_AT]!;
  }

  /** Recipient of the largest payment of bucket `i`. */
  maxRecipient(i: number): string | undefined {
    if (this.#recipients === undefined) return this.#implied;
    return this.#isCurrent(i) ? this.#cRecipient : this.#recipients[i];
  }

  /** Index of the first bucket whose start is ≥ `start`. */
  lowerBound(start: number): number {
    const i = this.#lowerBoundInArray(start);
    return i === this.#data.length / STRIDE && this.#cCount > 0 && this.#cStart < start ? i + 1 : i;
  }

  /**
   * Adds a payment to the bucket starting at `start`, creating it when needed. Payments arrive
   * mostly in time order, so the common case touches only the newest bucket (this object's own
   * fields). Returns true when a bucket was created.
   */
  add(start: number, minor: bigint, minorNumber: number, at: number, recipient: string | undefined): boolean {
    if (this.#cCount > 0 && this.#cStart === start) {
      this.#addToCurrent(minor, minorNumber, at, recipient);
      return false;
    }
    if (this.#cCount === 0 || this.#cStart < start) {
      if (this.#cCount > 0) this.#retireCurrent();
      const safe = minorNumber <= SAFE;
      this.#cStart = start;
      this.#cCount = 1;
      this.#cSum = safe ? minorNumber : 0;
      this.#cMax = this.#cSum;
      this.#cMaxAt = at;
      this.#cRecipient = recipient;
      this.#cBig = safe ? undefined : { sum: minor, max: minor };
      return true;
    }
    // A late payment: older than the newest bucket, so it belongs to the array.
    const d = this.#data;
    const n = d.length / STRIDE;
    const i = this.#lowerBoundInArray(start);
    if (i < n && d[i * STRIDE + START] === start) {
      this.#addTo(i, minor, minorNumber, at, recipient);
      return false;
    }
    this.#insert(i, start, minor, minorNumber, at, recipient);
    return true;
  }

  /** Drops buckets that start at or before `cutoffStart`; returns how many were dropped. */
  trim(cutoffStart: number): number {
    const d = this.#data;
    const n = d.length / STRIDE;
    let k = 0;
    while (k < n && d[k * STRIDE + START]! <= cutoffStart) k++;
    let dropped = k;
    if (k === n && this.#cCount > 0 && this.#cStart <= cutoffStart) {
      this.#cCount = 0;
      this.#cBig = undefined;
      this.#cRecipient = undefined;
      dropped++;
    }
    if (k === 0) return dropped;
    // splice at the front: V8 moves the array's start instead of its elements (copyWithin
    // and an element loop were 3 to 100 times slower here).
    d.splice(0, k * STRIDE);
    this.#recipients?.splice(0, k);
    const big = this.#big;
    if (big !== undefined) {
      big.splice(0, k);
      if (big.every((b) => b === undefined)) this.#big = undefined;
    }
    return dropped;
  }

  /** Is `i` the newest bucket (held in fields, not in the array)? */
  #isCurrent(i: number): boolean {
    return this.#cCount > 0 && i === this.#data.length / STRIDE;
  }

  #lowerBoundInArray(start: number): number {
    const d = this.#data;
    let lo = 0;
    let hi = d.length / STRIDE;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (d[mid * STRIDE + START]! < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Moves the newest bucket to the end of the array (a newer one starts). */
  #retireCurrent(): void {
    const d = this.#data;
    const n = d.length / STRIDE;
    d.push(this.#cStart, this.#cCount, this.#cSum, this.#cMax, this.#cMaxAt);
    this.#recipients?.push(this.#cRecipient);
    const big = this.#cBig;
    if (this.#big !== undefined) this.#big.push(big);
    else if (big !== undefined) {
      this.#big = new Array<BigValues | undefined>(n + 1).fill(undefined);
      this.#big[n] = big;
    }
  }

  #addToCurrent(minor: bigint, minorNumber: number, at: number, recipient: string | undefined): void {
    const big = this.#cBig;
    if (big?.sum === undefined) {
      const s = this.#cSum + minorNumber;
      if (s <= SAFE) this.#cSum = s;
      else this.#currentBig().sum = BigInt(this.#cSum) + minor;
    } else {
      big.sum += minor;
    }
    this.#cCount += 1;
    const bigger =
      big?.max === undefined ? (minorNumber <= SAFE ? minorNumber > this.#cMax : true) : minor > big.max;
    if (bigger) {
      if (minorNumber <= SAFE) this.#cMax = minorNumber;
      else this.#currentBig().max = minor;
      this.#cMaxAt = at;
      this.#cRecipient = recipient;
    }
  }

  #currentBig(): BigValues {
    let big = this.#cBig;
    if (big === undefined) {
      big = { sum: undefined, max: undefined };
      this.#cBig = big;
    }
    return big;
  }

  #insert(
    i: number,
    start: number,
    minor: bigint,
    minorNumber: number,
    at: number,
    recipient: string | undefined,
  ): void {
    const safe = minorNumber <= SAFE;
    const value = safe ? minorNumber : 0;
    const d = this.#data;
    const n = d.length / STRIDE;
    if (i === n) d.push(start, 1, value, value, at);
    else d.splice(i * STRIDE, 0, start, 1, value, value, at);
    const recipients = this.#recipients;
    if (recipients !== undefined) {
      if (i === n) recipients.push(recipient);
      else recipients.splice(i, 0, recipient);
    }
    const big = safe ? undefined : { sum: minor, max: minor };
    if (this.#big !== undefined) this.#big.splice(i, 0, big);
    else if (big !== undefined) {
      this.#big = new Array<BigValues | undefined>(n + 1).fill(undefined);
      this.#big[i] = big;
    }
  }

  #addTo(i: number, minor: bigint, minorNumber: number, at: number, recipient: string | undefined): void {
    const d = this.#data;
    const o = i * STRIDE;
    const big = this.#big?.[i];
    if (big?.sum === undefined) {
      const s = d[o + SUM]! + minorNumber;
      if (s <= SAFE) d[o + SUM] = s;
      else this.#bigAt(i).sum = BigInt(d[o + SUM]!) + minor;
    } else {
      big.sum += minor;
    }
    d[o + COUNT]! += 1;
    const bigger =
      big?.max === undefined ? (minorNumber <= SAFE ? minorNumber > d[o + MAX]! : true) : minor > big.max;
    if (bigger) {
      if (minorNumber <= SAFE) d[o + MAX] = minorNumber;
      else this.#bigAt(i).max = minor;
      d[o + MAX_AT] = at;
      if (this.#recipients !== undefined) this.#recipients[i] = recipient;
    }
  }

  /** The exact values of bucket `i`, created on first need. */
  #bigAt(i: number): BigValues {
    if (this.#big === undefined) {
      this.#big = new Array<BigValues | undefined>(this.#data.length / STRIDE).fill(undefined);
    }
    let big = this.#big[i];
    if (big === undefined) {
      big = { sum: undefined, max: undefined };
      this.#big[i] = big;
    }
    return big;
  }
}
