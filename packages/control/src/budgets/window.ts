import { type CalendarUnit, calendarBounds, parseDuration } from '../time/index.js';

/** A budget, rate-limit or risk window. */
export type WindowSpec =
  | { kind: 'transaction' }
  | { kind: CalendarUnit }
  | { kind: 'rolling'; ms: number }
  | { kind: 'lifetime' };

const NAMED = new Set(['transaction', 'hourly', 'daily', 'weekly', 'monthly', 'lifetime']);

/**
 * Reads a window as policies write it: `transaction`, `hourly`, `daily`, `weekly`,
 * `monthly`, `lifetime`, or `rolling:<duration>` (`rolling:90m`, `rolling:3600000`).
 */
export function parseWindow(text: string): WindowSpec | undefined {
  if (NAMED.has(text)) return { kind: text } as WindowSpec;
  if (text.startsWith('rolling:')) {
    const ms = parseDuration(text.slice('rolling:'.length));
    return ms === undefined ? undefined : { kind: 'rolling', ms };
  }
  return undefined;
}

/** The canonical text of a window (`rolling:<ms>` for rolling windows). */
export function windowLabel(spec: WindowSpec): string {
  return spec.kind === 'rolling' ? `rolling:${spec.ms}` : spec.kind;
}

/** Sub-buckets per rolling window: spend is summed over about this many buckets. */
export const ROLLING_BUCKETS = 60;

/** Width of one rolling sub-bucket. */
export function rollingGranularity(ms: number): number {
  return Math.max(1, Math.floor(ms / ROLLING_BUCKETS));
}

/** Where the window containing `now` starts and ends, for calendar and lifetime windows. */
export interface WindowBucket {
  /** Bucket id used in counter keys. */
  bucket: number;
  start?: number;
  end?: number;
  retainUntil: number;
}

/**
 * The bucket a hold at `now` is written to, for every window kind except `transaction`
 * and `rolling` (which the caller expands into sub-buckets).
 */
export function fixedBucket(spec: WindowSpec, zone: string, now: number): WindowBucket {
  if (spec.kind === 'lifetime') return { bucket: 0, retainUntil: Number.MAX_SAFE_INTEGER };
  if (spec.kind === 'hourly' || spec.kind === 'daily' || spec.kind === 'weekly' || spec.kind === 'monthly') {
    const { start, end } = calendarBounds(zone, spec.kind, now);
    return { bucket: start, start, end, retainUntil: end };
  }
  throw new Error(`fixedBucket: ${spec.kind} windows have no single bucket`);
}
