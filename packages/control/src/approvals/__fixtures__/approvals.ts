import { BursarError, type BursarEventMap, ManualClock } from '@bursar/core';
import { expect } from 'vitest';
import { pay, T0 } from '../../__fixtures__/engine.js';
import { PolicyEngine } from '../../engine/policy-engine.js';
import { createOperator, type OperatorCapability } from '../../operator/index.js';
import type { PolicyInput } from '../../policy/schema.js';
import { ApprovalManager } from '../approval-manager.js';
import type { ApprovalManagerOptions } from '../options.js';
import type { ApprovalEventMap } from '../types.js';

export { pay, T0 };

/** Payments above 100 USDC need approval; above 10 000 are denied; 1 000 USDC a day. */
export const approvalPolicy: PolicyInput = {
  id: 'p',
  rules: [
    {
      action: 'deny',
      code: 'too_big',
      when: { amount: { gt: 10_000, currency: 'USDC' } },
      onMissing: 'no_match',
    },
    {
      action: 'require_approval',
      code: 'approval_required_above',
      when: { amount: { gt: 100, currency: 'USDC' } },
      onMissing: 'no_match',
    },
    { action: 'allow' },
  ],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 20_000, currency: 'USDC' }],
};

export interface ApprovalHarness {
  engine: PolicyEngine;
  approvals: ApprovalManager;
  clock: ManualClock;
  /** An operator the engine accepts, acting as `ops@example.com`. */
  operator: OperatorCapability;
  /** Operators named after approvers, all accepted by the engine. */
  as: (actor: string) => OperatorCapability;
  core: Array<{ type: keyof BursarEventMap; payload: unknown }>;
  lifecycle: Array<{ type: keyof ApprovalEventMap; payload: unknown }>;
  held: () => Promise<string>;
}

/** An engine with an attached ApprovalManager on a manual clock, recording every event. */
export function setupApprovals(
  options: ApprovalManagerOptions = {},
  policy: PolicyInput = approvalPolicy,
  engineOptions: { holdTtlMs?: number } = {},
): ApprovalHarness {
  const clock = new ManualClock(T0);
  const operator = createOperator({ actor: 'ops@example.com' });
  const approvals = new ApprovalManager({ sweepIntervalMs: 0, ...options });
  const engine = new PolicyEngine({ clock, operators: [operator], approvals, ...engineOptions });
  engine.loadPolicy(policy);
  const operators = new Map<string, OperatorCapability>();
  const as = (actor: string) => {
    let op = operators.get(actor);
    if (!op) {
      op = createOperator({ actor });
      engine.grantOperator(operator, op);
      operators.set(actor, op);
    }
    return op;
  };
  const core: ApprovalHarness['core'] = [];
  engine.events.onAny((type, payload) => {
    if (type.startsWith('approval.')) core.push({ type, payload });
  });
  const lifecycle: ApprovalHarness['lifecycle'] = [];
  approvals.events.onAny((type, payload) => {
    lifecycle.push({ type, payload });
  });
  const held = async () => (await engine.getBudgetStatus())[0]!.held;
  return { engine, approvals, clock, operator, as, core, lifecycle, held };
}

/** Asserts that a promise rejects with a Bursar error of this code, and returns it. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<BursarError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(BursarError.hasCode(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  return error as BursarError;
}

/**
 * Resolves after `count` channel outcomes (`approval.notified` or `approval.channel_failed`),
 * in order, as `notified:<channel>` / `failed:<channel>`. Register before `authorize`.
 */
export function channelOutcomes(approvals: ApprovalManager, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const seen: string[] = [];
    const record = (entry: string) => {
      seen.push(entry);
      if (seen.length === count) {
        for (const off of offs) off();
        resolve(seen);
      }
    };
    const offs = [
      approvals.events.on('approval.notified', (e) => record(`notified:${e.channel}`)),
      approvals.events.on('approval.channel_failed', (e) => record(`failed:${e.channel}`)),
    ];
  });
}
