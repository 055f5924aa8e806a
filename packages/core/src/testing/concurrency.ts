import type { CounterCheck, SpendStore } from '../stores/spend-store.js';

export interface ConcurrentHoldsResult {
  /** Holds the store accepted. */
  accepted: number;
  /** Sum of captured + still-held amounts after the run. */
  committed: bigint;
  limit: bigint;
  /** True when committed > limit: the store overspent. */
  overspent: boolean;
  /** Holds resolved twice (must be 0). */
  doubleResolved: number;
}

/**
 * Fires `holds` concurrent holds of `amount` against one `limit`, then captures or releases
 * each accepted hold concurrently, and reports whether held + captured ever exceeded the
 * limit. A correct store never overspends; a read-then-write store does.
 */
export async function checkConcurrentHolds(
  store: SpendStore,
  options: { holds?: number; amount?: bigint; limit?: bigint; now?: number; key?: string } = {},
): Promise<ConcurrentHoldsResult> {
  const holds = options.holds ?? 300;
  const amount = options.amount ?? 7n;
  const limit = options.limit ?? 500n;
  const now = options.now ?? 1_700_000_000_000;
  const key = options.key ?? `conformance:concurrency:${Math.random().toString(36).slice(2)}`;
  const check = (): CounterCheck => ({
    limitId: 'budget',
    kind: 'amount',
    key,
    sumKeys: [key],
    limit,
    amount,
    retainUntil: now + 86_400_000,
  });
  const results = await Promise.all(
    Array.from({ length: holds }, (_, i) =>
      store.placeHold({ holdId: `${key}:h${i}`, amount, checks: [check()], now, expiresAt: now + 60_000 }),
    ),
  );
  const accepted = results.filter((r) => r.ok);
  const afterHold = (await store.getCounters([key])).get(key)!;
  let overspent = afterHold.used + afterHold.held > limit;
  // Resolve every accepted hold concurrently, twice each: only one resolution may win.
  let doubleResolved = 0;
  const settle = await Promise.allSettled(
    accepted.flatMap((r, i) => {
      if (!r.ok) return [];
      const id = r.hold.holdId;
      const op = () =>
        i % 3 === 0
          ? store.releaseHold(id, { now })
          : store.captureHold(id, { now, amount: i % 3 === 1 ? amount : amount - 1n });
      return [op(), op()];
    }),
  );
  const wins = settle.filter((s) => s.status === 'fulfilled').length;
  doubleResolved = Math.max(0, wins - accepted.length);
  const after = (await store.getCounters([key])).get(key)!;
  if (after.used + after.held > limit) overspent = true;
  return { accepted: accepted.length, committed: after.used + after.held, limit, overspent, doubleResolved };
}
