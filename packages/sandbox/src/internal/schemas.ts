import type { AssetRegistry, Clock } from '@bursar/core';
import { z } from 'zod';
import { SeededRandom } from '../random/index.js';

/** A core `Clock` (anything with `now()`). */
export const ClockLike = z.custom<Clock>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
  { message: 'must be a Clock (an object with now())' },
);

/** A core `AssetRegistry` (checked by its methods, so a second copy of core works too). */
export const AssetsLike = z.custom<AssetRegistry>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as AssetRegistry).require === 'function' &&
    typeof (v as AssetRegistry).findByAddress === 'function',
  { message: 'must be an AssetRegistry' },
);

/** A seed: a non-negative safe integer or a string. */
export const SeedLike = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z.string().min(1).max(256),
]);

/** A `SeededRandom` instance. */
export const RandomLike = z.custom<SeededRandom>((v) => v instanceof SeededRandom, {
  message: 'must be a SeededRandom',
});

/** The stream a component draws from: `rng` when given, else one made from `seed` (default 0) and `label`. */
export function streamOf(
  options: { rng?: SeededRandom; seed?: number | string },
  label: string,
): SeededRandom {
  return options.rng ? options.rng.fork(label) : new SeededRandom(options.seed ?? 0, label);
}
