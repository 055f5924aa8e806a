import { canonicalJson, type ValidationIssue } from '@bursar/core';
import type { ParamOperators } from '../policy/schema.js';
import { compareDecimal, type Decimal, toDecimal } from './decimal.js';
import { and, FALSE, MISSING, TRUE, type Tri } from './tri.js';

/** Tests one value (undefined = absent) against compiled operators. */
export type ValueTest = (value: unknown) => Tri;

function canonical(value: unknown): string | undefined {
  try {
    return canonicalJson(value);
  } catch {
    return undefined;
  }
}

/** Strict equality for primitives, canonical JSON equality for objects and arrays. */
function equalsTo(expected: unknown): (value: unknown) => boolean {
  if (expected === null || typeof expected !== 'object') return (v) => v === expected;
  const text = canonical(expected);
  return (v) => v !== null && typeof v === 'object' && canonical(v) === text;
}

/** Membership in a list, with a `Set` for primitives and canonical text for objects. */
function memberOf(list: readonly unknown[]): (value: unknown) => boolean {
  const primitives = new Set<unknown>();
  const objects = new Set<string>();
  for (const item of list) {
    if (item !== null && typeof item === 'object') {
      const text = canonical(item);
      if (text !== undefined) objects.add(text);
    } else {
      primitives.add(item);
    }
  }
  return (v) => {
    if (v !== null && typeof v === 'object') {
      if (objects.size === 0) return false;
      const text = canonical(v);
      return text !== undefined && objects.has(text);
    }
    return primitives.has(v);
  };
}

const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s;

/** Compiles `matches`: a JS RegExp source, or `/source/flags` (flags i, m, s, u only). */
export function compilePattern(pattern: string, path: string, issues: ValidationIssue[]): RegExp | undefined {
  const literal = REGEX_LITERAL.exec(pattern);
  const source = literal ? literal[1]! : pattern;
  const flags = literal ? literal[2]! : '';
  if (/[^imsu]/.test(flags)) {
    issues.push({ path, message: `regular expression flags may only be i, m, s, u; got "${flags}"` });
    return undefined;
  }
  try {
    return new RegExp(source, flags);
  } catch (error) {
    issues.push({ path, message: `invalid regular expression: ${(error as Error).message}` });
    return undefined;
  }
}

/**
 * Compiles a parameter condition. Semantics, shared by params, metadata and purpose:
 * - `exists` is the only operator that looks at presence; it is never "missing".
 * - Every other operator on an absent value answers MISSING, and so does a value of a type
 *   the operator cannot compare (a non-number for `gt`, a non-string for `matches`, …):
 *   an agent cannot dodge a rule by omitting a field or sending it in another type.
 * - `ne`, `not_contains` and `not_in` are the exact negations of `eq`, `contains`, `in` on
 *   present, comparable values.
 */
export function compileOperators(ops: ParamOperators, path: string, issues: ValidationIssue[]): ValueTest {
  const tests: ValueTest[] = [];
  const present =
    (t: (v: unknown) => boolean): ValueTest =>
    (v) =>
      v === undefined ? MISSING : t(v) ? TRUE : FALSE;
  if (ops.exists !== undefined) {
    const want = ops.exists;
    tests.push((v) => ((v !== undefined) === want ? TRUE : FALSE));
  }
  if ('eq' in ops) {
    const eq = equalsTo(ops.eq);
    tests.push(present(eq));
  }
  if ('ne' in ops) {
    const eq = equalsTo(ops.ne);
    tests.push(present((v) => !eq(v)));
  }
  const numeric = (op: 'gt' | 'gte' | 'lt' | 'lte', holds: (c: number) => boolean) => {
    const raw = ops[op];
    if (raw === undefined) return;
    const bound = toDecimal(raw) as Decimal;
    const bn = typeof raw === 'number' ? raw : undefined;
    tests.push((v) => {
      if (v === undefined) return MISSING;
      if (typeof v === 'number' && bn !== undefined) {
        if (!Number.isFinite(v)) return MISSING;
        return holds(v < bn ? -1 : v > bn ? 1 : 0) ? TRUE : FALSE;
      }
      const d = toDecimal(v);
      if (!d) return MISSING;
      return holds(compareDecimal(d, bound)) ? TRUE : FALSE;
    });
  };
  numeric('gt', (c) => c > 0);
  numeric('gte', (c) => c >= 0);
  numeric('lt', (c) => c < 0);
  numeric('lte', (c) => c <= 0);
  const contains = (needle: unknown): ValueTest => {
    const eq = equalsTo(needle);
    return (v) => {
      if (v === undefined) return MISSING;
      if (typeof v === 'string') return typeof needle === 'string' && v.includes(needle) ? TRUE : FALSE;
      if (Array.isArray(v)) return v.some(eq) ? TRUE : FALSE;
      return MISSING;
    };
  };
  if ('contains' in ops) tests.push(contains(ops.contains));
  if ('not_contains' in ops) {
    const c = contains(ops.not_contains);
    tests.push((v) => {
      const r = c(v);
      return r === MISSING ? MISSING : r === TRUE ? FALSE : TRUE;
    });
  }
  if (ops.matches !== undefined) {
    const re = compilePattern(ops.matches, `${path}.matches`, issues);
    if (re)
      tests.push((v) => (v === undefined || typeof v !== 'string' ? MISSING : re.test(v) ? TRUE : FALSE));
  }
  if (ops.in !== undefined) {
    const member = memberOf(ops.in);
    tests.push(present(member));
  }
  if (ops.not_in !== undefined) {
    const member = memberOf(ops.not_in);
    tests.push(present((v) => !member(v)));
  }
  if (tests.length === 1) return tests[0]!;
  return (v) => {
    let r: Tri = TRUE;
    for (const t of tests) {
      r = and(r, t(v));
      if (r === FALSE) return FALSE;
    }
    return r;
  };
}

/** A getter for a dotted path (`a.b.0`) through own properties; undefined when absent. */
export function compilePath(path: string): (root: Readonly<Record<string, unknown>>) => unknown {
  const parts = path.split('.');
  if (parts.length === 1) {
    return (root) => (Object.hasOwn(root, path) ? root[path] : undefined);
  }
  return (root) => {
    // A key that itself contains dots wins over the nested reading.
    if (Object.hasOwn(root, path)) return root[path];
    let v: unknown = root;
    for (const p of parts) {
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}
