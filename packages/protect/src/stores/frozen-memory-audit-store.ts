import { type AuditRecord, type AuditStore, BursarError, deepFreeze, ErrorCode } from '@bursar/core';
import { isSealed } from '../internal/sealed.js';
import { SYNC_STORE, type SyncAuditStore } from '../internal/sync-store.js';

/**
 * An in-memory, append-only audit store that keeps records as deep-frozen objects. Records built
 * by {@link ProvenanceLog} are already deep-frozen plain data, so they are kept as they are:
 * appending costs no copy. Any other record is copied and frozen first, as core's
 * `MemoryAuditStore` does. Readers get the frozen records; nothing can be edited through the API.
 * It holds every record for the life of the process.
 *
 * @example
 * const log = new ProvenanceLog({ store: new FrozenMemoryAuditStore() }); // the default store
 */
export class FrozenMemoryAuditStore implements AuditStore {
  readonly #records: AuditRecord[] = [];

  /** @internal Synchronous twins, used by ProvenanceLog to append without an await. */
  readonly [SYNC_STORE]: SyncAuditStore = {
    append: (record) => this.#append(record),
    read: (args) => this.#read(args),
  };

  /** The last record's seq and hash, or null when empty. */
  async head(): Promise<{ seq: number; hash: string } | null> {
    const last = this.#records[this.#records.length - 1];
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
    return this.#records.length;
  }

  #append(record: AuditRecord): void {
    const last = this.#records[this.#records.length - 1];
    const expectedSeq = last ? last.seq + 1 : 1;
    if (record?.seq !== expectedSeq || (last && record.prevHash !== last.hash)) {
      throw new BursarError(
        ErrorCode.CONFLICT,
        `Audit append out of order: expected seq ${expectedSeq}${last ? ` after ${last.hash.slice(0, 12)}…` : ''}`,
        { details: { expectedSeq, gotSeq: record?.seq } },
      );
    }
    this.#records.push(isSealed(record) ? record : deepFreeze(structuredClone(record)));
  }

  #read(args: { fromSeq?: number; limit?: number } = {}): AuditRecord[] {
    const from = Math.max(1, args.fromSeq ?? 1);
    const limit = args.limit ?? Number.POSITIVE_INFINITY;
    return this.#records.slice(from - 1, Number.isFinite(limit) ? from - 1 + limit : undefined);
  }
}
