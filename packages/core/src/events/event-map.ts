import type { Decision, Outcome } from '../decision/index.js';

/** Facts every payment-lifecycle event carries. Amounts are exact decimal strings. */
export interface PaymentFacts {
  /** Epoch ms from the emitter's clock. */
  at: number;
  agentId: string;
  action?: string;
  intentId?: string;
  intentHash?: string;
  holdId?: string;
  amount?: string;
  currency?: string;
  recipient?: string;
  protocol?: string;
  network?: string;
}

export interface HoldEvent extends PaymentFacts {
  holdId: string;
  /** Amount committed by a capture (may be less than held). */
  captured?: string;
  /** Amount returned to the budget. */
  returned?: string;
}

export interface ApprovalRequestedEvent extends PaymentFacts {
  approvalId: string;
  expiresAt: number;
  reasons: Decision['reasons'];
}

export interface ApprovalResolvedEvent extends PaymentFacts {
  approvalId: string;
  status: 'approved' | 'rejected' | 'expired' | 'cancelled';
  approvers: string[];
  channel?: string;
  reason?: string;
  finalOutcome?: Outcome;
}

export interface PaymentSettledEvent extends PaymentFacts {
  amount: string;
  currency: string;
  transaction?: string;
  /** Who produced the result: `facilitator`, `hook:recovered`, `hook:skipped`, `handler`, … */
  source?: string;
}

export interface PaymentFailedEvent extends PaymentFacts {
  reason: string;
  /** True when the money may still move (a timeout): the hold waits for reconciliation. */
  ambiguous?: boolean;
}

export interface AlertEvent {
  at: number;
  alertId: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  agentId?: string;
  dedupKey: string;
  facts: Record<string, unknown>;
}

/** A control changed: policy, kill switch, suspension, risk reset. `actor` is the operator. */
export interface ControlChangedEvent {
  at: number;
  kind: string;
  actor: string;
  target?: string;
  reason?: string;
  details?: Record<string, unknown>;
}

export interface CircuitStateChangedEvent {
  at: number;
  facilitator: string;
  from: 'closed' | 'open' | 'half_open';
  to: 'closed' | 'open' | 'half_open';
  reason?: string;
}

export interface ListenerErrorEvent {
  /** The event whose listener failed. */
  event: string;
  error: unknown;
}

/** Every event of the payment lifecycle, by name. */
export interface BursarEventMap {
  'intent.received': PaymentFacts;
  'decision.made': PaymentFacts & { decision: Decision };
  'hold.placed': HoldEvent;
  'hold.captured': HoldEvent;
  'hold.released': HoldEvent;
  'hold.expired': HoldEvent;
  'approval.requested': ApprovalRequestedEvent;
  'approval.resolved': ApprovalResolvedEvent;
  'payment.settled': PaymentSettledEvent;
  'payment.failed': PaymentFailedEvent;
  'alert.raised': AlertEvent;
  'control.changed': ControlChangedEvent;
  'circuit.state_changed': CircuitStateChangedEvent;
  'listener.error': ListenerErrorEvent;
}

export type BursarEventName = keyof BursarEventMap;
