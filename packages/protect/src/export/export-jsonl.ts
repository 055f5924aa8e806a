import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { type AuditRecord, type AuditStore, BursarError, ErrorCode } from '@bursar/core';
import { CHECKPOINT_TYPE } from '../chain/record-hash.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { formatExportLine } from './export-row.js';

/** Options of {@link exportJsonl}. */
export interface ExportJsonlOptions {
  /** The log (or any audit store) to export, from record 1 to its current end. */
  from: ProvenanceLog | AuditStore;
  /**
   * A file path (created or replaced, synced to disk before resolving) or a writable stream
   * (written with backpressure and left open: ending it is the caller's call).
   */
  to: string | Writable;
  /** Records read per batch (default 5000). */
  pageSize?: number;
}

/** What was exported. */
export interface ExportJsonlResult {
  /** Lines written (checkpoint records included). */
  records: number;
  checkpoints: number;
  bytes: number;
  /** The last exported record, or null for an empty log: publish it to pin the export. */
  head: { seq: number; hash: string } | null;
}

/**
 * Writes the log as JSONL for compliance review: one line per record with time, event type,
 * agent, action, payment, amount, currency, recipient, decision, rule, approver, channel,
 * reason, duration and hashes flattened at the top level, followed by the full record (see
 * {@link AuditExportRow}). Checkpoint records are exported too, so `bursar-audit verify` can
 * check the file offline, signatures included.
 *
 * @example
 * const { records, head } = await exportJsonl({ from: log, to: './audit-2026-01.jsonl' });
 */
export async function exportJsonl(options: ExportJsonlOptions): Promise<ExportJsonlResult> {
  const { from, to } = options;
  const pageSize = options.pageSize ?? 5000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'exportJsonl: pageSize must be a positive integer');
  }
  const read =
    from instanceof ProvenanceLog
      ? (args: { fromSeq: number; limit: number }) => from.records(args)
      : typeof from?.read === 'function'
        ? (args: { fromSeq: number; limit: number }) => from.read(args)
        : undefined;
  if (!read)
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      'exportJsonl: from must be a ProvenanceLog or an AuditStore',
    );
  if (typeof to !== 'string' && typeof to?.write !== 'function') {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      'exportJsonl: to must be a file path or a writable stream',
    );
  }
  const result: ExportJsonlResult = { records: 0, checkpoints: 0, bytes: 0, head: null };
  const write = typeof to === 'string' ? await fileWriter(to) : streamWriter(to);
  try {
    for (let seq = 1; ; ) {
      const page: readonly AuditRecord[] = await read({ fromSeq: seq, limit: pageSize });
      if (page.length === 0) break;
      let chunk = '';
      for (const record of page) {
        chunk += `${formatExportLine(record)}\n`;
        result.records++;
        if (record.type === CHECKPOINT_TYPE) result.checkpoints++;
        result.head = { seq: record.seq, hash: record.hash };
      }
      const bytes = Buffer.from(chunk, 'utf8');
      result.bytes += bytes.length;
      await write.chunk(bytes);
      seq += page.length;
    }
    await write.done();
  } catch (error) {
    await write.abort();
    throw error;
  }
  return result;
}

interface ChunkWriter {
  chunk(bytes: Buffer): Promise<void>;
  done(): Promise<void>;
  abort(): Promise<void>;
}

async function fileWriter(path: string): Promise<ChunkWriter> {
  const fh = await open(path, 'w');
  return {
    async chunk(bytes) {
      let written = 0;
      while (written < bytes.length) {
        const r = await fh.write(bytes, written, bytes.length - written);
        written += r.bytesWritten;
      }
    },
    async done() {
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
    },
    async abort() {
      await fh.close().catch(() => undefined);
    },
  };
}

function streamWriter(stream: Writable): ChunkWriter {
  return {
    chunk(bytes) {
      return new Promise<void>((resolve, reject) => {
        const onError = (error: unknown) => reject(error);
        stream.once('error', onError);
        const ok = stream.write(bytes, (error) => {
          if (error) reject(error);
        });
        const settle = () => {
          stream.off('error', onError);
          resolve();
        };
        if (ok) settle();
        else stream.once('drain', settle);
      });
    },
    async done() {},
    async abort() {},
  };
}
