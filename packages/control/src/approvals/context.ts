import type { ContextProvider } from './types.js';

/**
 * A context provider that shows approvers what the agent has left: every budget and rate
 * limit for the request's agent, recipient and action (limit, spent, held, remaining),
 * from `engine.getBudgetStatus`. The request's own hold is included in `held`.
 *
 * @example
 * new ApprovalManager({ contextProviders: [budgetContext()] });
 */
export function budgetContext(options: { name?: string } = {}): ContextProvider {
  return {
    name: options.name ?? 'budgets',
    async provide(request, { engine }) {
      const status = await engine.getBudgetStatus({
        agentId: request.agentId,
        action: request.action,
        ...(request.recipient !== undefined ? { recipient: request.recipient } : {}),
      });
      return status.map((s) => ({
        budgetId: s.budgetId,
        policyId: s.policyId,
        scope: s.scope,
        window: s.window,
        ...(s.currency !== undefined ? { currency: s.currency } : {}),
        limit: s.limit,
        spent: s.spent,
        held: s.held,
        remaining: s.remaining,
      }));
    },
  };
}
