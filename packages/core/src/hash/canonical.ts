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
  return write(value, new Set(), []);
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
