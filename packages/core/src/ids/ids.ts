import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

declare const brand: unique symbol;
/** A string with a compile-time tag, so a hold id cannot be passed where an agent id is expected. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type AgentId = Brand<string, 'AgentId'>;
export type HoldId = Brand<string, 'HoldId'>;
export type ApprovalId = Brand<string, 'ApprovalId'>;
export type PolicyId = Brand<string, 'PolicyId'>;
export type IntentId = Brand<string, 'IntentId'>;

/**
 * Random bytes come from the CSPRNG 64 KiB at a time, enough for 4096 ids: each
 * `randomFillSync` call costs about 2 µs however little it fills, so a UUID per id (Node
 * refills its UUID cache every 128) and then a dash-stripping regex made id generation a
 * visible share of an authorization, and its refills a visible share of the slowest ones.
 * Each id still takes 16 bytes that no other id has seen, so ids are as unguessable as
 * before (128 random bits; a UUID has 122). Not a random prefix and a counter: a hold id is
 * what capture and release take, and one id seen would tell the next.
 */
const POOL_BYTES = 65_536;
const ID_BYTES = 16;
let pool: Buffer | undefined;
let poolOffset = POOL_BYTES;

/** A new random id with a readable prefix and 32 hex digits, e.g. `hold_5f0c…`. */
export function newId<T extends string = string>(prefix: string): T {
  if (poolOffset + ID_BYTES > POOL_BYTES || pool === undefined) {
    pool ??= Buffer.allocUnsafe(POOL_BYTES);
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return `${prefix}_${hex}` as T;
}

export const newHoldId = (): HoldId => newId<HoldId>('hold');
export const newApprovalId = (): ApprovalId => newId<ApprovalId>('apr');
export const newIntentId = (): IntentId => newId<IntentId>('int');
