import type { Money } from '@bursar/core';

/** Where a recorded payment came from. */
export type SpendSource = 'capture' | 'settlement' | 'manual';

/**
 * One executed payment as the tracker recorded it: exact amount, the facts it is aggregated
 * by, and a sequence number. Blocked or pending attempts never become records.
 */
export interface SpendRecord {
  /** 1, 2, 3 … in recording order (per tracker). */
  readonly seq: number;
  /** Epoch ms of the payment (the event's `at`, else the tracker's clock). */
  readonly at: number;
  readonly agentId: string;
  readonly amount: Money;
  /** Canonical currency symbol (`amount.currency`). */
  readonly currency: string;
  readonly recipient: string | undefined;
  /** `payment` unless the event named another action. */
  readonly action: string;
  readonly protocol: string | undefined;
  readonly network: string | undefined;
  readonly holdId: string | undefined;
  readonly intentId: string | undefined;
  readonly transaction: string | undefined;
  readonly source: SpendSource;
}

/** What `SpendTracker.record()` accepts. */
export interface SpendInput {
  agentId: string;
  /** Decimal string or number in major units (`"25.10"`), or a `Money`. */
  amount: string | number | Money;
  /** Required unless `amount` is a `Money`. Case-insensitive. */
  currency?: string;
  /** Epoch ms; defaults to the tracker's clock. */
  at?: number;
  recipient?: string;
  action?: string;
  protocol?: string;
  network?: string;
  /** A payment with a hold id already recorded (still in the recent window) is ignored. */
  holdId?: string;
  intentId?: string;
  transaction?: string;
}
