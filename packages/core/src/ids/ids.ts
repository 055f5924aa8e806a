import { randomUUID } from 'node:crypto';

declare const brand: unique symbol;
/** A string with a compile-time tag, so a hold id cannot be passed where an agent id is expected. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type AgentId = Brand<string, 'AgentId'>;
export type HoldId = Brand<string, 'HoldId'>;
export type ApprovalId = Brand<string, 'ApprovalId'>;
export type PolicyId = Brand<string, 'PolicyId'>;
export type IntentId = Brand<string, 'IntentId'>;

/** A new random id with a readable prefix, e.g. `hold_5f0c…`. */
export function newId<T extends string = string>(prefix: string): T {
  return `${prefix}_${randomUUID().replace(/-/g, '')}` as T;
}

export const newHoldId = (): HoldId => newId<HoldId>('hold');
export const newApprovalId = (): ApprovalId => newId<ApprovalId>('apr');
export const newIntentId = (): IntentId => newId<IntentId>('int');
