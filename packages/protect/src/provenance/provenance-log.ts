import type { KeyObject } from 'node:crypto';
import {
  type AuditRecord,
  type AuditStore,
  BursarError,
  type Clock,
  ErrorCode,
  type EventBus,
  systemClock,
} from '@bursar/core';
import { z } from 'zod';
import { ChainVerifier, type ChainVerifyOptions, type ChainVerifyResult } from '../chain/chain-verifier.js';
import {
  type Checkpoint,
  type CheckpointSigner,
  type ResolvedSigner,
  resolveSigner,
  signCheckpoint,
  type TrustedCheckpoint,
} from '../chain/checkpoint.js';
import { type CanonicalCopy, canonicalCopy } from '../chain/fast-canonical.js';
import { CHECKPOINT_TYPE, GENESIS_HASH, recordBodyJson, sha256 } from '../chain/record-hash.js';
import { fn, hasMethods, parseOptions } from '../internal/options.js';
import { type ErrorReporter, reportError } from '../internal/report.js';
import { seal } from '../internal/sealed.js';
import { SerialQueue } from '../internal/serial-queue.js';
import { type SyncAuditStore, syncStoreOf } from '../internal/sync-store.js';
import { FrozenMemoryAuditStore } from '../stores/frozen-memory-audit-store.js';
import { assessCompleteness, type CompletenessReport } from './completeness.js';
import { eventRecordData, RECORDED_EVENTS } from './event-records.js';
import { PaymentIndex } from './payment-index.js';

/** Options of {@link ProvenanceLog}. */
export interface ProvenanceLogOptions {
  /** Where records go (default: a new {@link FrozenMemoryAuditStore}). May be shared with other writers. */
  store?: AuditStore;
  /** Stamps each record's `at` (default: the system clock). */
  clock?: Clock;
  /** Ed25519 key that signs checkpoints. Without it, `checkpoint()` is unavailable. */
  signer?: CheckpointSigner;
  /** Sign a checkpoint after every N records (default 1000 with a signer; 0 turns it off). */
  checkpointEvery?: number;
  /**
   * Called with each checkpoint this log signs: publish it somewhere the log's writer cannot
   * rewrite (another system, a transparency log, an email). Errors are reported, never thrown.
   */
  onCheckpoint?: (checkpoint: Checkpoint) => void | Promise<void>;
  /**
   * Receives failures that must not throw: appends from bus events, automatic checkpoints,
   * `onCheckpoint`. Default: events report to the bus as `listener.error`; others emit a process warning.
   */
  onError?: ErrorReporter;
  /** How often an append re-reads the head and retries after a conflict with another writer (default 5). */
  maxAppendRetries?: number;
}

const Options = z.strictObject({
  store: hasMethods<AuditStore>(['head', 'append', 'read'], 'must implement AuditStore').optional(),
  clock: hasMethods<Clock>(['now'], 'must be a Clock').optional(),
  signer: z
    .strictObject({
      privateKey: z.custom<KeyObject | string>(
        (v) => typeof v === 'string' || (typeof v === 'object' && v !== null),
        { message: 'must be a KeyObject or a PEM string' },
      ),
      keyId: z.string().min(1).max(256).optional(),
    })
    .optional(),
  checkpointEvery: z.number().int().min(0).max(1_000_000_000).optional(),
  onCheckpoint: fn<(checkpoint: Checkpoint) => void | Promise<void>>().optional(),
  onError: fn<ErrorReporter>().optional(),
  maxAppendRetries: z.number().int().min(0).max(100).optional(),
});

/** Options of {@link ProvenanceLog.verify}. */
export interface ProvenanceVerifyOptions extends ChainVerifyOptions {
  /**
   * Also hold the store to what this log instance has seen: its head and the checkpoints it
   * signed (default true). This detects a store rewritten or truncated behind the log's back.
   */
  trustLocal?: boolean;
}

/** A time range: `from ≤ at < to`, epoch ms. Both ends optional. */
export interface TimeRange {
  from?: number;
  to?: number;
}

/** One payment and its records. */
export interface PaymentChain {
  /** The payment's key: its intent id when one was recorded. */
  paymentId: string;
  records: readonly AuditRecord[];
}

/** Record data, or a function making it from the record's time and the head it links to. */
type Build = CanonicalCopy | ((at: number, head: { seq: number; hash: string } | null) => CanonicalCopy);

const TYPE_MAX = 128;
const PAGE = 10_000;

function invalid(message: string): BursarError {
  return new BursarError(ErrorCode.INVALID_ARGUMENT, message);
}

/**
 * The provenance log: one append-only, hash-linked log of what happened to every payment
 * (intent → decision with policy hash → approvals → execution → settlement → dispute/refund).
 * Each record carries the SHA-256 of its canonical JSON and the previous record's hash;
 * readers get frozen records; `verify()` finds the first broken link and says why; Ed25519
 * checkpoints, signed with the user's key every N records and on demand, let a published
 * checkpoint expose a truncation.
 *
 * Appends from one process are serialised in call order. A shared store's `ERR_BURSAR_CONFLICT`
 * (another writer got there first) makes the log read the records it missed and retry.
 *
 * @example
 * const log = new ProvenanceLog({ signer: { privateKey: pem }, onCheckpoint: publish });
 * const detach = log.attach(bus);                 // records lifecycle events
 * await log.append('note', { agentId: 'bot', text: 'manual review' });
 * const chain = await log.chain(intentId);        // one payment's records
 * const result = await log.verify();              // { ok: true, records, checkpoints, … }
 */
export class ProvenanceLog {
  readonly #store: AuditStore;
  /** Synchronous access when the store is in memory: appends then need no await. */
  readonly #sync: SyncAuditStore | undefined;
  readonly #clock: Clock;
  readonly #signer: ResolvedSigner | undefined;
  readonly #every: number;
  readonly #onCheckpoint: ((checkpoint: Checkpoint) => void | Promise<void>) | undefined;
  readonly #onError: ErrorReporter | undefined;
  readonly #maxRetries: number;
  readonly #queue = new SerialQueue();
  readonly #index = new PaymentIndex();
  readonly #published: Checkpoint[] = [];
  #synced = false;
  #head: { seq: number; hash: string } | null = null;
  #sinceCheckpoint = 0;

  constructor(options: ProvenanceLogOptions = {}) {
    const o = parseOptions('ProvenanceLog', Options, options);
    this.#store = o.store ?? new FrozenMemoryAuditStore();
    this.#sync = syncStoreOf(this.#store);
    this.#clock = o.clock ?? systemClock;
    this.#signer = o.signer ? resolveSigner(o.signer) : undefined;
    this.#every = o.checkpointEvery ?? (this.#signer ? 1000 : 0);
    if (this.#every > 0 && !this.#signer) {
      throw new BursarError(ErrorCode.INVALID_OPTIONS, 'checkpointEvery needs a signer to sign checkpoints');
    }
    this.#onCheckpoint = o.onCheckpoint;
    this.#onError = o.onError;
    this.#maxRetries = o.maxAppendRetries ?? 5;
    if (this.#sync) {
      this.#catchUpSync();
      this.#synced = true;
    }
  }

  /** The public key checkpoints are signed with (undefined without a signer). */
  get publicKey(): KeyObject | undefined {
    return this.#signer?.publicKey;
  }

  /** The key id checkpoints carry (undefined without a signer). */
  get keyId(): string | undefined {
    return this.#signer?.keyId;
  }

  /**
   * Appends a record. `data` must be JSON data (a `bigint` is stored as a decimal string, a
   * `Date` as ISO-8601, `undefined` members are dropped); it is copied at call time, so later
   * changes to the caller's object change nothing. Resolves with the frozen record.
   * The type `checkpoint` is reserved.
   */
  append(type: string, data: Readonly<Record<string, unknown>>): Promise<AuditRecord> {
    let body: CanonicalCopy;
    try {
      checkType(type);
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw invalid('append: data must be a plain object');
      }
      body = canonicalCopy(data);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#sync && this.#queue.idle) {
      // Nothing is in flight and the store is synchronous: append now, no queue hop.
      try {
        return Promise.resolve(this.#appendSync(type, body));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#queue.run(() => this.#appendSerial(type, body));
  }

  /**
   * Signs the current head now and appends the checkpoint record. Needs a `signer`. Resolves
   * with the checkpoint (also passed to `onCheckpoint`); publish it to make truncation detectable.
   */
  checkpoint(): Promise<Checkpoint> {
    if (!this.#signer) {
      return Promise.reject(
        new BursarError(
          ErrorCode.INVALID_OPTIONS,
          'checkpoint() needs a signer in the ProvenanceLog options',
        ),
      );
    }
    return this.#queue.run(async () => {
      if (this.#sync) return this.#checkpointSync();
      await this.#ensureSynced();
      return this.#checkpointSerial();
    });
  }

  /** The checkpoints this instance has signed, oldest first (frozen). */
  checkpoints(): readonly Checkpoint[] {
    return Object.freeze([...this.#published]);
  }

  /** The last record's seq and hash as this log knows them, or null when empty. */
  async head(): Promise<{ seq: number; hash: string } | null> {
    return this.#queue.run(async () => {
      await this.#ensureSynced();
      return this.#head ? { ...this.#head } : null;
    });
  }

  /** Reads records another writer appended to a shared store since this log last looked. */
  async sync(): Promise<void> {
    return this.#queue.run(async () => {
      await this.#ensureSynced();
      await this.#catchUp();
    });
  }

  /**
   * Walks the whole log and reports the first broken link (see {@link ChainVerifier}). Uses the
   * signer's public key for checkpoint signatures unless `publicKey` is given. Appends may go on
   * while it runs; it checks at least the records present when it started.
   */
  async verify(options: ProvenanceVerifyOptions = {}): Promise<ChainVerifyResult> {
    const { trustLocal = true, ...chainOptions } = options;
    const local = await this.#queue.run(async () => {
      await this.#ensureSynced();
      // What this instance signed or saw is trusted as is: its checkpoints' signatures are
      // checked where they sit in the log, so the anchors need only seq and hash.
      const anchors: TrustedCheckpoint[] = trustLocal
        ? this.#published.map(({ seq, hash }) => ({ seq, hash }))
        : [];
      if (trustLocal && this.#head) anchors.push({ ...this.#head });
      return anchors;
    });
    const publicKey = chainOptions.publicKey ?? this.#signer?.publicKey;
    const verifier = new ChainVerifier({
      ...chainOptions,
      ...(publicKey ? { publicKey } : {}),
      checkpoints: [...local, ...(chainOptions.checkpoints ?? [])],
    });
    for (let from = 1; ; ) {
      const page = await this.#store.read({ fromSeq: from, limit: PAGE });
      for (const record of page) {
        verifier.push(record);
        if (verifier.done) return verifier.finish();
      }
      if (page.length === 0) break;
      from += page.length;
    }
    return verifier.finish();
  }

  /** Records in seq order from `fromSeq` (default 1), at most `limit`. Frozen. */
  async records(args: { fromSeq?: number; limit?: number } = {}): Promise<readonly AuditRecord[]> {
    // A copy: a store may hand out an array it still owns.
    return Object.freeze([...(await this.#store.read(args))]);
  }

  /**
   * One payment's records in seq order, found by any of its ids (intent, hold, approval or
   * payment id). Empty when unknown.
   */
  async chain(paymentId: string): Promise<readonly AuditRecord[]> {
    return this.#queue.run(async () => {
      await this.#ensureSynced();
      return this.#readSeqs(this.#index.paymentSeqs(paymentId));
    });
  }

  /** Which stages one payment has, which are missing, and where it stands. */
  async completeness(paymentId: string): Promise<CompletenessReport> {
    const records = await this.chain(paymentId);
    return assessCompleteness(this.#index.keyOf(paymentId) ?? paymentId, records);
  }

  /** An agent's records with `from ≤ at < to`, in time order. */
  async agentRecords(args: { agentId: string } & TimeRange): Promise<readonly AuditRecord[]> {
    const { from, to } = range(args);
    return this.#queue.run(async () => {
      await this.#ensureSynced();
      return this.#readSeqs(this.#index.agentSeqs(args.agentId, from, to), false);
    });
  }

  /**
   * The payments of an agent with at least one record in `from ≤ at < to`, each with its whole
   * chain, ordered by their first record in the range.
   */
  async agentPayments(args: { agentId: string } & TimeRange): Promise<readonly PaymentChain[]> {
    const { from, to } = range(args);
    return this.#queue.run(async () => {
      await this.#ensureSynced();
      const seqs = this.#index.agentSeqs(args.agentId, from, to);
      const records = await this.#readSeqs(seqs, false);
      const keys: string[] = [];
      const seen = new Set<string>();
      for (const r of records) {
        const key = paymentIdOf(r, this.#index);
        if (key !== undefined && !seen.has(key)) {
          seen.add(key);
          keys.push(key);
        }
      }
      const out: PaymentChain[] = [];
      for (const key of keys) {
        out.push(
          Object.freeze({ paymentId: key, records: await this.#readSeqs(this.#index.paymentSeqs(key)) }),
        );
      }
      return Object.freeze(out);
    });
  }

  /** The records naming `approver` (in `approvers` or `approver`), with `from ≤ at < to`, in time order. */
  async approvalsBy(args: { approver: string } & TimeRange): Promise<readonly AuditRecord[]> {
    const { from, to } = range(args);
    return this.#queue.run(async () => {
      await this.#ensureSynced();
      return this.#readSeqs(this.#index.approverSeqs(args.approver, from, to), false);
    });
  }

  /**
   * Records bus events as provenance records (by default {@link RECORDED_EVENTS}). Listener
   * work never throws into the bus: failures go to `onError`, or else to the bus as
   * `listener.error`. Returns a function that detaches.
   */
  attach(bus: EventBus, options: { events?: readonly string[] } = {}): () => void {
    const events = new Set<string>(options.events ?? RECORDED_EVENTS);
    events.delete('listener.error');
    const report = (error: unknown, event: string) => {
      if (this.#onError) reportError(this.#onError, error, { operation: 'event', event });
      else {
        try {
          bus.emit('listener.error', { event, error });
        } catch (inner) {
          reportError(undefined, inner, { operation: 'event', event });
        }
      }
    };
    return bus.onAny((type, payload) => {
      if (!events.has(type)) return;
      try {
        const data = eventRecordData(type, payload);
        if (this.#sync && this.#queue.idle) {
          // Recorded now: the payload cannot change before it is copied.
          this.#appendSync(type, (at) => canonicalCopy(this.#withDuration(data, at)));
          return;
        }
        // Queued: snapshot the payload now, add the duration when the record's time is known.
        const snapshot = canonicalCopy(data).copy as Record<string, unknown>;
        const build = (at: number) => canonicalCopy(this.#withDuration(shallowCopy(snapshot), at));
        this.#queue.run(() => this.#appendSerial(type, build)).catch((error: unknown) => report(error, type));
      } catch (error) {
        report(error, type);
      }
    });
  }

  /** Adds `durationMs` (time since the payment's first record) to event data that names a payment. */
  #withDuration(data: Record<string, unknown>, at: number): Record<string, unknown> {
    if (data.durationMs !== undefined) return data;
    if (!ID_FIELDS.some((f) => typeof data[f] === 'string')) return data;
    const firstAt = this.#index.firstAtOf(data);
    data.durationMs = firstAt === undefined ? 0 : Math.max(0, at - firstAt);
    return data;
  }

  async #ensureSynced(): Promise<void> {
    if (this.#synced) return;
    await this.#catchUp();
    this.#synced = true;
  }

  /** Reads and indexes every record after the known head. */
  async #catchUp(): Promise<void> {
    if (this.#sync) {
      this.#catchUpSync();
      return;
    }
    for (;;) {
      const page = await this.#store.read({ fromSeq: (this.#head?.seq ?? 0) + 1, limit: PAGE });
      if (page.length === 0) return;
      for (const record of page) this.#track(record);
    }
  }

  #catchUpSync(): void {
    for (;;) {
      const page = this.#sync!.read({ fromSeq: (this.#head?.seq ?? 0) + 1, limit: PAGE });
      if (page.length === 0) return;
      for (const record of page) this.#track(record);
    }
  }

  #track(record: AuditRecord): void {
    // Records read back from a damaged store may not be records at all; verify() reports them.
    if (typeof record?.seq === 'number' && typeof record.hash === 'string') {
      // Updated in place: the head is only ever handed out as a copy.
      if (this.#head) {
        this.#head.seq = record.seq;
        this.#head.hash = record.hash;
      } else {
        this.#head = { seq: record.seq, hash: record.hash };
      }
    }
    if (typeof record?.data === 'object' && record.data !== null && typeof record.at === 'number') {
      this.#index.add(record);
    }
    if (record.type === CHECKPOINT_TYPE) this.#sinceCheckpoint = 0;
    else this.#sinceCheckpoint++;
  }

  get #checkpointDue(): boolean {
    return this.#every > 0 && this.#sinceCheckpoint >= this.#every;
  }

  /** Builds the next record on top of the known head. `build` may depend on the time and the head. */
  #prepare(type: string, build: Build): AuditRecord {
    const head = this.#head;
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const at = this.#clock.now();
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, `clock.now() returned ${String(at)}`);
    }
    const body = typeof build === 'function' ? build(at, head) : build;
    const hash = sha256(recordBodyJson(seq, at, type, body.json, prevHash));
    return seal(seq, at, type, body.copy as AuditRecord['data'], prevHash, hash);
  }

  /** Runs inside the queue (async stores). */
  async #appendSerial(type: string, build: Build): Promise<AuditRecord> {
    if (this.#sync) return this.#appendSync(type, build);
    if (!this.#synced) await this.#ensureSynced();
    const record = await this.#write(type, build);
    if (type !== CHECKPOINT_TYPE && this.#checkpointDue) {
      try {
        await this.#checkpointSerial();
      } catch (error) {
        // The record is stored; a failed automatic checkpoint must not turn that into a failure.
        reportError(this.#onError, error, { operation: 'checkpoint' });
      }
    }
    return record;
  }

  /** The whole append for a synchronous store: never interleaves with anything. */
  #appendSync(type: string, build: Build): AuditRecord {
    const record = this.#writeSync(type, build);
    if (type !== CHECKPOINT_TYPE && this.#checkpointDue) {
      try {
        this.#checkpointSync();
      } catch (error) {
        reportError(this.#onError, error, { operation: 'checkpoint' });
      }
    }
    return record;
  }

  async #write(type: string, build: Build): Promise<AuditRecord> {
    for (let attempt = 0; ; attempt++) {
      const record = this.#prepare(type, build);
      try {
        await this.#store.append(record);
      } catch (error) {
        if (BursarError.hasCode(error, ErrorCode.CONFLICT) && attempt < this.#maxRetries) {
          // Another writer appended first: learn what it wrote, then try on top of it.
          await this.#catchUp();
          continue;
        }
        throw error;
      }
      this.#track(record);
      return record;
    }
  }

  #writeSync(type: string, build: Build): AuditRecord {
    for (let attempt = 0; ; attempt++) {
      const record = this.#prepare(type, build);
      try {
        this.#sync!.append(record);
      } catch (error) {
        if (BursarError.hasCode(error, ErrorCode.CONFLICT) && attempt < this.#maxRetries) {
          this.#catchUpSync();
          continue;
        }
        throw error;
      }
      this.#track(record);
      return record;
    }
  }

  #checkpointBuild(signer: ResolvedSigner, out: { checkpoint?: Checkpoint }): Build {
    return (at, head) => {
      out.checkpoint = signCheckpoint({ seq: head!.seq, hash: head!.hash, at }, signer);
      return canonicalCopy(out.checkpoint);
    };
  }

  async #checkpointSerial(): Promise<Checkpoint> {
    if (!this.#head) throw invalid('checkpoint: the log is empty; there is nothing to sign');
    const out: { checkpoint?: Checkpoint } = {};
    await this.#write(CHECKPOINT_TYPE, this.#checkpointBuild(this.#signer!, out));
    return this.#published_(out.checkpoint!);
  }

  #checkpointSync(): Checkpoint {
    if (!this.#head) throw invalid('checkpoint: the log is empty; there is nothing to sign');
    const out: { checkpoint?: Checkpoint } = {};
    this.#writeSync(CHECKPOINT_TYPE, this.#checkpointBuild(this.#signer!, out));
    return this.#published_(out.checkpoint!);
  }

  /** Keeps a signed checkpoint and hands it to `onCheckpoint` (failures reported, never thrown). */
  #published_(checkpoint: Checkpoint): Checkpoint {
    const cp = Object.freeze(checkpoint);
    this.#published.push(cp);
    if (this.#onCheckpoint) {
      try {
        const r = this.#onCheckpoint(cp);
        if (r && typeof r.then === 'function') {
          r.then(undefined, (error: unknown) => reportError(this.#onError, error, { operation: 'publish' }));
        }
      } catch (error) {
        reportError(this.#onError, error, { operation: 'publish' });
      }
    }
    return cp;
  }

  /** Reads records by seq, one store read per run of consecutive seqs. */
  async #readSeqs(seqs: readonly number[], sorted = true): Promise<readonly AuditRecord[]> {
    if (seqs.length === 0) return Object.freeze([]);
    const order = sorted ? seqs : [...seqs].sort((a, b) => a - b);
    const bySeq = new Map<number, AuditRecord>();
    for (let i = 0; i < order.length; ) {
      let j = i + 1;
      while (j < order.length && order[j] === order[j - 1]! + 1) j++;
      const page = await this.#store.read({ fromSeq: order[i]!, limit: j - i });
      for (const r of page) bySeq.set(r.seq, r);
      i = j;
    }
    const out: AuditRecord[] = [];
    for (const s of seqs) {
      const r = bySeq.get(s);
      if (r) out.push(r);
    }
    return Object.freeze(out);
  }
}

function checkType(type: unknown): asserts type is string {
  if (typeof type !== 'string' || type.length === 0 || type.length > TYPE_MAX) {
    throw invalid(`append: type must be a string of 1-${TYPE_MAX} characters`);
  }
  if (type === CHECKPOINT_TYPE) {
    throw invalid('append: the type "checkpoint" is reserved for signed checkpoints');
  }
}

function range(args: TimeRange): { from: number; to: number } {
  const from = args.from ?? Number.NEGATIVE_INFINITY;
  const to = args.to ?? Number.POSITIVE_INFINITY;
  if (Number.isNaN(from) || Number.isNaN(to)) throw invalid('from and to must be numbers (epoch ms)');
  return { from, to };
}

/** The data fields that name a payment. */
const ID_FIELDS = ['intentId', 'paymentId', 'holdId', 'approvalId'] as const;

function paymentIdOf(record: AuditRecord, index: PaymentIndex): string | undefined {
  const d = record.data as Record<string, unknown>;
  for (const field of ID_FIELDS) {
    const id = d[field];
    if (typeof id === 'string') {
      const key = index.keyOf(id);
      if (key !== undefined) return key;
    }
  }
  return undefined;
}

/** A plain, unfrozen copy of an object's own top-level properties. */
function shallowCopy(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    Object.defineProperty(out, key, {
      value: source[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
