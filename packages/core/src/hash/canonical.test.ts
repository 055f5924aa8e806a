import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors/index.js';
import { canonicalHash, canonicalJson, sha256Hex } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts keys, drops undefined, writes bigint as strings and dates as ISO', () => {
    expect(
      canonicalJson({ b: 1, a: { d: [1, undefined, 'x'], c: true }, u: undefined, n: 10n, t: new Date(0) }),
    ).toBe('{"a":{"c":true,"d":[1,null,"x"]},"b":1,"n":"10","t":"1970-01-01T00:00:00.000Z"}');
  });

  it('gives identical output for any key-order permutation', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(canonicalHash(reversed)).toBe(canonicalHash(obj));
      }),
    );
  });

  it('is valid JSON that parses back to the same data', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(JSON.parse(canonicalJson(v)))).toBe(canonicalJson(v));
      }),
    );
  });

  it.each([
    ['NaN', { a: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['function', { f: () => 1 }],
    ['symbol', { s: Symbol('x') }],
  ])('rejects %s', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(expect.objectContaining({ code: ErrorCode.NOT_CANONICAL }));
  });

  it('rejects cycles but allows shared references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle at self/);
  });

  it('hashes with SHA-256', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
