import {
  type BudgetStatus,
  type BudgetStatusSource,
  type Decision,
  type HoldEvent,
  Money,
  type PaymentFacts,
} from '@bursar/core';

let n = 0;

/** A `hold.captured` event with sensible defaults. */
export function captured(at: number, fields: Partial<HoldEvent> & { agentId?: string } = {}): HoldEvent {
  n++;
  return {
    at,
    agentId: 'bot',
    holdId: `hold_${n}`,
    amount: '10.00',
    currency: 'USD',
    recipient: 'https://api.example.com',
    protocol: 'x402',
    ...fields,
  };
}

/** A `decision.made` payload. */
export function decision(
  at: number,
  outcome: Decision['outcome'],
  fields: Partial<PaymentFacts> = {},
): PaymentFacts & { decision: Decision } {
  const agentId = fields.agentId ?? 'bot';
  return {
    at,
    agentId,
    amount: '10.00',
    currency: 'USD',
    ...fields,
    decision: {
      outcome,
      reasons:
        outcome === 'deny'
          ? [{ code: 'recipient_blocked', message: 'recipient is blocked', outcome: 'deny', source: 'rule' }]
          : [],
      policies: [{ id: 'production', version: '1', hash: 'abc' }],
      intentId: `int_${++n}`,
      intentHash: 'hash',
      agentId,
      evaluatedAt: at,
    },
  };
}

/** A budget status source that returns whatever the test sets, and counts reads. */
export class FakeBudgets implements BudgetStatusSource {
  statuses: BudgetStatus[] = [];
  reads: Array<{ agentId?: string }> = [];
  fail: Error | undefined;

  async getBudgetStatus(query?: { agentId?: string }): Promise<BudgetStatus[]> {
    this.reads.push({ ...query });
    if (this.fail) throw this.fail;
    return this.statuses.filter((s) => query?.agentId === undefined || s.scope === `agent:${query.agentId}`);
  }

  /** Sets one daily USD budget of `agentId`. */
  set(agentId: string, spent: string, limit = '100.00', extra: Partial<BudgetStatus> = {}): void {
    const others = this.statuses.filter((s) => s.scope !== `agent:${agentId}`);
    const remaining = Money.parse(limit, 'USD').subtract(Money.parse(spent, 'USD')).toDecimalString();
    this.statuses = [...others, budgetStatus(agentId, { limit, spent, remaining, ...extra })];
  }
}

/**
 * A daily USD budget status of `agentId` (nothing spent of 100.00), with `fields` over it. The
 * fields are taken as given, so a test can hand the alerts text that is not a valid amount.
 */
export function budgetStatus(agentId: string, fields: Partial<BudgetStatus> = {}): BudgetStatus {
  return {
    policyId: 'production',
    budgetId: 'daily',
    kind: 'amount',
    currency: 'USD',
    window: 'daily',
    scope: `agent:${agentId}`,
    windowStart: Date.parse('2026-03-02T00:00:00Z'),
    windowEnd: Date.parse('2026-03-03T00:00:00Z'),
    limit: '100.00',
    spent: '0.00',
    held: '0.00',
    remaining: '100.00',
    ...fields,
  };
}
