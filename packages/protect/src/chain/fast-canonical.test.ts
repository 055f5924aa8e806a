import { BursarError, canonicalJson, ErrorCode } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalCopy, fastCanonicalJson } from './fast-canonical.js';

/** Runs `f` and returns its value or the error code it threw. */
function outcome(f: () => string): { text: string } | { code: string } {
  try {
    return { text: f() };
  } catch (error) {
    return { code: BursarError.isInstance(error) ? error.code : `non-bursar: ${String(error)}` };
  }
}

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

/** Values of every kind canonicalJson meets: JSON data plus bigint, Date, undefined, holes, odd keys. */
const anything = fc.anything({
  withBigInt: true,
  withDate: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withBoxedValues: true,
  withTypedArray: true,
  withMap: true,
  withSet: true,
  maxDepth: 4,
});

/** Keys that stress ordering: digits (array-index keys enumerate first), unicode, __proto__. */
const trickyKey = fc.oneof(
  fc.string(),
  fc.constantFrom('0', '1', '10', '9', '01', '-1', '1.5', '__proto__', 'é', '\u{1F600}', '', 'a', 'B', '$'),
);
const trickyObject = fc.dictionary(
  trickyKey,
  fc.oneof(fc.jsonValue(), fc.bigInt(), fc.constant(undefined), fc.date({ noInvalidDate: true })),
  { maxKeys: 12 },
);

describe('fastCanonicalJson', () => {
  it('is byte-identical to core canonicalJson for any value, or fails with the same code', () => {
    fc.assert(
      fc.property(anything, (v) => {
        expect(outcome(() => fastCanonicalJson(v))).toEqual(outcome(() => canonicalJson(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches core on objects with tricky keys and non-JSON members', () => {
    fc.assert(
      fc.property(trickyObject, (v) => {
        expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes sorted keys, digit keys in string order, and -0 as 0', () => {
    expect(fastCanonicalJson({ a: 1, b: { c: [1, 'x', null, true] } })).toBe(
      '{"a":1,"b":{"c":[1,"x",null,true]}}',
    );
    expect(fastCanonicalJson({ '10': 1, '9': 2, a: 3 })).toBe('{"10":1,"9":2,"a":3}');
    expect(fastCanonicalJson({ b: 1, a: -0 })).toBe('{"a":0,"b":1}');
  });

  it('rejects what core rejects, with the same code', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { inner: cyclic };
    for (const bad of [{ a: Number.NaN }, [Number.POSITIVE_INFINITY], { f: () => 1 }, cyclic]) {
      expect(() => fastCanonicalJson(bad)).toThrow(
        expect.objectContaining({ code: ErrorCode.NOT_CANONICAL }),
      );
    }
  });

  it('handles nesting deeper than its fast path', () => {
    let deep: unknown = { leaf: true };
    for (let i = 0; i < 200; i++) deep = { [`k${i % 3}`]: deep, z: [i] };
    expect(fastCanonicalJson(deep)).toBe(canonicalJson(deep));
  });
});

describe('canonicalCopy', () => {
  it('returns core canonical text and a deep-frozen copy equal to parsing it', () => {
    fc.assert(
      fc.property(anything, (v) => {
        let copy: ReturnType<typeof canonicalCopy> | undefined;
        let error: unknown;
        try {
          copy = canonicalCopy(v);
        } catch (e) {
          error = e;
        }
        const core = outcome(() => canonicalJson(v));
        if (copy) {
          expect(core).toEqual({ text: copy.json });
          expect(copy.copy).toEqual(JSON.parse(copy.json));
          expect(canonicalJson(copy.copy)).toBe(copy.json);
          expect(isDeepFrozen(copy.copy)).toBe(true);
        } else {
          // Core rejects it too.
          expect(BursarError.hasCode(error, ErrorCode.NOT_CANONICAL)).toBe(true);
          expect(core).toEqual({ code: ErrorCode.NOT_CANONICAL });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('matches core on tricky keys and keeps __proto__ as data', () => {
    fc.assert(
      fc.property(trickyObject, (v) => {
        const { json, copy } = canonicalCopy(v);
        expect(json).toBe(canonicalJson(v));
        expect(canonicalJson(copy)).toBe(json);
      }),
      { numRuns: 1000 },
    );
    const withProto = JSON.parse('{"__proto__":{"x":1},"a":2}') as Record<string, unknown>;
    const { json, copy } = canonicalCopy(withProto);
    expect(json).toBe('{"__proto__":{"x":1},"a":2}');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy as object)).toEqual(['__proto__', 'a']);
  });

  it('copies at call time: later changes to the input change nothing', () => {
    const input = { amount: '1.00', tags: ['a'], when: new Date(0), n: 5n };
    const { json, copy } = canonicalCopy(input);
    input.amount = '999';
    input.tags.push('b');
    expect(json).toBe('{"amount":"1.00","n":"5","tags":["a"],"when":"1970-01-01T00:00:00.000Z"}');
    expect(copy).toEqual({ amount: '1.00', n: '5', tags: ['a'], when: '1970-01-01T00:00:00.000Z' });
  });

  it('treats array holes as core does (null)', () => {
    // biome-ignore lint/suspicious/noSparseArray: the point of the test
    const sparse = { a: [1, , 3] };
    expect(canonicalJson(sparse)).toBe('{"a":[1,null,3]}');
    expect(canonicalCopy(sparse)).toEqual({ json: '{"a":[1,null,3]}', copy: { a: [1, null, 3] } });
    expect(fastCanonicalJson(sparse)).toBe('{"a":[1,null,3]}');
  });
});
