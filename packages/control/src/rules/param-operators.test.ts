import type { ValidationIssue } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import type { ParamOperators } from '../policy/schema.js';
import { compileOperators, compilePath } from './param-operators.js';
import { FALSE, MISSING, TRUE } from './tri.js';

function op(ops: ParamOperators) {
  const issues: ValidationIssue[] = [];
  const test = compileOperators(ops, 'params.x', issues);
  expect(issues).toEqual([]);
  return test;
}

describe('parameter operators', () => {
  it('eq / ne: strict for primitives, canonical for objects', () => {
    expect(op({ eq: 5 })(5)).toBe(TRUE);
    expect(op({ eq: 5 })('5')).toBe(FALSE);
    expect(op({ eq: null })(null)).toBe(TRUE);
    expect(op({ eq: { b: 1, a: [1, 2] } })({ a: [1, 2], b: 1 })).toBe(TRUE);
    expect(op({ eq: { a: 1 } })({ a: 2 })).toBe(FALSE);
    expect(op({ ne: 'prod' })('dev')).toBe(TRUE);
    expect(op({ ne: 'prod' })('prod')).toBe(FALSE);
    expect(op({ eq: 5 })(undefined)).toBe(MISSING);
    expect(op({ ne: 5 })(undefined)).toBe(MISSING);
  });

  it('gt / gte / lt / lte compare numbers and decimal strings exactly', () => {
    expect(op({ gt: 100 })(100.5)).toBe(TRUE);
    expect(op({ gt: 100 })(100)).toBe(FALSE);
    expect(op({ gte: 100 })(100)).toBe(TRUE);
    expect(op({ lt: '0.3' })(0.1 + 0.2)).toBe(FALSE); // 0.30000000000000004 is not below 0.3
    expect(op({ lte: '0.3' })('0.3')).toBe(TRUE);
    expect(op({ gt: '9007199254740993' })('9007199254740994')).toBe(TRUE);
    expect(op({ lt: -1 })('-1.5')).toBe(TRUE);
    expect(op({ gte: 1, lte: 10 })(5)).toBe(TRUE);
    expect(op({ gte: 1, lte: 10 })(11)).toBe(FALSE);
  });

  it('numeric operators answer MISSING for absent or non-numeric values', () => {
    expect(op({ gt: 100 })(undefined)).toBe(MISSING);
    expect(op({ gt: 100 })('lots')).toBe(MISSING);
    expect(op({ gt: 100 })({ value: 500 })).toBe(MISSING);
    expect(op({ gt: 100 })(Number.NaN)).toBe(MISSING);
    expect(op({ lt: 100 })(true)).toBe(MISSING);
  });

  it('contains / not_contains on strings and arrays', () => {
    expect(op({ contains: 'rm -rf' })('sudo rm -rf /')).toBe(TRUE);
    expect(op({ contains: 'rm -rf' })('ls')).toBe(FALSE);
    expect(op({ contains: 'admin' })(['user', 'admin'])).toBe(TRUE);
    expect(op({ contains: { id: 1 } })([{ id: 1 }])).toBe(TRUE);
    expect(op({ not_contains: 'admin' })(['user'])).toBe(TRUE);
    expect(op({ not_contains: 'admin' })(['admin'])).toBe(FALSE);
    expect(op({ contains: 'x' })(42)).toBe(MISSING);
    expect(op({ not_contains: 'x' })(42)).toBe(MISSING);
    expect(op({ not_contains: 'x' })(undefined)).toBe(MISSING);
  });

  it('matches: RegExp source or /source/flags, strings only', () => {
    expect(op({ matches: '^DROP\\s+TABLE' })('DROP TABLE users')).toBe(TRUE);
    expect(op({ matches: '^DROP\\s+TABLE' })('drop table users')).toBe(FALSE);
    expect(op({ matches: '/^drop\\s+table/i' })('DROP TABLE users')).toBe(TRUE);
    expect(op({ matches: '^\\d+$' })(123)).toBe(MISSING);
    const issues: ValidationIssue[] = [];
    compileOperators({ matches: '/a/g' }, 'params.x', issues);
    expect(issues).toEqual([{ path: 'params.x.matches', message: expect.stringMatching(/flags/) }]);
  });

  it('in / not_in', () => {
    expect(op({ in: ['a', 'b', 3] })('b')).toBe(TRUE);
    expect(op({ in: ['a', 'b', 3] })(3)).toBe(TRUE);
    expect(op({ in: ['a', 'b', 3] })('3')).toBe(FALSE);
    expect(op({ in: [{ k: 1 }] })({ k: 1 })).toBe(TRUE);
    expect(op({ not_in: ['prod', 'staging'] })('dev')).toBe(TRUE);
    expect(op({ not_in: ['prod', 'staging'] })('prod')).toBe(FALSE);
    expect(op({ in: ['a'] })(undefined)).toBe(MISSING);
    expect(op({ not_in: ['a'] })(undefined)).toBe(MISSING);
  });

  it('exists is the one operator that tests presence, never MISSING', () => {
    expect(op({ exists: true })('x')).toBe(TRUE);
    expect(op({ exists: true })(null)).toBe(TRUE);
    expect(op({ exists: true })(undefined)).toBe(FALSE);
    expect(op({ exists: false })(undefined)).toBe(TRUE);
    expect(op({ exists: false })(0)).toBe(FALSE);
    // exists: true with another operator: absence is a definite no.
    expect(op({ exists: true, gt: 5 })(undefined)).toBe(FALSE);
  });

  it('several operators must all hold; FALSE beats MISSING', () => {
    const t = op({ gt: 1, matches: '^\\d+$' });
    expect(t('5')).toBe(TRUE);
    expect(t(5)).toBe(MISSING); // gt holds, matches cannot tell (not a string)
    expect(t(0)).toBe(FALSE);
  });

  it('reads dotted paths through own properties only', () => {
    const get = compilePath('order.items.0.sku');
    expect(get({ order: { items: [{ sku: 'A1' }] } })).toBe('A1');
    expect(get({ order: {} })).toBeUndefined();
    expect(compilePath('a.b')({ 'a.b': 1, a: { b: 2 } })).toBe(1);
    expect(compilePath('constructor')({})).toBeUndefined();
    expect(compilePath('toString')({ x: 1 })).toBeUndefined();
  });
});
