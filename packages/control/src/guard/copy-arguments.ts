import type { Decision } from '@bursar/core';
import { jsonSafe } from './intent-fields.js';
import { denyInstead, PolicyDeniedError } from './policy-denied-error.js';

/** Call arguments copied once, before the policy sees them. */
export interface CopiedArguments {
  /** The copies: what the policy is shown and what the function runs with. */
  values: unknown[];
  /**
   * False when an argument that could not be copied (a class instance, a function's
   * properties) reads differently through JSON than when the call was authorized.
   */
  unchanged(): boolean;
}

/**
 * Deep-copies call arguments so that what is authorized is exactly what runs: a caller that
 * keeps a reference cannot change the amount or recipient while the call waits for a
 * decision or a human. Plain objects, arrays, `Map`s and `Set`s are copied member by member;
 * other built-in values (`Date`, `RegExp`, typed arrays, `ArrayBuffer`, `Error`s, …) through
 * `structuredClone`. Functions, and class instances that `structuredClone` would turn into
 * plain objects, are passed as they are; their JSON form is remembered so that
 * {@link CopiedArguments.unchanged} can tell whether they changed meanwhile.
 */
export function copyArguments(args: readonly unknown[]): CopiedArguments {
  const kept: unknown[] = [];
  const seen = new Map<object, unknown>();
  const copy = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const done = seen.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (let i = 0; i < value.length; i++) out[i] = copy(value[i]);
      return out;
    }
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = proto === null ? Object.create(null) : {};
      seen.set(value, out);
      for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
      return out;
    }
    if (value instanceof Map) {
      const out = new Map();
      seen.set(value, out);
      for (const [k, v] of value) out.set(copy(k), copy(v));
      return out;
    }
    if (value instanceof Set) {
      const out = new Set();
      seen.set(value, out);
      for (const v of value) out.add(copy(v));
      return out;
    }
    let cloned: unknown;
    try {
      cloned = structuredClone(value);
    } catch {
      cloned = undefined;
    }
    // A faithful copy keeps its prototype; a class instance would come back as a plain object.
    if (cloned !== undefined && Object.getPrototypeOf(cloned) === proto) {
      seen.set(value, cloned);
      return cloned;
    }
    seen.set(value, value);
    kept.push(value);
    return value;
  };
  const values = args.map(copy);
  if (kept.length === 0) return { values, unchanged: () => true };
  const before = fingerprint(kept);
  return { values, unchanged: () => fingerprint(kept) === before };
}

function fingerprint(values: readonly unknown[]): string {
  try {
    return JSON.stringify(jsonSafe(values)) ?? '';
  } catch {
    // Not JSON-writable (a cycle): nothing the policy could have seen either.
    return '';
  }
}

/**
 * Throws {@link PolicyDeniedError} (`arguments_changed`) when an argument that was passed
 * through uncopied changed after the call was authorized: what would run is not what was
 * decided on.
 */
export function refuseChanged(copied: CopiedArguments, decision: Decision): void {
  if (copied.unchanged()) return;
  throw new PolicyDeniedError(
    denyInstead(decision, {
      code: 'arguments_changed',
      message:
        'An argument that could not be copied (a class instance) changed after the call was authorized; the call was not run and its hold released',
      source: 'system',
    }),
  );
}
