import { z } from 'zod';
import { CallGate } from './call-gate.js';
import { copyArguments, refuseChanged } from './copy-arguments.js';
import {
  type CallGateOptions,
  callGateShape,
  fnOption,
  invalidOptions,
  parseOptions,
} from './gate-options.js';
import { type IntentFields, paramsFromArgs } from './intent-fields.js';

/** Options of {@link guard}. */
export interface GuardOptions<A extends unknown[] = unknown[], R = unknown> extends CallGateOptions {
  /** The action name rules match (default: the function's name). */
  action?: string;
  /**
   * Reads the intent fields from the call's arguments: `amount`, `currency`, `recipient`,
   * `protocol`, `network`, `purpose`, `params`, `metadata`, `idempotencyKey`. Default
   * `params`: one plain-object argument as is, else `{ args: [...] }`.
   */
  mapArgs?: (...args: A) => IntentFields | undefined | Promise<IntentFields | undefined>;
  /**
   * Says whether a result that did not throw is still a failure (the hold is then released
   * instead of captured). Default: only a throw is a failure.
   */
  isFailure?: (result: R) => boolean;
}

/**
 * A guarded function: the same parameters (and `this`), and a Promise of the same result.
 * A synchronous function becomes asynchronous, because the policy decision is.
 */
export type Guarded<A extends unknown[], R, T = unknown> = (this: T, ...args: A) => Promise<Awaited<R>>;

const GuardOptionsSchema = z.strictObject({
  ...callGateShape,
  action: z.string().trim().min(1, 'must not be empty').max(256).optional(),
  mapArgs: fnOption().optional(),
  isFailure: fnOption().optional(),
});

/**
 * Puts a function under policy. Every call is authorized as the action (default: the
 * function's name) with its arguments as `params` (`mapArgs` adds amount, currency,
 * recipient …), waits for approval when the policy requires it, runs the function, then
 * captures the hold on success or releases it when the function throws. A denial throws
 * {@link PolicyDeniedError} carrying the decision, and the function does not run.
 * Options are validated here, once (`ERR_BURSAR_INVALID_OPTIONS`).
 *
 * The arguments are deep-copied when the call starts; `mapArgs`, the policy and the function
 * all see the copies, so changing an argument object after the call started changes nothing.
 * Values that cannot be copied faithfully (class instances, functions) are passed as they
 * are, and if their JSON form changed by the time the call may run, it is refused
 * (`PolicyDeniedError`, reason `arguments_changed`) and the hold released.
 *
 * @example
 * const pay = guard(
 *   async (to: string, amount: string) => rails.transfer(to, amount),
 *   { engine, agentId: 'billing-bot', action: 'transfer',
 *     mapArgs: (to, amount) => ({ amount, currency: 'USDC', recipient: to }) },
 * );
 * await pay('0xabc…', '25.00'); // throws PolicyDeniedError when the policy says no
 */
export function guard<A extends unknown[], R, T = unknown>(
  fn: (this: T, ...args: A) => R,
  options: GuardOptions<A, Awaited<R>>,
): Guarded<A, R, T> {
  if (typeof fn !== 'function') {
    throw invalidOptions('guard', [{ path: '', message: 'guard() needs a function to guard' }]);
  }
  const o = parseOptions(GuardOptionsSchema, options, 'guard') as GuardOptions<A, Awaited<R>>;
  const action = o.action ?? fn.name;
  if (!action) {
    throw invalidOptions('guard', [{ path: 'action', message: 'required for an anonymous function' }]);
  }
  const gate = new CallGate(o);
  const { mapArgs, isFailure } = o;
  const guarded = async function (this: T, ...args: A): Promise<Awaited<R>> {
    // Copied before anything else: the caller may change its objects while this call waits
    // for a decision or a human, and what runs must be exactly what was authorized.
    const copied = copyArguments(args);
    const values = copied.values as A;
    const mapped = mapArgs === undefined ? undefined : await mapArgs(...values);
    const fields: IntentFields =
      mapped?.params !== undefined ? mapped : { ...mapped, params: paramsFromArgs(values) };
    return gate.run({
      action,
      fields,
      invoke: (auth) => {
        refuseChanged(copied, auth.decision);
        return fn.apply(this, values);
      },
      ...(isFailure !== undefined ? { isFailure } : {}),
    });
  };
  Object.defineProperty(guarded, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(guarded, 'length', { value: fn.length, configurable: true });
  return guarded;
}
