import { StampedRecencyMap } from './stamped-recency-map.js';

interface Box<V> {
  value: V;
  recency: number;
}

/**
 * A Map with a size cap that forgets the least recently used keys, at O(1) amortised cost.
 *
 * A plain LRU moves a key to the end on every read (a delete and a set). Here a key is moved
 * only when it has drifted into the older half of the map, which keeps reads cheap and still
 * evicts only keys that were not used during the last `capacity / 2` insertions. For any value:
 * each is kept in a small box carrying its recency stamp ({@link StampedRecencyMap}, which does
 * the bookkeeping, keeps the stamp on values that are objects of ours). Internal.
 */
export class RecencyMap<K, V> {
  readonly #map: StampedRecencyMap<K, Box<V>>;

  constructor(capacity: number, onEvict?: (key: K, value: V) => void) {
    this.#map = new StampedRecencyMap<K, Box<V>>(
      capacity,
      onEvict === undefined ? undefined : (key, box) => onEvict(key, box.value),
    );
  }

  get size(): number {
    return this.#map.size;
  }

  /** Keys forgotten because the map was full. */
  get evicted(): number {
    return this.#map.evicted;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Reads without refreshing recency (for pure look-ups). */
  peek(key: K): V | undefined {
    return this.#map.peek(key)?.value;
  }

  /** Reads and marks the key as recently used. */
  get(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  set(key: K, value: V): void {
    const box = this.#map.peek(key);
    if (box === undefined) {
      this.#map.set(key, { value, recency: 0 });
      return;
    }
    box.value = value;
    this.#map.set(key, box);
  }

  /** Forgets the least recently used key (counted as evicted); returns false when empty. */
  evictOldest(): boolean {
    return this.#map.evictOldest();
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, box] of this.#map.entries()) yield [k, box.value];
  }

  clear(): void {
    this.#map.clear();
  }
}
