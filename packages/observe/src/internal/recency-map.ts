/**
 * A Map with a size cap that forgets the least recently used keys, at O(1) amortised cost.
 *
 * A plain LRU moves a key to the end on every read (a delete and a set). Here a key is moved
 * only when it has drifted into the older half of the map, which keeps reads cheap and still
 * evicts only keys that were not used during the last `capacity / 2` insertions. Internal.
 */
export class RecencyMap<K, V> {
  readonly #map = new Map<K, { value: V; stamp: number }>();
  readonly #capacity: number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  #clock = 0;
  #evicted = 0;

  constructor(capacity: number, onEvict?: (key: K, value: V) => void) {
    this.#capacity = Math.max(1, capacity);
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#map.size;
  }

  /** Keys forgotten because the map was full. */
  get evicted(): number {
    return this.#evicted;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Reads without refreshing recency (for pure look-ups). */
  peek(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Reads and marks the key as recently used. */
  get(key: K): V | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    if (this.#clock - entry.stamp > this.#capacity >> 1) {
      this.#map.delete(key);
      entry.stamp = ++this.#clock;
      this.#map.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    const entry = this.#map.get(key);
    if (entry !== undefined) {
      entry.value = value;
      this.#map.delete(key);
      entry.stamp = ++this.#clock;
      this.#map.set(key, entry);
      return;
    }
    this.#map.set(key, { value, stamp: ++this.#clock });
    if (this.#map.size > this.#capacity) this.evictOldest();
  }

  /** Forgets the least recently used key (counted as evicted); returns false when empty. */
  evictOldest(): boolean {
    const oldest = this.#map.entries().next();
    if (oldest.done) return false;
    const [key, entry] = oldest.value;
    this.#map.delete(key);
    this.#evicted++;
    this.#onEvict?.(key, entry.value);
    return true;
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, e] of this.#map) yield [k, e.value];
  }

  clear(): void {
    this.#map.clear();
  }
}
