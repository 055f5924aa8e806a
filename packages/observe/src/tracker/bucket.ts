/** Sums stay plain numbers while they are safe integers (no allocation per add), then bigint. */
const SAFE = Number.MAX_SAFE_INTEGER;

/** `minor` as a number when that is exact, else Infinity (which forces the bigint path). */
export function safeNumber(minor: bigint): number {
  return minor <= 9_007_199_254_740_991n ? Number(minor) : Number.POSITIVE_INFINITY;
}

/**
 * One time bucket of one series: exact sum of minor units, count and the largest payment.
 * The sum is a JS number while it is a safe integer — exact, and free of a bigint allocation
 * per payment — and switches to bigint for good once it would pass 2^53. About 100 bytes on a
 * 64-bit heap. Internal.
 */
export class Bucket {
  readonly start: number;
  count: number;
  sumNumber: number;
  sumBig: bigint | undefined;
  /** Largest payment while it is a safe integer (else `maxBig`). */
  maxNumber: number;
  maxBig: bigint | undefined;
  maxAt: number;
  maxRecipient: string | undefined;

  constructor(start: number, minor: bigint, minorNumber: number, at: number, recipient: string | undefined) {
    this.start = start;
    this.count = 1;
    const safe = minorNumber <= SAFE;
    this.sumNumber = safe ? minorNumber : 0;
    this.sumBig = safe ? undefined : minor;
    this.maxNumber = safe ? minorNumber : 0;
    this.maxBig = safe ? undefined : minor;
    this.maxAt = at;
    this.maxRecipient = recipient;
  }

  /** The exact sum. */
  get sum(): bigint {
    return this.sumBig ?? BigInt(this.sumNumber);
  }

  /** The exact largest payment. */
  get max(): bigint {
    return this.maxBig ?? BigInt(this.maxNumber);
  }

  add(minor: bigint, minorNumber: number, at: number, recipient: string | undefined): void {
    if (this.sumBig === undefined) {
      const s = this.sumNumber + minorNumber;
      if (s <= SAFE) this.sumNumber = s;
      else this.sumBig = BigInt(this.sumNumber) + minor;
    } else {
      this.sumBig += minor;
    }
    this.count++;
    const bigger =
      this.maxBig === undefined
        ? minorNumber <= SAFE
          ? minorNumber > this.maxNumber
          : true
        : minor > this.maxBig;
    if (bigger) {
      if (minorNumber <= SAFE) this.maxNumber = minorNumber;
      else this.maxBig = minor;
      this.maxAt = at;
      this.maxRecipient = recipient;
    }
  }
}

/** Index of the first bucket whose start is ≥ `start` (buckets are sorted by start). */
export function lowerBound(list: readonly Bucket[], start: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Adds a payment to the bucket starting at `start`, creating it when needed. Payments arrive
 * mostly in time order, so the common case touches only the last bucket. Returns true when a
 * bucket was created.
 */
export function addToBuckets(
  list: Bucket[],
  start: number,
  minor: bigint,
  minorNumber: number,
  at: number,
  recipient: string | undefined,
): boolean {
  const n = list.length;
  const last = list[n - 1];
  if (last !== undefined && last.start === start) {
    last.add(minor, minorNumber, at, recipient);
    return false;
  }
  if (last === undefined || last.start < start) {
    list.push(new Bucket(start, minor, minorNumber, at, recipient));
    return true;
  }
  const i = lowerBound(list, start);
  const found = list[i];
  if (found !== undefined && found.start === start) {
    found.add(minor, minorNumber, at, recipient);
    return false;
  }
  list.splice(i, 0, new Bucket(start, minor, minorNumber, at, recipient));
  return true;
}

/** Drops buckets that start at or before `cutoffStart`; returns how many were dropped. */
export function trimBuckets(list: Bucket[], cutoffStart: number): number {
  let k = 0;
  while (k < list.length && list[k]!.start <= cutoffStart) k++;
  if (k > 0) list.splice(0, k);
  return k;
}
