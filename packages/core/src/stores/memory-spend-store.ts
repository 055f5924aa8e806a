import { BursarError, ErrorCode } from '../errors/index.js';
import { MinHeap } from './min-heap.js';
import type {
  CounterCheck,
  CounterUsage,
  HoldRecord,
  PlaceHoldRequest,
  PlaceHoldResult,
  SpendStore,
} from './spend-store.js';

interface Counter {
  used: bigint;
  held: bigint;
  retainUntil: number;
}

type MutableHold = { -readonly [K in keyof HoldRecord]: HoldRecord[K] };

export interface MemorySpendStoreOptions {
  /** How long resolved holds stay readable through `getHold` (ms). Default 1 hour. */
  resolvedRetentionMs?: number;
}

/**
 * The zero-config spend store. Every operation runs synchronously inside one call, so on a
 * single Node process it is atomic; memory is bounded by retention (old window buckets and
 * resolved holds are dropped), not by history.
 */
export class MemorySpendStore implements SpendStore {
  readonly #counters = new Map<string, Counter>();
  readonly #holds = new Map<string, MutableHold>();
  readonly #expiry = new MinHeap<{ at: number; holdId: string }>();
  readonly #counterGc = new MinHeap<{ at: number; key: string }>();
  readonly #holdGc = new MinHeap<{ at: number; holdId: string }>();
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
    const { now } = request;
    const expired = this.#sweep(now);
    const usage = request.checks.map((c) => this.#usage(c));
    const existing = this.#holds.get(request.holdId);
    if (existing) {
      return { ok: true, hold: snapshot(existing), existing: true, usage, expired };
    }
    const exceeded = usage.filter((u) => u.used + u.held + u.requested > u.limit);
    if (exceeded.length > 0) return { ok: false, exceeded, usage, expired };

    for (const c of request.checks) {
      let counter = this.#counters.get(c.key);
      if (!counter) {
        counter = { used: 0n, held: 0n, retainUntil: c.retainUntil };
        this.#counters.set(c.key, counter);
        this.#counterGc.push({ at: c.retainUntil, key: c.key });
      } else if (c.retainUntil > counter.retainUntil) {
        counter.retainUntil = c.retainUntil;
      }
      counter.held += c.amount;
    }
    const hold: MutableHold = {
      holdId: request.holdId,
      state: 'held',
      amount: request.amount,
      captured: 0n,
      counters: Object.freeze(
        request.checks.map((c) =>
          Object.freeze({ limitId: c.limitId, kind: c.kind, key: c.key, amount: c.amount }),
        ),
      ),
      createdAt: now,
      expiresAt: request.expiresAt,
      meta: Object.freeze({ ...(request.meta ?? {}) }),
    };
    this.#holds.set(hold.holdId, hold);
    this.#expiry.push({ at: hold.expiresAt, holdId: hold.holdId });
    return { ok: true, hold: snapshot(hold), existing: false, usage, expired };
  }

  async captureHold(holdId: string, options: { amount?: bigint; now: number }): Promise<HoldRecord> {
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
    for (const c of hold.counters) {
      const counter = this.#counters.get(c.key);
      if (!counter) continue;
      counter.held -= c.amount;
      counter.used += c.kind === 'amount' ? amount : c.amount;
    }
    hold.state = 'captured';
    hold.captured = amount;
    this.#resolve(hold, options.now);
    return snapshot(hold);
  }

  async releaseHold(holdId: string, options: { now: number }): Promise<HoldRecord> {
    const hold = this.#active(holdId, options.now);
    this.#returnHeld(hold);
    hold.state = 'released';
    this.#resolve(hold, options.now);
    return snapshot(hold);
  }

  async getHold(holdId: string): Promise<HoldRecord | undefined> {
    const hold = this.#holds.get(holdId);
    return hold ? snapshot(hold) : undefined;
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
    for (const key of c.sumKeys) {
      const counter = this.#counters.get(key);
      if (counter) {
        used += counter.used;
        held += counter.held;
      }
    }
    return { limitId: c.limitId, kind: c.kind, used, held, limit: c.limit, requested: c.amount };
  }

  #active(holdId: string, now: number): MutableHold {
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

  #returnHeld(hold: MutableHold): void {
    for (const c of hold.counters) {
      const counter = this.#counters.get(c.key);
      if (counter) counter.held -= c.amount;
    }
  }

  #resolve(hold: MutableHold, now: number): void {
    hold.resolvedAt = now;
    this.#holdGc.push({ at: now + this.#retention, holdId: hold.holdId });
  }

  #sweep(now: number, limit = Number.POSITIVE_INFINITY): HoldRecord[] {
    const expired: HoldRecord[] = [];
    for (
      let top = this.#expiry.peek();
      top && top.at <= now && expired.length < limit;
      top = this.#expiry.peek()
    ) {
      this.#expiry.pop();
      const hold = this.#holds.get(top.holdId);
      if (hold && hold.state === 'held' && hold.expiresAt <= now) {
        this.#returnHeld(hold);
        hold.state = 'expired';
        this.#resolve(hold, now);
        expired.push(snapshot(hold));
      }
    }
    for (let top = this.#holdGc.peek(); top && top.at < now; top = this.#holdGc.peek()) {
      this.#holdGc.pop();
      const hold = this.#holds.get(top.holdId);
      if (hold && hold.state !== 'held') this.#holds.delete(top.holdId);
    }
    for (let top = this.#counterGc.peek(); top && top.at < now; top = this.#counterGc.peek()) {
      this.#counterGc.pop();
      const c = this.#counters.get(top.key);
      if (!c) continue;
      if (c.retainUntil > top.at) {
        this.#counterGc.push({ at: c.retainUntil, key: top.key });
      } else if (c.held !== 0n) {
        // A hold still sits in an old bucket: look again once holds can have expired.
        this.#counterGc.push({ at: now + 60_000, key: top.key });
      } else {
        this.#counters.delete(top.key);
      }
    }
    return expired;
  }
}

function snapshot(hold: MutableHold): HoldRecord {
  return Object.freeze({ ...hold });
}

/** Checks a hold request's shape; shared by every store implementation. */
export function validateRequest(request: PlaceHoldRequest): void {
  const bad = (message: string) => new BursarError(ErrorCode.INVALID_ARGUMENT, `placeHold: ${message}`);
  if (typeof request?.holdId !== 'string' || request.holdId.length === 0) throw bad('holdId is required');
  if (typeof request.amount !== 'bigint' || request.amount < 0n)
    throw bad('amount must be a non-negative bigint');
  if (!Number.isFinite(request.now) || !Number.isFinite(request.expiresAt))
    throw bad('now and expiresAt must be epoch ms');
  if (!Array.isArray(request.checks)) throw bad('checks must be an array');
  for (const c of request.checks) {
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
