export { FrozenMemoryAuditStore } from './frozen-memory-audit-store.js';
export {
  type FsyncPolicy,
  JsonlFileAuditStore,
  type JsonlFileAuditStoreOptions,
  type JsonlOpenReport,
  type TornTail,
  type UnreadableLine,
} from './jsonl-file-audit-store.js';
