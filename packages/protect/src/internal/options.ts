import { describeIssues, ErrorCode, toIssues, ValidationError } from '@bursar/core';
import { z } from 'zod';

/** Parses options with a zod schema; failures become `ERR_BURSAR_INVALID_OPTIONS` naming every field. */
export function parseOptions<S extends z.ZodType>(what: string, schema: S, input: unknown): z.output<S> {
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

/** A value with these methods. */
export function hasMethods<T>(names: readonly string[], message: string) {
  return z.custom<T>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function'),
    { message },
  );
}

/** A function (its signature is checked by TypeScript, not at run time). */
export function fn<T>(message = 'must be a function') {
  return z.custom<T>((v) => typeof v === 'function', { message });
}
