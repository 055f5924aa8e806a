import { z } from 'zod';

const Severity = z.enum(['info', 'warning', 'critical']);
/** How loud an alert is. */
export type AlertSeverity = z.infer<typeof Severity>;

const ms = z
  .number()
  .int()
  .min(0)
  .max(366 * 86_400_000);
const amountText = z.union([z.string(), z.number()]);
const currencyAmounts = z
  .record(z.string().min(1), amountText)
  .refine((r) => Object.keys(r).length > 0, { message: 'name at least one currency' });

/** Fields every rule has. */
const common = {
  /** Names the rule in dedup keys and facts (default: its type). Unique per `SpendAlerts`. */
  id: z.string().min(1).max(100).optional(),
  /** Overrides the rule's default severity. */
  severity: Severity.optional(),
  /** Quiet period per dedup key after an alert (default: the `SpendAlerts` cooldown). */
  cooldownMs: ms.optional(),
};

/** At N % of a control budget, read from the engine's budget status (never recomputed here). */
export const BudgetThresholdRule = z.strictObject({
  type: z.literal('budget_threshold'),
  ...common,
  /** Percentages that alert, each once per budget window (default [80, 100]). */
  percents: z.array(z.number().positive().max(1000)).min(1).default([80, 100]),
  /** Count held (pending) amounts as used (default false: captured spend only). */
  includeHeld: z.boolean().default(false),
  /**
   * At most one budget-status read per agent per this many ms (default 10 s). Later payments in
   * the interval are checked once it ends (at the next event, or by `checkBudgets()`).
   */
  checkIntervalMs: ms.default(10_000),
});

/** One executed payment at or above a per-currency amount. */
export const LargeTransactionRule = z.strictObject({
  type: z.literal('large_transaction'),
  ...common,
  /** Threshold per currency, e.g. `{ USDC: '1000' }` (exact decimals). */
  minAmount: currencyAmounts,
});

/** Too many payments (or too much spend) by one agent within a sliding window. */
export const RateSpikeRule = z
  .strictObject({
    type: z.literal('rate_spike'),
    ...common,
    /** Sliding window length (default 60 s). */
    windowMs: z.number().int().min(1000).max(86_400_000).default(60_000),
    /** Alert when an agent makes more than this many payments in the window. */
    maxCount: z.number().int().positive().optional(),
    /** Alert when an agent spends more than this per currency in the window. */
    maxAmount: currencyAmounts.optional(),
  })
  .refine((r) => r.maxCount !== undefined || r.maxAmount !== undefined, {
    message: 'rate_spike needs maxCount or maxAmount',
  });

/** An agent paid a recipient it never paid before. */
export const NewRecipientRule = z.strictObject({
  type: z.literal('new_recipient'),
  ...common,
});

/** The anomaly detector found an executed payment unusual. */
export const AnomalyRule = z.strictObject({
  type: z.literal('anomaly'),
  ...common,
  /** Least outcome a signal must argue for (default `flag`). */
  minOutcome: z.enum(['flag', 'require_approval', 'deny']).default('flag'),
  /** Signal codes that alert (default: amount_outlier, frequency_burst, unusual_hour). */
  codes: z
    .array(z.enum(['amount_outlier', 'frequency_burst', 'unusual_hour', 'first_time_recipient']))
    .min(1)
    .default(['amount_outlier', 'frequency_burst', 'unusual_hour']),
});

/** Repeated denies of one agent's intents. */
export const PolicyViolationRule = z.strictObject({
  type: z.literal('policy_violation'),
  ...common,
  /** Denies within the window that alert (default 3). */
  denies: z.number().int().positive().default(3),
  /** Sliding window (default 10 minutes). */
  windowMs: z
    .number()
    .int()
    .min(1000)
    .max(7 * 86_400_000)
    .default(600_000),
});

/** A facilitator's circuit breaker opened (events of the x402 package). */
export const CircuitOpenRule = z.strictObject({
  type: z.literal('circuit_open'),
  ...common,
});

/** Any alert rule. */
export const AlertRule = z.discriminatedUnion('type', [
  BudgetThresholdRule,
  LargeTransactionRule,
  RateSpikeRule,
  NewRecipientRule,
  AnomalyRule,
  PolicyViolationRule,
  CircuitOpenRule,
]);
/** What callers pass as a rule. */
export type AlertRuleInput = z.input<typeof AlertRule>;
/** A validated rule. */
export type AlertRule = z.output<typeof AlertRule>;
/** Rule type names. */
export type AlertKind = AlertRule['type'];
