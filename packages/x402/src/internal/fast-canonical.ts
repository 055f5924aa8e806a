import { sha256Hex } from '@bursar/core';

/**
 * Canonical JSON (keys sorted by UTF-16 code unit, no whitespace, `undefined` members dropped,
 * `bigint` as a decimal string) for the JSON data of an x402 payload, on the hot path of every
 * payment. It writes the same text as core's `canonicalJson` for such data but skips the path
 * bookkeeping used for error messages; anything that is not JSON data (a function, a symbol, a
 * non-finite number, a cycle) throws.
 *
 * Plain JSON data (what a parsed payload is) is written by `JSON.stringify` over a copy with
 * sorted keys (objects whose keys are already sorted are not copied): one flat string, instead
 * of the many intermediate strings of a writer in JavaScript. Anything else (a bigint, a
 * `toJSON`, a class instance, a key V8 would not keep in insertion order) takes that writer.
 */
export function fastCanonicalJson(value: unknown): string {
  const sorted = sortedData(value, 0);
  // `undefined` alone is not JSON: the writer throws for it, as core's canonicalJson does.
  return sorted === NOT_PLAIN || sorted === undefined ? write(value, 0) : JSON.stringify(sorted);
}

/** Hex SHA-256 of the canonical JSON of `value`. */
export function fastCanonicalHash(value: unknown): string {
  return sha256Hex(fastCanonicalJson(value));
}

/** What {@link sortedData} returns for data `JSON.stringify` would not write canonically. */
const NOT_PLAIN: unique symbol = Symbol('not plain JSON data');

/**
 * True for a key `JSON.stringify` writes where it was inserted. V8 puts integer-like keys
 * first, in numeric order; a key starting with a digit is left to the writer (so are
 * `__proto__` keys, which a plain assignment would not copy as data).
 */
function keepsOrder(key: string): boolean {
  const c = key.charCodeAt(0);
  return !(c >= 48 && c <= 57) && key !== '__proto__';
}

/**
 * `value`, or a copy of it with object keys in canonical order, that `JSON.stringify` writes as
 * canonical JSON; {@link NOT_PLAIN} when that is not certain.
 */
function sortedData(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : NOT_PLAIN;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_DEPTH) return NOT_PLAIN;
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          // `JSON.stringify` writes an undefined element (or a hole) as null, as canonical JSON does.
          if (v === undefined) continue;
          const s = sortedData(v, depth + 1);
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
        const s = sortedData(v, depth + 1);
        if (s === NOT_PLAIN) return NOT_PLAIN;
        if (copy !== undefined) copy[key] = s;
        else if (s !== v) {
          // Keys already in order: copied only because a value inside was.
          copy = {};
          for (let j = 0; j < i; j++) copy[keys[j]!] = obj[keys[j]!];
          copy[key] = s;
        }
      }
      return copy ?? obj;
    }
    default:
      return NOT_PLAIN;
  }
}

const MAX_DEPTH = 64;

/** Printable ASCII but `"` and `\`: what `JSON.stringify` writes unchanged between quotes. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string literal; skips `JSON.stringify` for the plain text payloads are made of (hex, ids). */
function quote(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * Sorts object keys in place by UTF-16 code unit, like `Array.prototype.sort()` does for strings.
 * Payload objects have a handful of keys: an insertion sort does not allocate the work array
 * the built-in sort does.
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

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON: non-finite number');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `"${value.toString()}"`;
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) throw new TypeError('canonical JSON: too deep (or a cycle)');
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const v = value[i];
          out += v === undefined ? 'null' : write(v, depth + 1);
        }
        return `${out}]`;
      }
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return write(toJSON.call(value), depth + 1);
      const keys = Object.keys(value);
      sortKeys(keys);
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${quote(key)}:${write(v, depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON: cannot encode ${typeof value}`);
  }
}
