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
 *
 * The array's buckets are a window `[#first, #first + #n)` of it: a trim moves the window's
 * start instead of splicing the array (a splice at the front returns the removed elements as a
 * new array, and shrinks the backing store so that a later append must allocate a new one), and
 * an append writes into the room left behind. Once the window reaches the end of the array and
 * the room before it is at least as large as the window, the window is copied to the front: an
 * O(live) copy after as many trims, so a list that drops one bucket per new one allocates
 * nothing once its array has grown to twice its live buckets.
 */
export class BucketList {
  /**
   * {@link STRIDE} numbers per bucket, oldest first; every bucket but the newest, at buckets
   * `#first … #first + #n − 1` of the array (what lies outside is unused room).
   */
  readonly #data: number[] = [];
  /** First bucket of the window in {@link #data} (and in {@link #recipients}). */
  #first = 0;
  /** Buckets in the window. */
  #n = 0;
  /**
   * Recipient of each bucket's largest payment, aligned with {@link #data} (same window, one
   * entry per bucket; unused room holds undefined); undefined when `#implied` stands for all.
   */
  readonly #recipients: (string | undefined)[] | undefined;
  readonly #implied: string | undefined;
  /** Per bucket of the window (index 0 = its first), exact values past 2^53 (undefined where there are none). */
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
    return this.#n + (this.#cCount > 0 ? 1 : 0);
  }

  /** Start of the oldest bucket (+∞ when there is none). */
  get firstStart(): number {
    if (this.#n > 0) return this.#data[this.#first * STRIDE + START]!;
    return this.#cCount > 0 ? this.#cStart : Number.POSITIVE_INFINITY;
  }

  start(i: number): number {
    return this.#isCurrent(i) ? this.#cStart : this.#data[(this.#first + i) * STRIDE + START]!;
  }

  count(i: number): number {
    return this.#isCurrent(i) ? this.#cCount : this.#data[(this.#first + i) * STRIDE + COUNT]!;
  }

  /** The exact sum of bucket `i`. */
  sum(i: number): bigint {
    if (this.#isCurrent(i)) return this.#cBig?.sum ?? BigInt(this.#cSum);
    return this.#big?.[i]?.sum ?? BigInt(this.#data[(this.#first + i) * STRIDE + SUM]!);
  }

  /** The exact largest payment of bucket `i`. */
  max(i: number): bigint {
    if (this.#isCurrent(i)) return this.#cBig?.max ?? BigInt(this.#cMax);
    return this.#big?.[i]?.max ?? BigInt(this.#data[(this.#first + i) * STRIDE + MAX]!);
  }

  /** When the largest payment of bucket `i` was made. */
  maxAt(i: number): number {
    return this.#isCurrent(i) ? this.#cMaxAt : this.#data[(this.#first + i) * STRIDE + MAX_AT]!;
  }

  /** Recipient of the largest payment of bucket `i`. */
  maxRecipient(i: number): string | undefined {
    if (this.#recipients === undefined) return this.#implied;
    return this.#isCurrent(i) ? this.#cRecipient : this.#recipients[this.#first + i];
  }

  /** Index of the first bucket whose start is ≥ `start`. */
  lowerBound(start: number): number {
    const i = this.#lowerBoundInArray(start);
    return i === this.#n && this.#cCount > 0 && this.#cStart < start ? i + 1 : i;
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
    const i = this.#lowerBoundInArray(start);
    if (i < this.#n && this.#data[(this.#first + i) * STRIDE + START] === start) {
      this.#addTo(i, minor, minorNumber, at, recipient);
      return false;
    }
    this.#insert(i, start, minor, minorNumber, at, recipient);
    return true;
  }

  /** Drops buckets that start at or before `cutoffStart`; returns how many were dropped. */
  trim(cutoffStart: number): number {
    const d = this.#data;
    const n = this.#n;
    const first = this.#first;
    // Nothing to drop (the common case): one comparison, and a small integer returned.
    if (n > 0 ? d[first * STRIDE + START]! > cutoffStart : this.#cCount === 0 || this.#cStart > cutoffStart) {
      return 0;
    }
    let k = 0;
    while (k < n && d[(first + k) * STRIDE + START]! <= cutoffStart) k++;
    let dropped = k;
    if (k === n && this.#cCount > 0 && this.#cStart <= cutoffStart) {
      this.#cCount = 0;
      this.#cBig = undefined;
      this.#cRecipient = undefined;
      dropped++;
    }
    if (k === 0) return dropped;
    // The window moves (see the class comment); dropped recipients are let go at once.
    this.#recipients?.fill(undefined, first, first + k);
    this.#n = n - k;
    this.#first = n === k ? 0 : first + k;
    const big = this.#big;
    if (big !== undefined) {
      big.splice(0, k);
      if (big.every((b) => b === undefined)) this.#big = undefined;
    }
    return dropped;
  }

  /** Is `i` the newest bucket (held in fields, not in the array)? */
  #isCurrent(i: number): boolean {
    return this.#cCount > 0 && i === this.#n;
  }

  #lowerBoundInArray(start: number): number {
    const d = this.#data;
    const first = this.#first;
    let lo = 0;
    let hi = this.#n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (d[(first + mid) * STRIDE + START]! < start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Moves the newest bucket to the end of the window (a newer one starts). */
  #retireCurrent(): void {
    const n = this.#n;
    const end = this.#roomAtEnd();
    const d = this.#data;
    const o = end * STRIDE;
    if (o === d.length) {
      d.push(this.#cStart, this.#cCount, this.#cSum, this.#cMax, this.#cMaxAt);
      this.#recipients?.push(this.#cRecipient);
    } else {
      d[o + START] = this.#cStart;
      d[o + COUNT] = this.#cCount;
      d[o + SUM] = this.#cSum;
      d[o + MAX] = this.#cMax;
      d[o + MAX_AT] = this.#cMaxAt;
      if (this.#recipients !== undefined) this.#recipients[end] = this.#cRecipient;
    }
    this.#n = n + 1;
    const big = this.#cBig;
    if (this.#big !== undefined) this.#big.push(big);
    else if (big !== undefined) {
      this.#big = new Array<BigValues | undefined>(n + 1).fill(undefined);
      this.#big[n] = big;
    }
  }

  /**
   * Where the window's next bucket goes (an array index in buckets): first copies the window
   * to the front when it reached the end of the array and the room before it is at least as
   * large as the window itself (amortised O(1) per trimmed bucket).
   */
  #roomAtEnd(): number {
    const first = this.#first;
    const n = this.#n;
    if (first > 0 && (first + n) * STRIDE === this.#data.length && first >= n) {
      // Element loops, not copyWithin: the builtin reads each double as a new heap number.
      const d = this.#data;
      const from = first * STRIDE;
      for (let k = 0; k < n * STRIDE; k++) d[k] = d[from + k]!;
      const r = this.#recipients;
      if (r !== undefined) {
        for (let k = 0; k < n; k++) r[k] = r[first + k];
        for (let k = n; k < first + n; k++) r[k] = undefined;
      }
      this.#first = 0;
      return n;
    }
    return first + n;
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
    const n = this.#n;
    const recipients = this.#recipients;
    if (i === n) {
      const end = this.#roomAtEnd();
      const o = end * STRIDE;
      if (o === d.length) {
        d.push(start, 1, value, value, at);
        recipients?.push(recipient);
      } else {
        d[o + START] = start;
        d[o + COUNT] = 1;
        d[o + SUM] = value;
        d[o + MAX] = value;
        d[o + MAX_AT] = at;
        if (recipients !== undefined) recipients[end] = recipient;
      }
    } else {
      // Between two buckets (rare): the array after it moves up, unused room included, so
      // the arrays stay aligned.
      const p = this.#first + i;
      d.splice(p * STRIDE, 0, start, 1, value, value, at);
      recipients?.splice(p, 0, recipient);
    }
    this.#n = n + 1;
    const big = safe ? undefined : { sum: minor, max: minor };
    if (this.#big !== undefined) this.#big.splice(i, 0, big);
    else if (big !== undefined) {
      this.#big = new Array<BigValues | undefined>(n + 1).fill(undefined);
      this.#big[i] = big;
    }
  }

  #addTo(i: number, minor: bigint, minorNumber: number, at: number, recipient: string | undefined): void {
    const d = this.#data;
    const o = (this.#first + i) * STRIDE;
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
      if (this.#recipients !== undefined) this.#recipients[this.#first + i] = recipient;
    }
  }

  /** The exact values of bucket `i`, created on first need. */
  #bigAt(i: number): BigValues {
    if (this.#big === undefined) {
      this.#big = new Array<BigValues | undefined>(this.#n).fill(undefined);
    }
    let big = this.#big[i];
    if (big === undefined) {
      big = { sum: undefined, max: undefined };
      this.#big[i] = big;
    }
    return big;
  }
}
