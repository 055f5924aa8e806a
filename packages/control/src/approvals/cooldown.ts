import { canonicalHash, type ParsedIntent } from '@bursar/core';

/**
 * What makes two requests "the same" for the rejection cool-down: who, what, how much, to
 * whom, over which rail, with which arguments. The agent-asserted `purpose` and `metadata` are
 * left out on purpose: rewording them must not count as a new request.
 */
export function cooldownKeyOf(intent: ParsedIntent): string {
  return canonicalHash({
    agentId: intent.agentId,
    action: intent.action,
    amount: intent.amount?.minor,
    currency: intent.currency,
    recipient: intent.recipient,
    protocol: intent.protocol,
    network: intent.network,
    params: intent.params,
  });
}

/** One rejection that blocks re-raising. */
export interface CooldownEntry {
  until: number;
  approvalId: string;
  by: string;
  at: number;
}

const MAX_ENTRIES = 100_000;

/**
 * Recent human rejections by cool-down key, in this process. Entries live for the cool-down
 * and the map stays bounded (oldest first out), so memory does not grow with history.
 */
export class CooldownList {
  readonly #entries = new Map<string, CooldownEntry>();

  /** The entry blocking `key` at `now`, if any. */
  get(key: string, now: number): CooldownEntry | undefined {
    const e = this.#entries.get(key);
    if (e && e.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, entry: CooldownEntry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    // Entries are inserted in time order with one duration: the oldest are first.
    for (const [k, e] of this.#entries) {
      if (e.until > entry.at && this.#entries.size <= MAX_ENTRIES) break;
      this.#entries.delete(k);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
