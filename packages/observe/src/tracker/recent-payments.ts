import type { SpendRecord } from './spend-record.js';

/**
 * The last `capacity` payments no older than `maxAgeMs`, in a fixed ring: O(1) per payment,
 * memory bounded by the capacity. Also indexes hold ids while their payment is in the ring,
 * so a capture delivered twice is counted once. Internal.
 */
export class RecentPayments {
  readonly #ring: (SpendRecord | undefined)[];
  readonly #maxAgeMs: number;
  readonly #byHold = new Map<string, SpendRecord>();
  #head = 0; // next write position
  #size = 0;

  constructor(capacity: number, maxAgeMs: number) {
    this.#ring = new Array<SpendRecord | undefined>(capacity).fill(undefined);
    this.#maxAgeMs = maxAgeMs;
  }

  get size(): number {
    return this.#size;
  }

  hasHold(holdId: string): boolean {
    return this.#byHold.has(holdId);
  }

  push(record: SpendRecord, now: number): void {
    const cap = this.#ring.length;
    if (cap === 0) return;
    this.prune(now);
    const old = this.#ring[this.#head];
    if (old !== undefined) this.#forget(old);
    this.#ring[this.#head] = record;
    if (record.holdId !== undefined) this.#byHold.set(record.holdId, record);
    this.#head = (this.#head + 1) % cap;
    if (this.#size < cap) this.#size++;
  }

  /** Drops payments older than the age limit (oldest first, stops at the first young one). */
  prune(now: number): void {
    const cap = this.#ring.length;
    const cutoff = now - this.#maxAgeMs;
    while (this.#size > 0) {
      const tail = (this.#head - this.#size + cap) % cap;
      const rec = this.#ring[tail];
      if (rec !== undefined && rec.at >= cutoff) break;
      if (rec !== undefined) this.#forget(rec);
      this.#ring[tail] = undefined;
      this.#size--;
    }
  }

  /** Newest first, at most `limit`, optionally only those `keep` accepts. */
  list(now: number, limit: number, keep?: (r: SpendRecord) => boolean): SpendRecord[] {
    const cap = this.#ring.length;
    const cutoff = now - this.#maxAgeMs;
    const out: SpendRecord[] = [];
    for (let k = 1; k <= this.#size && out.length < limit; k++) {
      const rec = this.#ring[(this.#head - k + cap) % cap];
      if (rec === undefined || rec.at < cutoff) continue;
      if (keep === undefined || keep(rec)) out.push(rec);
    }
    return out;
  }

  #forget(rec: SpendRecord): void {
    // A hold id in the map belongs to the one record of the ring that has it (a second record
    // with that id is a duplicate and never pushed), so no look-up is needed to check whose it is.
    if (rec.holdId !== undefined) this.#byHold.delete(rec.holdId);
  }
}
