import { BursarError, ErrorCode, type IntentInput } from '@bursar/core';

/**
 * The intent fields a call contributes: money, recipient, rail, purpose, parameters, an
 * idempotency key. The agent id and action name come from the integration's options,
 * never from the call's arguments.
 */
export type IntentFields = Omit<IntentInput, 'agentId' | 'action'>;

/**
 * Tool parameters from call arguments: one plain-object argument (the tool-call convention)
 * is used as is; anything else becomes `{ args: [...] }` (address them as `args.0`, `args.1`).
 * Values go through JSON semantics first, so functions and symbols drop out, `bigint`
 * becomes a decimal string and class instances their JSON form: what rules see is what can
 * be hashed.
 */
export function paramsFromArgs(args: readonly unknown[]): Record<string, unknown> {
  if (args.length === 1 && isPlainObject(args[0])) return jsonSafe(args[0]) as Record<string, unknown>;
  return { args: (jsonSafe([...args]) as unknown[] | undefined) ?? [] };
}

/** A plain object (prototype `Object.prototype` or null), not an array or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The JSON round trip of a value (bigint as a decimal string); undefined when it has none.
 * Throws `ERR_BURSAR_INVALID_ARGUMENT` for values JSON cannot write (cycles).
 */
export function jsonSafe(value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch (cause) {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      'The call arguments cannot be read as tool parameters (not JSON-writable); pass mapArgs to say what the policy sees',
      { cause },
    );
  }
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}
