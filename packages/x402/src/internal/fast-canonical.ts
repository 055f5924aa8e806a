import { sha256Hex } from '@bursar/core';

/**
 * Canonical JSON (keys sorted by UTF-16 code unit, no whitespace, `undefined` members dropped,
 * `bigint` as a decimal string) for the JSON data of an x402 payload, on the hot path of every
 * payment. It writes the same text as core's `canonicalJson` for such data but skips the path
 * bookkeeping used for error messages; anything that is not JSON data (a function, a symbol, a
 * non-finite number, a cycle) throws.
 */
export function fastCanonicalJson(value: unknown): string {
  return write(value, 0);
}

/** Hex SHA-256 of the canonical JSON of `value`. */
export function fastCanonicalHash(value: unknown): string {
  return sha256Hex(write(value, 0));
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
