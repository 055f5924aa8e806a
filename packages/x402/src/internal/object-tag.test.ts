import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ObjectTag } from './object-tag.js';

describe('ObjectTag', () => {
  it('behaves like a WeakMap over any sequence of sets and gets, frozen objects included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.constantFrom('set', 'get'),
            target: fc.nat(5),
            value: fc.string(),
          }),
          { maxLength: 60 },
        ),
        (ops) => {
          // Targets 0–2 are plain, 3 is frozen, 4 is sealed, 5 is non-extensible.
          const targets: object[] = [
            {},
            { a: 1 },
            [],
            Object.freeze({}),
            Object.seal({}),
            Object.preventExtensions({}),
          ];
          const tag = new ObjectTag<string>();
          const model = new Map<object, string>();
          for (const { op, target, value } of ops) {
            const t = targets[target]!;
            if (op === 'set') {
              tag.set(t, value);
              model.set(t, value);
            } else {
              expect(tag.get(t)).toBe(model.get(t));
            }
          }
          for (const t of targets) expect(tag.get(t)).toBe(model.get(t));
        },
      ),
    );
  });

  it('is invisible to JSON, keys, symbols, spreads and assign, and not inherited', () => {
    const tag = new ObjectTag<string>();
    const result = { success: true, transaction: '0xabc' };
    tag.set(result, 'primary');
    expect(tag.get(result)).toBe('primary');
    expect(JSON.stringify(result)).toBe('{"success":true,"transaction":"0xabc"}');
    expect(Object.keys(result)).toEqual(['success', 'transaction']);
    expect(result).toEqual({ success: true, transaction: '0xabc' });
    expect(tag.get({ ...result })).toBeUndefined();
    expect(tag.get(Object.assign({}, result))).toBeUndefined();
    expect(tag.get(Object.create(result) as object)).toBeUndefined();
    expect(Object.getOwnPropertySymbols(result)).toEqual([]);
    expect(Object.getOwnPropertyNames(result)).toEqual(['success', 'transaction']);
    // Two tags never see each other's values.
    expect(new ObjectTag<string>().get(result)).toBeUndefined();
  });
});
