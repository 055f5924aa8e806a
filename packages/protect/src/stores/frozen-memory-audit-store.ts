import { type AuditRecord, type AuditStore, BursarError, deepFreeze, ErrorCode } from '@bursar/core';
import { isSealed } from '../internal/sealed.js';
import { SYNC_STORE, type SyncAuditStore } from '../internal/sync-store.js';

/**
 * An in-memory, append-only audit store that keeps records as deep-frozen objects. Records built
 * by {@link ProvenanceLog} are already deep-frozen plain data, so they are kept as they are:
 * appending costs no copy. Any other record is copied and frozen first, as core's
 * `MemoryAuditStore` does. Readers get the frozen records; nothing can be edited through the API.
 * It holds every record for the life of the process, in chunks of 4,096: growing never copies
 * the records already held.
 *
 * @example
 * const log = new ProvenanceLog({ store: new FrozenMemoryAuditStore() }); // the default store
 */
export class FrozenMemoryAuditStore implements AuditStore {
  readonly #chunks: AuditRecord[][] = [];
  #size = 0;
  #last: AuditRecord | undefined;

  /** @internal Synchronous twins, used by ProvenanceLog to append without an await. */
  readonly [SYNC_STORE]: SyncAuditStore = {
    append: (record) => this.#append(record),
    read: (args) => this.#read(args),
  };

  /** The last record's seq and hash, or null when empty. */
  async head(): Promise<{ seq: number; hash: string } | null> {
    const last = this.#last;
    return last ? { seq: last.seq, hash: last.hash } : null;
  }

  /** Appends if `record` is the next seq and links to the head; otherwise `ERR_BURSAR_CONFLICT`. */
  async append(record: AuditRecord): Promise<void> {
    this.#append(record);
  }

  /** Records from `fromSeq` (default 1), at most `limit`, in order, frozen. */
  async read(args: { fromSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    return this.#read(args);
  }

  /** Number of records held. */
  get size(): number {
    return this.#size;
  }

  #append(record: AuditRecord): void {
    const last = this.#last;
    const expectedSeq = last ? last.seq + 1 : 1;
    if (record?.seq !== expectedSeq || (last && record.prevHash !== last.hash)) {
      throw new BursarError(
        ErrorCode.CONFLICT,
        `Audit append out of order: expected seq ${expectedSeq}${last ? ` after ${last.hash.slice(0, 12)}…` : ''}`,
        { details: { expectedSeq, gotSeq: record?.seq } },
      );
    }
    const kept = isSealed(record) ? record : deepFreeze(structuredClone(record));
    let chunk = this.#chunks[this.#chunks.length - 1];
    if (chunk === undefined || chunk.length === CHUNK) {
      chunk = [];
      this.#chunks.push(chunk);
    }
    chunk.push(kept);
    this.#size++;
    this.#last = kept;
  }

  #read(args: { fromSeq?: number; limit?: number } = {}): AuditRecord[] {
    const from = Math.max(1, args.fromSeq ?? 1);
    const limit = args.limit ?? Number.POSITIVE_INFINITY;
    // The same positions Array.prototype.slice(from - 1, from - 1 + limit) takes over all records.
    const start = sliceIndex(from - 1, this.#size);
    const end = Number.isFinite(limit) ? sliceIndex(from - 1 + limit, this.#size) : this.#size;
    const out: AuditRecord[] = [];
    for (let i = start; i < end; ) {
      const chunk = this.#chunks[Math.floor(i / CHUNK)]!;
      const offset = i % CHUNK;
      const n = Math.min(chunk.length - offset, end - i);
      for (let k = 0; k < n; k++) out.push(chunk[offset + k]!);
      i += n;
    }
    return out;
  }
}

/** Records per chunk. */
const CHUNK = 4096;

/** What `Array.prototype.slice` makes of an index into an array of `length` items. */
function sliceIndex(index: number, length: number): number {
  const i = Math.trunc(index);
  if (Number.isNaN(i)) return 0;
  return i < 0 ? Math.max(length + i, 0) : Math.min(i, length);
}
