import {
  type BursarEventMap,
  type Clock,
  describeIssues,
  ErrorCode,
  type EventBus,
  toIssues,
  ValidationError,
} from '@bursar/core';
import { z } from 'zod';

/** Where guards emit lifecycle events: core's `EventBus` (usually `engine.events`). */
export type EventSink = Pick<EventBus<BursarEventMap>, 'emit'> &
  Partial<Pick<EventBus<BursarEventMap>, 'listenerCount'>>;

export const clockSchema = z.custom<Clock>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
  'must be a Clock (an object with now())',
);

export const eventSinkSchema = z.custom<EventSink>(
  (v) => typeof v === 'object' && v !== null && typeof (v as EventSink).emit === 'function',
  'must be an event bus (an object with emit())',
);

/** A function option, typed by the caller. */
export function fn<T>(what = 'must be a function') {
  return z.custom<T>((v) => typeof v === 'function', what);
}

/** An object option with the named methods, typed by the caller. */
export function withMethods<T>(...methods: string[]) {
  return z.custom<T>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    `must be an object with ${methods.map((m) => `${m}()`).join(', ')}`,
  );
}

/** Validates options once, at construction; throws `ERR_BURSAR_INVALID_OPTIONS` naming every issue. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const issues = toIssues(result.error.issues);
    throw new ValidationError(
      ErrorCode.INVALID_OPTIONS,
      `Invalid ${what} options: ${describeIssues(issues)}`,
      issues,
    );
  }
  return result.data;
}
