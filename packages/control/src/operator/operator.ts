import { BursarError, ErrorCode } from '@bursar/core';

const capabilities = new WeakSet<object>();

/**
 * Proof that the caller is an operator. Only {@link createOperator} makes one; a look-alike
 * object (or a JSON copy) is not accepted. Give it to operator-facing code only: nothing the
 * governed agent can call should ever receive it.
 */
export interface OperatorCapability {
  /** Who acts: recorded in every `control.changed` event this capability causes. */
  readonly actor: string;
  readonly kind: 'bursar.operator';
}

/**
 * Creates an operator capability. Engines accept it when it is in their `operators` option
 * or was granted with `engine.grantOperator(existing, created)`.
 *
 * @example
 * const admin = createOperator({ actor: 'alice@example.com' });
 * const engine = new PolicyEngine({ operators: [admin] });
 * await engine.suspendAgent(admin, { agentId: 'research-bot', reason: 'investigating' });
 */
export function createOperator(options: { actor: string }): OperatorCapability {
  const actor = options?.actor;
  if (typeof actor !== 'string' || actor.trim().length === 0 || actor.length > 256) {
    throw new BursarError(
      ErrorCode.INVALID_ARGUMENT,
      'createOperator needs an actor: a non-empty name of at most 256 characters',
    );
  }
  const capability: OperatorCapability = Object.freeze({
    actor: actor.trim(),
    kind: 'bursar.operator' as const,
  });
  capabilities.add(capability);
  return capability;
}

/** True only for capabilities made by {@link createOperator} in this module. */
export function isOperatorCapability(value: unknown): value is OperatorCapability {
  return typeof value === 'object' && value !== null && capabilities.has(value);
}
