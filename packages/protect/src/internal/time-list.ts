/** Most entries a chunk holds by default; a full chunk splits in two instead of growing. */
const MAX_CHUNK = 1024;

interface Chunk {
  /** Ascending times. */
  ats: number[];
  /** Parallel to `ats`. */
  seqs: number[];
}

/** A position: chunk number and offset in it. */
interface Position {
  c: number;
  i: number;
}

/**
 * Record seqs sorted by time (ties in insertion order), in chunks of at most `maxChunk`
 * (default 1024) entries: appending in time order is a push onto the last chunk, so the list never
 * copies its whole contents to grow; an insert behind the newest time (a clock that stepped
 * back) shifts at most one chunk. Range reads are two binary searches plus the result.
 */
export class TimeList {
  readonly #chunks: Chunk[] = [];
  readonly #max: number;

  constructor(maxChunk = MAX_CHUNK) {
    this.#max = Math.max(2, maxChunk);
  }

  /** Adds `seq` at time `at`, after every entry with a time ≤ `at`. */
  add(at: number, seq: number): void {
    const chunks = this.#chunks;
    const last = chunks[chunks.length - 1];
    if (last === undefined) {
      chunks.push({ ats: [at], seqs: [seq] });
      return;
    }
    const n = last.ats.length;
    if (last.ats[n - 1]! <= at) {
      if (n < this.#max) {
        last.ats.push(at);
        last.seqs.push(seq);
      } else {
        chunks.push({ ats: [at], seqs: [seq] });
      }
      return;
    }
    // The clock stepped back: insert in time order.
    const { c, i } = this.#upperBound(at);
    const chunk = chunks[c]!;
    chunk.ats.splice(i, 0, at);
    chunk.seqs.splice(i, 0, seq);
    if (chunk.ats.length > this.#max) {
      const half = chunk.ats.length >>> 1;
      chunks.splice(c + 1, 0, { ats: chunk.ats.splice(half), seqs: chunk.seqs.splice(half) });
    }
  }

  /** Seqs with `from ≤ at < to`, in time order. */
  range(from: number, to: number): number[] {
    const out: number[] = [];
    if (!(from < to)) return out;
    const start = this.#lowerBound(from);
    const end = this.#lowerBound(to);
    for (let c = start.c; c <= end.c && c < this.#chunks.length; c++) {
      const seqs = this.#chunks[c]!.seqs;
      const hi = c === end.c ? end.i : seqs.length;
      for (let i = c === start.c ? start.i : 0; i < hi; i++) out.push(seqs[i]!);
    }
    return out;
  }

  /** Number of entries. */
  get size(): number {
    let n = 0;
    for (const chunk of this.#chunks) n += chunk.ats.length;
    return n;
  }

  /** The first position whose time is ≥ `value` (the end when there is none). */
  #lowerBound(value: number): Position {
    const chunks = this.#chunks;
    // First chunk whose newest time is ≥ value.
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ats = chunks[mid]!.ats;
      if (ats[ats.length - 1]! < value) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return { c: lo, i: 0 };
    const ats = chunks[lo]!.ats;
    let a = 0;
    let b = ats.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (ats[mid]! < value) a = mid + 1;
      else b = mid;
    }
    return { c: lo, i: a };
  }

  /** The first position whose time is > `value`; only called when the newest time is > `value`. */
  #upperBound(value: number): Position {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ats = chunks[mid]!.ats;
      if (ats[ats.length - 1]! <= value) lo = mid + 1;
      else hi = mid;
    }
    const ats = chunks[lo]!.ats;
    let a = 0;
    let b = ats.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (ats[mid]! <= value) a = mid + 1;
      else b = mid;
    }
    return { c: lo, i: a };
  }
}
