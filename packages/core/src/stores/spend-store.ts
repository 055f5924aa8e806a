/**
 * Budget and rate-limit counters with holds. The engine turns every budget and rate limit an
 * intent touches into a {@link CounterCheck}; the store checks all of them and places the hold
 * in ONE atomic operation (one round trip on a remote store), so concurrent payments can
 * never overspend.
 *
 * A counter is a bucket key with two sums: `used` (captured) and `held` (pending holds).
 */

/** One limit to check and write as part of a hold. */
export interface CounterCheck {
  /** The budget or rate limit this check comes from (for reporting). */
  limitId: string;
  /** `amount` counters sum minor units; `count` counters count holds (velocity). */
  kind: 'amount' | 'count';
  /** The bucket this hold is added to. */
  key: string;
  /**
   * Buckets summed for the check (must include `key`). A calendar window has one bucket;
   * a rolling window lists every bucket it overlaps.
   */
  sumKeys: readonly string[];
  /** The limit for the sum over `sumKeys` (minor units, or a count). */
  limit: bigint;
  /** What this hold adds: the intent's minor units for `amount`, 1 for `count`. */
  amount: bigint;
  /** Epoch ms after which the bucket may be forgotten (its window is over). */
  retainUntil: number;
}

/** Sums over a check's buckets, before the hold. */
export interface CounterUsage {
  limitId: string;
  kind: 'amount' | 'count';
  used: bigint;
  held: bigint;
  limit: bigint;
  requested: bigint;
}

export type HoldState = 'held' | 'captured' | 'released' | 'expired';

/** A hold as stored. */
export interface HoldRecord {
  holdId: string;
  state: HoldState;
  /** Minor units held on every `amount` counter (0 when the hold only counts). */
  amount: bigint;
  /** Minor units committed by capture. */
  captured: bigint;
  counters: ReadonlyArray<{ limitId: string; kind: 'amount' | 'count'; key: string; amount: bigint }>;
  createdAt: number;
  expiresAt: number;
  resolvedAt?: number;
  /** Caller's JSON-safe facts (agent, currency, intent hash …). */
  meta: Readonly<Record<string, unknown>>;
}

export interface PlaceHoldRequest {
  holdId: string;
  /** Amount to hold on `amount` counters. */
  amount: bigint;
  checks: readonly CounterCheck[];
  now: number;
  expiresAt: number;
  meta?: Record<string, unknown>;
}

export type PlaceHoldResult =
  | {
      ok: true;
      hold: HoldRecord;
      /** True when a hold with this id already existed: nothing new was held. */
      existing: boolean;
      usage: CounterUsage[];
      /** Holds that had expired and were swept by this call. */
      expired: HoldRecord[];
    }
  | {
      ok: false;
      /** The checks that would be exceeded. */
      exceeded: CounterUsage[];
      usage: CounterUsage[];
      expired: HoldRecord[];
    };

export interface SpendStore {
  /**
   * Atomically: sweep expired holds; if a hold with this id exists return it (`existing`);
   * otherwise check every counter (`used + held + amount ≤ limit` over its `sumKeys`) and,
   * only if all pass, add `amount` to each counter's `held` and record the hold.
   */
  placeHold(request: PlaceHoldRequest): Promise<PlaceHoldResult>;
  /**
   * Commits `amount` (default: all) of a held hold; the rest returns to the budget. `count`
   * counters commit whole. Throws `ERR_BURSAR_HOLD_NOT_FOUND`, `ERR_BURSAR_HOLD_NOT_ACTIVE`
   * (already resolved or expired at `now`) or `ERR_BURSAR_CAPTURE_EXCEEDS_HOLD`.
   *
   * A hold past its `expiresAt` that no sweep has expired yet is refused with
   * `ERR_BURSAR_HOLD_NOT_ACTIVE` and left as it is: only `placeHold` and `expireHolds` expire
   * holds, and both return what they expire, so every expiry is reported exactly once (the
   * engine sweeps right after such a refusal and emits `hold.expired`).
   */
  captureHold(holdId: string, options: { amount?: bigint; now: number }): Promise<HoldRecord>;
  /** Returns the whole hold to the budget. Same errors, and the same handling of an unswept expired hold, as capture. */
  releaseHold(holdId: string, options: { now: number }): Promise<HoldRecord>;
  getHold(holdId: string): Promise<HoldRecord | undefined>;
  /** Expires every hold whose `expiresAt ≤ now` (at most `limit`) and returns them. */
  expireHolds(now: number, limit?: number): Promise<HoldRecord[]>;
  /** `used` and `held` of each bucket (zero for unknown buckets). */
  getCounters(keys: readonly string[]): Promise<Map<string, { used: bigint; held: bigint }>>;
}
