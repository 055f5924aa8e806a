import { constants as fsConstants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type AuditRecord, type AuditStore, BursarError, deepFreeze, ErrorCode } from '@bursar/core';
import { z } from 'zod';
import { asAuditRecord } from '../chain/chain-verifier.js';
import { fastCanonicalJson } from '../chain/fast-canonical.js';
import { fn, parseOptions } from '../internal/options.js';
import { SerialQueue } from '../internal/serial-queue.js';

/**
 * When appended lines are forced to disk:
 * - `always`: `fdatasync` before each append resolves. A resolved append survives a power cut.
 * - `interval`: every `fsyncIntervalMs`; a crash may lose the appends of the last interval.
 * - `never`: the OS decides; a process crash loses nothing, a power cut may.
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

/** What opening the file found and repaired. */
export interface JsonlOpenReport {
  path: string;
  /** Complete lines (records) in the file after recovery. */
  records: number;
  /** Present when an incomplete last line (a write cut short by a crash) was removed. */
  recovered?: TornTail;
}

/** An incomplete last line removed on open. */
export interface TornTail {
  /** Byte offset the file was truncated to. */
  offset: number;
  /** Bytes removed. */
  droppedBytes: number;
}

/** Options of {@link JsonlFileAuditStore}. */
export interface JsonlFileAuditStoreOptions {
  /** The JSONL file. Created when missing; its directory must exist. */
  path: string;
  /** Default `always`: an audit record that was acknowledged should survive a power cut. */
  fsync?: FsyncPolicy;
  /** For `fsync: 'interval'` (default 1000 ms). */
  fsyncIntervalMs?: number;
  /** Told when opening removed a torn last line. */
  onRecover?: (report: JsonlOpenReport & { recovered: TornTail }) => void;
}

const Options = z.strictObject({
  path: z.string().min(1),
  fsync: z.enum(['always', 'interval', 'never']).optional(),
  fsyncIntervalMs: z.number().int().min(1).max(3_600_000).optional(),
  onRecover: fn<(report: JsonlOpenReport & { recovered: TornTail }) => void>().optional(),
});

const NEWLINE = 0x0a;
const SCAN_CHUNK = 1 << 20;

/** A line that is not a record, as `read()` hands it out (verification reports it as malformed). */
export interface UnreadableLine {
  readonly unreadable: true;
  /** 1-based line number. */
  readonly line: number;
  readonly error: string;
}

/**
 * An append-only audit store in a JSONL file: one record per line, as canonical JSON, the file
 * opened for appending only. On open it indexes line offsets (records are read from disk on
 * demand, not held in memory), removes an incomplete last line left by a crash (reporting it
 * through `onRecover` and `open()`), and takes the head from the last line. A failed write is
 * cut back off the file, so a later append never lands after half a line.
 *
 * One process, one store object per file: appends are serialised in-process, not across
 * processes.
 *
 * @example
 * const store = new JsonlFileAuditStore({ path: './audit.jsonl', fsync: 'always' });
 * const report = await store.open();   // optional: opening is lazy
 * const log = new ProvenanceLog({ store });
 * …
 * await store.close();
 */
export class JsonlFileAuditStore implements AuditStore {
  readonly #path: string;
  readonly #fsync: FsyncPolicy;
  readonly #intervalMs: number;
  readonly #onRecover: JsonlFileAuditStoreOptions['onRecover'];
  readonly #queue = new SerialQueue();
  #opening: Promise<JsonlOpenReport> | undefined;
  #fh: FileHandle | undefined;
  /** Byte offset where each complete line starts. */
  #starts: number[] = [];
  /** Byte length of the complete lines (where the next line starts). */
  #end = 0;
  #head: { seq: number; hash: string } | null = null;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #broken: unknown;

  constructor(options: JsonlFileAuditStoreOptions) {
    const o = parseOptions('JsonlFileAuditStore', Options, options);
    this.#path = o.path;
    this.#fsync = o.fsync ?? 'always';
    this.#intervalMs = o.fsyncIntervalMs ?? 1000;
    this.#onRecover = o.onRecover;
  }

  /** The file path. */
  get path(): string {
    return this.#path;
  }

  /**
   * Opens the file (once; every other method opens it on first use): indexes its lines,
   * truncates a torn last line, reads the head.
   */
  open(): Promise<JsonlOpenReport> {
    if (this.#closed) return Promise.reject(closedError());
    this.#opening ??= this.#doOpen();
    return this.#opening;
  }

  /** The last record's seq and hash, or null when empty. */
  async head(): Promise<{ seq: number; hash: string } | null> {
    await this.open();
    return this.#head ? { ...this.#head } : null;
  }

  /**
   * Appends one line if `record` is the next seq and links to the head (otherwise
   * `ERR_BURSAR_CONFLICT`); resolves once the line is written (and synced, for `always`).
   */
  append(record: AuditRecord): Promise<void> {
    return this.#queue.run(async () => {
      await this.open();
      if (this.#closed) throw closedError();
      if (this.#broken) {
        throw new BursarError(ErrorCode.STORE, 'The audit file could not be repaired after a failed write', {
          cause: this.#broken,
        });
      }
      if (!asAuditRecord(record)) {
        throw new BursarError(
          ErrorCode.INVALID_ARGUMENT,
          'An audit record has exactly seq, at, type, data, prevHash and hash, of the right types',
        );
      }
      const head = this.#head;
      const expectedSeq = head ? head.seq + 1 : 1;
      if (record?.seq !== expectedSeq || (head && record.prevHash !== head.hash)) {
        throw new BursarError(
          ErrorCode.CONFLICT,
          `Audit append out of order: expected seq ${expectedSeq}${head ? ` after ${head.hash.slice(0, 12)}…` : ''}`,
          { details: { expectedSeq, gotSeq: record?.seq } },
        );
      }
      const { seq, at, type, data, prevHash, hash } = record;
      const line = Buffer.from(`${fastCanonicalJson({ seq, at, type, data, prevHash, hash })}\n`, 'utf8');
      const fh = this.#fh!;
      try {
        let written = 0;
        while (written < line.length) {
          const { bytesWritten } = await fh.write(line, written, line.length - written);
          written += bytesWritten;
        }
        if (this.#fsync === 'always') await fh.datasync();
      } catch (error) {
        await this.#cutBack(error);
        throw new BursarError(ErrorCode.STORE, `Could not append to ${this.#path}`, { cause: error });
      }
      this.#starts.push(this.#end);
      this.#end += line.length;
      this.#head = { seq, hash };
      if (this.#fsync === 'interval') this.#dirty = true;
    });
  }

  /** Records from `fromSeq` (default 1), at most `limit`, in order, frozen. */
  async read(args: { fromSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    await this.open();
    if (this.#closed) throw closedError();
    const count = this.#starts.length;
    const first = Math.max(1, args.fromSeq ?? 1) - 1;
    const limit = args.limit ?? Number.POSITIVE_INFINITY;
    const last = Math.min(count, Number.isFinite(limit) ? first + Math.max(0, limit) : count);
    if (first >= last) return [];
    const from = this.#starts[first]!;
    const to = last < count ? this.#starts[last]! : this.#end;
    const buffer = Buffer.allocUnsafe(to - from);
    await readFully(this.#fh!, buffer, from);
    const out: AuditRecord[] = [];
    let start = 0;
    for (let i = first; i < last; i++) {
      const nl = buffer.indexOf(NEWLINE, start);
      const text = buffer.toString('utf8', start, nl);
      start = nl + 1;
      out.push(parseLine(text, i + 1));
    }
    return out;
  }

  /** Forces appended lines to disk now (whatever the policy). */
  async flush(): Promise<void> {
    await this.open();
    await this.#queue.run(async () => {
      if (this.#fh && !this.#closed) {
        await this.#fh.datasync();
        this.#dirty = false;
      }
    });
  }

  /** Flushes (unless the policy is `never`), stops the fsync timer and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const opening = this.#opening;
    await this.#queue.run(async () => {
      if (this.#closed) return;
      this.#closed = true;
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = undefined;
      if (opening) await opening.catch(() => undefined);
      const fh = this.#fh;
      this.#fh = undefined;
      if (fh) {
        try {
          if (this.#fsync !== 'never' && this.#dirty) await fh.datasync();
        } finally {
          await fh.close();
        }
      }
    });
  }

  async #doOpen(): Promise<JsonlOpenReport> {
    const fh = await open(this.#path, 'a+');
    try {
      const size = (await fh.stat()).size;
      if (size === 0) await syncDirectory(this.#path);
      await this.#scan(fh, size);
      let recovered: TornTail | undefined;
      if (this.#end < size) {
        // A write was cut short: the bytes after the last newline are half a record. It was
        // never acknowledged (an append resolves only after its newline is written), so drop it.
        await fh.truncate(this.#end);
        await fh.datasync();
        recovered = { offset: this.#end, droppedBytes: size - this.#end };
      }
      if (this.#starts.length > 0) {
        const lastStart = this.#starts[this.#starts.length - 1]!;
        const buffer = Buffer.allocUnsafe(this.#end - lastStart);
        await readFully(fh, buffer, lastStart);
        const last = JSON.parse(buffer.toString('utf8', 0, buffer.length - 1)) as Partial<AuditRecord>;
        if (typeof last?.seq !== 'number' || typeof last.hash !== 'string') throw new Error('no seq/hash');
        this.#head = { seq: last.seq, hash: last.hash };
      }
      this.#fh = fh;
      if (this.#fsync === 'interval') {
        this.#timer = setInterval(() => this.#intervalSync(), this.#intervalMs);
        this.#timer.unref();
      }
      const report: JsonlOpenReport = {
        path: this.#path,
        records: this.#starts.length,
        ...(recovered ? { recovered } : {}),
      };
      if (recovered && this.#onRecover) {
        try {
          this.#onRecover({ ...report, recovered });
        } catch (error) {
          // The repair is done; a failing callback must not make the file unusable.
          process.emitWarning(`Bursar audit file onRecover callback failed: ${String(error)}`, {
            code: 'BURSAR_PROTECT_ON_RECOVER',
          });
        }
      }
      return report;
    } catch (error) {
      await fh.close().catch(() => undefined);
      if (BursarError.isInstance(error)) throw error;
      throw new BursarError(
        ErrorCode.STORE,
        `Cannot open audit file ${this.#path}: its last complete line is not a record (the file is damaged, not torn; verify it)`,
        { cause: error },
      );
    }
  }

  /** Finds every line start; `#end` ends up just past the last newline. */
  async #scan(fh: FileHandle, size: number): Promise<void> {
    const starts: number[] = [];
    const chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK, Math.max(1, size)));
    let lineStart = 0;
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, size - pos), pos);
      if (bytesRead === 0) break;
      let i = chunk.indexOf(NEWLINE, 0);
      while (i !== -1 && i < bytesRead) {
        starts.push(lineStart);
        lineStart = pos + i + 1;
        i = chunk.indexOf(NEWLINE, i + 1);
      }
      pos += bytesRead;
    }
    this.#starts = starts;
    this.#end = lineStart;
  }

  /** After a failed write: cut the file back to the last complete line. */
  async #cutBack(cause: unknown): Promise<void> {
    try {
      await this.#fh!.truncate(this.#end);
    } catch (error) {
      this.#broken = error ?? cause;
    }
  }

  #intervalSync(): void {
    if (!this.#dirty || this.#closed) return;
    this.#queue
      .run(async () => {
        if (!this.#dirty || this.#closed || !this.#fh) return;
        this.#dirty = false;
        await this.#fh.datasync();
      })
      .catch((error: unknown) => {
        this.#dirty = true;
        process.emitWarning(`Bursar audit file fsync failed: ${String(error)}`, {
          code: 'BURSAR_PROTECT_FSYNC',
        });
      });
  }
}

function closedError(): BursarError {
  return new BursarError(ErrorCode.STORE, 'The audit file store is closed');
}

function parseLine(text: string, line: number): AuditRecord {
  try {
    return deepFreeze(JSON.parse(text)) as AuditRecord;
  } catch (error) {
    const unreadable: UnreadableLine = {
      unreadable: true,
      line,
      error: error instanceof Error ? error.message : String(error),
    };
    return Object.freeze(unreadable) as unknown as AuditRecord;
  }
}

async function readFully(fh: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await fh.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new BursarError(ErrorCode.STORE, 'The audit file is shorter than indexed');
    done += bytesRead;
  }
}

/** Makes a newly created file's directory entry durable (best effort: not every platform allows it). */
async function syncDirectory(path: string): Promise<void> {
  let dir: FileHandle | undefined;
  try {
    dir = await open(dirname(path), fsConstants.O_RDONLY);
    await dir.sync();
  } catch {
    // Directories cannot be opened for sync on some platforms; the file itself is still synced.
  } finally {
    await dir?.close().catch(() => undefined);
  }
}
