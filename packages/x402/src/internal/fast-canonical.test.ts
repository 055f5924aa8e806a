import { canonicalHash, canonicalJson } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastCanonicalHash, fastCanonicalJson } from './fast-canonical.js';

describe('fastCanonicalJson', () => {
  it('property: writes exactly what core canonicalJson writes for JSON data and bigints', () => {
    const data = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        // Control characters, quotes, backslashes, lone surrogates: the escaped (not plain) path.
        fc.string({ unit: 'binary' }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.bigInt(),
        fc.array(tie('value'), { maxLength: 4 }),
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
      ),
    })).value;
    fc.assert(
      fc.property(data, (value) => {
        expect(fastCanonicalJson(value)).toBe(canonicalJson(value));
      }),
    );
  });

  it('hashes what core canonicalHash hashes (the payment id of a payload does not change)', () => {
    const payload = {
      v: 2,
      scheme: 'exact',
      network: 'eip155:84532',
      payload: {
        signature: `0x${'ab'.repeat(65)}`,
        authorization: { from: '0x01', to: '0x02', value: '10000', nonce: '0x03', 'x"\\y': 'é\n' },
      },
    };
    expect(fastCanonicalHash(payload)).toBe(canonicalHash(payload));
    expect(fastCanonicalHash({ b: 'x', a: 1 })).toBe(
      'ecf9e98ec0641e23113ff3ce8bdc78d0ddd249886517fd4a7f68cc83d4e65667',
    );
  });

  it('sorts keys whatever the input order and refuses what is not JSON data', () => {
    expect(fastCanonicalJson({ b: 1, a: [true, undefined, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    expect(fastCanonicalJson({ a: 1, b: 2 })).toBe(fastCanonicalJson({ b: 2, a: 1 }));
    expect(() => fastCanonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => fastCanonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => fastCanonicalJson(undefined)).toThrow(TypeError);
    expect(() => fastCanonicalHash(undefined)).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => fastCanonicalJson(cyclic)).toThrow(TypeError);
  });

  it('writes through JSON.stringify only what it writes canonically; the rest takes the writer', () => {
    const cases: unknown[] = [
      // Parsed JSON: an own `__proto__` member is data, and must be hashed as such.
      JSON.parse('{"b":1,"__proto__":{"x":1},"a":[{"d":1,"c":2},null]}'),
      JSON.parse('{"__proto__":"p"}'),
      // Integer-like keys, which V8 orders numerically whatever the insertion order.
      { b: 1, 10: 'ten', 9: 'nine', a: { 2: 'x', 1: 'y' } },
      Object.assign(Object.create(null), { z: 1, y: { b: 2, a: 1 } }),
      { t: new Date(0), n: { toJSON: () => ({ b: 1, a: 2 }) } },
      // Keys in order outside, out of order inside: only the inner object is copied.
      { a: 1, b: { d: 1, c: 2 }, c: [3, { f: 1, e: 2 }], d: undefined },
      { a: [undefined, 1n, { y: 2n, x: 1 }] },
      ['x', [[{ b: 1, a: 1 }]], ''],
      { '': 1, ' ': 2, é: 3, e: 4, E: 5 },
    ];
    for (const value of cases) expect(fastCanonicalJson(value)).toBe(canonicalJson(value));
    expect(fastCanonicalJson(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}');
    expect(fastCanonicalJson({ 10: 'a', 9: 'b' })).toBe('{"10":"a","9":"b"}');
    // Not copied when nothing needs sorting (the same object reaches JSON.stringify).
    const sorted = { a: 1, b: { c: 'x' } };
    expect(fastCanonicalJson(sorted)).toBe('{"a":1,"b":{"c":"x"}}');
    expect(() => fastCanonicalJson({ b: 1, a: Symbol('s') })).toThrow(TypeError);
    expect(() => fastCanonicalJson({ b: 1, a: [Number.POSITIVE_INFINITY] })).toThrow(TypeError);
  });

  it('property: parsed JSON with any keys (integer-like, __proto__, escaped) hashes as core does', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.string({ unit: 'binary', maxLength: 3 }),
      fc.nat().map(String),
      fc.constantFrom('__proto__', 'toJSON', 'constructor', ''),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.array(fc.tuple(key, tie('value')), { maxLength: 6 }).map((members) => {
          // Built as text and parsed, as a payload header is: `__proto__` becomes an own member.
          const text = `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
          return JSON.parse(text) as unknown;
        }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        expect(fastCanonicalJson(value)).toBe(canonicalJson(value));
        expect(fastCanonicalHash(value)).toBe(canonicalHash(value));
      }),
    );
  });
});
