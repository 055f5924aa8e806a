import { BursarError, ErrorCode } from '../errors/index.js';
import type { HoldRecord, PlaceHoldRequest, PlaceHoldResult, SpendStore } from '../stores/spend-store.js';

/**
 * A deliberately WRONG spend store: it reads the counters, yields (as any remote store does
 * between a read and a write), then writes. Concurrent holds all see the same old total and
 * overspend. It exists so the conformance suite can prove it catches this bug; never use it.
 */
export class NaiveSpendStore implements SpendStore {
  readonly #counters = new Map<string, { used: bigint; held: bigint }>();
  readonly #holds = new Map<string, HoldRecord>();

  async placeHold(request: PlaceHoldRequest): Promise<PlaceHoldResult> {
    const existing = this.#holds.get(request.holdId);
    if (existing) return { ok: true, hold: existing, existing: true, usage: [], expired: [] };
    const usage = request.checks.map((c) => {
      let used = 0n;
      let held = 0n;
      for (const k of c.sumKeys) {
        used += this.#counters.get(k)?.used ?? 0n;
        held += this.#counters.get(k)?.held ?? 0n;
      }
      return { limitId: c.limitId, kind: c.kind, used, held, limit: c.limit, requested: c.amount };
    });
    await new Promise((resolve) => setImmediate(resolve));
    const exceeded = usage.filter((u) => u.used + u.held + u.requested > u.limit);
    if (exceeded.length > 0) return { ok: false, exceeded, usage, expired: [] };
    for (const c of request.checks) {
      const counter = this.#counters.get(c.key) ?? { used: 0n, held: 0n };
      counter.held += c.amount;
      this.#counters.set(c.key, counter);
    }
    const hold: HoldRecord = {
      holdId: request.holdId,
      state: 'held',
      amount: request.amount,
      captured: 0n,
      counters: request.checks.map((c) => ({
        limitId: c.limitId,
        kind: c.kind,
        key: c.key,
        amount: c.amount,
      })),
      createdAt: request.now,
      expiresAt: request.expiresAt,
      meta: request.meta ?? {},
    };
    this.#holds.set(hold.holdId, hold);
    return { ok: true, hold, existing: false, usage, expired: [] };
  }

  async captureHold(holdId: string, options: { amount?: bigint; now: number }): Promise<HoldRecord> {
    const hold = this.#take(holdId);
    const amount = options.amount ?? hold.amount;
    for (const c of hold.counters) {
      const counter = this.#counters.get(c.key)!;
      counter.held -= c.amount;
      counter.used += c.kind === 'amount' ? amount : c.amount;
    }
    const next = { ...hold, state: 'captured' as const, captured: amount, resolvedAt: options.now };
    this.#holds.set(holdId, next);
    return next;
  }

  async releaseHold(holdId: string, options: { now: number }): Promise<HoldRecord> {
    const hold = this.#take(holdId);
    for (const c of hold.counters) this.#counters.get(c.key)!.held -= c.amount;
    const next = { ...hold, state: 'released' as const, resolvedAt: options.now };
    this.#holds.set(holdId, next);
    return next;
  }

  async getHold(holdId: string): Promise<HoldRecord | undefined> {
    return this.#holds.get(holdId);
  }

  async expireHolds(): Promise<HoldRecord[]> {
    return [];
  }

  async getCounters(keys: readonly string[]): Promise<Map<string, { used: bigint; held: bigint }>> {
    return new Map(keys.map((k) => [k, { ...(this.#counters.get(k) ?? { used: 0n, held: 0n }) }]));
  }

  #take(holdId: string): HoldRecord {
    const hold = this.#holds.get(holdId);
    if (!hold) throw new BursarError(ErrorCode.HOLD_NOT_FOUND, `No hold ${holdId}`);
    if (hold.state !== 'held')
      throw new BursarError(ErrorCode.HOLD_NOT_ACTIVE, `Hold ${holdId} is ${hold.state}`);
    return hold;
  }
}
