export {
  Ledger,
  type LedgerEntry,
  type LedgerEntryKind,
  type LedgerOptions,
  type LedgerQuery,
  type LedgerRecordInput,
  type Rail,
} from './ledger.js';
