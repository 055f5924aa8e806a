/** Slots per chunk: a column grows one chunk at a time, never by copying what it holds. */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

/**
 * A growable column of doubles indexed from 0, stored in fixed-size `Float64Array` chunks.
 * Growing allocates one more chunk; nothing already stored is copied or retained twice, and
 * each value costs 8 bytes with no object per value. Unwritten slots read as 0.
 */
export class Float64Column {
  readonly #chunks: Float64Array[] = [];

  get(i: number): number {
    return this.#chunks[i >>> CHUNK_BITS]?.[i & MASK] ?? 0;
  }

  set(i: number, value: number): void {
    const c = i >>> CHUNK_BITS;
    while (this.#chunks.length <= c) this.#chunks.push(new Float64Array(CHUNK));
    this.#chunks[c]![i & MASK] = value;
  }
}

/** As {@link Float64Column}, for 32-bit integers (4 bytes each). Unwritten slots read as 0. */
export class Int32Column {
  readonly #chunks: Int32Array[] = [];

  get(i: number): number {
    return this.#chunks[i >>> CHUNK_BITS]?.[i & MASK] ?? 0;
  }

  set(i: number, value: number): void {
    const c = i >>> CHUNK_BITS;
    while (this.#chunks.length <= c) this.#chunks.push(new Int32Array(CHUNK));
    this.#chunks[c]![i & MASK] = value;
  }
}

/** As {@link Float64Column}, for any value (one pointer each). Unwritten slots read as undefined. */
export class ValueColumn<T> {
  readonly #chunks: (T | undefined)[][] = [];

  get(i: number): T | undefined {
    return this.#chunks[i >>> CHUNK_BITS]?.[i & MASK];
  }

  set(i: number, value: T): void {
    const c = i >>> CHUNK_BITS;
    while (this.#chunks.length <= c) this.#chunks.push(new Array<T | undefined>(CHUNK).fill(undefined));
    this.#chunks[c]![i & MASK] = value;
  }
}
