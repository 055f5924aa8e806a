import { createHash } from 'node:crypto';

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
  return createHash('sha256').update(fastCanonicalJson(value)).digest('hex');
}

const MAX_DEPTH = 64;

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
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
      const keys = Object.keys(value).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key)}:${write(v, depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON: cannot encode ${typeof value}`);
  }
}
