import { createReadStream } from 'node:fs';
import { type AuditRecord, BursarError, ErrorCode } from '@bursar/core';
import {
  asAuditRecord,
  ChainVerifier,
  type ChainVerifyFailure,
  type ChainVerifyOk,
  type ChainVerifyOptions,
} from '../chain/chain-verifier.js';
import { fastCanonicalJson } from '../chain/fast-canonical.js';
import { formatExportLine } from './export-row.js';

/** Options of {@link verifyJsonlFile}. */
export interface VerifyJsonlFileOptions extends ChainVerifyOptions {
  /** An export written by `exportJsonl`, or a `JsonlFileAuditStore` file. */
  path: string;
}

/** Which kind of file was verified. */
export type JsonlFileFormat = 'export' | 'store' | 'empty';

/** The verdict on a file. For a failure, `line` is the line number of the first broken record. */
export type FileVerifyResult =
  | (ChainVerifyOk & { file: string; format: JsonlFileFormat })
  | (ChainVerifyFailure & { file: string; line: number });

const NEWLINE = 0x0a;

/**
 * Verifies a JSONL audit file offline, streaming it (memory stays flat however long it is).
 * Every line must be exactly what the exporter (or the file store) would write for its record,
 * so an edit to a flattened compliance field is caught as well as an edit to the record; then
 * the chain is checked as {@link ChainVerifier} does. Throws only when the file cannot be read.
 *
 * @example
 * const result = await verifyJsonlFile({ path: 'audit.jsonl', publicKey: pem });
 * if (!result.ok) console.error(`line ${result.line}: ${result.reason} — ${result.message}`);
 */
export async function verifyJsonlFile(options: VerifyJsonlFileOptions): Promise<FileVerifyResult> {
  const { path, ...chainOptions } = options;
  const verifier = new ChainVerifier(chainOptions);
  let format: JsonlFileFormat = 'empty';
  let lineNo = 0;

  const onLine = (text: string): void => {
    lineNo++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      verifier.pushMalformed(`line ${lineNo} is not valid JSON`);
      return;
    }
    if (format === 'empty') {
      format = typeof value === 'object' && value !== null && 'record' in value ? 'export' : 'store';
    }
    let record: unknown = value;
    if (format === 'export') {
      record =
        typeof value === 'object' && value !== null ? (value as { record?: unknown }).record : undefined;
    }
    verifier.push(record);
    if (verifier.done) return;
    const r = asAuditRecord(record);
    if (!r) return; // the chain verifier reports it
    if (text !== expectedLine(r, format)) {
      verifier.fail(
        lineNo,
        'edited',
        format === 'export'
          ? `line ${lineNo} was edited: its compliance fields do not match its hashed record`
          : `line ${lineNo} was edited: it is not the canonical form of its record`,
      );
    }
  };

  try {
    await readLines(path, onLine, () => verifier.done);
  } catch (cause) {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      `Cannot read ${path}: ${(cause as Error)?.message ?? cause}`,
      {
        cause,
      },
    );
  }
  const result = verifier.finish();
  if (!result.ok) return { ...result, file: path, line: result.seq };
  return { ...result, file: path, format };
}

function expectedLine(record: AuditRecord, format: JsonlFileFormat): string {
  if (format === 'export') return formatExportLine(record);
  const { seq, at, type, data, prevHash, hash } = record;
  return fastCanonicalJson({ seq, at, type, data, prevHash, hash });
}

/** Calls `onLine` for each line (UTF-8, without `\n` or a trailing `\r`), stopping early when `stop()`. */
async function readLines(path: string, onLine: (text: string) => void, stop: () => boolean): Promise<void> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let rest: Buffer | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
        onLine(decode(buf, start, nl));
        start = nl + 1;
        if (stop()) return;
      }
      rest = start < buf.length ? buf.subarray(start) : undefined;
    }
    // A last line without a newline is still a line (and, if cut short, fails as malformed).
    if (rest && rest.length > 0) onLine(decode(rest, 0, rest.length));
  } finally {
    stream.destroy();
  }
}

function decode(buf: Buffer, start: number, end: number): string {
  const e = end > start && buf[end - 1] === 0x0d ? end - 1 : end;
  return buf.toString('utf8', start, e);
}
