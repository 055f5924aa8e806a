/**
 * A binary min-heap of items by time (`at`), for time-ordered sweeps in O(log n). Internal.
 * Times are kept in an array of their own, beside the items: a push allocates no entry
 * object and no boxed number (a store pushes one or two per hold, kept until swept), and a
 * comparison reads only that array. Ties keep the order a heap of `{ at, … }` entries had.
 */
export class MinHeap<T> {
  readonly #at: number[] = [];
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The earliest time; check `size` first (an empty heap has none). */
  peekAt(): number {
    return this.#at[0]!;
  }

  /** The item with the earliest time. */
  peek(): T | undefined {
    return this.#items[0];
  }

  push(at: number, item: T): void {
    const ats = this.#at;
    const items = this.#items;
    let i = items.length;
    ats.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentAt = ats[parent]!;
      if (parentAt <= at) break;
      ats[i] = parentAt;
      items[i] = items[parent]!;
      i = parent;
    }
    ats[i] = at;
    items[i] = item;
  }

  /** Removes and returns the item with the earliest time. */
  pop(): T | undefined {
    const ats = this.#at;
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const lastAt = ats.pop()!;
    const last = items.pop()!;
    const size = items.length;
    if (size > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mAt = lastAt;
        if (l < size && ats[l]! < mAt) {
          m = l;
          mAt = ats[l]!;
        }
        if (r < size && ats[r]! < mAt) {
          m = r;
          mAt = ats[r]!;
        }
        if (m === i) break;
        ats[i] = mAt;
        items[i] = items[m]!;
        i = m;
      }
      ats[i] = lastAt;
      items[i] = last;
    }
    return top;
  }
}
