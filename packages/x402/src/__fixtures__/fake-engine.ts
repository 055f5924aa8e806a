import { type Decision, EventBus, type IntentInput, Money, newHoldId, newIntentId } from '@bursar/core';
import type { X402PolicyEngine } from '../seller/ports.js';

/**
 * A tiny stand-in for the policy engine, for adapter unit tests that must control the engine
 * exactly (throwing, replayed decisions, approvals). One block-above limit and one budget per
 * agent, both in USDC; holds are tracked so tests can assert capture/release. Without
 * `{ evaluate: true }` it has no `evaluate` (the guards' fallback: authorize before verify).
 */
export class FakeEngine implements X402PolicyEngine {
  readonly events = new EventBus();
  readonly holds = new Map<
    string,
    { amount: bigint; state: 'held' | 'captured' | 'released' | 'expired'; captured?: bigint }
  >();
  /** Intents passed to `authorize`. */
  readonly intents: IntentInput[] = [];
  /** Intents passed to `evaluate` (side-effect free). */
  readonly evaluated: IntentInput[] = [];
  /** Present only with `{ evaluate: true }`: decides like `authorize`, without holding. */
  readonly evaluate?: (intent: IntentInput) => Promise<Decision>;
  blockAbove: bigint | undefined;
  budget: bigint | undefined;
  spent = 0n;
  mode: 'normal' | 'throw' | 'approval' | 'approval_pending' | 'replayed' = 'normal';

  constructor(options: { blockAbove?: string; budget?: string; evaluate?: boolean } = {}) {
    this.blockAbove = options.blockAbove ? Money.parse(options.blockAbove, 'USDC').minor : undefined;
    this.budget = options.budget ? Money.parse(options.budget, 'USDC').minor : undefined;
    if (options.evaluate) {
      this.evaluate = async (intent) => {
        this.evaluated.push(intent);
        return this.#decide(intent, false);
      };
    }
  }

  held(): bigint {
    let sum = 0n;
    for (const h of this.holds.values()) if (h.state === 'held') sum += h.amount;
    return sum;
  }

  async authorize(intent: IntentInput): Promise<Decision> {
    this.intents.push(intent);
    return this.#decide(intent, true);
  }

  #decide(intent: IntentInput, hold: boolean): Decision {
    if (this.mode === 'throw') throw new Error('engine exploded');
    const amount = Money.parse(intent.amount as string, intent.currency as string).minor;
    const base = {
      reasons: [] as Decision['reasons'],
      policies: [],
      intentId: newIntentId(),
      intentHash: 'h',
      agentId: intent.agentId,
      evaluatedAt: 0,
    };
    if (this.blockAbove !== undefined && amount > this.blockAbove) {
      return {
        ...base,
        outcome: 'deny',
        reasons: [
          { code: 'amount_above_limit', message: 'above the block limit', outcome: 'deny', source: 'rule' },
        ],
      };
    }
    if (this.budget !== undefined && this.spent + this.held() + amount > this.budget) {
      return {
        ...base,
        outcome: 'deny',
        reasons: [{ code: 'budget_exceeded', message: 'budget exceeded', outcome: 'deny', source: 'budget' }],
      };
    }
    if (!hold) {
      const outcome =
        this.mode === 'approval' || this.mode === 'approval_pending' ? 'require_approval' : 'allow';
      return { ...base, outcome };
    }
    const holdId = newHoldId();
    this.holds.set(holdId, { amount, state: 'held' });
    if (this.mode === 'approval' || this.mode === 'approval_pending') {
      return {
        ...base,
        outcome: 'require_approval',
        holdId,
        ...(this.mode === 'approval_pending' ? { approvalId: 'apr_1' } : {}),
        reasons: [
          {
            code: 'approval_required',
            message: 'needs a human',
            outcome: 'require_approval',
            source: 'rule',
          },
        ],
      };
    }
    return { ...base, outcome: 'allow', holdId, ...(this.mode === 'replayed' ? { replayed: true } : {}) };
  }

  async capture(holdId: string, options?: { amount?: string }): Promise<unknown> {
    const h = this.holds.get(holdId);
    if (h?.state !== 'held') throw new Error(`hold ${holdId} not active`);
    const amount = options?.amount ? Money.parse(options.amount, 'USDC').minor : h.amount;
    h.state = 'captured';
    h.captured = amount;
    this.spent += amount;
    return h;
  }

  async release(holdId: string): Promise<unknown> {
    const h = this.holds.get(holdId);
    if (h?.state !== 'held') throw new Error(`hold ${holdId} not active`);
    h.state = 'released';
    return h;
  }

  async getHold(holdId: string): Promise<{ state: string; expiresAt: number } | undefined> {
    const h = this.holds.get(holdId);
    return h ? { state: h.state, expiresAt: Number.MAX_SAFE_INTEGER } : undefined;
  }

  /** Lets a hold expire (its amount returns to the budget). */
  expire(holdId: string): void {
    const h = this.holds.get(holdId);
    if (h) h.state = 'expired';
  }

  count(state: 'held' | 'captured' | 'released' | 'expired'): number {
    let n = 0;
    for (const h of this.holds.values()) if (h.state === state) n++;
    return n;
  }
}
