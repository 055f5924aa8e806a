/**
 * A frozen shallow copy of a record: what `Object.freeze({ ...value })` gives (own enumerable
 * string and symbol keys, read through getters), `undefined` and `null` giving `{}`.
 *
 * Why not that expression: on Node 20's V8, an object made by spreading and then frozen in
 * optimized code gets a hidden class of its own, a new map and descriptor array on every call
 * (about 300 bytes, and slow to create). Holds and intents keep such copies for as long as
 * they are retained, so it multiplied their memory and garbage-collection cost. `Object.assign`
 * into a fresh literal keeps sharing maps. It differs from a spread only for an own
 * `__proto__` key (assign would call the prototype setter), which takes the spread instead.
 * Internal: not exported from the package.
 */
export function frozenCopy<T extends object>(value: T | undefined | null): Readonly<T> {
  if (value === undefined || value === null) return Object.freeze({}) as Readonly<T>;
  if (Object.hasOwn(value, '__proto__')) return Object.freeze({ ...value });
  return Object.freeze(Object.assign({}, value));
}
