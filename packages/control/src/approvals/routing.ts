import type { ParsedIntent } from '@bursar/core';
import type { ApprovalLevel } from './options.js';

/** The level used when no routing is configured: one approval from any authorised approver. */
export const DEFAULT_LEVEL: ApprovalLevel = Object.freeze({ name: 'default', quorum: 1 });

/**
 * The index of the level that first handles an intent: the first level whose `upTo` covers the
 * amount in its currency, or a level without `upTo`. An intent without an amount, or one no
 * level covers, goes to the last level (the highest authority), so routing never loosens.
 */
export function routeLevel(levels: readonly ApprovalLevel[], intent: ParsedIntent): number {
  const amount = intent.amount;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.upTo === undefined) return i;
    if (!amount || level.currency === undefined) continue;
    if (level.currency.toUpperCase() !== amount.currency.toUpperCase()) continue;
    if (compareDecimal(amount.minor, amount.decimals, level.upTo) <= 0) return i;
  }
  return levels.length - 1;
}

/**
 * Compares an amount in minor units (with `decimals`) with a non-negative decimal string,
 * exactly: -1, 0 or 1.
 */
export function compareDecimal(minor: bigint, decimals: number, text: string): number {
  const [whole, fraction = ''] = text.split('.');
  const scaledText = BigInt(`${whole}${fraction}`);
  // minor / 10^decimals  vs  scaledText / 10^fraction.length
  const left = minor * 10n ** BigInt(fraction.length);
  const right = scaledText * 10n ** BigInt(decimals);
  return left < right ? -1 : left > right ? 1 : 0;
}
