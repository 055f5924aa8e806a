import { createHash } from 'node:crypto';
import { BursarError, ErrorCode } from '@bursar/core';

/** What a seed may be: a 32-bit integer or any text (hashed to one). */
export type Seed = number | string;

function seedWords(seed: Seed, label = ''): [number, number, number, number] {
  if (typeof seed === 'number' && (!Number.isSafeInteger(seed) || seed < 0)) {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      `A seed must be a non-negative safe integer or a string; got ${seed}`,
    );
  }
  if (typeof seed !== 'number' && typeof seed !== 'string') {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      `A seed must be a number or a string; got ${typeof seed}`,
    );
  }
  // SHA-256 spreads any seed (and label) over the full 128-bit state; never all zero in practice.
  const digest = createHash('sha256')
    .update(`${typeof seed}:${String(seed)}\u0000${label}`)
    .digest();
  const w: [number, number, number, number] = [
    digest.readUInt32LE(0),
    digest.readUInt32LE(4),
    digest.readUInt32LE(8),
    digest.readUInt32LE(12),
  ];
  if ((w[0] | w[1] | w[2] | w[3]) === 0) w[0] = 1;
  return w;
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * A small deterministic generator (xoshiro128**). Every random choice the sandbox makes —
 * injected failures, latency, ids, nonces, keys — comes from one, so a seed replays a run.
 *
 * `fork(label)` derives an independent stream from the seed and a label (not from the
 * current state), so adding draws in one place never shifts the draws of another.
 *
 * @example
 * const rng = new SeededRandom(42);
 * rng.int(10, 50);            // same value for seed 42, every run
 * rng.chance(0.25);           // true one time in four
 * rng.fork('acp').id('vt');   // 'vt_…' from the ACP stream
 */
export class SeededRandom {
  /** The seed this stream was made from. */
  readonly seed: Seed;
  /** The fork path (`''` for the root). */
  readonly label: string;
  #s: [number, number, number, number];

  constructor(seed: Seed, label = '') {
    this.seed = seed;
    this.label = label;
    this.#s = seedWords(seed, label);
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** An integer in [min, max], both included, without modulo bias. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new BursarError(
        ErrorCode.INVALID_ARGUMENT,
        `SeededRandom.int needs integers with min <= max; got ${min}, ${max}`,
      );
    }
    const span = max - min + 1;
    if (span > 4_294_967_296) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'SeededRandom.int spans at most 2^32 values');
    }
    if (span === 1) return min;
    const limit = 4_294_967_296 - (4_294_967_296 % span);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return min + (x % span);
  }

  /** True with probability `p` (0 → never, 1 → always). Always draws once, so streams stay aligned. */
  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, `A probability must be in [0, 1]; got ${p}`);
    }
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0)
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'SeededRandom.pick needs items');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const x = this.nextUint32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (x >>> (8 * j)) & 0xff;
    }
    return out;
  }

  /** Lower-case hex of `n` random bytes. */
  hex(n: number): string {
    return Buffer.from(this.bytes(n)).toString('hex');
  }

  /** A readable id such as `tx_3f9a0c…` (`bytes` random bytes, 10 by default). */
  id(prefix: string, bytes = 10): string {
    return `${prefix}_${this.hex(bytes)}`;
  }

  /** An independent stream for `label`, derived from this stream's seed and label path. */
  fork(label: string): SeededRandom {
    return new SeededRandom(this.seed, this.label ? `${this.label}/${label}` : label);
  }
}
