import { BursarError, ErrorCode } from '../errors/index.js';
import { frozenCopy } from '../internal/frozen-copy.js';
import { MinHeap } from './min-heap.js';
import type {
  CounterCheck,
  CounterUsage,
  HoldRecord,
  HoldState,
  PlaceHoldRequest,
  PlaceHoldResult,
  SpendStore,
} from './spend-store.js';

type HoldCounter = HoldRecord['counters'][number];

interface Counter {
  used: bigint;
  held: bigint;
  retainUntil: number;
  /** The last hold entry made for this counter (see `counterEntry`). */
  entry: HoldCounter | undefined;
}

export interface MemorySpendStoreOptions {
  /** How long resolved holds stay readable through `getHold` (ms). Default 1 hour. */
  resolvedRetentionMs?: number;
}

/**
 * The zero-config spend store. Every operation runs synchronously inside one call, so on a
 * single Node process it is atomic; memory is bounded by retention (old window buckets and
 * resolved holds are dropped), not by history.
 *
 * Hold records are frozen when made and replaced, never changed, when a hold is resolved:
 * the stored record can be handed to callers as it is, with no copy per call.
 */
export class MemorySpendStore implements SpendStore {
  readonly #counters = new Map<string, Counter>();
  readonly #holds = new Map<string, HoldRecord>();
  /** Hold ids by expiry. */
  readonly #expiry = new MinHeap<string>();
  /** Counter keys by when they may be forgotten. */
  readonly #counterGc = new MinHeap<string>();
  /** Resolved hold ids by when they may be forgotten. */
  readonly #holdGc = new MinHeap<string>();
  readonly #retention: number;

  constructor(options: MemorySpendStoreOptions = {}) {
    this.#retention = options.resolvedRetentionMs ?? 3_600_000;
  }

  async placeHold(request: PlaceHoldRequest): Promise<PlaceHoldResult> {
    return this.placeHoldSync(request);
  }

  /** Synchronous form of {@link placeHold}, for callers that batch in-process. */
  placeHoldSync(request: PlaceHoldRequest): PlaceHoldResult {
    validateRequest(request);
    const { now, checks } = request;
    const expired = this.#sweep(now);
    const usage: CounterUsage[] = [];
    // Indexed loops on this path: for-of over frozen arrays (hold counters, cached sum keys)
    // allocates an iterator per loop on Node 20.
    for (let i = 0; i < checks.length; i++) usage.push(this.#usage(checks[i]!));
    const existing = this.#holds.get(request.holdId);
    if (existing) return { ok: true, hold: existing, existing: true, usage, expired };
    let exceeded: CounterUsage[] | undefined;
    for (let i = 0; i < usage.length; i++) {
      const u = usage[i]!;
      if (u.used + u.held + u.requested > u.limit) {
        if (exceeded === undefined) exceeded = [];
        exceeded.push(u);
      }
    }
    if (exceeded) return { ok: false, exceeded, usage, expired };

    // Sized up front, not grown by push: a frozen array keeps the spare capacity pushes
    // leave (17 slots for 3 counters) for as long as the hold is retained.
    const counters = new Array<HoldCounter>(checks.length);
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      let counter = this.#counters.get(c.key);
      if (!counter) {
        counter = { used: 0n, held: 0n, retainUntil: c.retainUntil, entry: undefined };
        this.#counters.set(c.key, counter);
        this.#counterGc.push(c.retainUntil, c.key);
      } else if (c.retainUntil > counter.retainUntil) {
        counter.retainUntil = c.retainUntil;
      }
      counter.held += c.amount;
      counters[i] = counterEntry(counter, c);
    }
    const hold: HoldRecord = Object.freeze({
      holdId: request.holdId,
      state: 'held',
      amount: request.amount,
      captured: 0n,
      counters: Object.freeze(counters),
      createdAt: now,
      expiresAt: request.expiresAt,
      meta: frozenCopy(request.meta),
    });
    this.#holds.set(hold.holdId, hold);
    this.#expiry.push(hold.expiresAt, hold.holdId);
    return { ok: true, hold, existing: false, usage, expired };
  }

  async captureHold(holdId: string, options: { amount?: bigint; now: number }): Promise<HoldRecord> {
    return this.captureHoldSync(holdId, options);
  }

  /** Synchronous form of {@link captureHold}: throws where that rejects. */
  captureHoldSync(holdId: string, options: { amount?: bigint; now: number }): HoldRecord {
    const hold = this.#active(holdId, options.now);
    const amount = options.amount ?? hold.amount;
    if (typeof amount !== 'bigint' || amount < 0n) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `Capture amount must be a non-negative bigint; got ${String(amount)}`,
      );
    }
    if (amount > hold.amount) {
      throw new BursarError(
        ErrorCode.CAPTURE_EXCEEDS_HOLD,
        `Cannot capture ${amount} minor units: hold ${holdId} holds only ${hold.amount}`,
        { details: { holdId, held: hold.amount.toString(), requested: amount.toString() } },
      );
    }
    const counters = hold.counters;
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i]!;
      const counter = this.#counters.get(c.key);
      if (!counter) continue;
      counter.held -= c.amount;
      counter.used += c.kind === 'amount' ? amount : c.amount;
    }
    return this.#resolve(hold, 'captured', amount, options.now);
  }

  async releaseHold(holdId: string, options: { now: number }): Promise<HoldRecord> {
    const hold = this.#active(holdId, options.now);
    this.#returnHeld(hold);
    return this.#resolve(hold, 'released', hold.captured, options.now);
  }

  async getHold(holdId: string): Promise<HoldRecord | undefined> {
    return this.#holds.get(holdId);
  }

  async expireHolds(now: number, limit = Number.POSITIVE_INFINITY): Promise<HoldRecord[]> {
    return this.#sweep(now, limit);
  }

  async getCounters(keys: readonly string[]): Promise<Map<string, { used: bigint; held: bigint }>> {
    const out = new Map<string, { used: bigint; held: bigint }>();
    for (const key of keys) {
      const c = this.#counters.get(key);
      out.set(key, { used: c?.used ?? 0n, held: c?.held ?? 0n });
    }
    return out;
  }

  /** Numbers of live counters and holds (for memory checks). */
  stats(): { counters: number; holds: number } {
    return { counters: this.#counters.size, holds: this.#holds.size };
  }

  #usage(c: CounterCheck): CounterUsage {
    let used = 0n;
    let held = 0n;
    const keys = c.sumKeys;
    for (let i = 0; i < keys.length; i++) {
      const counter = this.#counters.get(keys[i]!);
      if (counter) {
        // Assigned, not added, while nothing is summed yet: each bigint sum is an allocation.
        used = used === 0n ? counter.used : used + counter.used;
        held = held === 0n ? counter.held : held + counter.held;
      }
    }
    return { limitId: c.limitId, kind: c.kind, used, held, limit: c.limit, requested: c.amount };
  }

  #active(holdId: string, now: number): HoldRecord {
    const hold = this.#holds.get(holdId);
    if (hold && hold.state === 'held' && hold.expiresAt <= now) {
      // Refused but not expired here: expiring it inside capture or release would tell no
      // one. placeHold and expireHolds expire it and return it, so its expiry is reported.
      throw new BursarError(
        ErrorCode.HOLD_NOT_ACTIVE,
        `Hold ${holdId} expired at ${new Date(hold.expiresAt).toISOString()}`,
        { details: { holdId, state: 'expired', expiresAt: hold.expiresAt }, status: 409 },
      );
    }
    if (!hold) {
      throw new BursarError(ErrorCode.HOLD_NOT_FOUND, `No hold ${holdId}`, {
        details: { holdId },
        status: 404,
      });
    }
    if (hold.state !== 'held') {
      throw new BursarError(ErrorCode.HOLD_NOT_ACTIVE, `Hold ${holdId} is already ${hold.state}`, {
        details: { holdId, state: hold.state },
        status: 409,
      });
    }
    return hold;
  }

  #returnHeld(hold: HoldRecord): void {
    const counters = hold.counters;
    for (let i = 0; i < counters.length; i++) {
      const c = counters[i]!;
      const counter = this.#counters.get(c.key);
      if (counter) counter.held -= c.amount;
    }
  }

  /** Replaces a held hold's record with its resolved one, and schedules its forgetting. */
  #resolve(hold: HoldRecord, state: HoldState, captured: bigint, now: number): HoldRecord {
    const resolved = resolvedRecord(hold, state, captured, now);
    this.#holds.set(hold.holdId, resolved);
    this.#holdGc.push(now + this.#retention, hold.holdId);
    return resolved;
  }

  #sweep(now: number, limit = Number.POSITIVE_INFINITY): HoldRecord[] {
    const expired: HoldRecord[] = [];
    const expiry = this.#expiry;
    while (expiry.size > 0 && expiry.peekAt() <= now && expired.length < limit) {
      const holdId = expiry.pop()!;
      const hold = this.#holds.get(holdId);
      if (hold && hold.state === 'held' && hold.expiresAt <= now) {
        this.#returnHeld(hold);
        expired.push(this.#resolve(hold, 'expired', hold.captured, now));
      }
    }
    const holdGc = this.#holdGc;
    while (holdGc.size > 0 && holdGc.peekAt() < now) {
      const holdId = holdGc.pop()!;
      const hold = this.#holds.get(holdId);
      if (hold && hold.state !== 'held') this.#holds.delete(holdId);
    }
    const counterGc = this.#counterGc;
    while (counterGc.size > 0 && counterGc.peekAt() < now) {
      const at = counterGc.peekAt();
      const key = counterGc.pop()!;
      const c = this.#counters.get(key);
      if (!c) continue;
      if (c.retainUntil > at) {
        counterGc.push(c.retainUntil, key);
      } else if (c.held !== 0n) {
        // A hold still sits in an old bucket: look again once holds can have expired.
        counterGc.push(now + 60_000, key);
      } else {
        this.#counters.delete(key);
      }
    }
    return expired;
  }
}

/**
 * A hold's frozen entry for one counter. Holds that add the same amount to the same counter
 * for the same limit share one entry (the engine repeats them: every count check, every
 * payment of the same price), so a retained hold does not keep a copy of each.
 */
function counterEntry(counter: Counter, c: CounterCheck): HoldCounter {
  const last = counter.entry;
  if (last !== undefined && last.amount === c.amount && last.limitId === c.limitId && last.kind === c.kind) {
    return last;
  }
  const entry: HoldCounter = Object.freeze({
    limitId: c.limitId,
    kind: c.kind,
    key: c.key,
    amount: c.amount,
  });
  counter.entry = entry;
  return entry;
}

/** A held record's resolved successor: the same fields in the same order, then `resolvedAt`. */
function resolvedRecord(hold: HoldRecord, state: HoldState, captured: bigint, now: number): HoldRecord {
  return Object.freeze({
    holdId: hold.holdId,
    state,
    amount: hold.amount,
    captured,
    counters: hold.counters,
    createdAt: hold.createdAt,
    expiresAt: hold.expiresAt,
    meta: hold.meta,
    resolvedAt: now,
  });
}

function invalidRequest(message: string): BursarError {
  return new BursarError(ErrorCode.INVALID_ARGUMENT, `placeHold: ${message}`);
}

/** Checks a hold request's shape; shared by every store implementation. */
export function validateRequest(request: PlaceHoldRequest): void {
  const bad = invalidRequest;
  if (typeof request?.holdId !== 'string' || request.holdId.length === 0) throw bad('holdId is required');
  if (typeof request.amount !== 'bigint' || request.amount < 0n)
    throw bad('amount must be a non-negative bigint');
  if (!Number.isFinite(request.now) || !Number.isFinite(request.expiresAt))
    throw bad('now and expiresAt must be epoch ms');
  if (!Array.isArray(request.checks)) throw bad('checks must be an array');
  const checks = request.checks;
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i]!;
    if (typeof c.key !== 'string' || !c.key) throw bad('each check needs a key');
    if (!Array.isArray(c.sumKeys) || !c.sumKeys.includes(c.key))
      throw bad(`check ${c.limitId}: sumKeys must include its key`);
    if (typeof c.limit !== 'bigint' || c.limit < 0n)
      throw bad(`check ${c.limitId}: limit must be a non-negative bigint`);
    if (typeof c.amount !== 'bigint' || c.amount < 0n)
      throw bad(`check ${c.limitId}: amount must be a non-negative bigint`);
    if (c.kind === 'amount' && c.amount !== request.amount) {
      throw bad(`check ${c.limitId}: an amount check must hold the request's amount`);
    }
    if (c.kind !== 'amount' && c.kind !== 'count')
      throw bad(`check ${c.limitId}: kind must be amount or count`);
  }
}
