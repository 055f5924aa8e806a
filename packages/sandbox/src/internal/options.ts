import { describeIssues, ErrorCode, toIssues, ValidationError } from '@bursar/core';
import type { z } from 'zod';

/** Validates options once, at construction; a typed error names every offending field. */
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
