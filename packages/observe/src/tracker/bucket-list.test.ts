import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketList, safeNumber } from './bucket-list.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function add(list: BucketList, start: number, minor: bigint, at: number, recipient?: string): boolean {
  return list.add(start, minor, safeNumber(minor), at, recipient);
}

function contents(list: BucketList) {
  return Array.from({ length: list.length }, (_, i) => ({
    start: list.start(i),
    count: list.count(i),
    sum: list.sum(i),
    max: list.max(i),
    maxAt: list.maxAt(i),
    maxRecipient: list.maxRecipient(i),
  }));
}

/** The reference the properties compare with: plain bucket records, sorted by start. */
class ModelBuckets {
  buckets: Array<{
    start: number;
    count: number;
    sum: bigint;
    max: bigint;
    maxAt: number;
    maxRecipient: string | undefined;
  }> = [];

  /** `implied`: the recipient every bucket reports (a list with an implied recipient). */
  constructor(readonly implied?: string) {}

  /** Drops buckets starting at or before `start`; how many. */
  trim(start: number): number {
    const before = this.buckets.length;
    this.buckets = this.buckets.filter((b) => b.start > start);
    return before - this.buckets.length;
  }

  /** Records one payment; whether its bucket is new. */
  add(start: number, minor: bigint, at: number, recipient: string | undefined): boolean {
    let b = this.buckets.find((x) => x.start === start);
    const created = b === undefined;
    if (b === undefined) {
      b = { start, count: 0, sum: 0n, max: -1n, maxAt: 0, maxRecipient: undefined };
      this.buckets.push(b);
      this.buckets.sort((x, y) => x.start - y.start);
    }
    b.count++;
    b.sum += minor;
    if (minor > b.max) {
      b.max = minor;
      b.maxAt = at;
      b.maxRecipient = this.implied ?? recipient;
    }
    return created;
  }
}

describe('BucketList', () => {
  it('keeps sums and maxima exact across 2^53, per bucket', () => {
    const list = new BucketList(false);
    expect(add(list, 0, SAFE - 1n, 1, 'a')).toBe(true);
    expect(add(list, 0, 2n, 2, 'b')).toBe(false); // the sum passes 2^53 here
    expect(add(list, 0, 5n, 3, 'c')).toBe(false);
    add(list, 60, 10n ** 20n, 61, 'd'); // one payment beyond 2^53
    add(list, 60, 7n, 62, 'e');
    add(list, 60, 10n ** 20n + 1n, 63, 'f');
    expect(contents(list)).toEqual([
      { start: 0, count: 3, sum: SAFE + 6n, max: SAFE - 1n, maxAt: 1, maxRecipient: 'a' },
      { start: 60, count: 3, sum: 2n * 10n ** 20n + 8n, max: 10n ** 20n + 1n, maxAt: 63, maxRecipient: 'f' },
    ]);
  });

  it('inserts late buckets in order and keeps exact values aligned through inserts and trims', () => {
    const list = new BucketList(false);
    add(list, 120, 1n, 120, 'x');
    add(list, 240, 10n ** 19n, 240, 'big');
    add(list, 0, 3n, 5, 'first'); // late: before every bucket
    add(list, 180, 4n, 185, 'mid'); // late: between two
    add(list, 180, 10n ** 18n, 186, 'mid-big');
    expect(contents(list).map((b) => [b.start, b.sum, b.maxRecipient])).toEqual([
      [0, 3n, 'first'],
      [120, 1n, 'x'],
      [180, 10n ** 18n + 4n, 'mid-big'],
      [240, 10n ** 19n, 'big'],
    ]);
    expect(list.lowerBound(150)).toBe(2);
    expect(list.trim(120)).toBe(2);
    expect(list.firstStart).toBe(180);
    expect(contents(list).map((b) => [b.start, b.sum, b.max, b.maxRecipient])).toEqual([
      [180, 10n ** 18n + 4n, 10n ** 18n, 'mid-big'],
      [240, 10n ** 19n, 10n ** 19n, 'big'],
    ]);
    add(list, 210, 2n, 211, 'late');
    expect(contents(list).map((b) => [b.start, b.sum])).toEqual([
      [180, 10n ** 18n + 4n],
      [210, 2n],
      [240, 10n ** 19n],
    ]);
    expect(list.trim(1e9)).toBe(3);
    expect([list.length, list.firstStart]).toEqual([0, Number.POSITIVE_INFINITY]);
  });

  it('keeps the first of equal largest payments, and answers the implied recipient', () => {
    const list = new BucketList('https://api.example.com');
    add(list, 0, 5n, 1);
    add(list, 0, 5n, 2);
    expect(contents(list)[0]).toMatchObject({ max: 5n, maxAt: 1, maxRecipient: 'https://api.example.com' });
    expect(new BucketList(undefined).maxRecipient(0)).toBeUndefined();
  });

  it('equals a list of plain records on random writes, trims included (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        slot: fc.integer({ min: 0, max: 12 }),
        minor: fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 10n ** 20n })),
        recipient: fc.constantFrom('r1', 'r2', undefined),
      }),
      fc.record({ kind: fc.constant('trim' as const), slot: fc.integer({ min: -1, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const list = new BucketList(false);
        const model = new ModelBuckets();
        let at = 0;
        for (const o of ops) {
          const start = o.slot * 60;
          if (o.kind === 'trim') {
            expect(list.trim(start)).toBe(model.trim(start));
            continue;
          }
          at++;
          expect(add(list, start, o.minor, at, o.recipient)).toBe(model.add(start, o.minor, at, o.recipient));
        }
        expect(contents(list)).toEqual(model.buckets);
      }),
      { numRuns: 300 },
    );
  });

  it('equals the model over long runs that keep trimming behind the newest bucket (property)', () => {
    // Time moves forward and old buckets are trimmed as they go, as in a tracker, with some
    // late payments: the array's window moves and is copied to the front again and again.
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ kind: fc.constant('next' as const), by: fc.integer({ min: 0, max: 2 }) }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('late' as const),
          back: fc.integer({ min: 1, max: 12 }),
          minor: fc.oneof(fc.bigInt({ min: 0n, max: 100n }), fc.bigInt({ min: SAFE - 5n, max: SAFE + 5n })),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({ kind: fc.constant('trim' as const), keep: fc.integer({ min: 0, max: 10 }) }),
      },
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { minLength: 50, maxLength: 400 }), (implied, ops) => {
        const list = new BucketList(implied ? 'r0' : false);
        const model = new ModelBuckets(implied ? 'r0' : undefined);
        let slot = 0;
        let at = 0;
        for (const o of ops) {
          at++;
          if (o.kind === 'next') {
            slot += o.by;
            const r = at % 3 === 0 ? 'r1' : 'r2';
            expect(add(list, slot * 60, BigInt(at % 50), at, r)).toBe(
              model.add(slot * 60, BigInt(at % 50), at, r),
            );
          } else if (o.kind === 'late') {
            const start = Math.max(0, slot - o.back) * 60;
            expect(add(list, start, o.minor, at, 'late')).toBe(model.add(start, o.minor, at, 'late'));
          } else {
            const cutoff = (slot - o.keep) * 60;
            expect(list.trim(cutoff)).toBe(model.trim(cutoff));
          }
          expect(list.length).toBe(model.buckets.length);
          expect(list.firstStart).toBe(model.buckets[0]?.start ?? Number.POSITIVE_INFINITY);
        }
        expect(contents(list)).toEqual(model.buckets);
        for (let probe = (slot - 15) * 60; probe <= (slot + 1) * 60; probe += 30) {
          const want = model.buckets.findIndex((b) => b.start >= probe);
          expect(list.lowerBound(probe)).toBe(want < 0 ? model.buckets.length : want);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers every read the same before and after each write, newest bucket included (property)', () => {
    // The newest bucket lives in fields, the others in the array: reads of any index, the
    // first start and lower bounds must not see the seam, through late inserts and trims.
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        slot: fc.integer({ min: 0, max: 8 }),
        minor: fc.oneof(fc.bigInt({ min: 0n, max: 100n }), fc.bigInt({ min: SAFE - 5n, max: SAFE + 5n })),
        recipient: fc.constantFrom('r1', 'r2', undefined),
      }),
      fc.record({ kind: fc.constant('trim' as const), slot: fc.integer({ min: -1, max: 8 }) }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 60 }), (implied, ops) => {
        const list = new BucketList(implied ? 'r0' : false);
        const model = new ModelBuckets(implied ? 'r0' : undefined);
        let at = 0;
        for (const o of ops) {
          const start = o.slot * 60;
          if (o.kind === 'trim') {
            expect(list.trim(start)).toBe(model.trim(start));
          } else {
            at++;
            expect(add(list, start, o.minor, at, o.recipient)).toBe(
              model.add(start, o.minor, at, o.recipient),
            );
          }
          const ref = model.buckets;
          expect(contents(list)).toEqual(ref);
          expect(list.firstStart).toBe(ref[0]?.start ?? Number.POSITIVE_INFINITY);
          for (let probe = -30; probe <= 600; probe += 30) {
            const want = ref.findIndex((b) => b.start >= probe);
            expect(list.lowerBound(probe)).toBe(want < 0 ? ref.length : want);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
