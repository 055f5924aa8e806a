import { describe, expect, it } from 'vitest';
import { frozenCopy } from './frozen-copy.js';

describe('frozenCopy (what Object.freeze({ ...value }) gives)', () => {
  it('copies own enumerable string and symbol keys, frozen, and leaves the source alone', () => {
    const tag = Symbol('tag');
    const source: Record<string | symbol, unknown> = { a: 1, nested: { b: 2 }, [tag]: 'x' };
    Object.defineProperty(source, 'hidden', { value: 3, enumerable: false });
    const copy = frozenCopy(source);
    expect(copy).toEqual({ a: 1, nested: { b: 2 }, [tag]: 'x' });
    expect(Object.keys(copy)).toEqual(['a', 'nested']);
    expect((copy as Record<symbol, unknown>)[tag]).toBe('x');
    expect(Object.hasOwn(copy, 'hidden')).toBe(false);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(copy).not.toBe(source);
    expect(Object.isFrozen(source)).toBe(false);
    // Shallow, as a spread is.
    expect((copy as { nested: object }).nested).toBe(source.nested);
    source.a = 9;
    expect((copy as { a: number }).a).toBe(1);
  });

  it('reads getters once, as a spread does', () => {
    let n = 0;
    const copy = frozenCopy({
      get next() {
        n++;
        return n;
      },
    });
    expect(copy).toEqual({ next: 1 });
    expect((copy as { next: number }).next).toBe(1);
    expect(Object.getOwnPropertyDescriptor(copy, 'next')?.get).toBeUndefined();
  });

  it('keeps an own __proto__ key as data, never as the prototype', () => {
    const source = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = frozenCopy(source);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(copy).toEqual({ ...source });
  });

  it('gives a frozen empty object for undefined and null', () => {
    for (const empty of [frozenCopy(undefined), frozenCopy(null)]) {
      expect(empty).toEqual({});
      expect(Object.isFrozen(empty)).toBe(true);
    }
  });
});
