import type { KeyObject } from 'node:crypto';
import { type AuditRecord, BursarError, ErrorCode } from '@bursar/core';
import { type TrustedCheckpoint, toPublicKey, verifyCheckpointSignature } from './checkpoint.js';
import { fastCanonicalJson } from './fast-canonical.js';
import { CHECKPOINT_TYPE, GENESIS_HASH, recordBodyJson, sha256 } from './record-hash.js';

/**
 * Why verification failed.
 * - `malformed`: not a record (bad JSON, missing or extra fields, wrong types).
 * - `edited`: a record's content no longer matches its hash, or a record was changed and re-hashed
 *   so its successor's link no longer matches.
 * - `deleted`: records are missing (the sequence jumps).
 * - `inserted`: a record that does not belong was added (a forgery or a replayed copy).
 * - `reordered`: records are out of order.
 * - `truncated`: the log ends before a trusted (published) checkpoint.
 * - `rewritten`: the chain is consistent but disagrees with a trusted checkpoint: it was rebuilt.
 * - `bad_checkpoint`: a checkpoint record does not cover the record before it.
 * - `bad_signature`: a checkpoint signature does not verify with the given public key.
 */
export type TamperReason =
  | 'malformed'
  | 'edited'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'truncated'
  | 'rewritten'
  | 'bad_checkpoint'
  | 'bad_signature';

/** What to verify a chain against. */
export interface ChainVerifyOptions {
  /** Ed25519 public key (KeyObject or SPKI PEM) to check checkpoint signatures with. */
  publicKey?: KeyObject | string;
  /**
   * Published checkpoints (or unsigned `{ seq, hash }` anchors) the log must agree with. A log
   * that ends before one of them was truncated; a different hash at that seq means a rewrite.
   */
  checkpoints?: readonly TrustedCheckpoint[];
  /**
   * How many records past a broken link are read to tell a deletion from a reordering or an
   * insertion (default 4096). Detection never depends on it; only the diagnosis does.
   */
  lookahead?: number;
}

/** How checkpoint signatures fared: `none` (no checkpoint records), `unchecked` (no public key), `verified`. */
export type SignatureStatus = 'none' | 'unchecked' | 'verified';

/** A chain that verified. */
export interface ChainVerifyOk {
  ok: true;
  /** Records read (checkpoint records included). */
  records: number;
  /** Checkpoint records in the log. */
  checkpoints: number;
  signatures: SignatureStatus;
  /** Trusted checkpoints the log was compared with. */
  anchorsChecked: number;
  /** The last record, or null for an empty log. */
  head: { seq: number; hash: string } | null;
}

/** The first broken link. */
export interface ChainVerifyFailure {
  ok: false;
  /**
   * The record number where the chain breaks (1-based position in the log; for an export or a
   * store file it is also the line number).
   */
  seq: number;
  reason: TamperReason;
  message: string;
  /** Records that verified before the break. */
  verified: number;
}

/** The outcome of verifying a chain. */
export type ChainVerifyResult = ChainVerifyOk | ChainVerifyFailure;

interface Link {
  seq: number;
  hash: string;
  prevHash: string;
}

interface Pending {
  /** `link`: seq or prevHash is wrong. `anchor`: the record disagrees with a trusted checkpoint. */
  kind: 'link' | 'anchor';
  /** Position of the record that broke the chain. */
  position: number;
  record: Link;
  /** For `link`: the hash the record should have linked to. For `anchor`: the published hash. */
  prevHash: string;
  prevLink: Link | undefined;
}

const RECORD_KEYS = 6;

/** The record if `value` has exactly the shape of an audit record, otherwise undefined. */
export function asAuditRecord(value: unknown): AuditRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  const { seq, at, type, data, prevHash, hash } = r;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  if (typeof type !== 'string' || type.length === 0) return undefined;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  if (typeof prevHash !== 'string' || typeof hash !== 'string') return undefined;
  // Fields outside the hashed body would be unprotected, so a record has exactly these six.
  let keys = 0;
  for (const key in r) if (Object.hasOwn(r, key)) keys++;
  if (keys !== RECORD_KEYS) return undefined;
  return r as unknown as AuditRecord;
}

/**
 * Walks a hash-linked log one record at a time, in order, without holding it in memory, and
 * reports the first broken link and why. Feed records with {@link ChainVerifier.push} until
 * {@link ChainVerifier.done}, then call {@link ChainVerifier.finish}.
 *
 * For each record it checks, in order: the shape; that `hash` is the SHA-256 of the canonical
 * body; that `seq` is the previous seq + 1 and `prevHash` the previous hash (genesis: 64 zeros);
 * for `checkpoint` records, that they cover the record before them and (given a public key)
 * that the Ed25519 signature verifies; and that the record agrees with any trusted checkpoint
 * for its seq. At the end, a log shorter than a trusted checkpoint is reported as truncated.
 *
 * @example
 * const v = new ChainVerifier({ publicKey });
 * for (const r of records) { v.push(r); if (v.done) break; }
 * const result = v.finish();
 */
export class ChainVerifier {
  readonly #publicKey: KeyObject | undefined;
  readonly #anchors = new Map<number, TrustedCheckpoint[]>();
  readonly #maxAnchor: number;
  readonly #lookahead: number;
  #position = 0;
  /** The last verified record, kept as fields: no allocation per record. */
  #prevSeq = 0;
  #prevHash = GENESIS_HASH;
  #prevPrevHash = '';
  #checkpoints = 0;
  #anchorsChecked = 0;
  #failure: ChainVerifyFailure | undefined;
  #pending: Pending | undefined;
  #ahead: Link[] = [];

  constructor(options: ChainVerifyOptions = {}) {
    this.#publicKey = options.publicKey === undefined ? undefined : toPublicKey(options.publicKey);
    const lookahead = options.lookahead ?? 4096;
    if (!Number.isSafeInteger(lookahead) || lookahead < 1) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'lookahead must be a positive integer');
    }
    this.#lookahead = lookahead;
    let max = 0;
    for (const [i, cp] of (options.checkpoints ?? []).entries()) {
      if (
        typeof cp !== 'object' ||
        cp === null ||
        !Number.isSafeInteger(cp.seq) ||
        cp.seq < 1 ||
        typeof cp.hash !== 'string'
      ) {
        throw new BursarError(
          ErrorCode.INVALID_ARGUMENT,
          `checkpoints[${i}] must have a positive integer seq and a hash`,
        );
      }
      const list = this.#anchors.get(cp.seq) ?? [];
      list.push(cp);
      this.#anchors.set(cp.seq, list);
      max = Math.max(max, cp.seq);
    }
    this.#maxAnchor = max;
  }

  /** True once the first failure is known and diagnosed: further records change nothing. */
  get done(): boolean {
    return this.#failure !== undefined;
  }

  /** Records pushed so far. */
  get position(): number {
    return this.#position;
  }

  /** Checks the next record of the log. */
  push(value: unknown): void {
    if (this.#failure) return;
    const position = ++this.#position;
    if (this.#pending) {
      const link = asAuditRecord(value);
      if (link) this.#ahead.push({ seq: link.seq, hash: link.hash, prevHash: link.prevHash });
      if (this.#ahead.length >= this.#lookahead) this.#diagnose();
      return;
    }
    const record = asAuditRecord(value);
    if (!record) {
      this.#fail(position, 'malformed', `record ${position} is not a well-formed audit record`);
      return;
    }
    let dataJson: string;
    try {
      dataJson = fastCanonicalJson(record.data);
    } catch {
      this.#fail(position, 'malformed', `record ${position} holds data that is not JSON`);
      return;
    }
    const computed = sha256(recordBodyJson(record.seq, record.at, record.type, dataJson, record.prevHash));
    if (computed !== record.hash) {
      this.#fail(
        position,
        'edited',
        `record ${position} was edited: its content does not match its hash ${short(record.hash)}`,
      );
      return;
    }
    const prevHash = this.#prevHash;
    if (record.seq !== position || record.prevHash !== prevHash) {
      this.#pending = {
        kind: 'link',
        position,
        record: { seq: record.seq, hash: record.hash, prevHash: record.prevHash },
        prevHash,
        prevLink: this.#prevLink(),
      };
      return;
    }
    if (record.type === CHECKPOINT_TYPE && !this.#checkCheckpointRecord(record, position)) return;
    if (record.seq <= this.#maxAnchor) {
      const anchors = this.#anchors.get(record.seq);
      if (anchors && !this.#checkAnchors(anchors, record, position)) return;
    }
    this.#prevSeq = record.seq;
    this.#prevPrevHash = record.prevHash;
    this.#prevHash = record.hash;
  }

  /**
   * Counts the next position as unreadable (e.g. a line that is not JSON): a `malformed`
   * failure there, unless an earlier break is already being diagnosed.
   */
  pushMalformed(message: string): void {
    if (this.#failure) return;
    const position = ++this.#position;
    if (this.#pending) return;
    this.#fail(position, 'malformed', message);
  }

  /**
   * Records a failure found outside the chain (e.g. an export line whose compliance fields
   * disagree with its record). The earliest failure wins.
   */
  fail(seq: number, reason: TamperReason, message: string): void {
    if (this.#failure && this.#failure.seq <= seq) return;
    if (this.#pending && this.#pending.position <= seq) return;
    this.#pending = undefined;
    this.#failure = { ok: false, seq, reason, message, verified: Math.max(0, seq - 1) };
  }

  /** The verdict. Call once all records are pushed (or as soon as {@link done} is true). */
  finish(): ChainVerifyResult {
    if (!this.#failure && this.#pending) this.#diagnose();
    if (this.#failure) return this.#failure;
    const lastSeq = this.#prevSeq;
    if (this.#maxAnchor > lastSeq) {
      return {
        ok: false,
        seq: lastSeq + 1,
        reason: 'truncated',
        message: `the log ends at record ${lastSeq} but a trusted checkpoint covers record ${this.#maxAnchor}: records ${lastSeq + 1}..${this.#maxAnchor} were removed`,
        verified: lastSeq,
      };
    }
    return {
      ok: true,
      records: lastSeq,
      checkpoints: this.#checkpoints,
      signatures: this.#checkpoints === 0 ? 'none' : this.#publicKey ? 'verified' : 'unchecked',
      anchorsChecked: this.#anchorsChecked,
      head: lastSeq > 0 ? { seq: lastSeq, hash: this.#prevHash } : null,
    };
  }

  #prevLink(): Link | undefined {
    return this.#prevSeq > 0
      ? { seq: this.#prevSeq, hash: this.#prevHash, prevHash: this.#prevPrevHash }
      : undefined;
  }

  #fail(position: number, reason: TamperReason, message: string): void {
    this.#failure = { ok: false, seq: position, reason, message, verified: Math.max(0, position - 1) };
  }

  #checkCheckpointRecord(record: AuditRecord, position: number): boolean {
    const d = record.data as Partial<TrustedCheckpoint>;
    if (d.seq !== record.seq - 1 || d.hash !== record.prevHash) {
      this.#fail(
        position,
        'bad_checkpoint',
        `checkpoint record ${position} does not cover record ${record.seq - 1} (hash ${short(record.prevHash)})`,
      );
      return false;
    }
    if (this.#publicKey && !verifyCheckpointSignature(d as TrustedCheckpoint, this.#publicKey)) {
      this.#fail(
        position,
        'bad_signature',
        `checkpoint record ${position} has a signature that does not verify with the given public key`,
      );
      return false;
    }
    this.#checkpoints++;
    return true;
  }

  #checkAnchors(anchors: TrustedCheckpoint[], record: AuditRecord, position: number): boolean {
    for (const anchor of anchors) {
      if (anchor.hash !== record.hash) {
        // The next record tells a single re-hashed edit (it still links to the published hash)
        // from a rebuilt chain.
        this.#pending = {
          kind: 'anchor',
          position,
          record: { seq: record.seq, hash: record.hash, prevHash: record.prevHash },
          prevHash: anchor.hash,
          prevLink: this.#prevLink(),
        };
        return false;
      }
      if (
        anchor.signature !== undefined &&
        this.#publicKey &&
        !verifyCheckpointSignature(anchor, this.#publicKey)
      ) {
        this.#fail(
          position,
          'bad_signature',
          `the trusted checkpoint for record ${position} has a signature that does not verify with the given public key`,
        );
        return false;
      }
      this.#anchorsChecked++;
    }
    return true;
  }

  /** Names the most likely single change behind the break, using the records read after it. */
  #diagnose(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    const { position, record: r, prevLink } = p;
    const ahead = this.#ahead;
    this.#ahead = [];
    const expected = position;
    if (p.kind === 'anchor') {
      if (ahead[0]?.prevHash === p.prevHash) {
        this.#fail(
          position,
          'edited',
          `record ${position} was changed and re-hashed: a trusted checkpoint and record ${position + 1} both say its hash is ${short(p.prevHash)}`,
        );
      } else {
        this.#fail(
          position,
          'rewritten',
          `record ${position} has hash ${short(r.hash)} but a trusted checkpoint says ${short(p.prevHash)}: the log was rebuilt`,
        );
      }
      return;
    }
    if (r.seq === expected) {
      // Right number, wrong link: the record before was changed and re-hashed (or this one re-linked).
      if (position === 1) {
        this.#fail(1, 'edited', 'record 1 does not link to the genesis hash: it was changed and re-hashed');
      } else {
        this.#fail(
          position - 1,
          'edited',
          `record ${position - 1} was changed and re-hashed: record ${position} links to ${short(r.prevHash)}, not to its hash ${short(p.prevHash)}`,
        );
      }
      return;
    }
    if (r.seq > expected) {
      if (ahead.some((a) => a.seq === r.seq && a.hash === r.hash)) {
        this.#fail(
          position,
          'inserted',
          `record ${position} is an inserted copy of record ${r.seq}, which appears again later`,
        );
      } else if (ahead.some((a) => a.seq >= expected && a.seq < r.seq)) {
        this.#fail(
          position,
          'reordered',
          `records are out of order at ${position}: found record ${r.seq} where record ${expected} belongs`,
        );
      } else {
        const range =
          r.seq - 1 === expected ? `record ${expected} is` : `records ${expected}..${r.seq - 1} are`;
        this.#fail(position, 'deleted', `${range} missing: record ${r.seq} follows record ${expected - 1}`);
      }
      return;
    }
    // r.seq < expected: a number seen before.
    if (prevLink && r.seq === prevLink.seq && r.prevHash === prevLink.prevHash) {
      // Two records claim the same seq and the same predecessor; the successor tells which is genuine.
      const intruderBefore = ahead[0]?.prevHash === r.hash && r.hash !== prevLink.hash;
      const at = intruderBefore ? position - 1 : position;
      this.#fail(
        at,
        'inserted',
        `record ${at} was inserted: records ${position - 1} and ${position} both claim seq ${r.seq}`,
      );
      return;
    }
    if (ahead[0]?.seq === expected) {
      this.#fail(
        position,
        'inserted',
        `record ${position} was inserted: it repeats record ${r.seq} between records ${expected - 1} and ${expected}`,
      );
      return;
    }
    this.#fail(
      position,
      'reordered',
      `records are out of order at ${position}: found record ${r.seq} after record ${expected - 1}`,
    );
  }
}

function short(hash: string): string {
  return hash.length > 12 ? `${hash.slice(0, 12)}…` : hash;
}

/**
 * Verifies a whole log given as records in order (an array, or any iterable).
 *
 * @example
 * const result = verifyRecords(await store.read(), { publicKey, checkpoints: published });
 * if (!result.ok) console.error(`record ${result.seq}: ${result.reason}`);
 */
export function verifyRecords(
  records: Iterable<unknown>,
  options: ChainVerifyOptions = {},
): ChainVerifyResult {
  const verifier = new ChainVerifier(options);
  for (const record of records) {
    verifier.push(record);
    if (verifier.done) break;
  }
  return verifier.finish();
}
