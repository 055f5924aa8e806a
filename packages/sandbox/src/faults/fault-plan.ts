import { z } from 'zod';
import type { SeededRandom } from '../random/index.js';

/** The most latency a mock may inject per call, in ms: keeps every run short. */
export const MAX_INJECTED_LATENCY_MS = 50;

const ms = z.number().int().min(0).max(MAX_INJECTED_LATENCY_MS);

/** Injected latency: a fixed number of ms or a `[min, max]` range drawn from the seed (each ≤ 50). */
export const Latency = z.union([
  ms,
  z
    .tuple([ms, ms])
    .refine(([min, max]) => min <= max, { message: 'latency range must be [min, max] with min <= max' }),
]);
export type Latency = z.input<typeof Latency>;

/** A probability from 0 (never) to 1 (always). */
export const Probability = z.number().min(0).max(1);

/**
 * Draws the injected latency and random failures of one mock. Decisions tied to a key (a
 * payment nonce, an idempotency key) are derived from the seed and the key alone, so they do
 * not depend on the order in which concurrent requests arrive.
 */
export class FaultPlan {
  readonly #rng: SeededRandom;
  readonly #latency: number | readonly [number, number];
  readonly #failureRate: number;

  constructor(rng: SeededRandom, options: { latencyMs?: Latency; failureRate?: number }) {
    this.#rng = rng;
    this.#latency = options.latencyMs ?? 0;
    this.#failureRate = options.failureRate ?? 0;
  }

  /** The stream for `key` (or the plan's own stream when no key is given). */
  #stream(key: string | undefined): SeededRandom {
    return key === undefined ? this.#rng : this.#rng.fork(key);
  }

  /** Latency to inject for this call, in ms. */
  latency(key?: string): number {
    const l = this.#latency;
    if (typeof l === 'number') return l;
    return this.#stream(key === undefined ? undefined : `latency:${key}`).int(l[0], l[1]);
  }

  /** Whether this call fails at random (`failureRate`). */
  fails(key?: string): boolean {
    return this.chance(this.#failureRate, key === undefined ? undefined : `fail:${key}`);
  }

  /** True with probability `p` for this key (0 and 1 never draw). */
  chance(p: number | undefined, key?: string): boolean {
    if (p === undefined || p === 0) return false;
    if (p === 1) return true;
    return this.#stream(key).chance(p);
  }
}
