import type { AssetRegistry, BursarEventMap, Clock, EventBus } from '@bursar/core';
import { z } from 'zod';
import { isValidTimeZone } from '../internal/index.js';
import { DIMENSIONS, type Dimension } from './dimension.js';
import { GRANULARITIES, type Granularity } from './granularity.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One aggregate the tracker keeps: spend by these dimensions (and currency) at these granularities. */
export interface IndexDefinition {
  dimensions: Dimension[];
  granularities: Granularity[];
}

/**
 * The indexes kept when none are configured: org-wide and per agent at minute, hour and day;
 * per recipient, action and protocol at hour and day; per agent × recipient, agent × action
 * and agent × protocol at day.
 */
export const DEFAULT_INDEXES: readonly IndexDefinition[] = [
  { dimensions: [], granularities: ['minute', 'hour', 'day'] },
  { dimensions: ['agent'], granularities: ['minute', 'hour', 'day'] },
  { dimensions: ['recipient'], granularities: ['hour', 'day'] },
  { dimensions: ['action'], granularities: ['hour', 'day'] },
  { dimensions: ['protocol'], granularities: ['hour', 'day'] },
  { dimensions: ['agent', 'recipient'], granularities: ['day'] },
  { dimensions: ['agent', 'action'], granularities: ['day'] },
  { dimensions: ['agent', 'protocol'], granularities: ['day'] },
];

/** How long buckets of each granularity are kept, by default: 2 hours, 7 days, 400 days. */
export const DEFAULT_RETENTION: Readonly<Record<Granularity, number>> = {
  minute: 2 * HOUR,
  hour: 7 * DAY,
  day: 400 * DAY,
};

const positiveMs = z
  .number()
  .int()
  .positive()
  .max(3650 * DAY);
const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `must be a function (${what})` });

/** Options of `SpendTracker` (validated once, unknown keys rejected). */
export const SpendTrackerOptions = z.strictObject({
  /** Time source for retention (default: the system clock). */
  clock: z
    .custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', {
      message: 'must be a Clock ({ now(): number })',
    })
    .optional(),
  /** Where currencies are looked up (default: core's `defaultAssets`). */
  assets: z
    .custom<AssetRegistry>((v) => typeof (v as AssetRegistry | undefined)?.get === 'function', {
      message: 'must be an AssetRegistry',
    })
    .optional(),
  /** Subscribe to this bus at once (same as calling `attach(bus)`). */
  bus: z
    .custom<EventBus<BursarEventMap>>((v) => typeof (v as EventBus | undefined)?.on === 'function', {
      message: 'must be an EventBus',
    })
    .optional(),
  /** IANA zone of hour and day buckets (default `UTC`). */
  timeZone: z
    .string()
    .refine(isValidTimeZone, { message: 'must be an IANA time zone, e.g. Europe/Berlin' })
    .default('UTC'),
  /** Milliseconds each granularity is kept after its bucket ends. */
  retention: z
    .strictObject({ minute: positiveMs.optional(), hour: positiveMs.optional(), day: positiveMs.optional() })
    .optional(),
  indexes: z
    .array(
      z.strictObject({
        dimensions: z.array(z.enum(DIMENSIONS as [Dimension, ...Dimension[]])).max(4),
        granularities: z.array(z.enum(GRANULARITIES as [Granularity, ...Granularity[]])).min(1),
      }),
    )
    .min(1)
    .optional(),
  recent: z
    .strictObject({
      /** Payments kept in the recent window (default 10,000; 0 turns it off). */
      capacity: z.number().int().min(0).max(10_000_000).optional(),
      /** Oldest payment kept, in ms (default 24 hours). */
      maxAgeMs: positiveMs.optional(),
    })
    .optional(),
  /** Cap on live series across all indexes (default 1,000,000); past it the least recent are dropped. */
  maxSeries: z.number().int().positive().optional(),
  /** Expired series removed per recorded payment at most (default 32), so no payment pays for a big sweep. */
  sweepBatch: z.number().int().positive().max(100_000).optional(),
  /** Receives invalid events and listener failures (default: a process warning). */
  onError: fn<(error: unknown, context: string) => void>('onError').optional(),
});
/** What callers pass to `new SpendTracker()`. */
export type SpendTrackerOptions = z.input<typeof SpendTrackerOptions>;

/** Checks what zod cannot express: no repeated dimension, granularity or index. */
export function indexIssues(indexes: readonly IndexDefinition[]): string[] {
  const issues: string[] = [];
  const seen = new Set<string>();
  indexes.forEach((ix, i) => {
    if (new Set(ix.dimensions).size !== ix.dimensions.length) issues.push(`indexes.${i}: repeated dimension`);
    if (new Set(ix.granularities).size !== ix.granularities.length)
      issues.push(`indexes.${i}: repeated granularity`);
    const key = [...ix.dimensions].sort().join('+');
    if (seen.has(key)) issues.push(`indexes.${i}: another index has the same dimensions`);
    seen.add(key);
  });
  return issues;
}
