import { canonicalJson } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCanonicalJson } from './fast-canonical.js';

describe('fastCanonicalJson', () => {
  it('property: writes exactly what core canonicalJson writes for JSON data and bigints', () => {
    const data = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.bigInt(),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(tie('value'), fc.constant(undefined)), {
          maxKeys: 5,
        }),
      ),
    })).value;
    fc.assert(
      fc.property(data, (value) => {
        expect(fastCanonicalJson(value)).toBe(canonicalJson(value));
      }),
    );
  });

  it('sorts keys whatever the input order and refuses what is not JSON data', () => {
    expect(fastCanonicalJson({ b: 1, a: [true, undefined, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(fastCanonicalJson({ a: 1, b: 2 })).toBe(fastCanonicalJson({ b: 2, a: 1 }));
    expect(() => fastCanonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => fastCanonicalJson(Number.NaN)).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => fastCanonicalJson(cyclic)).toThrow(TypeError);
  });
});
