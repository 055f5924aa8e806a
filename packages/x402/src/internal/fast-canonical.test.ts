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
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => fastCanonicalJson(cyclic)).toThrow(TypeError);
  });
});
