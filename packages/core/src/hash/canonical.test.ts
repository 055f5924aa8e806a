import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors/index.js';
import { canonicalHash, canonicalJson, canonicalJsonByWriter, sha256Hex } from './canonical.js';

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

  it('property: the JSON.stringify path writes exactly what the writer writes', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.string({ unit: 'binary', maxLength: 3 }),
      fc.nat().map(String),
      fc.constantFrom('__proto__', 'toJSON', 'constructor', ''),
    );
    const data = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        // Control characters, quotes, backslashes, lone surrogates: the escaped strings.
        fc.string({ unit: 'binary' }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.bigInt(),
        fc.date({ noInvalidDate: true }),
        fc.array(fc.oneof(tie('value'), fc.constant(undefined)), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(tie('value'), fc.constant(undefined)), {
          maxKeys: 5,
        }),
        // More keys than the insertion sort takes, with escaped and integer-like keys.
        fc.dictionary(
          fc.oneof(fc.string({ unit: 'binary', maxLength: 3 }), fc.nat().map(String)),
          tie('value'),
          {
            minKeys: 14,
            maxKeys: 20,
            depthIdentifier: 'wide',
          },
        ),
        // Built as text and parsed, as a payload header is: `__proto__` becomes an own member.
        fc
          .array(fc.tuple(key, fc.jsonValue({ maxDepth: 2 })), { maxLength: 6 })
          .map(
            (members) =>
              JSON.parse(
                `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
              ) as unknown,
          ),
      ),
    })).value;
    fc.assert(
      fc.property(data, (value) => {
        expect(canonicalJson(value)).toBe(canonicalJsonByWriter(value));
      }),
    );
  });

  it('takes the writer for what JSON.stringify would not write canonically', () => {
    const cases: unknown[] = [
      JSON.parse('{"b":1,"__proto__":{"x":1},"a":[{"d":1,"c":2},null]}'),
      JSON.parse('{"__proto__":"p"}'),
      { b: 1, 10: 'ten', 9: 'nine', a: { 2: 'x', 1: 'y' } },
      Object.assign(Object.create(null), { z: 1, y: { b: 2, a: 1 } }),
      { t: new Date(0), n: { toJSON: () => ({ b: 1, a: 2 }) } },
      { a: 1, b: { d: 1, c: 2 }, c: [3, { f: 1, e: 2 }], d: undefined },
      { a: undefined, b: { d: 1, c: 2 } },
      { a: [undefined, 1n, { y: 2n, x: 1 }] },
      ['x', [[{ b: 1, a: 1 }]], ''],
      { '': 1, ' ': 2, é: 3, e: 4, E: 5 },
    ];
    for (const value of cases) expect(canonicalJson(value)).toBe(canonicalJsonByWriter(value));
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}');
    expect(canonicalJson({ 10: 'a', 9: 'b' })).toBe('{"10":"a","9":"b"}');
    expect(canonicalJson({ a: undefined, c: 1, b: { y: 1, x: 2 } })).toBe('{"b":{"x":2,"y":1},"c":1}');
    // Errors still come from the writer, with the path.
    expect(() => canonicalJson(undefined)).toThrow(/cannot encode undefined at \(root\)/);
    expect(() => canonicalJson({ b: 1, a: [Number.POSITIVE_INFINITY] })).toThrow(
      /non-finite number at a\[0\]/,
    );
    expect(() => canonicalJson({ b: { c: Symbol('s') } })).toThrow(/cannot encode symbol at b\.c/);
  });

  it('hashes with SHA-256', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
