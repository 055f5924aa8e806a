export { type ExportJsonlOptions, type ExportJsonlResult, exportJsonl } from './export-jsonl.js';
export { type AuditExportRow, formatExportLine, toExportRow } from './export-row.js';
export {
  type FileVerifyResult,
  type JsonlFileFormat,
  type VerifyJsonlFileOptions,
  verifyJsonlFile,
} from './verify-file.js';
