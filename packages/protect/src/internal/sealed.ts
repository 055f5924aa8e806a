import type { AuditRecord } from '@bursar/core';

/**
 * A record this package built itself: deep-frozen plain JSON data whose hash was computed from
 * exactly that data. Stores in this package keep such records without copying; anything else
 * is copied. The class is not exported, so nothing outside the package can make one.
 */
class SealedRecord implements AuditRecord {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;

  constructor(
    seq: number,
    at: number,
    type: string,
    data: Readonly<Record<string, unknown>>,
    prevHash: string,
    hash: string,
  ) {
    this.seq = seq;
    this.at = at;
    this.type = type;
    this.data = data;
    this.prevHash = prevHash;
    this.hash = hash;
    Object.freeze(this);
  }
}

/**
 * A frozen record over already deep-frozen data (as `canonicalCopy` makes it), marked as safe
 * to share without a copy.
 */
export function seal(
  seq: number,
  at: number,
  type: string,
  data: Readonly<Record<string, unknown>>,
  prevHash: string,
  hash: string,
): AuditRecord {
  return new SealedRecord(seq, at, type, data, prevHash, hash);
}

/** True for records made by {@link seal}. */
export function isSealed(record: unknown): boolean {
  return record instanceof SealedRecord;
}
