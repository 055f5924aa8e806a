import type { AuditRecord } from '@bursar/core';

/** Key under which a store exposes synchronous twins of its methods (in-memory stores only). */
export const SYNC_STORE: unique symbol = Symbol('bursar.protect.syncAuditStore');

/** Synchronous access to an in-memory store: lets the log append without an await. */
export interface SyncAuditStore {
  append(record: AuditRecord): void;
  read(args: { fromSeq?: number; limit?: number }): AuditRecord[];
}

/** The synchronous twin of a store, if it has one. */
export function syncStoreOf(store: object): SyncAuditStore | undefined {
  const s = (store as { [SYNC_STORE]?: SyncAuditStore })[SYNC_STORE];
  return s && typeof s.append === 'function' && typeof s.read === 'function' ? s : undefined;
}
