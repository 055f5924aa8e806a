import type { ValidationIssue } from '@bursar/core';

interface ZodIssueLike {
  code?: string;
  path: ReadonlyArray<PropertyKey>;
  message: string;
  expected?: unknown;
  errors?: ReadonlyArray<ReadonlyArray<ZodIssueLike>>;
}

/**
 * Turns zod issues into Bursar issues with dotted paths. A failed union is reported through
 * the branch that got furthest (a regex or range failure rather than "expected string"), so
 * the message points at the real problem.
 */
export function policyIssues(
  issues: ReadonlyArray<ZodIssueLike>,
  prefix: PropertyKey[] = [],
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      const branches = issue.errors.filter((b) => !b.every(isTypeMismatchAtRoot));
      if (branches.length > 0) {
        out.push(...policyIssues(branches[0]!, path));
      } else {
        const expected = [...new Set(issue.errors.flatMap((b) => b.flatMap(expectedTypes)))];
        out.push({
          path: path.map(String).join('.'),
          message: `expected ${expected.length > 0 ? expected.join(' or ') : 'another value'}`,
        });
      }
      continue;
    }
    out.push({ path: path.map(String).join('.'), message: issue.message });
  }
  return out;
}

function isTypeMismatchAtRoot(i: ZodIssueLike): boolean {
  if (i.code === 'invalid_union') return (i.errors ?? []).every((b) => b.every(isTypeMismatchAtRoot));
  return i.code === 'invalid_type' && i.path.length === 0;
}

function expectedTypes(i: ZodIssueLike): string[] {
  if (i.code === 'invalid_union') return (i.errors ?? []).flatMap((b) => b.flatMap(expectedTypes));
  return typeof i.expected === 'string' ? [i.expected] : [];
}
