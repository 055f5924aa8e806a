import { HoldIndex } from './hold-index.js';
import type { SpendRecord } from './spend-record.js';

/**
 * The last `capacity` payments no older than `maxAgeMs`, in a fixed ring: O(1) per payment,
 * memory bounded by the capacity. Also indexes hold ids while their payment is in the ring,
 * so a capture delivered twice is counted once ({@link HoldIndex}: forgetting the oldest
 * payment's hold id reads neither that payment nor its id). Internal.
 */
export class RecentPayments {
  readonly #ring: (SpendRecord | undefined)[];
  readonly #maxAgeMs: number;
  readonly #byHold: HoldIndex;
  #head = 0; // next write position
  #size = 0;
  /** The last hold id looked up and its hash: the push that usually follows reuses it. */
  #lastHold: string | undefined = undefined;
  #lastHash = 0;

  constructor(capacity: number, maxAgeMs: number) {
    this.#ring = new Array<SpendRecord | undefined>(capacity).fill(undefined);
    this.#maxAgeMs = maxAgeMs;
    this.#byHold = new HoldIndex(capacity);
  }

  get size(): number {
    return this.#size;
  }

  hasHold(holdId: string): boolean {
    return this.#byHold.find(holdId, this.#hashOf(holdId)) >= 0;
  }

  push(record: SpendRecord, now: number): void {
    const cap = this.#ring.length;
    if (cap === 0) return;
    this.prune(now);
    const head = this.#head;
    // The old payment at `head` (if any) is not read: its hold id goes by position.
    this.#byHold.delete(head);
    this.#ring[head] = record;
    const holdId = record.holdId;
    if (holdId !== undefined) this.#byHold.set(head, holdId, this.#hashOf(holdId));
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
      this.#byHold.delete(tail);
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

  #hashOf(holdId: string): number {
    if (holdId !== this.#lastHold) {
      this.#lastHold = holdId;
      this.#lastHash = this.#byHold.hash(holdId);
    }
    return this.#lastHash;
  }
}
