import { BursarError, canonicalJson, deepFreeze, ErrorCode } from '@bursar/core';

/**
 * Past this depth the fast writers hand the subtree to core's `canonicalJson`, which tracks
 * the path and detects cycles. Audit data is shallow; deep values are rare and still correct.
 */
const MAX_FAST_DEPTH = 48;

/** Strings that JSON.stringify would write as `"…"` unchanged: no quote, backslash, control or surrogate. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters JSON escapes
const PLAIN_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** JSON.stringify(text), without the call for the short plain strings audit data is made of. */
export function quote(text: string): string {
  return text.length <= 128 && PLAIN_STRING.test(text) ? `"${text}"` : JSON.stringify(text);
}

/** `"key":`, cached: the same few keys appear in every record. Bounded, never evicted. */
const quotedKeys = new Map<string, string>();
function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * Sorts keys in place by UTF-16 code units, as `Array.prototype.sort()` does (and core's
 * canonicalJson uses). Insertion sort for the handful of keys an object usually has: several
 * times faster than the generic sort at that size.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** How one set of keys (in `Object.keys` order) is written: sorted, with each member's opening text. */
interface Shape {
  /** The keys as `Object.keys` listed them: what a lookup compares. */
  order: readonly string[];
  /** The same keys in canonical order. */
  sorted: readonly string[];
  /** `{"key":` for each sorted key: the text of a member written first. */
  open: readonly string[];
  /** `,"key":` for each sorted key: the text of any later member. */
  comma: readonly string[];
  /** `{"key":"` and `,"key":"`: the same, followed by the opening quote of a string value. */
  openQuote: readonly string[];
  commaQuote: readonly string[];
}

/** Most keys a cached shape has; larger objects are sorted each time. */
const SHAPE_MAX_KEYS = 32;
/** Shapes kept; a new shape past this replaces the oldest. Audit data has a handful. */
const SHAPE_SLOTS = 64;
const shapes: Shape[] = [];
let nextSlot = 0;

/**
 * The shape of an object with these own keys. Records of one kind share their keys, so the
 * sort and the key quoting are done once per kind, not once per record, and each member's
 * opening text is one string (fewer pieces to join when the text is hashed).
 */
function shapeOf(keys: string[]): Shape {
  const n = keys.length;
  for (let s = 0; s < shapes.length; s++) {
    const shape = shapes[s]!;
    const order = shape.order;
    if (order.length !== n) continue;
    let i = 0;
    while (i < n && order[i] === keys[i]) i++;
    if (i === n) return shape;
  }
  const sorted = sortKeys(keys.slice());
  const open: string[] = [];
  const comma: string[] = [];
  const openQuote: string[] = [];
  const commaQuote: string[] = [];
  for (const key of sorted) {
    const quoted = quoteKey(key);
    open.push(`{${quoted}`);
    comma.push(`,${quoted}`);
    openQuote.push(`{${quoted}"`);
    commaQuote.push(`,${quoted}"`);
  }
  const shape: Shape = { order: keys, sorted, open, comma, openQuote, commaQuote };
  if (n <= SHAPE_MAX_KEYS) {
    shapes[nextSlot] = shape;
    nextSlot = (nextSlot + 1) % SHAPE_SLOTS;
  }
  return shape;
}

/**
 * Byte-identical to core's `canonicalJson` (a property test holds it to that), but faster on
 * the plain JSON data audit records carry: no path strings and no cycle set are built. Anything
 * unusual (a `bigint`, a `Date`, a `toJSON` method, a sparse array, a non-finite number, a
 * function, deep nesting) is handed to core's implementation, so the output and the errors are
 * the same.
 *
 * @example
 * fastCanonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function fastCanonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // For finite numbers String(n) is exactly JSON.stringify(n).
      return Number.isFinite(value) ? `${value}` : canonicalJson(value);
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_FAST_DEPTH) return canonicalJson(value);
      if (Array.isArray(value)) {
        const n = value.length;
        let out = '[';
        for (let i = 0; i < n; i++) {
          if (!(i in value)) return canonicalJson(value);
          const v: unknown = value[i];
          if (i > 0) out += ',';
          out += v === undefined ? 'null' : write(v, depth + 1);
        }
        return `${out}]`;
      }
      if (value instanceof Date || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return canonicalJson(value);
      }
      const shape = shapeOf(Object.keys(value));
      const keys = shape.sorted;
      let out = '';
      for (let i = 0; i < keys.length; i++) {
        const v = (value as Record<string, unknown>)[keys[i]!];
        if (v === undefined) continue;
        out += (out === '' ? shape.open[i]! : shape.comma[i]!) + write(v, depth + 1);
      }
      return out === '' ? '{}' : `${out}}`;
    }
    default:
      // bigint is written by core as a decimal string; undefined, functions and symbols throw there.
      return canonicalJson(value);
  }
}

/** The canonical text of a value together with a deep-frozen, JSON-normalised copy of it. */
export interface CanonicalCopy {
  json: string;
  /** Equal to `JSON.parse(json)`, deep-frozen: what a record stores is exactly what was hashed. */
  copy: unknown;
}

/**
 * Canonical JSON of `value` plus a deep-frozen copy holding exactly the JSON data that text
 * describes (`bigint` and `Date` become strings, `undefined` members disappear, array holes are
 * whatever core writes for them). One walk builds both, so appending a record copies the
 * caller's data once and never re-parses it.
 */
export function canonicalCopy(value: unknown): CanonicalCopy {
  const out: CanonicalCopy = { json: '', copy: undefined };
  out.json = copyWrite(value, 0, out);
  return out;
}

/** The JSON data canonicalJson describes, via core (handles Date, toJSON, cycles, deep nesting). */
function slowCopy(value: unknown, out: CanonicalCopy): string {
  const json = canonicalJson(value);
  try {
    out.copy = deepFreeze(JSON.parse(json));
  } catch (cause) {
    // Only reachable if canonicalJson wrote something that is not JSON: refuse to store it.
    throw new BursarError(ErrorCode.NOT_CANONICAL, 'Audit data has no canonical JSON form', { cause });
  }
  return json;
}

/** Writes the canonical text of `value` and leaves its frozen copy in `out.copy`. */
function copyWrite(value: unknown, depth: number, out: CanonicalCopy): string {
  switch (typeof value) {
    case 'string':
      out.copy = value;
      return quote(value);
    case 'boolean':
      out.copy = value;
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) return canonicalJson(value); // throws NOT_CANONICAL
      out.copy = value === 0 ? 0 : value; // -0 is written as 0
      return `${value}`;
    case 'bigint':
      out.copy = value.toString();
      return `"${out.copy}"`;
    case 'object': {
      if (value === null) {
        out.copy = null;
        return 'null';
      }
      if (depth >= MAX_FAST_DEPTH) return slowCopy(value, out);
      if (Array.isArray(value)) {
        const n = value.length;
        const arr: unknown[] = [];
        let text = '[';
        for (let i = 0; i < n; i++) {
          // A hole: core's canonicalJson decides what it means (it writes null).
          if (!(i in value)) return slowCopy(value, out);
          const v: unknown = value[i];
          if (i > 0) text += ',';
          if (v === undefined) {
            arr.push(null);
            text += 'null';
          } else {
            text += copyWrite(v, depth + 1, out);
            arr.push(out.copy);
          }
        }
        out.copy = Object.freeze(arr);
        return `${text}]`;
      }
      if (value instanceof Date || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return slowCopy(value, out);
      }
      const shape = shapeOf(Object.keys(value));
      const keys = shape.sorted;
      const obj: Record<string, unknown> = {};
      let text = '';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        if (typeof v === 'string' && v.length <= 128 && PLAIN_STRING.test(v)) {
          // The usual member: a short plain string, written with its quotes and no extra piece.
          text += (text === '' ? shape.openQuote[i]! : shape.commaQuote[i]!) + v + '"';
          out.copy = v;
        } else {
          text += (text === '' ? shape.open[i]! : shape.comma[i]!) + copyWrite(v, depth + 1, out);
        }
        if (key === '__proto__') {
          // An own data property, as JSON.parse makes it; plain assignment would set the prototype.
          Object.defineProperty(obj, key, {
            value: out.copy,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else {
          obj[key] = out.copy;
        }
      }
      out.copy = Object.freeze(obj);
      return text === '' ? '{}' : `${text}}`;
    }
    default:
      return canonicalJson(value); // undefined, functions and symbols: throws NOT_CANONICAL
  }
}
