import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { BursarError, ErrorCode } from '../errors/index.js';

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit (as RFC 8785), no whitespace, `undefined` members
 * dropped, `bigint` written as a decimal string, `Date` as ISO-8601. The same data always
 * gives the same text whatever the key order, so its hash can bind approvals, policies and
 * audit records. Non-finite numbers, functions, symbols and cycles are rejected.
 */
export function canonicalJson(value: unknown): string {
  // Plain JSON data (what parsed payloads and intents are) is written by one `JSON.stringify`
  // of a copy with sorted keys (objects already in order are not copied): one flat string
  // instead of one per member. Anything else, errors included, takes the writer below, which
  // tracks the path for its messages.
  const sorted = sortedPlain(value, 0);
  return sorted === NOT_PLAIN || sorted === undefined ? write(value, new Set(), []) : JSON.stringify(sorted);
}

/** The writer alone: what {@link canonicalJson} writes for any value. Internal (tests compare). */
export function canonicalJsonByWriter(value: unknown): string {
  return write(value, new Set(), []);
}

/** What {@link sortedPlain} returns for data `JSON.stringify` would not write canonically. */
const NOT_PLAIN: unique symbol = Symbol('not plain JSON data');

/** Deeper than this (or a cycle), the writer takes over: it detects cycles and names paths. */
const MAX_PLAIN_DEPTH = 64;

/**
 * True for a key `JSON.stringify` writes where it was inserted. V8 puts integer-like keys
 * first, in numeric order, so a key starting with a digit is left to the writer; so is an own
 * `__proto__` member (parsed JSON can have one), which an assignment would not copy as data.
 */
function keepsOrder(key: string): boolean {
  const c = key.charCodeAt(0);
  return !(c >= 48 && c <= 57) && key !== '__proto__';
}

/**
 * `value`, or a copy with object keys in canonical order, that `JSON.stringify` writes as its
 * canonical JSON, bigints and dates as the strings the writer writes for them; {@link NOT_PLAIN}
 * when that is not certain (a `toJSON`, a class instance, a non-finite number or invalid date,
 * an integer-like key, too deep).
 */
function sortedPlain(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : NOT_PLAIN;
    case 'bigint':
      // The writer writes a bigint as its decimal string (intent hashes carry minor units).
      return value.toString();
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_PLAIN_DEPTH) return NOT_PLAIN;
      if (value instanceof Date) {
        const t = value.getTime();
        return Number.isFinite(t) ? value.toISOString() : NOT_PLAIN;
      }
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          // `JSON.stringify` writes an undefined element (or a hole) as null, as the writer does.
          if (v === undefined) continue;
          const s = sortedPlain(v, depth + 1);
          if (s === NOT_PLAIN) return NOT_PLAIN;
          if (s !== v) {
            copy ??= value.slice();
            copy[i] = s;
          }
        }
        return copy ?? value;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      const obj = value as Record<string, unknown>;
      if (typeof obj.toJSON === 'function') return NOT_PLAIN;
      const keys = Object.keys(obj);
      let inOrder = true;
      for (let i = 0; i < keys.length; i++) {
        if (!keepsOrder(keys[i]!)) return NOT_PLAIN;
        if (i > 0 && keys[i - 1]! > keys[i]!) inOrder = false;
      }
      if (!inOrder) sortKeys(keys);
      let copy: Record<string, unknown> | undefined = inOrder ? undefined : {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const v = obj[key];
        if (v === undefined) continue;
        const s = sortedPlain(v, depth + 1);
        if (s === NOT_PLAIN) return NOT_PLAIN;
        if (copy !== undefined) copy[key] = s;
        else if (s !== v) {
          // Keys already in order: copied only because a value inside was.
          copy = {};
          for (let j = 0; j < i; j++) {
            const k = keys[j]!;
            if (obj[k] !== undefined) copy[k] = obj[k];
          }
          copy[key] = s;
        }
      }
      return copy ?? obj;
    }
    default:
      return NOT_PLAIN;
  }
}

/**
 * Sorts keys in place by UTF-16 code unit, as `Array.prototype.sort()` does; an insertion sort
 * for the handful of keys an object usually has (no work array).
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

// The path is a stack of keys joined only when an error needs it: no string per key.
const where = (path: readonly (string | number)[]) =>
  path.length === 0
    ? '(root)'
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
        .join('')
        .replace(/^\./, '');

function write(value: unknown, seen: Set<object>, path: (string | number)[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `"${value.toString()}"`;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new BursarError(ErrorCode.NOT_CANONICAL, `canonicalJson: non-finite number at ${where(path)}`);
      }
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Date) {
        if (!Number.isFinite(value.getTime())) {
          throw new BursarError(ErrorCode.NOT_CANONICAL, `canonicalJson: invalid Date at ${where(path)}`);
        }
        return JSON.stringify(value.toISOString());
      }
      if (seen.has(value)) {
        throw new BursarError(ErrorCode.NOT_CANONICAL, `canonicalJson: cycle at ${where(path)}`);
      }
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = '[';
        for (let i = 0; i < value.length; i++) {
          const v = value[i];
          path.push(i);
          out += (i > 0 ? ',' : '') + (v === undefined ? 'null' : write(v, seen, path));
          path.pop();
        }
        out += ']';
      } else {
        const toJSON = (value as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === 'function') {
          seen.delete(value);
          return write(toJSON.call(value), seen, path);
        }
        const keys = Object.keys(value).sort();
        out = '{';
        let first = true;
        for (const key of keys) {
          const v = (value as Record<string, unknown>)[key];
          if (v === undefined) continue;
          path.push(key);
          out += `${first ? '' : ','}${JSON.stringify(key)}:${write(v, seen, path)}`;
          path.pop();
          first = false;
        }
        out += '}';
      }
      seen.delete(value);
      return out;
    }
    default:
      throw new BursarError(
        ErrorCode.NOT_CANONICAL,
        `canonicalJson: cannot encode ${typeof value} at ${where(path)}`,
      );
  }
}

/** Hex SHA-256 of a string (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

// `crypto.hash` (Node ≥ 20.12) skips the Hash object: about twice as fast for small inputs.
const oneShot = (crypto as { hash?: (alg: string, data: string | Uint8Array, enc: 'hex') => string }).hash;

/** Hex SHA-256 of the canonical JSON of `value`. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
