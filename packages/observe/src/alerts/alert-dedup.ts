import { MinHeap } from '../internal/index.js';

interface Entry {
  key: string;
  /** No alert with this key before this time. */
  until: number;
  /** When the entry may be forgotten (heap key). */
  at: number;
  /** Alerts with this key dropped since the last one went out. */
  suppressed: number;
}

/**
 * De-duplication with cool-down: after an alert with a key goes out, alerts with the same key
 * are dropped (and counted) until the cool-down ends; the next one that goes out reports how
 * many were dropped. Entries are forgotten from a min-heap once they can no longer matter,
 * and the map never holds more than `maxKeys`. O(log n) per alert. Internal.
 */
export class AlertDedup {
  readonly #entries = new Map<string, Entry>();
  readonly #heap = new MinHeap<Entry>();
  readonly #maxKeys: number;

  constructor(maxKeys: number) {
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * May an alert with `key` go out at `now`? If so it silences the key until `until` and
   * returns how many alerts with the key were dropped before it; if not, returns −1 (a number
   * rather than a result object: this runs for every alert a rule fires, dropped or not).
   */
  admit(key: string, now: number, until: number): number {
    this.#sweep(now);
    const entry = this.#entries.get(key);
    if (entry !== undefined && now < entry.until) {
      entry.suppressed++;
      return -1;
    }
    const suppressedBefore = entry?.suppressed ?? 0;
    // Kept for one more quiet period after `until`, so a late repeat still reports the drops.
    const next: Entry = { key, until, at: until + Math.max(0, until - now), suppressed: 0 };
    this.#entries.set(key, next);
    this.#heap.push(next);
    while (this.#entries.size > this.#maxKeys) {
      const oldest = this.#heap.pop();
      if (oldest === undefined) break;
      if (this.#entries.get(oldest.key) === oldest) this.#entries.delete(oldest.key);
    }
    return suppressedBefore;
  }

  #sweep(now: number): void {
    for (let i = 0; i < 8; i++) {
      const top = this.#heap.peek();
      if (top === undefined || top.at > now) return;
      this.#heap.pop();
      if (this.#entries.get(top.key) === top) this.#entries.delete(top.key);
    }
  }
}
